//! What a handler sees of its call: the deadline, the time remaining, and a
//! cancellation token that fires at the deadline, when the client goes away,
//! or when the call ends.
//!
//! The [`DeadlineLayer`](crate::deadline::DeadlineLayer) makes one per call,
//! puts it in the request's extensions and scopes it as the task's current
//! call, which is how [`Propagate`](crate::propagate::Propagate) finds it for
//! upstream calls. Every clone keeps the call "in flight": the call counts as
//! stopped (gauge, outcome, cancel-to-stop time) when the last clone drops,
//! so blocking work that holds one is measured until it really stops.
use std::{
    sync::{Arc, Mutex, OnceLock},
    time::{Duration, Instant},
};

use tokio_util::sync::CancellationToken;
use tonic::{Code, Status};

use crate::metrics::CallMetrics;

/// How close to its deadline a client's disconnect is taken for the
/// deadline: more than a request's transit (a CORS preflight included, in a
/// browser), less than any cancel a person could tell apart from it.
pub const DISCONNECT_TOLERANCE: Duration = Duration::from_millis(50);

/// Why a call was cancelled before it finished on its own.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum CancelReason {
    /// The deadline from `grpc-timeout` passed.
    Deadline,
    /// The client went away (fetch aborted, RST_STREAM, socket closed).
    Disconnect,
}

impl CancelReason {
    /// The status a call cancelled for this reason ends with.
    pub fn status(self) -> Status {
        match self {
            CancelReason::Deadline => Status::deadline_exceeded("deadline exceeded"),
            CancelReason::Disconnect => Status::cancelled("the client cancelled the call"),
        }
    }
}

/// The handler's view of its call. Cheap to clone.
#[derive(Clone)]
pub struct CallContext {
    state: Arc<CallState>,
}

struct CallState {
    deadline: Option<Instant>,
    token: CancellationToken,
    cancelled: OnceLock<(Instant, CancelReason)>,
    outcome: Mutex<Option<Code>>,
    metrics: CallMetrics,
}

tokio::task_local! {
    static CURRENT: CallContext;
}

impl CallContext {
    pub(crate) fn new(deadline: Option<Instant>, metrics: CallMetrics) -> Self {
        metrics.started();
        CallContext {
            state: Arc::new(CallState {
                deadline,
                token: CancellationToken::new(),
                cancelled: OnceLock::new(),
                outcome: Mutex::new(None),
                metrics,
            }),
        }
    }

    /// The call that the current task is serving, if any.
    pub fn current() -> Option<CallContext> {
        CURRENT.try_with(Clone::clone).ok()
    }

    /// The context that the deadline layer attached to `request`.
    pub fn of<T>(request: &tonic::Request<T>) -> Option<CallContext> {
        request.extensions().get::<CallContext>().cloned()
    }

    /// Runs `fut` with this context as the task's current call.
    pub(crate) async fn scope<F: Future>(self, fut: F) -> F::Output {
        CURRENT.scope(self, fut).await
    }

    pub fn deadline(&self) -> Option<Instant> {
        self.state.deadline
    }

    /// Time left until the deadline (zero once it has passed); `None` without one.
    pub fn remaining(&self) -> Option<Duration> {
        self.state
            .deadline
            .map(|d| d.saturating_duration_since(Instant::now()))
    }

    /// Fires at the deadline, on the client's disconnect, or when the call ends.
    pub fn token(&self) -> &CancellationToken {
        &self.state.token
    }

    /// Why the call was cancelled, if it was.
    pub fn cancel_reason(&self) -> Option<CancelReason> {
        self.state.cancelled.get().map(|(_, r)| *r)
    }

    /// Cancels the call's work for `reason`; the first reason sticks.
    ///
    /// A disconnect at or just before the deadline (within
    /// [`DISCONNECT_TOLERANCE`]) counts as the deadline: the caller's own
    /// timer runs ahead of ours by the time its request took to get here, so
    /// a caller that gives up at its deadline is seen to leave a little early.
    pub(crate) fn cancel(&self, reason: CancelReason) {
        if self.state.token.is_cancelled() && self.cancel_reason().is_none() {
            return; // ended on its own already: nothing to cancel
        }
        let reason = match (reason, self.state.deadline) {
            (CancelReason::Disconnect, Some(d)) if Instant::now() + DISCONNECT_TOLERANCE >= d => {
                CancelReason::Deadline
            }
            _ => reason,
        };
        tracing::debug!(?reason, "call cancelled");
        let _ = self.state.cancelled.set((Instant::now(), reason));
        self.set_outcome(reason.status().code());
        self.state.token.cancel();
    }

    /// Marks the call as answered: its leftover work (and upstream calls) stop.
    pub(crate) fn end(&self, code: Code) {
        self.set_outcome(code);
        self.state.token.cancel();
    }

    /// Records the call's status; the first one recorded wins.
    fn set_outcome(&self, code: Code) {
        let mut outcome = self.state.outcome.lock().unwrap_or_else(|e| e.into_inner());
        outcome.get_or_insert(code);
    }
}

impl Drop for CallState {
    /// The last clone is gone: the call's work has stopped.
    fn drop(&mut self) {
        let outcome = self
            .outcome
            .get_mut()
            .map(|o| *o)
            .unwrap_or(None)
            // Nobody answered and nobody cancelled: the call was dropped.
            .unwrap_or(Code::Cancelled);
        let cancel_to_stop = self.cancelled.get().map(|(at, _)| at.elapsed());
        tracing::debug!(?outcome, ?cancel_to_stop, "call stopped");
        self.metrics.stopped(outcome, cancel_to_stop);
    }
}
