//! The JavaScript API's core: thin wasm-bindgen exports over the Rust
//! [`Channel`](crate::Channel) and the table-driven codec. Generated
//! packages reach it through their `runtime.js` (see the
//! `grpc-web-abort-build` crate), which adds the client classes,
//! `GrpcError`, `MessageStream` and `navigationSignal`.
mod call;
mod codec;
mod decode;
mod encode;
mod error;
mod options;
mod promise;
mod registry;
#[cfg(all(test, not(target_arch = "wasm32")))]
mod response_fuzz;
mod stream;
mod transport;
mod value;

pub use crate::status::Code;
pub use call::unary;
pub use codec::{decode_request, encode_reply, method_streams};
pub use error::set_error_class;
pub use registry::register_schema;
pub use stream::server_stream;
