//! A panic in the wasm (a bug: no input is meant to cause one) traps the
//! instance (`panic = "abort"`), and the calls it was running would never
//! settle. The runtime registers a function with `setPanicHandler`; the
//! panic hook calls it with the panic's text just before the trap, so the
//! runtime can reject its pending calls with INTERNAL and load a fresh
//! instance for later ones.
use std::cell::RefCell;

use js_sys::Function;
use wasm_bindgen::prelude::*;

thread_local! {
    static HANDLER: RefCell<Option<Function>> = const { RefCell::new(None) };
}

/// Calls `handler(message)` when the wasm panics, before it traps.
#[wasm_bindgen(js_name = setPanicHandler)]
pub fn set_panic_handler(handler: Function) {
    HANDLER.with(|h| *h.borrow_mut() = Some(handler));
    std::panic::set_hook(Box::new(|info| {
        // `try_`: the panic may have struck while the handler was borrowed.
        let handler = HANDLER
            .try_with(|h| h.try_borrow().ok().and_then(|h| h.clone()))
            .ok()
            .flatten();
        if let Some(handler) = handler {
            // The message only: formatting the location too costs the
            // package ~160 bytes gzipped.
            let payload = info.payload();
            let message = payload
                .downcast_ref::<&str>()
                .copied()
                .or_else(|| payload.downcast_ref::<String>().map(String::as_str))
                .unwrap_or_default();
            let _ = handler.call1(&JsValue::UNDEFINED, &message.into());
        }
    }));
}
