//! `navigationSignal()`, implemented in `navigation.js` where the browser's
//! event APIs are plainest.
use wasm_bindgen::prelude::*;
use web_sys::AbortSignal;

#[wasm_bindgen(module = "/src/js/navigation.js")]
extern "C" {
    #[wasm_bindgen(js_name = navigationSignal)]
    fn navigation_signal_js() -> AbortSignal;
}

/// An `AbortSignal` that aborts at the page's next navigation (the Navigation
/// API's `navigate` event, else `popstate`/`hashchange`; always `pagehide`).
/// Each call returns a fresh signal.
#[wasm_bindgen(js_name = navigationSignal)]
pub fn navigation_signal() -> AbortSignal {
    navigation_signal_js()
}
