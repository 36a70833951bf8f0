//! A layer that hands each call's [`CallContext`] to a function as the call
//! starts: how [`Metrics`](crate::Metrics) counts, and how a server adds
//! counting or logging of its own (with [`CallContext::on_stop`] for the end).
use std::{
    fmt,
    sync::Arc,
    task::{Context, Poll},
};

use http::Request;
use tower::{Layer, Service};

use crate::context::CallContext;

/// Install it inside the [`DeadlineLayer`](crate::DeadlineLayer); calls
/// without a context (no deadline layer outside) pass by unseen.
#[derive(Clone)]
pub struct OnCallLayer(Arc<dyn Fn(&CallContext) + Send + Sync>);

impl OnCallLayer {
    pub fn new(f: impl Fn(&CallContext) + Send + Sync + 'static) -> Self {
        OnCallLayer(Arc::new(f))
    }
}

impl fmt::Debug for OnCallLayer {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("OnCallLayer")
    }
}

impl<S> Layer<S> for OnCallLayer {
    type Service = OnCall<S>;

    fn layer(&self, inner: S) -> Self::Service {
        OnCall {
            inner,
            f: self.0.clone(),
        }
    }
}

/// The service [`OnCallLayer`] makes.
#[derive(Clone)]
pub struct OnCall<S> {
    inner: S,
    f: Arc<dyn Fn(&CallContext) + Send + Sync>,
}

impl<S, B> Service<Request<B>> for OnCall<S>
where
    S: Service<Request<B>>,
{
    type Response = S::Response;
    type Error = S::Error;
    type Future = S::Future;

    fn poll_ready(&mut self, cx: &mut Context<'_>) -> Poll<Result<(), Self::Error>> {
        self.inner.poll_ready(cx)
    }

    fn call(&mut self, req: Request<B>) -> Self::Future {
        if let Some(ctx) = req.extensions().get::<CallContext>() {
            (self.f)(ctx);
        }
        self.inner.call(req)
    }
}
