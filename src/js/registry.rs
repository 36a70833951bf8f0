//! The schemas of the packages loaded in this page: each generated package
//! registers its descriptor set once and names it by number in every call.
use std::{cell::RefCell, rc::Rc};

use wasm_bindgen::prelude::*;

use super::error::type_error;
use crate::schema::Schema;

thread_local! {
    static SCHEMAS: RefCell<Vec<Rc<Schema>>> = const { RefCell::new(Vec::new()) };
}

/// Reads an encoded `FileDescriptorSet` and returns its number for calls.
#[wasm_bindgen(js_name = registerSchema)]
pub fn register_schema(descriptor: &[u8]) -> Result<u32, JsValue> {
    // `format!`, not `to_string()`: the same text without `ToString`'s
    // own copy of the formatting glue (issue 17: 0.3 KB).
    let schema =
        Schema::from_descriptor_set(descriptor).map_err(|e| type_error(&format!("{e}")))?;
    Ok(SCHEMAS.with(|all| {
        let mut all = all.borrow_mut();
        all.push(Rc::new(schema));
        all.len() as u32 - 1
    }))
}

pub(crate) fn schema(id: u32) -> Result<Rc<Schema>, JsValue> {
    SCHEMAS
        .with(|all| all.borrow().get(id as usize).cloned())
        .ok_or_else(|| type_error("no such schema: call registerSchema first"))
}
