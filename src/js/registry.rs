//! The schemas of the packages loaded in this page: each generated package
//! registers its descriptor set once and names it by number in every call.
use std::{cell::RefCell, rc::Rc};

use wasm_bindgen::prelude::*;

use super::error::type_error;
use crate::{
    ascii::join,
    schema::{Schema, SchemaError},
};

thread_local! {
    static SCHEMAS: RefCell<Vec<Rc<Schema>>> = const { RefCell::new(Vec::new()) };
}

/// Reads an encoded `FileDescriptorSet` and returns its number for calls.
#[wasm_bindgen(js_name = registerSchema)]
pub fn register_schema(descriptor: &[u8]) -> Result<u32, JsValue> {
    // Joined, not by `Display`: no formatting machinery (issue 17).
    let schema = Schema::from_descriptor_set(descriptor)
        .map_err(|e| type_error(&join(&[SchemaError::PREFIX, &e.0])))?;
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
