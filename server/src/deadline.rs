//! The server layer that gives every call a deadline and a cancellation
//! token, and ends the call with DEADLINE_EXCEEDED at the deadline.
//!
//! - `grpc-timeout` is parsed before the handler runs; a malformed value is
//!   answered with INVALID_ARGUMENT naming the header, and nothing is counted.
//! - At the deadline the handler's future (or, mid-stream, its body) is
//!   dropped, its token fires, and the client gets DEADLINE_EXCEEDED: as a
//!   trailers-only response before the first message, as trailers after it.
//!   (tonic's own timeout answers CANCELLED, which tells the client nothing.)
//! - If the connection drops the call first (fetch aborted, RST_STREAM,
//!   socket closed), hyper drops our future or body: that is the disconnect,
//!   and the token fires with [`CancelReason::Disconnect`].
//!
//! Sits inside tonic-web, so it only ever sees native gRPC.
use std::{
    convert::Infallible,
    pin::Pin,
    sync::Arc,
    task::{Context, Poll, ready},
    time::Instant,
};

use futures_util::future::BoxFuture;
use http::{Request, Response};
use http_body::{Body as HttpBody, Frame};
use tokio::time::Sleep;
use tonic::{Code, Status, body::Body};
use tower::{Layer, Service};

use crate::{
    context::{CallContext, CancelReason},
    grpc_status,
    methods::Methods,
    metrics::Metrics,
};

/// Wraps a tier's gRPC routes; see the module docs.
#[derive(Clone)]
pub struct DeadlineLayer {
    tier: Arc<str>,
    metrics: Arc<Metrics>,
    methods: Methods,
}

impl DeadlineLayer {
    pub fn new(tier: &str, metrics: Arc<Metrics>, methods: Methods) -> Self {
        DeadlineLayer {
            tier: tier.into(),
            metrics,
            methods,
        }
    }
}

impl<S> Layer<S> for DeadlineLayer {
    type Service = Deadline<S>;

    fn layer(&self, inner: S) -> Self::Service {
        Deadline {
            inner,
            layer: self.clone(),
        }
    }
}

#[derive(Clone)]
pub struct Deadline<S> {
    inner: S,
    layer: DeadlineLayer,
}

impl<S, B> Service<Request<B>> for Deadline<S>
where
    S: Service<Request<B>, Response = Response<Body>, Error = Infallible> + Clone + Send + 'static,
    S::Future: Send + 'static,
    B: Send + 'static,
{
    type Response = Response<Body>;
    type Error = Infallible;
    type Future = BoxFuture<'static, Result<Response<Body>, Infallible>>;

    fn poll_ready(&mut self, cx: &mut Context<'_>) -> Poll<Result<(), Infallible>> {
        self.inner.poll_ready(cx)
    }

    fn call(&mut self, mut req: Request<B>) -> Self::Future {
        let timeout = match req.headers().get(grpc_timeout::HEADER) {
            None => None,
            Some(value) => match grpc_timeout::parse(value.as_bytes()) {
                Ok(t) => Some(t),
                Err(e) => {
                    let status = Status::invalid_argument(e.to_string());
                    return Box::pin(async move { Ok(grpc_status::trailers_only(status)) });
                }
            },
        };
        // A timeout too far away to represent is no deadline at all.
        let deadline = timeout.and_then(|t| Instant::now().checked_add(t));
        let method = self.layer.methods.lookup(req.uri().path());
        let ctx = CallContext::new(deadline, self.layer.metrics.call(&self.layer.tier, &method));
        req.extensions_mut().insert(ctx.clone());

        // The clone that was polled ready serves this call (tower's idiom).
        let clone = self.inner.clone();
        let mut inner = std::mem::replace(&mut self.inner, clone);
        let handler = ctx.clone().scope(inner.call(req));
        Box::pin(async move {
            let guard = DisconnectGuard(Some(ctx.clone()));
            // One timer for the whole call: before the response, then in its body.
            let mut sleep = deadline.map(|d| Box::pin(tokio::time::sleep_until(d.into())));
            let response = match sleep.as_mut() {
                None => handler.await,
                Some(sleep) => tokio::select! {
                    biased;
                    response = handler => response,
                    () = sleep => {
                        guard.cancel(CancelReason::Deadline);
                        return Ok(grpc_status::trailers_only(CancelReason::Deadline.status()));
                    }
                },
            };
            let Ok(response) = response;
            let ctx = guard.take();
            if let Some(code) = grpc_status::code_in(response.headers()) {
                ctx.end(code); // trailers-only: the call is over
                return Ok(response);
            }
            Ok(response.map(|body| {
                Body::new(CallBody {
                    inner: Some(body),
                    ctx: Some(ctx),
                    sleep,
                })
            }))
        })
    }
}

/// Cancels the call as a disconnect if the response future is dropped
/// before it could answer.
struct DisconnectGuard(Option<CallContext>);

impl DisconnectGuard {
    /// Cancels the call for `reason` instead.
    fn cancel(mut self, reason: CancelReason) {
        if let Some(ctx) = self.0.take() {
            ctx.cancel(reason);
        }
    }

    fn take(mut self) -> CallContext {
        self.0.take().expect("taken once")
    }
}

impl Drop for DisconnectGuard {
    fn drop(&mut self) {
        if let Some(ctx) = self.0.take() {
            ctx.cancel(CancelReason::Disconnect);
        }
    }
}

/// The response body: enforces the deadline mid-stream, records the status
/// from the trailers, and treats being dropped before the end as a disconnect.
struct CallBody {
    inner: Option<Body>,
    /// `None` once the call has ended.
    ctx: Option<CallContext>,
    sleep: Option<Pin<Box<Sleep>>>,
}

impl HttpBody for CallBody {
    type Data = bytes::Bytes;
    type Error = Status;

    fn poll_frame(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
    ) -> Poll<Option<Result<Frame<Self::Data>, Self::Error>>> {
        let this = &mut *self;
        let Some(ctx) = this.ctx.as_ref() else {
            return Poll::Ready(None);
        };
        if let Some(sleep) = this.sleep.as_mut()
            && sleep.as_mut().poll(cx).is_ready()
        {
            ctx.cancel(CancelReason::Deadline);
            this.inner = None; // stops the handler's stream now
            this.ctx = None;
            let trailers = grpc_status::trailers(&CancelReason::Deadline.status());
            return Poll::Ready(Some(Ok(Frame::trailers(trailers))));
        }
        let Some(inner) = this.inner.as_mut() else {
            return Poll::Ready(None);
        };
        let frame = ready!(Pin::new(inner).poll_frame(cx));
        let ended = match &frame {
            Some(Ok(f)) => f
                .trailers_ref()
                .map(|t| grpc_status::code_in(t).unwrap_or(Code::Unknown)),
            Some(Err(_)) => Some(Code::Internal),
            None => Some(Code::Unknown), // a gRPC body ends with trailers
        };
        if let Some(code) = ended {
            ctx.end(code);
            this.ctx = None;
        }
        Poll::Ready(frame)
    }

    fn is_end_stream(&self) -> bool {
        self.ctx.is_none()
    }
}

impl Drop for CallBody {
    fn drop(&mut self) {
        if let Some(ctx) = self.ctx.take() {
            ctx.cancel(CancelReason::Disconnect);
        }
    }
}
