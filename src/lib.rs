//! gRPC-Web for the browser where every call takes an `AbortSignal` and a
//! deadline, and ending a call really aborts its `fetch`.
//!
//! Rust frontends put a [`Channel`] under any tonic-generated client and give
//! each request a signal and a deadline with [`RequestExt`]:
//!
//! ```no_run
//! # async fn demo(signal: web_sys::AbortSignal) -> Result<(), tonic::Status> {
//! use std::time::Duration;
//! use grpc_web_abort::{Channel, RequestExt, proto::{HelloRequest, greeter_client::GreeterClient}};
//!
//! let mut greeter = GreeterClient::new(Channel::new("http://127.0.0.1:8080"));
//! let request = tonic::Request::new(HelloRequest { name: "Ada".into(), delay_ms: 0 })
//!     .with_signal(&signal)
//!     .with_timeout(Duration::from_secs(2));
//! let reply = greeter.say_hello(request).await?; // CANCELLED / DEADLINE_EXCEEDED as documented
//! # let _ = reply; Ok(()) }
//! ```
//!
//! The JavaScript API (the npm package) lives in [`js`].
mod abort;
mod body;
mod channel;
mod clock;
mod deadline;
mod fetch;
mod guard;
mod request_ext;
mod status;
mod unshared;

pub use abort::Signal;
pub use body::GuardedBody;
pub use channel::{Channel, GrpcWebFetch};
pub use deadline::Deadline;
pub use fetch::{Fetch, FetchBody};
/// The `grpc-timeout` header, as the client sends it and the server reads it.
pub use grpc_timeout;
pub use request_ext::RequestExt;
pub use status::{CODES, code_for_http_status, code_name};

/// The demo's messages and tonic clients, generated from `proto/demo.proto`.
pub mod proto {
    tonic::include_proto!("demo.v1");
}

pub mod js;
