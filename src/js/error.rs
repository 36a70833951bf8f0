//! Errors as JavaScript sees them: `GrpcError` (defined in `grpc_error.js` so
//! it is a real `Error` subclass) and `TypeError` for invalid arguments.
use tonic::Status;
use wasm_bindgen::prelude::*;
use web_sys::Headers;

use crate::status::code_name;

#[wasm_bindgen(module = "/src/js/grpc_error.js")]
extern "C" {
    /// The `GrpcError` class (also exported by the npm package).
    #[wasm_bindgen(js_name = GrpcError)]
    pub type GrpcError;

    #[wasm_bindgen(constructor, js_class = "GrpcError")]
    fn new(
        code: i32,
        code_name: &str,
        message: &str,
        metadata: &Headers,
        cause: &JsValue,
    ) -> GrpcError;
}

/// A `GrpcError` for `status`; `cause` is the abort reason, where there is one.
pub(crate) fn grpc_error(status: &Status, cause: Option<JsValue>) -> JsValue {
    let metadata = Headers::new().expect("Headers is constructible");
    for (name, value) in status.metadata().clone().into_headers().iter() {
        if let Ok(value) = value.to_str() {
            let _ = metadata.append(name.as_str(), value);
        }
    }
    let code = status.code();
    GrpcError::new(
        code as i32,
        code_name(code),
        status.message(),
        &metadata,
        &cause.unwrap_or(JsValue::UNDEFINED),
    )
    .into()
}

pub(crate) fn type_error(message: &str) -> JsValue {
    js_sys::TypeError::new(message).into()
}
