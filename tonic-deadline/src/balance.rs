//! Per-call balancing over several backends: the upstream of a frontend
//! behind a Kubernetes headless Service, or given several addresses.
//!
//! One HTTP/2 connection carries every call to one backend, so a client
//! balancing per connection (a Kubernetes Service at L4) sends them all to
//! one pod. Here each call goes to the less loaded of two backends picked at
//! random (tower's power-of-two-choices balancer, over calls in flight,
//! streams counted until they end), from those [`discover`](crate::discover)
//! lets in: resolved again every refresh period, connected, and not
//! NOT_SERVING by their health. A call is still one HTTP/2 stream to one
//! backend, so [`Propagate`] works over it as over one connection: the
//! deadline travels in `grpc-timeout`, a cancel resets that stream, and a
//! backend that dies mid-call ends only its own calls, with UNAVAILABLE.
use std::{
    fmt,
    sync::Arc,
    task::{Context, Poll},
    time::Duration,
};

use futures_util::future::BoxFuture;
use http::{Request, Response, Uri};
use tokio::sync::watch;
use tokio_util::sync::{CancellationToken, DropGuard};
use tonic::body::Body;
use tower::{BoxError, Service, balance::p2c::Balance, buffer::Buffer, util::BoxService};

use crate::{
    discover::{self, Target},
    propagate::Propagate,
};

/// How often names are resolved again unless told otherwise.
pub const DEFAULT_REFRESH: Duration = Duration::from_secs(5);

/// Calls waiting for the balancer at once (it hands them on at once while
/// any backend is in; a call's own deadline bounds its wait otherwise).
const QUEUE: usize = 1024;

type Shared = Buffer<Request<Body>, BoxFuture<'static, Result<Response<Body>, BoxError>>>;

/// A client that spreads calls per call over every address of its
/// upstreams; cheap to clone, every clone the same balancer. Needs a tokio
/// runtime; its background tasks end with the last clone.
#[derive(Clone)]
pub struct Balanced {
    balancer: Shared,
    available: watch::Receiver<usize>,
    upstreams: Arc<str>,
    /// Whether the call after `poll_ready` fails at once: no backend is in.
    none: bool,
    _stop: Arc<DropGuard>,
}

impl fmt::Debug for Balanced {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Balanced")
            .field("upstreams", &self.upstreams)
            .field("available", &*self.available.borrow())
            .finish()
    }
}

impl Balanced {
    /// Balances over `upstreams` (each `http://host:port`, h2c; a name
    /// stands for all the addresses it resolves to), resolved again every
    /// `refresh`; a backend that went down is retried at least that often.
    pub fn new(
        upstreams: impl IntoIterator<Item = Uri>,
        refresh: Duration,
    ) -> Result<Self, BoxError> {
        let uris: Vec<Uri> = upstreams.into_iter().collect();
        if uris.is_empty() {
            return Err("no upstream given".into());
        }
        if refresh.is_zero() {
            return Err("the refresh period must be above zero".into());
        }
        let targets = uris.iter().map(Target::parse).collect::<Result<_, _>>()?;
        let stop = CancellationToken::new();
        let (changes, available) = discover::start(targets, refresh, stop.clone());
        let balance = Balance::new(changes);
        let balancer = Buffer::new(BoxService::new(balance), QUEUE);
        let names: Vec<String> = uris.iter().map(ToString::to_string).collect();
        Ok(Balanced {
            balancer,
            available,
            upstreams: names.join(", ").into(),
            none: false,
            _stop: Arc::new(stop.drop_guard()),
        })
    }

    /// How many backends calls may go to now.
    pub fn available(&self) -> usize {
        *self.available.borrow()
    }

    /// Waits until some backend is in, for at most `within`; whether one is.
    pub async fn ready_within(&self, within: Duration) -> bool {
        let mut available = self.available.clone();
        tokio::time::timeout(within, available.wait_for(|n| *n > 0))
            .await
            .is_ok_and(|r| r.is_ok())
    }

    /// The same, wrapped so that calls inherit deadline and cancellation.
    pub fn propagating(self) -> Propagate<Balanced> {
        Propagate::new(self)
    }
}

impl Service<Request<Body>> for Balanced {
    type Response = Response<Body>;
    type Error = BoxError;
    type Future = BoxFuture<'static, Result<Response<Body>, BoxError>>;

    fn poll_ready(&mut self, cx: &mut Context<'_>) -> Poll<Result<(), BoxError>> {
        // With no backend in, fail the call at once (UNAVAILABLE, through
        // `Propagate`) rather than let it wait in the queue for one.
        self.none = self.available() == 0;
        if self.none {
            return Poll::Ready(Ok(()));
        }
        self.balancer.poll_ready(cx)
    }

    fn call(&mut self, req: Request<Body>) -> Self::Future {
        if std::mem::take(&mut self.none) {
            let e = format!("no backend of {} is available", self.upstreams);
            return Box::pin(async move { Err(e.into()) });
        }
        Box::pin(self.balancer.call(req))
    }
}
