//! Concurrency limits that answer instead of queueing: a call over the limit
//! ends at once with RESOURCE_EXHAUSTED naming the limit.
//!
//! Not tower's `ConcurrencyLimit`: it waits for a permit (unbounded
//! queueing, which is what a limit is there to prevent), and it frees the
//! permit when the response's headers are out, so an open stream would not
//! count. Here the permit is held until the call's work has stopped (its
//! [`CallContext`] dropped), blocking work included.
//!
//! Two limits, both optional: in total (one [`ConcurrencyLimitLayer`]'s
//! clones share it) and per connection (a [`PerConnection`] that the server
//! puts in each connection's requests' extensions, e.g. with tower-http's
//! `AddExtension` in its make-service). Over HTTP/2, a server that can set
//! `max_concurrent_streams` (tonic's `Server::http2_max_concurrent_streams`)
//! gets a per-connection limit from the protocol itself (clients see
//! REFUSED_STREAM, UNAVAILABLE).
use std::{
    convert::Infallible,
    sync::Arc,
    task::{Context, Poll},
};

use futures_util::future::{Either, Ready, ready};
use http::{Request, Response};
use tokio::sync::{OwnedSemaphorePermit, Semaphore};
use tonic::{Status, body::Body};
use tower::{Layer, Service};

use crate::{context::CallContext, grpc_status};

/// A limit on calls at once; cheap to clone, clones share the count.
#[derive(Clone, Debug)]
struct Limit {
    permits: Arc<Semaphore>,
    max: usize,
    scope: &'static str,
}

impl Limit {
    fn new(max: usize, scope: &'static str) -> Self {
        Limit {
            permits: Arc::new(Semaphore::new(max)),
            max,
            scope,
        }
    }

    fn try_acquire(&self) -> Result<OwnedSemaphorePermit, Status> {
        self.permits.clone().try_acquire_owned().map_err(|_| {
            Status::resource_exhausted(format!(
                "too many concurrent calls {} (the limit is {})",
                self.scope, self.max
            ))
        })
    }
}

/// The per-connection limit of one connection: make one per connection and
/// put it in the extensions of the connection's requests.
#[derive(Clone, Debug)]
pub struct PerConnection(Limit);

impl PerConnection {
    pub fn new(max: usize) -> Self {
        PerConnection(Limit::new(max, "on this connection"))
    }
}

/// Install it inside the [`DeadlineLayer`](crate::DeadlineLayer).
#[derive(Clone, Debug, Default)]
pub struct ConcurrencyLimitLayer {
    total: Option<Limit>,
}

impl ConcurrencyLimitLayer {
    /// No total limit; only the [`PerConnection`] ones requests carry.
    pub fn new() -> Self {
        ConcurrencyLimitLayer::default()
    }

    /// At most `max` calls at once through this layer and its clones.
    pub fn total(max: usize) -> Self {
        ConcurrencyLimitLayer {
            total: Some(Limit::new(max, "on this server")),
        }
    }
}

impl<S> Layer<S> for ConcurrencyLimitLayer {
    type Service = ConcurrencyLimit<S>;

    fn layer(&self, inner: S) -> Self::Service {
        ConcurrencyLimit {
            inner,
            total: self.total.clone(),
        }
    }
}

/// The service [`ConcurrencyLimitLayer`] makes.
#[derive(Clone, Debug)]
pub struct ConcurrencyLimit<S> {
    inner: S,
    total: Option<Limit>,
}

impl<S, B> Service<Request<B>> for ConcurrencyLimit<S>
where
    S: Service<Request<B>, Response = Response<Body>, Error = Infallible>,
    S::Future: Send + 'static,
{
    type Response = Response<Body>;
    type Error = Infallible;
    type Future = Either<S::Future, Ready<Result<Response<Body>, Infallible>>>;

    fn poll_ready(&mut self, cx: &mut Context<'_>) -> Poll<Result<(), Infallible>> {
        self.inner.poll_ready(cx)
    }

    fn call(&mut self, req: Request<B>) -> Self::Future {
        let limits = [
            self.total.as_ref(),
            req.extensions().get::<PerConnection>().map(|p| &p.0),
        ];
        let mut permits = Vec::with_capacity(2);
        for limit in limits.into_iter().flatten() {
            match limit.try_acquire() {
                Ok(permit) => permits.push(permit),
                Err(status) => return Either::Right(ready(Ok(grpc_status::trailers_only(status)))),
            }
        }
        // Held until the call's work has stopped.
        if let Some(ctx) = req.extensions().get::<CallContext>() {
            ctx.on_stop(move |_| drop(permits));
        }
        Either::Left(self.inner.call(req))
    }
}
