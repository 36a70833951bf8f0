//! gRPC-Web for the browser where every call takes an `AbortSignal` and a
//! deadline, and ending a call really aborts its `fetch`.
//!
//! Rust frontends put a [`Channel`] under any tonic-generated client and give
//! each request a signal and a deadline with [`RequestExt`]; a [`CallScope`]
//! cancels a component's calls when it is dropped, [`navigation_signal`] at
//! the page's next navigation, and [`StatusExt::abort_reason`] gives back
//! the reason a signal aborted with:
//!
//! ```text
//! // `GreeterClient` and `HelloRequest` come from your own protos, compiled by
//! // tonic-prost-build in your build.rs (clients only, no transport).
//! use std::time::Duration;
//! use grpc_web_abort::{CallScope, Channel, RequestExt, navigation_signal};
//!
//! let scope = CallScope::linked(&navigation_signal()); // keep it with the component
//! let mut greeter = GreeterClient::new(Channel::new("http://127.0.0.1:8080"));
//! let request = tonic::Request::new(HelloRequest { name: "Ada".into(), delay_ms: 0 })
//!     .with_signal(&scope.signal())
//!     .with_timeout(Duration::from_secs(2));
//! let reply = greeter.say_hello(request).await?; // CANCELLED / DEADLINE_EXCEEDED as documented
//! ```
//!
//! `docs/rust.md` in the repository has the whole setup (Cargo.toml,
//! build.rs, spawning the `!Send` futures in Leptos and Yew), and
//! `examples/yew-app` an app.
//!
//! # Features
//! - `js-api`: the `js` module, the wasm-bindgen exports that the npm
//!   packages `grpc-web-abort-build` generates call (they encode and decode
//!   messages by the descriptor set the package embeds: one generic codec
//!   walks its field tables, so no code is compiled per message). Off for
//!   Rust apps: wasm-bindgen cannot strip exports, so it would ship in
//!   their `.wasm` unused.
//! - `npm-runtime`: the npm package's runtime build (`js-api`, plus talc as
//!   the global allocator).
mod abort;
mod abort_reason;
mod ascii;
mod body;
mod browser;
mod channel;
mod clock;
mod deadline;
mod fetch;
mod frames;
mod guard;
mod navigation;
mod raw_codec;
mod readable_status;
mod request_ext;
#[cfg(feature = "js-api")]
mod schema;
mod scope;
mod status;
mod unshared;
#[cfg(feature = "js-api")]
mod wire;
#[cfg(feature = "js-api")]
mod wkt;

pub use abort::Signal;
pub use abort_reason::{AbortReason, StatusExt};
pub use body::GuardedBody;
pub use channel::{Channel, GrpcWebFetch};
pub use deadline::Deadline;
pub use fetch::{Fetch, FetchBody};
/// The `grpc-timeout` header, as the client sends it and the server reads it.
pub use grpc_timeout;
pub use navigation::navigation_signal;
pub use raw_codec::RawCodec;
pub use request_ext::RequestExt;
pub use scope::CallScope;
pub use status::{CODES, Code, Failure, code_for_http_status};

#[cfg(feature = "js-api")]
pub mod js;

/// The npm package's allocator (see the `npm-runtime` feature).
#[cfg(all(
    feature = "npm-runtime",
    target_arch = "wasm32",
    not(target_feature = "atomics")
))]
#[global_allocator]
static ALLOCATOR: talc::wasm::WasmDynamicTalc = talc::wasm::new_wasm_dynamic_allocator();
