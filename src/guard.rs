//! What can end a call before the server does: its signal and its deadline.
//!
//! The signal aborts the call's fetch (once [linked](FetchLink::link)) inside
//! its `abort` event, and only then wakes the call's future. Aborting the
//! fetch a microtask later, when that future is polled, is not the same:
//! Chromium sends a fetch's abort to the network after the tasks queued
//! before it, so a long task the app queued right after `abort()` (a render,
//! say) held the server's cancel back by its whole length. The deadline's
//! timer needs no such care: its task runs only our code, and the abort
//! follows in that task's own microtasks.
use std::{
    cell::{Cell, RefCell},
    future::Future,
    pin::Pin,
    rc::Rc,
    task::{Context, Poll, Waker},
};

use wasm_bindgen::{JsCast, closure::Closure};
use web_sys::{AbortController, AbortSignal};

use crate::{
    abort::failure_for_abort,
    deadline::{Deadline, expired},
    status::{Code, Failure},
    unshared::Unshared,
};

pub(crate) struct Guard {
    signal: Option<AbortSignal>,
    deadline: Option<Deadline>,
    trip: Rc<Trip>,
    /// On `signal`'s `abort`, removed when the guard goes, so a long-lived
    /// signal (`navigationSignal()`) does not collect one per finished call.
    listener: Option<Closure<dyn FnMut()>>,
    timer: Option<Pin<Box<dyn Future<Output = ()>>>>,
}

/// What the signal's listener shares with the call's polls.
#[derive(Default)]
struct Trip {
    fired: Cell<bool>,
    waker: RefCell<Option<Waker>>,
    fetch: RefCell<Option<AbortController>>,
}

impl Trip {
    fn fire(&self) {
        self.fired.set(true);
        // Taken out first: what `abort()` and `wake()` run may come back here.
        let fetch = self.fetch.borrow().clone();
        if let Some(fetch) = fetch {
            fetch.abort();
        }
        let waker = self.waker.borrow_mut().take();
        if let Some(waker) = waker {
            waker.wake();
        }
    }

    fn link(&self, fetch: &AbortController) {
        if self.fired.get() {
            fetch.abort();
        } else {
            *self.fetch.borrow_mut() = Some(fetch.clone());
        }
    }
}

impl Guard {
    pub fn new(signal: Option<AbortSignal>, deadline: Option<Deadline>) -> Self {
        let trip = Rc::new(Trip::default());
        let listener = signal.as_ref().map(|signal| {
            let trip = trip.clone();
            let listener = Closure::<dyn FnMut()>::new(move || trip.fire());
            // Cannot fail: `signal` is an EventTarget and the callback a function.
            let _ =
                signal.add_event_listener_with_callback("abort", listener.as_ref().unchecked_ref());
            listener
        });
        Self {
            signal,
            deadline,
            trip,
            listener,
            // It measures against the absolute deadline, so starting at the first poll is fine.
            timer: deadline.map(|d| Box::pin(expired(d)) as Pin<Box<dyn Future<Output = ()>>>),
        }
    }

    /// Fails if the call must not even start: the signal has aborted or the
    /// deadline has passed (the signal's verdict first).
    pub fn check(&self) -> Result<(), Failure> {
        if let Some(signal) = self.signal.as_ref().filter(|s| s.aborted()) {
            return Err(failure_for_abort(&signal.reason()));
        }
        if self.deadline.is_some_and(|d| d.remaining().is_zero()) {
            return Err(deadline_exceeded());
        }
        Ok(())
    }

    /// A handle through which the transport links its fetch to the guard;
    /// the tonic path carries it in the request's extensions.
    pub fn fetch_link(&self) -> FetchLink {
        FetchLink(Unshared(self.trip.clone()))
    }

    /// Ready with the status once the signal aborts or the deadline passes.
    pub fn poll_fired(&mut self, cx: &mut Context<'_>) -> Poll<Failure> {
        if let Some(signal) = self.signal.as_ref().filter(|s| s.aborted()) {
            return Poll::Ready(failure_for_abort(&signal.reason()));
        }
        if let Some(timer) = &mut self.timer
            && timer.as_mut().poll(cx).is_ready()
        {
            return Poll::Ready(deadline_exceeded());
        }
        *self.trip.waker.borrow_mut() = Some(cx.waker().clone());
        Poll::Pending
    }
}

impl Drop for Guard {
    fn drop(&mut self) {
        if let (Some(signal), Some(listener)) = (&self.signal, &self.listener) {
            let _ = signal
                .remove_event_listener_with_callback("abort", listener.as_ref().unchecked_ref());
        }
    }
}

/// [`Guard::fetch_link`]'s handle.
#[derive(Clone)]
pub(crate) struct FetchLink(Unshared<Rc<Trip>>);

impl FetchLink {
    /// Has the call's signal abort `fetch` inside its `abort` event (at
    /// once if it has aborted).
    pub fn link(&self, fetch: &AbortController) {
        self.0.0.link(fetch);
    }
}

fn deadline_exceeded() -> Failure {
    Failure::new(Code::DEADLINE_EXCEEDED, "the call's deadline passed")
}
