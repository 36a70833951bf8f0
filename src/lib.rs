//! gRPC-Web for the browser where every call takes an `AbortSignal` and a
//! deadline, and ending a call really aborts its `fetch`.
//!
//! Rust frontends put a [`Channel`] under any tonic-generated client and give
//! each request a signal and a deadline with [`RequestExt`]:
//!
//! ```text
//! // `GreeterClient` and `HelloRequest` come from your own protos, compiled by
//! // tonic-prost-build in your build.rs (clients only, no transport).
//! use std::time::Duration;
//! use grpc_web_abort::{Channel, RequestExt};
//!
//! let mut greeter = GreeterClient::new(Channel::new("http://127.0.0.1:8080"));
//! let request = tonic::Request::new(HelloRequest { name: "Ada".into(), delay_ms: 0 })
//!     .with_signal(&signal)
//!     .with_timeout(Duration::from_secs(2));
//! let reply = greeter.say_hello(request).await?; // CANCELLED / DEADLINE_EXCEEDED as documented
//! ```
//!
//! The crate compiles no `.proto` of its own. The npm packages that
//! `grpc-web-abort-build` generates for a user's protos call the exports in
//! [`js`], which encode and decode messages by the descriptor set the
//! package embeds: one generic codec walks its field tables, so no code is
//! compiled per message.
mod abort;
mod body;
mod browser;
mod channel;
mod clock;
mod deadline;
mod fetch;
mod guard;
mod raw_codec;
mod request_ext;
mod schema;
mod status;
mod unshared;
mod wire;
mod wkt;

pub use abort::Signal;
pub use body::GuardedBody;
pub use channel::{Channel, GrpcWebFetch};
pub use deadline::Deadline;
pub use fetch::{Fetch, FetchBody};
/// The `grpc-timeout` header, as the client sends it and the server reads it.
pub use grpc_timeout;
pub use raw_codec::RawCodec;
pub use request_ext::RequestExt;
pub use status::{CODES, Code, Failure, code_for_http_status};

pub mod js;

/// The npm package's allocator (see the `npm-runtime` feature).
#[cfg(all(
    feature = "npm-runtime",
    target_arch = "wasm32",
    not(target_feature = "atomics")
))]
#[global_allocator]
static ALLOCATOR: talc::wasm::WasmDynamicTalc = talc::wasm::new_wasm_dynamic_allocator();
