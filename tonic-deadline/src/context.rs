//! What a handler sees of its call: the deadline, the time remaining, and a
//! cancellation token that fires at the deadline, when the client goes away,
//! when the server shuts down, or when the call ends.
//!
//! The [`DeadlineLayer`](crate::DeadlineLayer) makes one per call, puts it in
//! the request's extensions and scopes it as the task's current call, which
//! is how [`Propagate`](crate::Propagate) finds it for upstream calls. Every
//! clone keeps the call "in flight": the call counts as stopped (its
//! [`on_stop`](CallContext::on_stop) hooks run) when the last clone drops, so
//! blocking work that holds one is measured until it really stops.
use std::{
    sync::{Arc, Mutex, OnceLock},
    time::{Duration, Instant},
};

use tokio_util::sync::CancellationToken;
use tonic::{Code, Status};

use crate::methods::Method;

/// How close to its deadline a client's disconnect is taken for the
/// deadline: more than a request's transit (a CORS preflight included, in a
/// browser), less than any cancel a person could tell apart from it.
pub const DISCONNECT_TOLERANCE: Duration = Duration::from_millis(50);

/// Why a call was cancelled before it finished on its own.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum CancelReason {
    /// The deadline from `grpc-timeout` passed.
    Deadline,
    /// The client went away (fetch aborted, RST_STREAM, socket closed),
    /// also before its request had fully arrived.
    Disconnect,
    /// The server is shutting down: a stream at once, a unary call when
    /// its drain time is up (see [`Shutdown`](crate::Shutdown)).
    Shutdown,
}

impl CancelReason {
    /// The status a call cancelled for this reason ends with.
    pub fn status(self) -> Status {
        match self {
            CancelReason::Deadline => Status::deadline_exceeded("deadline exceeded"),
            CancelReason::Disconnect => Status::cancelled("the client cancelled the call"),
            CancelReason::Shutdown => Status::unavailable("the server is shutting down"),
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
    /// The status the layer answers with instead of the handler's.
    rejected: OnceLock<Status>,
    method: Method,
    on_stop: Mutex<Vec<StopHook>>,
    #[cfg(feature = "opentelemetry")]
    trace: OnceLock<opentelemetry::Context>,
}

type StopHook = Box<dyn FnOnce(&Stopped) + Send>;

/// How a call ended, as its [`on_stop`](CallContext::on_stop) hooks see it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Stopped {
    /// The status the call ended with (`Cancelled` if it was dropped unanswered).
    pub code: Code,
    /// From its cancellation (disconnect, deadline, shutdown) to the last
    /// clone of its context dropping; `None` if it was not cancelled.
    pub cancel_to_stop: Option<Duration>,
}

tokio::task_local! {
    /// `None` inside [`detached`](crate::detached).
    static CURRENT: Option<CallContext>;
}

impl CallContext {
    pub(crate) fn new(deadline: Option<Instant>, method: Method) -> Self {
        CallContext {
            state: Arc::new(CallState {
                deadline,
                token: CancellationToken::new(),
                cancelled: OnceLock::new(),
                outcome: Mutex::new(None),
                rejected: OnceLock::new(),
                method,
                on_stop: Mutex::default(),
                #[cfg(feature = "opentelemetry")]
                trace: OnceLock::new(),
            }),
        }
    }

    /// The call that the current task is serving, if any.
    pub fn current() -> Option<CallContext> {
        CURRENT.try_with(Clone::clone).ok().flatten()
    }

    /// The context that the deadline layer attached to `request`.
    pub fn of<T>(request: &tonic::Request<T>) -> Option<CallContext> {
        request.extensions().get::<CallContext>().cloned()
    }

    /// Runs `fut` with this context as the task's current call.
    pub(crate) async fn scope<F: Future>(self, fut: F) -> F::Output {
        CURRENT.scope(Some(self), fut).await
    }

    /// The method being called, e.g. `pkg.v1.Cart` / `AddItem` / unary.
    pub fn method(&self) -> &Method {
        &self.state.method
    }

    /// Runs `hook` once the call's work has stopped: when the last clone of
    /// this context is dropped. This is how [`Metrics`](crate::Metrics) counts;
    /// an [`OnCallLayer`](crate::OnCallLayer) of your own can do the same.
    pub fn on_stop(&self, hook: impl FnOnce(&Stopped) + Send + 'static) {
        lock(&self.state.on_stop).push(Box::new(hook));
    }

    /// The incoming call's OpenTelemetry context (its remote span, from
    /// `traceparent`), as the global propagator extracted it; upstream
    /// calls through [`Propagate`](crate::Propagate) carry it on.
    #[cfg(feature = "opentelemetry")]
    pub fn trace_context(&self) -> opentelemetry::Context {
        self.state.trace.get().cloned().unwrap_or_default()
    }

    #[cfg(feature = "opentelemetry")]
    pub(crate) fn set_trace_context(&self, cx: opentelemetry::Context) {
        let _ = self.state.trace.set(cx);
    }

    /// The absolute deadline, if the call has one.
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

    /// Ends the call with `status` whatever its handler answers (a request
    /// over a limit); its work stops.
    pub(crate) fn reject(&self, status: Status) {
        self.set_outcome(status.code());
        let _ = self.state.rejected.set(status);
        self.state.token.cancel();
    }

    /// The status the call was rejected with, if it was.
    pub(crate) fn rejection(&self) -> Option<Status> {
        self.state.rejected.get().cloned()
    }

    /// Marks the call as answered: its leftover work (and upstream calls) stop.
    pub(crate) fn end(&self, code: Code) {
        self.set_outcome(code);
        self.state.token.cancel();
    }

    /// Records the call's status; the first one recorded wins.
    fn set_outcome(&self, code: Code) {
        lock(&self.state.outcome).get_or_insert(code);
    }
}

/// Runs `fut` outside of any call: upstream calls made in it inherit neither
/// the deadline nor the cancellation of the handler that runs it. (A task
/// started with `tokio::spawn` is outside any call already.)
pub async fn detached<F: Future>(fut: F) -> F::Output {
    CURRENT.scope(None, fut).await
}

/// A poisoned lock only means a hook panicked; the data is still usable.
fn lock<T>(m: &Mutex<T>) -> std::sync::MutexGuard<'_, T> {
    m.lock().unwrap_or_else(|e| e.into_inner())
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
        let stopped = Stopped {
            code: outcome,
            cancel_to_stop: self.cancelled.get().map(|(at, _)| at.elapsed()),
        };
        tracing::debug!(?stopped, "call stopped");
        let hooks = std::mem::take(self.on_stop.get_mut().unwrap_or_else(|e| e.into_inner()));
        for hook in hooks {
            hook(&stopped);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::methods::Methods;

    fn call() -> CallContext {
        CallContext::new(None, Methods::default().lookup("/pkg.v1.Feed/Get"))
    }

    #[tokio::test]
    async fn detached_work_is_outside_the_call() {
        call()
            .scope(async {
                assert!(CallContext::current().is_some());
                detached(async { assert!(CallContext::current().is_none()) }).await;
                assert!(CallContext::current().is_some());
            })
            .await;
    }

    #[test]
    fn stop_hooks_see_the_first_outcome_when_the_last_clone_drops() {
        let (tx, rx) = std::sync::mpsc::channel();
        let ctx = call();
        ctx.on_stop(move |stopped| tx.send(*stopped).unwrap());
        let held = ctx.clone(); // blocking work, say
        ctx.cancel(CancelReason::Disconnect);
        ctx.end(Code::Ok); // too late: the cancel was first
        assert!(ctx.token().is_cancelled());
        drop(ctx);
        assert!(rx.try_recv().is_err(), "still held");
        drop(held);
        let stopped = rx.try_recv().unwrap();
        assert_eq!(stopped.code, Code::Cancelled);
        assert!(stopped.cancel_to_stop.is_some());
    }
}
