//! `navigation_signal()`: an `AbortSignal` that aborts at the page's next
//! navigation, the Rust twin of the JS runtime's `navigationSignal()`.
use std::{cell::RefCell, rc::Rc};

use gloo_events::EventListener;
use wasm_bindgen::{JsCast, JsValue};
use web_sys::{AbortController, AbortSignal, DomException, EventTarget};

/// An `AbortSignal` that aborts at the page's next navigation: a Navigation
/// API `navigate` event where the browser has one (it also sees a router's
/// `history.pushState`), otherwise `popstate` and `hashchange`, and always
/// `pagehide` (the page is going away or into the back/forward cache). The
/// reason is an `AbortError` `DOMException` naming the event.
///
/// Calls until that navigation share one signal, so a page that asks for it
/// per call or per component mount adds one set of listeners, not one per
/// call. Outside a window (a worker) the signal never aborts.
pub fn navigation_signal() -> AbortSignal {
    CURRENT.with(|current| {
        let mut current = current.borrow_mut();
        match &*current {
            Some(signal) if !signal.aborted() => signal.clone(),
            _ => current.insert(new_navigation_signal()).clone(),
        }
    })
}

thread_local! {
    /// The signal for the next navigation, once someone has asked for it.
    static CURRENT: RefCell<Option<AbortSignal>> = const { RefCell::new(None) };
}

fn new_navigation_signal() -> AbortSignal {
    let controller = AbortController::new().expect("AbortController is constructible");
    let signal = controller.signal();
    let Some(window) = web_sys::window() else {
        return signal;
    };
    let mut targets: Vec<(EventTarget, &str)> = match navigation_api(&window) {
        Some(navigation) => vec![(navigation, "navigate")],
        None => vec![
            (window.clone().into(), "popstate"),
            (window.clone().into(), "hashchange"),
        ],
    };
    targets.push((window.into(), "pagehide"));

    // The first event aborts and drops every listener (which removes them);
    // until then the listeners hold the controller, as JS closures would.
    let listeners = Rc::new(RefCell::new(Vec::new()));
    for (target, event_type) in targets {
        let listeners_in_callback = listeners.clone();
        let controller = controller.clone();
        let listener = EventListener::new(&target, event_type, move |event| {
            let message = crate::ascii::join(&["the page navigated (", &event.type_(), ")"]);
            let reason = DomException::new_with_message_and_name(&message, "AbortError")
                .map_or_else(|e| e, JsValue::from);
            controller.abort_with_reason(&reason);
            // Dropping a listener while its callback runs is safe: wasm-bindgen
            // frees the closure once the call returns.
            listeners_in_callback.borrow_mut().clear();
        });
        listeners.borrow_mut().push(listener);
    }
    signal
}

/// `window.navigation` (the Navigation API) where the browser has it.
fn navigation_api(window: &web_sys::Window) -> Option<EventTarget> {
    // Read by name: web-sys has it only behind `web_sys_unstable_apis`.
    let navigation = js_sys::Reflect::get(window, &"navigation".into()).ok()?;
    let has_events = navigation.is_object()
        && js_sys::Reflect::has(&navigation, &"addEventListener".into()).unwrap_or(false);
    has_events.then(|| navigation.unchecked_into())
}
