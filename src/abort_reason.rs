//! The abort reason behind a status, as the `JsValue` it was (JS callers get
//! it as `GrpcError.cause`): the source of a `tonic::Status` that a signal
//! ended.
use std::{error::Error, fmt};

use wasm_bindgen::JsValue;

use crate::unshared::Unshared;

/// The `signal.reason` of the signal that ended a call: the source of its
/// `CANCELLED` (or `DEADLINE_EXCEEDED`) `tonic::Status`. Read it with
/// [`StatusExt::abort_reason`].
#[derive(Clone)]
pub struct AbortReason(Unshared<JsValue>);

impl AbortReason {
    pub(crate) fn new(reason: JsValue) -> Self {
        Self(Unshared(reason))
    }

    /// The reason as the signal had it (a `DOMException`, or whatever was
    /// passed to `AbortController.abort(reason)`).
    pub fn value(&self) -> &JsValue {
        &self.0.0
    }
}

impl fmt::Debug for AbortReason {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_tuple("AbortReason").field(self.value()).finish()
    }
}

impl fmt::Display for AbortReason {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("the call's signal aborted")
    }
}

impl Error for AbortReason {}

// Failure (which carries the reason on its way to a Status) compares by
// value in tests; a reason is equal to the same JS value (`===`).
impl PartialEq for AbortReason {
    fn eq(&self, other: &Self) -> bool {
        self.value() == other.value()
    }
}

impl Eq for AbortReason {}

/// What a [`Channel`](crate::Channel) call's `tonic::Status` tells beyond
/// its code and message.
pub trait StatusExt {
    /// The abort reason, when the call's signal ended it: the `JsValue`
    /// given to `AbortController.abort(reason)` (a `DOMException` by
    /// default), so an app can tell its own cancel from a navigation.
    fn abort_reason(&self) -> Option<JsValue>;
}

impl StatusExt for tonic::Status {
    fn abort_reason(&self) -> Option<JsValue> {
        let mut source = self.source();
        while let Some(error) = source {
            if let Some(reason) = error.downcast_ref::<AbortReason>() {
                return Some(reason.value().clone());
            }
            source = error.source();
        }
        None
    }
}
