//! Giving a `tonic::Request` its signal and deadline.
use std::time::Duration;

use web_sys::AbortSignal;

use crate::{abort::Signal, deadline::Deadline};

/// Call options for requests sent through a [`Channel`](crate::Channel).
pub trait RequestExt: Sized {
    /// The call ends with `CANCELLED` (`DEADLINE_EXCEEDED` for a
    /// `TimeoutError` reason) when `signal` aborts.
    fn with_signal(self, signal: &AbortSignal) -> Self;
    /// An absolute deadline; the earlier of it and any timeout wins.
    fn with_deadline(self, deadline: Deadline) -> Self;
    /// A relative deadline (`tonic::Request::set_timeout`).
    fn with_timeout(self, timeout: Duration) -> Self;
}

impl<T> RequestExt for tonic::Request<T> {
    fn with_signal(mut self, signal: &AbortSignal) -> Self {
        self.extensions_mut().insert(Signal::new(signal.clone()));
        self
    }

    fn with_deadline(mut self, deadline: Deadline) -> Self {
        let earliest = Deadline::earliest(self.extensions().get().copied(), Some(deadline));
        self.extensions_mut()
            .insert(earliest.expect("one is present"));
        self
    }

    fn with_timeout(mut self, timeout: Duration) -> Self {
        self.set_timeout(timeout);
        self
    }
}
