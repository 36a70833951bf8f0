//! [`CallScope`]: an `AbortSignal` owned by a Rust value, aborted when the
//! value is dropped, so a component's cleanup cancels the calls it started.
use wasm_bindgen::JsValue;
use web_sys::{AbortController, AbortSignal, DomException};

/// Owns an `AbortController` and aborts it when dropped: give its
/// [`signal`](Self::signal) to every call a component (or a task) starts and
/// keep the scope where the component keeps its state; when the component
/// unmounts the scope drops and those calls end with `CANCELLED`, their
/// `fetch`es aborted. The reason is an `AbortError` `DOMException`.
///
/// ```no_run
/// use grpc_web_abort::{CallScope, navigation_signal};
///
/// // Ends at the next navigation, or when `scope` is dropped.
/// let scope = CallScope::linked(&navigation_signal());
/// let signal = scope.signal();
/// # drop(signal);
/// drop(scope); // aborts `signal`
/// ```
#[derive(Debug)]
pub struct CallScope {
    controller: AbortController,
    signal: AbortSignal,
}

impl CallScope {
    /// A scope that ends only when dropped or [`abort`](Self::abort)ed.
    pub fn new() -> Self {
        let controller = AbortController::new().expect("AbortController is constructible");
        let signal = controller.signal();
        Self { controller, signal }
    }

    /// A scope that also ends when `parent` aborts (with `parent`'s reason):
    /// `CallScope::linked(&navigation_signal())` for a view's calls.
    pub fn linked(parent: &AbortSignal) -> Self {
        let mut scope = Self::new();
        let both: js_sys::Array = [&scope.signal, parent].into_iter().collect();
        scope.signal = AbortSignal::any(&both);
        scope
    }

    /// The signal to give the scope's calls
    /// ([`RequestExt::with_signal`](crate::RequestExt::with_signal)).
    pub fn signal(&self) -> AbortSignal {
        self.signal.clone()
    }

    /// Ends the scope's calls now (a cancel button), with an `AbortError`.
    pub fn abort(&self) {
        self.abort_with(&abort_error("the call was cancelled"));
    }

    /// Ends the scope's calls now with `reason` (what
    /// [`StatusExt::abort_reason`](crate::StatusExt::abort_reason) gives
    /// back; a `TimeoutError` `DOMException` makes them `DEADLINE_EXCEEDED`).
    pub fn abort_with(&self, reason: &JsValue) {
        self.controller.abort_with_reason(reason);
    }
}

impl Default for CallScope {
    fn default() -> Self {
        Self::new()
    }
}

impl Drop for CallScope {
    fn drop(&mut self) {
        // A second abort is a no-op; the first reason stays.
        self.abort_with(&abort_error("the call's scope was dropped"));
    }
}

fn abort_error(message: &str) -> JsValue {
    DomException::new_with_message_and_name(message, "AbortError").map_or_else(|e| e, JsValue::from)
}
