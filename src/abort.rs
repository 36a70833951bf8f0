//! `AbortSignal` as a Rust future, and what an abort reason means as a status.
use std::{
    cell::RefCell,
    future::Future,
    pin::Pin,
    rc::Rc,
    task::{Context, Poll, Waker},
};

use wasm_bindgen::{JsCast, JsValue, closure::Closure};
use web_sys::AbortSignal;

use crate::{
    abort_reason::AbortReason,
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

/// Resolves with `signal.reason` once the signal aborts. Dropping it removes
/// its listener, so a long-lived signal (`navigationSignal()`) does not
/// collect one listener per finished call.
pub(crate) struct Aborted {
    signal: AbortSignal,
    waker: Rc<RefCell<Option<Waker>>>,
    listener: Option<Closure<dyn FnMut()>>,
}

impl Aborted {
    pub fn new(signal: AbortSignal) -> Self {
        Self {
            signal,
            waker: Rc::default(),
            listener: None,
        }
    }

    /// The reason, if the signal has already aborted.
    pub fn reason_now(&self) -> Option<JsValue> {
        self.signal.aborted().then(|| self.signal.reason())
    }
}

impl Future for Aborted {
    type Output = JsValue;

    fn poll(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<JsValue> {
        if let Some(reason) = self.reason_now() {
            return Poll::Ready(reason);
        }
        *self.waker.borrow_mut() = Some(cx.waker().clone());
        if self.listener.is_none() {
            let waker = self.waker.clone();
            let listener = Closure::<dyn FnMut()>::new(move || {
                if let Some(w) = waker.borrow_mut().take() {
                    w.wake();
                }
            });
            // Cannot fail: `signal` is an EventTarget and the callback a function.
            let _ = self
                .signal
                .add_event_listener_with_callback("abort", listener.as_ref().unchecked_ref());
            self.listener = Some(listener);
        }
        Poll::Pending
    }
}

impl Drop for Aborted {
    fn drop(&mut self) {
        if let Some(listener) = self.listener.take() {
            let _ = self
                .signal
                .remove_event_listener_with_callback("abort", listener.as_ref().unchecked_ref());
        }
    }
}

/// How a call ended by its signal failed: a `TimeoutError` reason (what
/// `AbortSignal.timeout()` aborts with) is a deadline, anything else a cancel.
pub(crate) fn failure_for_abort(reason: &JsValue) -> Failure {
    let name = js_sys::Reflect::get(reason, &"name".into())
        .ok()
        .and_then(|n| n.as_string());
    let detail = js_sys::Reflect::get(reason, &"message".into())
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
        format!("the call was aborted by its signal: {detail}")
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
