//! OpenTelemetry (feature `opentelemetry`), through the `opentelemetry`
//! crate's API; your app installs the SDK, its exporter and the propagator.
//!
//! - **Metrics**: gRFC A66's server instruments, which grpc-go, grpc-java and
//!   grpc C++ record too: `grpc.server.call.started` (attribute
//!   `grpc.method`), `grpc.server.call.duration`,
//!   `grpc.server.call.sent_total_compressed_message_size` and
//!   `grpc.server.call.rcvd_total_compressed_message_size` (attributes
//!   `grpc.method`, `grpc.status`), through [`OtelMetrics::layer`]. Like the
//!   Prometheus series, a call is recorded when its work has stopped.
//! - **Trace context**: the [`DeadlineLayer`](crate::DeadlineLayer) extracts
//!   the incoming call's context (`traceparent`, `tracestate` with the W3C
//!   propagator) with the global propagator into its
//!   [`CallContext::trace_context`], and [`Propagate`](crate::Propagate)
//!   injects it into every upstream call the handler makes (or the current
//!   `opentelemetry::Context`, if the handler entered a span of its own),
//!   so one trace crosses every tier. Install the W3C propagator once:
//!   `opentelemetry::global::set_text_map_propagator(opentelemetry_sdk::propagation::TraceContextPropagator::new())`.
use std::{
    pin::Pin,
    sync::{
        Arc,
        atomic::{AtomicU64, Ordering},
    },
    task::{Context as TaskContext, Poll, ready},
    time::Instant,
};

use http::{HeaderMap, HeaderName, HeaderValue, Request, Response};
use http_body::{Body as HttpBody, Frame};
use opentelemetry::{
    Context, KeyValue, global,
    metrics::{Counter, Histogram, Meter},
    propagation::{Extractor, Injector},
    trace::TraceContextExt as _,
};
use tonic::{Code, body::Body};
use tower::{Layer, Service};

use crate::context::{CallContext, Stopped};

/// gRFC A66's latency buckets, in seconds.
const DURATION_BOUNDARIES: [f64; 41] = [
    0.0, 0.00001, 0.00005, 0.0001, 0.0003, 0.0006, 0.0008, 0.001, 0.002, 0.003, 0.004, 0.005,
    0.006, 0.008, 0.01, 0.013, 0.016, 0.02, 0.025, 0.03, 0.04, 0.05, 0.065, 0.08, 0.1, 0.13, 0.16,
    0.2, 0.25, 0.3, 0.4, 0.5, 0.65, 0.8, 1.0, 2.0, 5.0, 10.0, 20.0, 50.0, 100.0,
];

/// gRFC A66's size buckets, in bytes.
const SIZE_BOUNDARIES: [f64; 14] = [
    0.0,
    1024.0,
    2048.0,
    4096.0,
    16384.0,
    65536.0,
    262144.0,
    1048576.0,
    4194304.0,
    16777216.0,
    67108864.0,
    268435456.0,
    1073741824.0,
    4294967296.0,
];

/// gRFC A66's server instruments, made once from your meter.
///
/// ```
/// let meter = opentelemetry::global::meter("my-server");
/// let otel = tonic_deadline::OtelMetrics::new(&meter);
/// let server = tonic::transport::Server::builder()
///     .layer(tonic_deadline::DeadlineLayer::new())
///     .layer(otel.layer()); // inside the DeadlineLayer
/// # let _ = server;
/// ```
#[derive(Clone, Debug)]
pub struct OtelMetrics {
    started: Counter<u64>,
    duration: Histogram<f64>,
    sent: Histogram<u64>,
    rcvd: Histogram<u64>,
}

impl OtelMetrics {
    pub fn new(meter: &Meter) -> Self {
        let size = |name: &'static str, description: &'static str| {
            meter
                .u64_histogram(name)
                .with_unit("By")
                .with_description(description)
                .with_boundaries(SIZE_BOUNDARIES.to_vec())
                .build()
        };
        OtelMetrics {
            started: meter
                .u64_counter("grpc.server.call.started")
                .with_unit("{call}")
                .with_description("Calls started on the server")
                .build(),
            duration: meter
                .f64_histogram("grpc.server.call.duration")
                .with_unit("s")
                .with_description("From the call's headers to its work having stopped")
                .with_boundaries(DURATION_BOUNDARIES.to_vec())
                .build(),
            sent: size(
                "grpc.server.call.sent_total_compressed_message_size",
                "Bytes of response messages per call, as sent (compressed if they were)",
            ),
            rcvd: size(
                "grpc.server.call.rcvd_total_compressed_message_size",
                "Bytes of request messages per call, as received (compressed if they were)",
            ),
        }
    }

    /// The layer that records calls; install it inside the
    /// [`DeadlineLayer`](crate::DeadlineLayer).
    pub fn layer(&self) -> OtelMetricsLayer {
        OtelMetricsLayer(self.clone())
    }
}

/// See [`OtelMetrics::layer`].
#[derive(Clone, Debug)]
pub struct OtelMetricsLayer(OtelMetrics);

impl<S> Layer<S> for OtelMetricsLayer {
    type Service = OtelMetricsService<S>;

    fn layer(&self, inner: S) -> Self::Service {
        OtelMetricsService {
            inner,
            metrics: self.0.clone(),
        }
    }
}

/// The service [`OtelMetricsLayer`] makes.
#[derive(Clone, Debug)]
pub struct OtelMetricsService<S> {
    inner: S,
    metrics: OtelMetrics,
}

impl<S, F, E> Service<Request<Body>> for OtelMetricsService<S>
where
    S: Service<Request<Body>, Response = Response<Body>, Future = F, Error = E>,
    F: Future<Output = Result<Response<Body>, E>> + Send + 'static,
{
    type Response = Response<Body>;
    type Error = E;
    type Future = Pin<Box<dyn Future<Output = Result<Response<Body>, E>> + Send>>;

    fn poll_ready(&mut self, cx: &mut TaskContext<'_>) -> Poll<Result<(), E>> {
        self.inner.poll_ready(cx)
    }

    fn call(&mut self, req: Request<Body>) -> Self::Future {
        let Some(ctx) = req.extensions().get::<CallContext>().cloned() else {
            return Box::pin(self.inner.call(req)); // no DeadlineLayer outside: not a call
        };
        let (rcvd, sent) = (Arc::new(AtomicU64::new(0)), Arc::new(AtomicU64::new(0)));
        let method = {
            let m = ctx.method();
            KeyValue::new("grpc.method", format!("{}/{}", m.service, m.method))
        };
        self.metrics.started.add(1, std::slice::from_ref(&method));
        let (metrics, started) = (self.metrics.clone(), Instant::now());
        let (rcvd_total, sent_total) = (rcvd.clone(), sent.clone());
        ctx.on_stop(move |stopped: &Stopped| {
            let attributes = [
                method,
                KeyValue::new("grpc.status", status_name(stopped.code)),
            ];
            let duration = started.elapsed().as_secs_f64();
            metrics.duration.record(duration, &attributes);
            metrics
                .sent
                .record(sent_total.load(Ordering::Relaxed), &attributes);
            metrics
                .rcvd
                .record(rcvd_total.load(Ordering::Relaxed), &attributes);
        });
        let req = req.map(|body| Body::new(MessageCounting::new(body, rcvd)));
        let response = self.inner.call(req);
        Box::pin(async move {
            let response = response.await?;
            Ok(response.map(|body| Body::new(MessageCounting::new(body, sent))))
        })
    }
}

/// A body that adds up the lengths of the gRPC messages passing through
/// (their 5-byte prefixes say them; prefixes and trailers are not counted).
struct MessageCounting {
    inner: Body,
    total: Arc<AtomicU64>,
    prefix: [u8; 5],
    prefix_len: usize,
    payload_left: u64,
}

impl MessageCounting {
    fn new(inner: Body, total: Arc<AtomicU64>) -> Self {
        MessageCounting {
            inner,
            total,
            prefix: [0; 5],
            prefix_len: 0,
            payload_left: 0,
        }
    }

    fn feed(&mut self, mut data: &[u8]) {
        while !data.is_empty() {
            if self.payload_left > 0 {
                let n = data
                    .len()
                    .min(self.payload_left.try_into().unwrap_or(usize::MAX));
                self.payload_left -= n as u64;
                data = &data[n..];
                continue;
            }
            let n = data.len().min(5 - self.prefix_len);
            self.prefix[self.prefix_len..][..n].copy_from_slice(&data[..n]);
            self.prefix_len += n;
            data = &data[n..];
            if self.prefix_len == 5 {
                let len = u32::from_be_bytes([
                    self.prefix[1],
                    self.prefix[2],
                    self.prefix[3],
                    self.prefix[4],
                ]);
                self.total.fetch_add(len.into(), Ordering::Relaxed);
                self.payload_left = len.into();
                self.prefix_len = 0;
            }
        }
    }
}

impl HttpBody for MessageCounting {
    type Data = bytes::Bytes;
    type Error = tonic::Status;

    fn poll_frame(
        mut self: Pin<&mut Self>,
        cx: &mut TaskContext<'_>,
    ) -> Poll<Option<Result<Frame<Self::Data>, Self::Error>>> {
        let frame = ready!(Pin::new(&mut self.inner).poll_frame(cx));
        if let Some(data) = frame.as_ref().and_then(|f| f.as_ref().ok()?.data_ref()) {
            let data = data.clone();
            self.feed(&data);
        }
        Poll::Ready(frame)
    }

    fn is_end_stream(&self) -> bool {
        self.inner.is_end_stream()
    }

    fn size_hint(&self) -> http_body::SizeHint {
        self.inner.size_hint()
    }
}

/// A status code as gRFC A66 writes `grpc.status` (`OK`, `CANCELLED`, ...).
pub fn status_name(code: Code) -> &'static str {
    match code {
        Code::Ok => "OK",
        Code::Cancelled => "CANCELLED",
        Code::Unknown => "UNKNOWN",
        Code::InvalidArgument => "INVALID_ARGUMENT",
        Code::DeadlineExceeded => "DEADLINE_EXCEEDED",
        Code::NotFound => "NOT_FOUND",
        Code::AlreadyExists => "ALREADY_EXISTS",
        Code::PermissionDenied => "PERMISSION_DENIED",
        Code::ResourceExhausted => "RESOURCE_EXHAUSTED",
        Code::FailedPrecondition => "FAILED_PRECONDITION",
        Code::Aborted => "ABORTED",
        Code::OutOfRange => "OUT_OF_RANGE",
        Code::Unimplemented => "UNIMPLEMENTED",
        Code::Internal => "INTERNAL",
        Code::Unavailable => "UNAVAILABLE",
        Code::DataLoss => "DATA_LOSS",
        Code::Unauthenticated => "UNAUTHENTICATED",
    }
}

struct HeaderExtractor<'a>(&'a HeaderMap);

impl Extractor for HeaderExtractor<'_> {
    fn get(&self, key: &str) -> Option<&str> {
        self.0.get(key).and_then(|v| v.to_str().ok())
    }

    fn keys(&self) -> Vec<&str> {
        self.0.keys().map(HeaderName::as_str).collect()
    }
}

struct HeaderInjector<'a>(&'a mut HeaderMap);

impl Injector for HeaderInjector<'_> {
    fn set(&mut self, key: &str, value: String) {
        let name = HeaderName::from_bytes(key.as_bytes());
        if let (Ok(name), Ok(value)) = (name, HeaderValue::from_str(&value)) {
            self.0.insert(name, value);
        }
    }
}

/// The incoming call's trace context, by the global propagator.
pub(crate) fn extract(headers: &HeaderMap) -> Context {
    global::get_text_map_propagator(|p| p.extract(&HeaderExtractor(headers)))
}

/// Puts the trace context of the handler's call (or of the span it is in)
/// into an upstream call's headers.
pub(crate) fn inject(ctx: &CallContext, headers: &mut HeaderMap) {
    let current = Context::current();
    let cx = match current.span().span_context().is_valid() {
        true => current,
        false => ctx.trace_context(),
    };
    global::get_text_map_propagator(|p| p.inject_context(&cx, &mut HeaderInjector(headers)));
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn counts_message_payloads_across_chunks() {
        let total = Arc::new(AtomicU64::new(0));
        let mut body = MessageCounting::new(Body::empty(), total.clone());
        let mut wire = vec![0, 0, 0, 0, 3, b'a', b'b', b'c', 1, 0, 0, 1, 0];
        wire.extend([7; 256]);
        wire.extend([0, 0, 0, 0, 0]); // an empty message
        for chunk in wire.chunks(2) {
            body.feed(chunk);
        }
        assert_eq!(total.load(Ordering::Relaxed), 3 + 256);
    }
}
