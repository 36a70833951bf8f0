//! The codec alone, for the runtime's test transport (`grpc-web-abort/testing`):
//! it decodes the request a call encoded and encodes a handler's replies, by
//! the same tables and with the same checks as a call over the network, so
//! app code tested in memory meets the codec it will meet in production.
use wasm_bindgen::prelude::*;

use super::{decode::decode, encode::encode, error::type_error, registry};
use crate::{ascii::join, schema::Method};

/// `path`'s method. `path` comes as a JS value, read into a `String` here
/// as `call`'s strings are: as a `&str` argument, each export's glue copied
/// it in (issue 17).
fn method<T>(
    schema: u32,
    path: &JsValue,
    f: impl FnOnce(&crate::schema::Schema, &Method) -> Result<T, JsValue>,
) -> Result<T, JsValue> {
    let path = path.as_string().unwrap_or_default();
    let schema = registry::schema(schema)?;
    let method = schema
        .method(&path)
        .ok_or_else(|| type_error(&join(&[&path, " is not a method of the registered protos"])))?;
    f(&schema, method)
}

/// A method's request bytes as the JS object a reply of its type would be.
#[wasm_bindgen(js_name = decodeRequest)]
pub fn decode_request(schema: u32, path: &JsValue, bytes: &[u8]) -> Result<JsValue, JsValue> {
    method(schema, path, |schema, m| {
        decode(schema, m.input, bytes).map_err(|e| {
            let name = &schema.messages[m.input].full_name;
            type_error(&join(&["the request is not a valid ", name, ": ", &e]))
        })
    })
}

/// A reply of `path`'s method encoded: a `TypeError` naming the field path
/// when `message` does not fit its type.
#[wasm_bindgen(js_name = encodeReply)]
pub fn encode_reply(schema: u32, path: &JsValue, message: &JsValue) -> Result<Vec<u8>, JsValue> {
    method(schema, path, |schema, m| encode(schema, m.output, message))
}

/// Whether `path` names a server-streaming method (`undefined`: no such
/// method, or one a client of this runtime cannot call).
#[wasm_bindgen(js_name = methodStreams)]
pub fn method_streams(schema: u32, path: &JsValue) -> Result<Option<bool>, JsValue> {
    let schema = registry::schema(schema)?;
    Ok(schema
        .method(&path.as_string().unwrap_or_default())
        .filter(|m| !m.client_streaming)
        .map(|m| m.server_streaming))
}
