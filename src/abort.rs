//! A call's `AbortSignal`, and what an abort reason means as a status.
use wasm_bindgen::{JsCast, JsValue};
use web_sys::AbortSignal;

use crate::{
    abort_reason::AbortReason,
    browser::ErrorLike,
    status::{Code, Failure},
    unshared::Unshared,
};

/// An `AbortSignal` for one call, carried in the request's extensions (see
/// [`RequestExt::with_signal`](crate::RequestExt::with_signal)).
#[derive(Clone, Debug)]
pub struct Signal(Unshared<AbortSignal>);

impl Signal {
    pub fn new(signal: AbortSignal) -> Self {
        Self(Unshared(signal))
    }

    pub fn get(&self) -> &AbortSignal {
        &self.0.0
    }
}

/// How a call ended by its signal failed: a `TimeoutError` reason (what
/// `AbortSignal.timeout()` aborts with) is a deadline, anything else a cancel.
pub(crate) fn failure_for_abort(reason: &JsValue) -> Failure {
    let error = reason.unchecked_ref::<ErrorLike>();
    let name = error.name().ok().and_then(|n| n.as_string());
    let detail = error
        .message()
        .ok()
        .and_then(|m| m.as_string())
        .or_else(|| reason.as_string())
        .unwrap_or_default();
    Failure::new(code_for_abort(name.as_deref()), abort_message(&detail))
        .caused_by(AbortReason::new(reason.clone()))
}

fn code_for_abort(reason_name: Option<&str>) -> Code {
    match reason_name {
        Some("TimeoutError") => Code::DEADLINE_EXCEEDED,
        _ => Code::CANCELLED,
    }
}

fn abort_message(detail: &str) -> String {
    if detail.is_empty() {
        "the call was aborted by its signal".into()
    } else {
        crate::ascii::join(&["the call was aborted by its signal: ", detail])
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_timeout_reason_is_a_deadline_and_anything_else_a_cancel() {
        assert_eq!(
            code_for_abort(Some("TimeoutError")),
            Code::DEADLINE_EXCEEDED
        );
        assert_eq!(code_for_abort(Some("AbortError")), Code::CANCELLED);
        assert_eq!(code_for_abort(None), Code::CANCELLED);
    }

    #[test]
    fn the_message_says_why() {
        assert_eq!(abort_message(""), "the call was aborted by its signal");
        assert_eq!(
            abort_message("user left"),
            "the call was aborted by its signal: user left"
        );
    }
}
