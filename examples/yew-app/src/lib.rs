//! A Yew app on grpc-web-abort: `/` streams the demo's updates
//! (`Updates.Watch`) and stops the stream when the user navigates to another
//! route or hides the feed; `/greet` makes a unary call with a deadline and a
//! cancel button. Every call ends at the server too: the fetch is aborted.
//!
//! The demo server's address comes from the page's `?server=` parameter
//! (default `http://127.0.0.1:8080`, `cargo xtask demo`'s).
mod app;
mod feed;
mod greet;
mod outcome;
mod proto;
mod server;

use wasm_bindgen::prelude::wasm_bindgen;

#[wasm_bindgen(start)]
pub fn start() {
    server::remember_from_location();
    yew::Renderer::<app::App>::new().render();
}
