//! The JavaScript API (the npm package): thin wasm-bindgen classes over the
//! Rust [`Channel`](crate::Channel). TypeScript declarations are in `types.rs`.
mod call;
mod clients;
mod code;
mod error;
mod fields;
mod messages;
mod navigation;
mod options;
mod stream;
mod types;

pub use clients::{GreeterClient, StatsClient, UpdatesClient, WorkClient};
pub use code::Code;
pub use navigation::navigation_signal;
