//! Graceful shutdown: an optional lameduck first (health checks answer
//! NOT_SERVING while calls are still accepted and served, so that load
//! balancers take the server out before it stops accepting), then stop
//! accepting, let unary calls finish within a drain time, end open streams at
//! once with UNAVAILABLE (trailers, not a reset), and cancel the tokens of
//! what is cut short so its upstream calls stop too.
//!
//! The server stops accepting and sends GOAWAY itself (tonic's
//! `serve_with_shutdown`, axum's or hyper-util's graceful shutdown, given
//! [`Shutdown::begun`]); the [`DeadlineLayer`](crate::DeadlineLayer), given
//! the same [`Shutdown`], ends the calls. A unary call also keeps its own
//! deadline: whichever comes first ends it.
use std::time::Duration;

use tokio_util::sync::{CancellationToken, WaitForCancellationFutureOwned};

/// The default drain time for unary calls in flight.
pub const DEFAULT_DRAIN_TIMEOUT: Duration = Duration::from_secs(5);

/// One server's shutdown; cheap to clone, every clone the same.
#[derive(Clone, Debug)]
pub struct Shutdown {
    requested: CancellationToken,
    begun: CancellationToken,
    drained: CancellationToken,
    drain_timeout: Duration,
    lameduck: Duration,
}

impl Default for Shutdown {
    fn default() -> Self {
        Shutdown::new(DEFAULT_DRAIN_TIMEOUT)
    }
}

impl Shutdown {
    /// Unary calls in flight get `drain_timeout` to finish once it begins.
    pub fn new(drain_timeout: Duration) -> Self {
        Shutdown {
            requested: CancellationToken::new(),
            begun: CancellationToken::new(),
            drained: CancellationToken::new(),
            drain_timeout,
            lameduck: Duration::ZERO,
        }
    }

    /// A lameduck period before the shutdown proper: from [`begin`](Self::begin)
    /// on, for `lameduck`, health checks answer NOT_SERVING (see
    /// [`Health`](crate::Health)) while calls are still accepted and served;
    /// long enough for load balancers and Kubernetes' readiness probes to take
    /// the server out (their probe period times the failures they wait for).
    pub fn with_lameduck(mut self, lameduck: Duration) -> Self {
        self.lameduck = lameduck;
        self
    }

    pub fn drain_timeout(&self) -> Duration {
        self.drain_timeout
    }

    pub fn lameduck(&self) -> Duration {
        self.lameduck
    }

    /// Begins the shutdown (again is a no-op): the lameduck now, if there is
    /// one; then streams end and the server stops accepting, unary calls end
    /// at the end of the drain time. Needs a tokio runtime (for the timers).
    pub fn begin(&self) {
        if self.requested.is_cancelled() {
            return;
        }
        tracing::info!(lameduck = ?self.lameduck, drain_timeout = ?self.drain_timeout, "shutting down");
        self.requested.cancel();
        if self.lameduck.is_zero() {
            // At once, not on a task's first poll: callers rely on it.
            self.begun.cancel();
        }
        let this = self.clone();
        tokio::spawn(async move {
            if !this.lameduck.is_zero() {
                tokio::time::sleep(this.lameduck).await;
                tracing::info!("lameduck over: no longer accepting");
                this.begun.cancel();
            }
            tokio::time::sleep(this.drain_timeout).await;
            this.drained.cancel();
        });
    }

    /// Begins the shutdown on SIGTERM or Ctrl-C (SIGINT), and returns when
    /// the server is to stop accepting (after the lameduck, if any): hand it
    /// to the server's graceful shutdown. The handlers are installed when
    /// this is called (not when first polled); see [`signal`] to install them
    /// before the server listens.
    pub fn on_signal(&self) -> impl Future<Output = ()> + Send + 'static {
        let signal = signal();
        let shutdown = self.clone();
        async move {
            signal.await;
            shutdown.begin();
            shutdown.begun().await;
        }
    }

    /// Completes as soon as the shutdown is asked for ([`begin`](Self::begin),
    /// a signal), when the lameduck starts: what health checks answer from then on.
    pub fn requested(&self) -> WaitForCancellationFutureOwned {
        self.requested.clone().cancelled_owned()
    }

    pub fn is_requested(&self) -> bool {
        self.requested.is_cancelled()
    }

    /// Completes once the shutdown proper has begun (after the lameduck):
    /// hand it to the server's graceful shutdown
    /// (`serve_with_shutdown(addr, shutdown.begun())`).
    pub fn begun(&self) -> WaitForCancellationFutureOwned {
        self.begun.clone().cancelled_owned()
    }

    /// Completes when the drain time is up.
    pub fn drained(&self) -> WaitForCancellationFutureOwned {
        self.drained.clone().cancelled_owned()
    }

    pub fn is_begun(&self) -> bool {
        self.begun.is_cancelled()
    }

    /// What ends a call of this shape: a stream when the shutdown begins,
    /// anything else when the drain time is up.
    pub(crate) fn ends(&self, is_stream: bool) -> WaitForCancellationFutureOwned {
        if is_stream {
            self.begun()
        } else {
            self.drained()
        }
    }
}

/// Completes on SIGTERM or Ctrl-C (SIGINT). The handlers are installed now,
/// so a signal that comes before the future is first polled still counts
/// (rather than killing the process). Needs a tokio runtime.
pub fn signal() -> impl Future<Output = ()> + Send + 'static {
    #[cfg(unix)]
    {
        use tokio::signal::unix::{SignalKind, signal};
        let term = signal(SignalKind::terminate());
        let int = signal(SignalKind::interrupt());
        async move {
            match (term, int) {
                (Ok(mut term), Ok(mut int)) => tokio::select! {
                    _ = term.recv() => {},
                    _ = int.recv() => {},
                },
                // No signal handling here: only an explicit `begin` ends it.
                _ => std::future::pending().await,
            }
        }
    }
    #[cfg(not(unix))]
    async {
        let _ = tokio::signal::ctrl_c().await;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test(start_paused = true)]
    async fn streams_end_at_once_unary_calls_after_the_drain_time() {
        let shutdown = Shutdown::new(Duration::from_secs(5));
        assert!(!shutdown.is_begun());
        let start = tokio::time::Instant::now();
        shutdown.begin();
        shutdown.ends(true).await;
        assert_eq!(start.elapsed(), Duration::ZERO);
        shutdown.ends(false).await;
        assert_eq!(start.elapsed(), Duration::from_secs(5));
    }

    #[tokio::test(start_paused = true)]
    async fn a_lameduck_comes_before_the_shutdown_proper() {
        let shutdown = Shutdown::new(Duration::from_secs(5)).with_lameduck(Duration::from_secs(2));
        let start = tokio::time::Instant::now();
        shutdown.begin();
        assert!(shutdown.is_requested());
        assert!(!shutdown.is_begun());
        shutdown.requested().await;
        assert_eq!(start.elapsed(), Duration::ZERO);
        shutdown.ends(true).await;
        assert_eq!(start.elapsed(), Duration::from_secs(2));
        shutdown.ends(false).await;
        assert_eq!(start.elapsed(), Duration::from_secs(7));
        shutdown.begin(); // again: nothing starts over
        assert!(shutdown.is_begun());
    }
}
