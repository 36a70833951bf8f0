//! Upstream calls inherit the current call's deadline and cancellation, the
//! way .NET's `EnableCallContextPropagation` does it: wrap the channel once,
//! and every call a handler makes through it
//!
//! - carries `grpc-timeout` = the handler's time remaining less a transit
//!   allowance (or the call's own timeout, if that is sooner), so that the
//!   upstream's deadline falls before the caller's and the upstream ends the
//!   call with its own DEADLINE_EXCEEDED rather than seeing the caller reset
//!   it a moment later, and
//! - is cancelled (its HTTP/2 stream reset) when the handler's call is
//!   cancelled or ends, with DEADLINE_EXCEEDED or CANCELLED as the reason,
//! - and fails with UNAVAILABLE when the upstream cannot be reached or its
//!   connection breaks mid-call (a killed backend), the gRPC code for "try
//!   again", rather than tonic's UNKNOWN or INTERNAL for a transport error.
//!
//! A call made outside any handler passes through untouched, and so does one
//! made inside [`detached`](crate::detached) or a task of its own
//! (`tokio::spawn`): that is how a call outlives the handler that starts it.
//! Either way, an answer that is not gRPC (a proxy's `502 Bad Gateway` page
//! for a backend that died) ends the call with the status gRPC's mapping
//! of its HTTP status gives (UNAVAILABLE for 502), not tonic's INTERNAL
//! from decoding the page as frames; and an upstream's `content-length`
//! does not reach the metadata of an error its reply fails with, where it
//! would make the handler's own answer malformed (`upstream_answer.rs`).
use std::{
    pin::Pin,
    task::{Context, Poll, ready},
    time::Duration,
};

use futures_util::future::BoxFuture;
use http::{HeaderValue, Request, Response};
use http_body::{Body as HttpBody, Frame};
use tokio_util::sync::WaitForCancellationFutureOwned;
use tonic::{Status, TimeoutExpired, body::Body};
use tower::{BoxError, Layer, Service};

use crate::{
    context::{CallContext, CancelReason},
    grpc_status, upstream_answer,
};

/// Wraps an upstream channel: `Propagate::new(channel)` or
/// `ServiceBuilder::new().layer(PropagateLayer::default()).service(channel)`.
#[derive(Clone, Copy, Debug)]
pub struct PropagateLayer {
    allowance: Duration,
}

impl Default for PropagateLayer {
    fn default() -> Self {
        PropagateLayer {
            allowance: TRANSIT_ALLOWANCE,
        }
    }
}

impl<S> Layer<S> for PropagateLayer {
    type Service = Propagate<S>;

    fn layer(&self, inner: S) -> Self::Service {
        Propagate {
            inner,
            allowance: self.allowance,
        }
    }
}

/// How much earlier than the caller's the upstream's deadline falls: time
/// for the request to get there and for its DEADLINE_EXCEEDED to come back.
pub const TRANSIT_ALLOWANCE: Duration = Duration::from_millis(5);

#[derive(Clone, Debug)]
pub struct Propagate<S> {
    inner: S,
    allowance: Duration,
}

impl<S> Propagate<S> {
    pub fn new(inner: S) -> Self {
        PropagateLayer::default().layer(inner)
    }

    /// Sets how much earlier the upstream's deadline falls than the caller's.
    pub fn with_allowance(mut self, allowance: Duration) -> Self {
        self.allowance = allowance;
        self
    }
}

/// The status an upstream call ends with when its caller's call is over.
fn status_of(ctx: &CallContext) -> Status {
    match ctx.cancel_reason() {
        Some(reason) => reason.status(),
        None => Status::cancelled("the call that made this upstream call has ended"),
    }
}

impl<S, B> Service<Request<B>> for Propagate<S>
where
    S: Service<Request<B>, Response = Response<Body>> + Clone + Send + 'static,
    S::Future: Send + 'static,
    S::Error: Into<BoxError>,
    B: Send + 'static,
{
    type Response = Response<Body>;
    type Error = BoxError;
    type Future = BoxFuture<'static, Result<Response<Body>, BoxError>>;

    fn poll_ready(&mut self, cx: &mut Context<'_>) -> Poll<Result<(), BoxError>> {
        self.inner.poll_ready(cx).map_err(Into::into)
    }

    fn call(&mut self, mut req: Request<B>) -> Self::Future {
        let clone = self.inner.clone();
        let mut inner = std::mem::replace(&mut self.inner, clone);
        let Some(ctx) = CallContext::current() else {
            return Box::pin(async move {
                let response = inner.call(req).await.map_err(Into::into)?;
                let response = upstream_answer::as_grpc(response);
                Ok(response.map(|body| Body::new(upstream_answer::ReadableTrailers(body))))
            });
        };
        if ctx.token().is_cancelled() {
            let status = status_of(&ctx);
            return Box::pin(async move { Ok(grpc_status::trailers_only(status)) });
        }
        if let Some(remaining) = ctx.remaining() {
            let own = req
                .headers()
                .get(grpc_timeout::HEADER)
                .and_then(|v| grpc_timeout::parse(v.as_bytes()).ok());
            let remaining = remaining.saturating_sub(self.allowance);
            let timeout = own.map_or(remaining, |own| own.min(remaining));
            let value = HeaderValue::from_str(&grpc_timeout::encode(timeout))
                .expect("an encoded timeout is a valid header value");
            req.headers_mut().insert(grpc_timeout::HEADER, value);
        }
        #[cfg(feature = "opentelemetry")]
        crate::otel::inject(&ctx, req.headers_mut());
        let call = inner.call(req);
        Box::pin(async move {
            let token = ctx.token().clone();
            let response = tokio::select! {
                biased;
                () = token.cancelled() => return Ok(grpc_status::trailers_only(status_of(&ctx))),
                response = call => match response.map_err(Into::into) {
                    Ok(response) => upstream_answer::as_grpc(response),
                    // tonic's `Channel` enforces the timeout we sent and
                    // fails with TimeoutExpired (CANCELLED to its caller):
                    // that is a deadline.
                    Err(e) if is_timeout(&*e) => {
                        return Ok(grpc_status::trailers_only(CancelReason::Deadline.status()));
                    }
                    Err(e) => return Ok(grpc_status::trailers_only(unavailable(&*e))),
                },
            };
            Ok(response.map(|body| {
                Body::new(UpstreamBody {
                    inner: Some(body),
                    cancelled: Box::pin(ctx.token().clone().cancelled_owned()),
                    ctx,
                })
            }))
        })
    }
}

fn unavailable(e: &(dyn std::error::Error + 'static)) -> Status {
    Status::unavailable(format!("the upstream failed: {e}"))
}

/// Whether `e`, or an error it wraps, is tonic's client-side timeout.
fn is_timeout(e: &(dyn std::error::Error + 'static)) -> bool {
    let mut next = Some(e);
    while let Some(e) = next {
        if e.is::<TimeoutExpired>() {
            return true;
        }
        next = e.source();
    }
    false
}

/// An upstream response body that ends, and resets the stream, as soon as
/// the caller's call is cancelled or over; its trailers made readable
/// ([`upstream_answer::readable`]).
struct UpstreamBody {
    inner: Option<Body>,
    cancelled: Pin<Box<WaitForCancellationFutureOwned>>,
    ctx: CallContext,
}

impl HttpBody for UpstreamBody {
    type Data = bytes::Bytes;
    type Error = Status;

    fn poll_frame(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
    ) -> Poll<Option<Result<Frame<Self::Data>, Self::Error>>> {
        let this = &mut *self;
        let Some(inner) = this.inner.as_mut() else {
            return Poll::Ready(None);
        };
        if this.cancelled.as_mut().poll(cx).is_ready() {
            this.inner = None; // dropping the body resets the HTTP/2 stream
            let trailers = grpc_status::trailers(&status_of(&this.ctx));
            return Poll::Ready(Some(Ok(Frame::trailers(trailers))));
        }
        match ready!(Pin::new(inner).poll_frame(cx)) {
            Some(Err(e)) => {
                this.inner = None;
                let trailers = grpc_status::trailers(&unavailable(&e));
                Poll::Ready(Some(Ok(Frame::trailers(trailers))))
            }
            frame => Poll::Ready(frame.map(|f| f.map(upstream_answer::readable))),
        }
    }

    fn is_end_stream(&self) -> bool {
        self.inner.as_ref().is_none_or(HttpBody::is_end_stream)
    }
}
