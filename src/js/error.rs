//! Errors as JavaScript sees them: `GrpcError` and `TypeError` for invalid
//! arguments. `GrpcError` is a JS class (a real `Error` subclass, defined in
//! the package's `runtime.js`); the runtime hands it over at start-up with
//! `setErrorClass`, so the errors made here are instances of exactly the
//! class the package exports.
use std::cell::RefCell;

use js_sys::{Array, Function, Reflect};
use wasm_bindgen::prelude::*;
use web_sys::Headers;

use crate::status::Failure;

thread_local! {
    static ERROR_CLASS: RefCell<Option<Function>> = const { RefCell::new(None) };
}

/// Makes `class` (called as `new class(code, codeName, message, metadata,
/// cause)`) the class of every `GrpcError`.
#[wasm_bindgen(js_name = setErrorClass)]
pub fn set_error_class(class: Function) {
    ERROR_CLASS.with(|c| *c.borrow_mut() = Some(class));
}

/// A `GrpcError` for `failure` with the response's `metadata` (headers and
/// trailers); `cause` is the abort reason, where there is one.
pub(crate) fn grpc_error(
    failure: &Failure,
    metadata: Option<Headers>,
    cause: Option<JsValue>,
) -> JsValue {
    let code = failure.code;
    // No metadata: `undefined`, which the class makes an empty `Headers`.
    let args = Array::of5(
        &(code as i32).into(),
        &code.name().into(),
        &failure.message.as_str().into(),
        &metadata.map_or(JsValue::UNDEFINED, JsValue::from),
        &cause.unwrap_or(JsValue::UNDEFINED),
    );
    if let Some(class) = ERROR_CLASS.with(|c| c.borrow().clone()) {
        return Reflect::construct(&class, &args).unwrap_or_else(|e| e);
    }
    // No runtime (a Rust-only user of the JS core): a plain Error with the same fields.
    let error = js_sys::Error::new(&failure.message);
    if args.get(3).is_undefined() {
        args.set(3, Headers::new().expect("Headers is constructible").into());
    }
    for (key, i) in [("code", 0), ("codeName", 1), ("metadata", 3), ("cause", 4)] {
        let _ = Reflect::set(&error, &key.into(), &args.get(i));
    }
    let _ = Reflect::set(&error, &"name".into(), &"GrpcError".into());
    error.into()
}

pub(crate) fn type_error(message: &str) -> JsValue {
    js_sys::TypeError::new(message).into()
}
