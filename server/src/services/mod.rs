//! The demo's services. Each has a backend, which does the work, and a
//! frontend, which forwards to the backend through an [`Upstream`] and
//! so inherits deadline and cancellation without code of its own.
pub mod greeter;
pub mod relay;
pub mod stats;
pub mod updates;
pub mod work;

use std::{pin::Pin, time::Duration};

use futures_util::Stream;
use tonic_deadline::{Balanced, Propagate};

/// What frontend services call their backend through. They read its
/// replies under the server's message limit (`--max-message-bytes`), as
/// they take requests.
pub type Upstream = Propagate<Balanced>;

/// A server-streaming response.
pub type ResponseStream<T> = Pin<Box<dyn Stream<Item = Result<T, tonic::Status>> + Send>>;

/// `interval_ms` of a streaming request: 0 means the default.
pub(crate) fn interval(ms: u32, default_ms: u64) -> Duration {
    Duration::from_millis(if ms == 0 { default_ms } else { u64::from(ms) })
}
