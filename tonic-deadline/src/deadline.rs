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
//!   socket closed), hyper drops our future or body, or the request body
//!   fails before it has fully arrived: that is the disconnect, and the
//!   token fires with [`CancelReason::Disconnect`].
//! - With a [`Shutdown`], open streams end with UNAVAILABLE as soon as it
//!   begins, other calls when its drain time is up (or at their deadline).
//! - With a default timeout, calls without `grpc-timeout` get that deadline.
//!
//! Sits inside tonic-web, so it only ever sees native gRPC.
use std::{
    convert::Infallible,
    pin::Pin,
    task::{Context, Poll, ready},
    time::{Duration, Instant},
};

use bytes::Bytes;
use futures_util::future::BoxFuture;
use http::{Request, Response};
use http_body::{Body as HttpBody, Frame};
use tokio::time::Sleep;
use tokio_util::sync::WaitForCancellationFutureOwned;
use tonic::{Code, Status, body::Body};
use tower::{BoxError, Layer, Service};

use crate::{
    context::{CallContext, CancelReason},
    grpc_status,
    methods::Methods,
    request_body::RequestBody,
    shutdown::Shutdown,
};

/// Wraps a server's gRPC routes; see the module docs.
#[derive(Clone, Default)]
pub struct DeadlineLayer {
    methods: Methods,
    shutdown: Option<Shutdown>,
    default_timeout: Option<Duration>,
    max_message_bytes: Option<usize>,
}

impl DeadlineLayer {
    /// Deadlines and cancellation; no shutdown handling, no default deadline.
    pub fn new() -> Self {
        DeadlineLayer::default()
    }

    /// Tells unary calls from streams (for [`Shutdown`] and for
    /// [`Metrics`](crate::Metrics)' `grpc_type`).
    pub fn methods(mut self, methods: Methods) -> Self {
        self.methods = methods;
        self
    }

    /// Ends calls when `shutdown` begins (streams) or has drained (the rest).
    pub fn shutdown(mut self, shutdown: &Shutdown) -> Self {
        self.shutdown = Some(shutdown.clone());
        self
    }

    /// Ends a call whose request message is larger with RESOURCE_EXHAUSTED
    /// naming the limit, before the message is read. Raise tonic's own limit
    /// (`max_decoding_message_size`, 4 MiB) to match if this one is higher.
    pub fn max_message_bytes(mut self, max: usize) -> Self {
        self.max_message_bytes = Some(max);
        self
    }

    /// The deadline of calls that carry no `grpc-timeout`.
    pub fn default_timeout(mut self, timeout: Duration) -> Self {
        self.default_timeout = Some(timeout);
        self
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

/// The service [`DeadlineLayer`] makes.
#[derive(Clone)]
pub struct Deadline<S> {
    inner: S,
    layer: DeadlineLayer,
}

impl<S, B> Service<Request<B>> for Deadline<S>
where
    S: Service<Request<Body>, Response = Response<Body>, Error = Infallible>
        + Clone
        + Send
        + 'static,
    S::Future: Send + 'static,
    B: HttpBody<Data = Bytes> + Send + 'static,
    B::Error: Into<BoxError>,
{
    type Response = Response<Body>;
    type Error = Infallible;
    type Future = BoxFuture<'static, Result<Response<Body>, Infallible>>;

    fn poll_ready(&mut self, cx: &mut Context<'_>) -> Poll<Result<(), Infallible>> {
        self.inner.poll_ready(cx)
    }

    fn call(&mut self, req: Request<B>) -> Self::Future {
        let timeout = match req.headers().get(grpc_timeout::HEADER) {
            None => self.layer.default_timeout,
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
        let is_stream = method.kind.is_stream();
        let ctx = CallContext::new(deadline, method);
        #[cfg(feature = "opentelemetry")]
        ctx.set_trace_context(crate::otel::extract(req.headers()));
        let (parts, body) = req.into_parts();
        let mut req = Request::from_parts(
            parts,
            Body::new(RequestBody::new(
                body,
                ctx.clone(),
                self.layer.max_message_bytes,
            )),
        );
        req.extensions_mut().insert(ctx.clone());
        let mut shutdown = self
            .layer
            .shutdown
            .as_ref()
            .map(|s| Box::pin(s.ends(is_stream)));

        // The clone that was polled ready serves this call (tower's idiom).
        let clone = self.inner.clone();
        let mut inner = std::mem::replace(&mut self.inner, clone);
        let handler = ctx.clone().scope(inner.call(req));
        Box::pin(async move {
            let guard = DisconnectGuard(Some(ctx.clone()));
            // One timer for the whole call: before the response, then in its body.
            let mut sleep = deadline.map(|d| Box::pin(tokio::time::sleep_until(d.into())));
            let ended = async {
                match (sleep.as_mut(), shutdown.as_mut()) {
                    (None, None) => std::future::pending().await,
                    (Some(sleep), None) => sleep.await,
                    (None, Some(shutdown)) => {
                        shutdown.await;
                        return CancelReason::Shutdown;
                    }
                    (Some(sleep), Some(shutdown)) => tokio::select! {
                        () = sleep => {},
                        () = shutdown => return CancelReason::Shutdown,
                    },
                }
                CancelReason::Deadline
            };
            let response = tokio::select! {
                biased;
                response = handler => response,
                reason = ended => {
                    guard.cancel(reason);
                    return Ok(grpc_status::trailers_only(reason.status()));
                }
            };
            let Ok(response) = response;
            let ctx = guard.take();
            if let Some(status) = ctx.rejection() {
                return Ok(grpc_status::trailers_only(status));
            }
            if let Some(code) = grpc_status::code_in(response.headers()) {
                ctx.end(code); // trailers-only: the call is over
                return Ok(response);
            }
            Ok(response.map(|body| {
                Body::new(CallBody {
                    inner: Some(body),
                    ctx: Some(ctx),
                    sleep,
                    shutdown,
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
    shutdown: Option<Pin<Box<WaitForCancellationFutureOwned>>>,
}

impl CallBody {
    /// Why the call must end now, if it must.
    fn ended(&mut self, cx: &mut Context<'_>) -> Option<CancelReason> {
        if let Some(sleep) = self.sleep.as_mut()
            && sleep.as_mut().poll(cx).is_ready()
        {
            return Some(CancelReason::Deadline);
        }
        if let Some(shutdown) = self.shutdown.as_mut()
            && shutdown.as_mut().poll(cx).is_ready()
        {
            return Some(CancelReason::Shutdown);
        }
        None
    }
}

impl HttpBody for CallBody {
    type Data = bytes::Bytes;
    type Error = Status;

    fn poll_frame(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
    ) -> Poll<Option<Result<Frame<Self::Data>, Self::Error>>> {
        let this = &mut *self;
        if this.ctx.is_none() {
            return Poll::Ready(None);
        }
        if let Some(reason) = this.ended(cx)
            && let Some(ctx) = this.ctx.take()
        {
            ctx.cancel(reason);
            this.inner = None; // stops the handler's stream now
            let trailers = grpc_status::trailers(&reason.status());
            return Poll::Ready(Some(Ok(Frame::trailers(trailers))));
        }
        let Some(ctx) = this.ctx.as_ref() else {
            return Poll::Ready(None);
        };
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
