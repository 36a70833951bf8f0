//! What can end a call before the server does: its signal and its deadline.
use std::{
    future::Future,
    pin::Pin,
    task::{Context, Poll},
};

use web_sys::AbortSignal;

use crate::{
    abort::{Aborted, failure_for_abort},
    deadline::{Deadline, expired},
    status::{Code, Failure},
};

pub(crate) struct Guard {
    aborted: Option<Aborted>,
    deadline: Option<Deadline>,
    timer: Option<Pin<Box<dyn Future<Output = ()>>>>,
}

impl Guard {
    pub fn new(signal: Option<AbortSignal>, deadline: Option<Deadline>) -> Self {
        Self {
            aborted: signal.map(Aborted::new),
            deadline,
            // It measures against the absolute deadline, so starting at the first poll is fine.
            timer: deadline.map(|d| Box::pin(expired(d)) as Pin<Box<dyn Future<Output = ()>>>),
        }
    }

    /// Fails if the call must not even start: the signal has aborted or the
    /// deadline has passed (the signal's verdict first).
    pub fn check(&self) -> Result<(), Failure> {
        if let Some(reason) = self.aborted.as_ref().and_then(Aborted::reason_now) {
            return Err(failure_for_abort(&reason));
        }
        if self.deadline.is_some_and(|d| d.remaining().is_zero()) {
            return Err(deadline_exceeded());
        }
        Ok(())
    }

    /// Ready with the status once the signal aborts or the deadline passes.
    pub fn poll_fired(&mut self, cx: &mut Context<'_>) -> Poll<Failure> {
        if let Some(aborted) = &mut self.aborted
            && let Poll::Ready(reason) = Pin::new(aborted).poll(cx)
        {
            return Poll::Ready(failure_for_abort(&reason));
        }
        if let Some(timer) = &mut self.timer
            && timer.as_mut().poll(cx).is_ready()
        {
            return Poll::Ready(deadline_exceeded());
        }
        Poll::Pending
    }
}

fn deadline_exceeded() -> Failure {
    Failure::new(Code::DEADLINE_EXCEEDED, "the call's deadline passed")
}
