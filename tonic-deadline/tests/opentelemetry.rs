//! The `opentelemetry` feature (issue 20): gRFC A66's server instruments as
//! the SDK's in-memory exporter receives them, for an OK, a cancelled and a
//! deadline-exceeded call; and a `traceparent` sent to a frontend reaching
//! its backend's handler (over loopback HTTP/2), through `Propagate`, with
//! the same trace id.
use std::{
    convert::Infallible,
    sync::{Arc, Mutex},
    time::{Duration, Instant},
};

use bytes::Bytes;
use http::{HeaderMap, HeaderValue, Request, Response};
use http_body::Frame;
use http_body_util::{BodyExt as _, Full, StreamBody};
use hyper_util::{
    rt::{TokioExecutor, TokioIo},
    service::TowerToHyperService,
};
use opentelemetry::{KeyValue, global, metrics::MeterProvider as _, trace::TraceContextExt as _};
use opentelemetry_sdk::{
    metrics::{
        InMemoryMetricExporter, PeriodicReader, SdkMeterProvider,
        data::{AggregatedMetrics, MetricData, ResourceMetrics},
    },
    propagation::TraceContextPropagator,
};
use tonic::body::Body;
use tonic_deadline::{CallContext, DeadlineLayer, Http2Client, OtelMetrics, Propagate};
use tower::{ServiceBuilder, ServiceExt as _, service_fn};

fn frame(message: &[u8]) -> Bytes {
    let mut frame = vec![0];
    frame.extend((message.len() as u32).to_be_bytes());
    frame.extend(message);
    frame.into()
}

fn call(path: &str, message: &[u8], headers: &[(&str, &str)]) -> Request<Body> {
    let mut request = Request::post(path).header("content-type", "application/grpc");
    for (name, value) in headers {
        request = request.header(*name, *value);
    }
    request.body(Body::new(Full::new(frame(message)))).unwrap()
}

/// A response of one message, then `grpc-status: 0`.
fn reply(message: &[u8]) -> Response<Body> {
    let mut trailers = HeaderMap::new();
    trailers.insert("grpc-status", HeaderValue::from_static("0"));
    let frames = [
        Ok::<_, Infallible>(Frame::data(frame(message))),
        Ok(Frame::trailers(trailers)),
    ];
    let mut response = Response::new(Body::new(StreamBody::new(futures_util::stream::iter(
        frames,
    ))));
    response
        .headers_mut()
        .insert("content-type", HeaderValue::from_static("application/grpc"));
    response
}

/// The grpc-status of a finished response: its trailers', or trailers-only.
async fn status_of(response: Response<Body>) -> String {
    let header = response.headers().get("grpc-status").cloned();
    let collected = response.into_body().collect().await.unwrap();
    let trailers = collected
        .trailers()
        .and_then(|t| t.get("grpc-status").cloned());
    let status = trailers.or(header).expect("a grpc-status");
    status.to_str().unwrap().to_string()
}

/// Polls `check` until it returns something, for at most 5 s.
async fn eventually<T>(what: &str, mut check: impl FnMut() -> Option<T>) -> T {
    let end = Instant::now() + Duration::from_secs(5);
    loop {
        if let Some(found) = check() {
            return found;
        }
        assert!(Instant::now() < end, "not within 5 s: {what}");
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
}

/// (attributes, count, sum) of every data point of the instrument `name`
/// in the latest export (cumulative).
fn points(exported: &[ResourceMetrics], name: &str) -> Vec<(Vec<KeyValue>, u64, f64)> {
    let Some(latest) = exported.last() else {
        return Vec::new();
    };
    let mut out = Vec::new();
    for metric in latest.scope_metrics().flat_map(|s| s.metrics()) {
        if metric.name() != name {
            continue;
        }
        let attributes = |a: &mut dyn Iterator<Item = &KeyValue>| {
            let mut a: Vec<KeyValue> = a.cloned().collect();
            a.sort_by(|x, y| x.key.as_str().cmp(y.key.as_str()));
            a
        };
        match metric.data() {
            AggregatedMetrics::U64(MetricData::Sum(sum)) => {
                for p in sum.data_points() {
                    out.push((attributes(&mut p.attributes()), p.value(), p.value() as f64));
                }
            }
            AggregatedMetrics::U64(MetricData::Histogram(h)) => {
                for p in h.data_points() {
                    out.push((attributes(&mut p.attributes()), p.count(), p.sum() as f64));
                }
            }
            AggregatedMetrics::F64(MetricData::Histogram(h)) => {
                for p in h.data_points() {
                    out.push((attributes(&mut p.attributes()), p.count(), p.sum()));
                }
            }
            other => panic!("{name}: unexpected data {other:?}"),
        }
    }
    out
}

fn attrs(method: &str, status: Option<&str>) -> Vec<KeyValue> {
    let mut a = vec![KeyValue::new("grpc.method", method.to_string())];
    if let Some(status) = status {
        a.push(KeyValue::new("grpc.status", status.to_string()));
    }
    a
}

/// The (count, sum) of the point with exactly these attributes.
fn point(points: &[(Vec<KeyValue>, u64, f64)], attributes: &[KeyValue]) -> Option<(u64, f64)> {
    points
        .iter()
        .find(|(a, _, _)| a == attributes)
        .map(|(_, count, sum)| (*count, *sum))
}

#[tokio::test]
async fn a66_instruments_for_ok_cancelled_and_deadline_exceeded_calls() {
    let exporter = InMemoryMetricExporter::default();
    let provider = SdkMeterProvider::builder()
        .with_reader(PeriodicReader::builder(exporter.clone()).build())
        .build();
    let otel = OtelMetrics::new(&provider.meter("test"));
    let (entered, mut handler_entered) = tokio::sync::mpsc::unbounded_channel();
    let server = ServiceBuilder::new()
        .layer(DeadlineLayer::new())
        .layer(otel.layer())
        .service(service_fn(move |req: Request<Body>| {
            let entered = entered.clone();
            async move {
                let ctx = req.extensions().get::<CallContext>().cloned();
                let ctx = ctx.expect("the DeadlineLayer is outside");
                let path = req.uri().path().to_string();
                req.into_body().collect().await.unwrap(); // the request message
                if path == "/t.v1.S/Ok" {
                    return Ok::<_, Infallible>(reply(b"1234567"));
                }
                let _ = entered.send(());
                ctx.token().cancelled().await; // until cancelled: disconnect or deadline
                Ok(reply(b""))
            }
        }));

    let ok = server
        .clone()
        .oneshot(call("/t.v1.S/Ok", b"abc", &[]))
        .await
        .unwrap();
    assert_eq!(status_of(ok).await, "0");

    let timeout = [("grpc-timeout", "50m")];
    let late = server
        .clone()
        .oneshot(call("/t.v1.S/Wait", b"ab", &timeout));
    assert_eq!(status_of(late.await.unwrap()).await, "4"); // DEADLINE_EXCEEDED

    // A client that goes away: the call's future is dropped mid-handler.
    let left = tokio::spawn(server.clone().oneshot(call("/t.v1.S/Wait", b"a", &[])));
    handler_entered.recv().await.unwrap(); // the deadline-exceeded one's
    handler_entered.recv().await.unwrap(); // this one's
    left.abort();

    let (ok, deadline, cancelled) = (
        attrs("t.v1.S/Ok", Some("OK")),
        attrs("t.v1.S/Wait", Some("DEADLINE_EXCEEDED")),
        attrs("t.v1.S/Wait", Some("CANCELLED")),
    );
    let durations = eventually("three calls recorded", || {
        provider.force_flush().unwrap();
        let exported = exporter.get_finished_metrics().unwrap();
        let durations = points(&exported, "grpc.server.call.duration");
        let all = [&ok, &deadline, &cancelled];
        all.iter()
            .all(|a| point(&durations, a).is_some_and(|(count, _)| count == 1))
            .then_some(durations)
    })
    .await;
    let (_, waited) = point(&durations, &deadline).unwrap();
    assert!(
        waited >= 0.05,
        "the deadline-exceeded call lasted {waited} s"
    );
    assert_eq!(durations.len(), 3, "{durations:?}");

    let exported = exporter.get_finished_metrics().unwrap();
    let started = points(&exported, "grpc.server.call.started");
    assert_eq!(point(&started, &attrs("t.v1.S/Ok", None)), Some((1, 1.0)));
    assert_eq!(point(&started, &attrs("t.v1.S/Wait", None)), Some((2, 2.0)));
    let sent = points(
        &exported,
        "grpc.server.call.sent_total_compressed_message_size",
    );
    let rcvd = points(
        &exported,
        "grpc.server.call.rcvd_total_compressed_message_size",
    );
    assert_eq!(point(&sent, &ok), Some((1, 7.0)), "{sent:?}");
    assert_eq!(point(&rcvd, &ok), Some((1, 3.0)), "{rcvd:?}");
    assert_eq!(point(&rcvd, &deadline), Some((1, 2.0)), "{rcvd:?}");
    assert_eq!(point(&sent, &deadline), Some((1, 0.0)), "{sent:?}");
    assert_eq!(point(&rcvd, &cancelled), Some((1, 1.0)), "{rcvd:?}");
}

#[tokio::test]
async fn a_traceparent_reaches_the_backend_handler_through_propagate() {
    global::set_text_map_propagator(TraceContextPropagator::new());
    let seen = Arc::new(Mutex::new(None));
    let backend_seen = seen.clone();
    let backend = ServiceBuilder::new()
        .layer(DeadlineLayer::new())
        .service(service_fn(move |req: Request<Body>| {
            let ctx = req.extensions().get::<CallContext>().cloned().unwrap();
            let header = req.headers().get("traceparent").cloned();
            let trace_id = ctx.trace_context().span().span_context().trace_id();
            *backend_seen.lock().unwrap() = Some((trace_id.to_string(), header));
            async { Ok::<_, Infallible>(reply(b"from the backend")) }
        }));
    // The backend over real loopback HTTP/2, as a second tier would be.
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let origin = format!("http://{}", listener.local_addr().unwrap());
    tokio::spawn(async move {
        loop {
            let (tcp, _) = listener.accept().await.unwrap();
            let service = TowerToHyperService::new(backend.clone());
            tokio::spawn(
                hyper::server::conn::http2::Builder::new(TokioExecutor::new())
                    .serve_connection(TokioIo::new(tcp), service),
            );
        }
    });
    let upstream = Http2Client::new(origin.parse().unwrap()).unwrap();
    let frontend = ServiceBuilder::new()
        .layer(DeadlineLayer::new())
        .service(service_fn(move |_req: Request<Body>| {
            let upstream = Propagate::new(upstream.clone());
            async move {
                let response = upstream.oneshot(call("/t.v1.B/Call", b"x", &[])).await;
                let status = status_of(response.unwrap()).await;
                assert_eq!(status, "0");
                Ok::<_, Infallible>(reply(b""))
            }
        }));

    let traceparent = "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01";
    let request = call("/t.v1.F/Call", b"", &[("traceparent", traceparent)]);
    let response = frontend.oneshot(request).await.unwrap();
    assert_eq!(status_of(response).await, "0");

    let (trace_id, header) = seen
        .lock()
        .unwrap()
        .clone()
        .expect("the backend was called");
    assert_eq!(trace_id, "4bf92f3577b34da6a3ce929d0e0e4736");
    let header = header.expect("the upstream call carries a traceparent");
    assert!(
        header
            .to_str()
            .unwrap()
            .starts_with("00-4bf92f3577b34da6a3ce929d0e0e4736-"),
        "{header:?}"
    );
}
