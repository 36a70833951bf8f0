//! How a call ended, in words: the spec's code name and, when a signal ended
//! it, the signal's reason (the `JsValue` it aborted with).
use grpc_web_abort::{CODES, StatusExt};
use wasm_bindgen::JsValue;

pub fn describe(status: &tonic::Status) -> String {
    let code = CODES
        .get(status.code() as usize)
        .map_or("UNKNOWN", |c| c.name());
    let why = match status.abort_reason() {
        Some(reason) => message_of(&reason),
        None => status.message().to_owned(),
    };
    format!("{code}: {why}")
}

/// A `DOMException`'s (or `Error`'s) `message`, or a string reason itself.
fn message_of(reason: &JsValue) -> String {
    js_sys::Reflect::get(reason, &"message".into())
        .ok()
        .and_then(|m| m.as_string())
        .or_else(|| reason.as_string())
        .unwrap_or_else(|| format!("{reason:?}"))
}
