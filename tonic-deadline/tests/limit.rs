//! `ConcurrencyLimitLayer`: a call holds its place until its work has
//! stopped, not until its response is out. Blocking work that holds a clone
//! of the call's `CallContext` keeps the call's place after the client has
//! its whole answer; the place comes back when that thread lets go.
use std::convert::Infallible;

use bytes::Bytes;
use http::{HeaderMap, HeaderValue, Request, Response};
use http_body::Frame;
use http_body_util::{BodyExt as _, Full, StreamBody};
use tonic::{Code, body::Body};
use tonic_deadline::{CallContext, ConcurrencyLimitLayer, DeadlineLayer};
use tower::{Service, ServiceBuilder, ServiceExt, service_fn};

fn frame(message: &[u8]) -> Bytes {
    let mut frame = vec![0];
    frame.extend((message.len() as u32).to_be_bytes());
    frame.extend(message);
    frame.into()
}

fn call() -> Request<Body> {
    Request::post("/test.Work/Start")
        .header("content-type", "application/grpc")
        .body(Body::new(Full::new(frame(b""))))
        .unwrap()
}

/// A response of one message, then `grpc-status: 0`.
fn reply() -> Response<Body> {
    let mut trailers = HeaderMap::new();
    trailers.insert("grpc-status", HeaderValue::from_static("0"));
    let frames = [
        Ok::<_, Infallible>(Frame::data(frame(b"started"))),
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

/// The status of a response read to its end: its trailers', or
/// trailers-only.
async fn finish(response: Response<Body>) -> tonic::Status {
    let headers = response.headers().clone();
    let collected = response.into_body().collect().await.unwrap();
    let from = match collected.trailers() {
        Some(t) if t.contains_key("grpc-status") => t.clone(),
        _ => headers,
    };
    tonic::Status::from_header_map(&from).expect("a grpc-status")
}

#[tokio::test]
async fn a_call_holds_its_place_until_its_work_has_stopped() {
    // Each call starts blocking work that runs on after the answer, holding
    // the call's context, until the test lets it go.
    let (release, released) = std::sync::mpsc::channel::<()>();
    let released = std::sync::Arc::new(std::sync::Mutex::new(released));
    let (stopped, mut work_stopped) = tokio::sync::mpsc::unbounded_channel::<()>();
    let handler = service_fn(move |req: Request<Body>| {
        let ctx = req.extensions().get::<CallContext>().cloned();
        let (released, stopped) = (released.clone(), stopped.clone());
        async move {
            let ctx = ctx.expect("the DeadlineLayer is installed");
            tokio::task::spawn_blocking(move || {
                let _call = ctx;
                let _ = released.lock().unwrap().recv();
                drop(_call);
                let _ = stopped.send(());
            });
            Ok::<_, Infallible>(reply())
        }
    });
    let mut server = ServiceBuilder::new()
        .layer(DeadlineLayer::new())
        .layer(ConcurrencyLimitLayer::total(1))
        .service(handler);

    let first = ServiceExt::<Request<Body>>::ready(&mut server)
        .await
        .unwrap()
        .call(call())
        .await
        .unwrap();
    assert_eq!(finish(first).await.code(), Code::Ok);
    // Answered in full, its work still running: the only place is taken.
    let second = ServiceExt::<Request<Body>>::ready(&mut server)
        .await
        .unwrap()
        .call(call())
        .await
        .unwrap();
    let refused = finish(second).await;
    assert_eq!(refused.code(), Code::ResourceExhausted, "{refused:?}");
    assert!(refused.message().contains("the limit is 1"), "{refused:?}");

    // The work stops: the place is free for the next call.
    release.send(()).unwrap();
    work_stopped.recv().await.unwrap();
    let third = ServiceExt::<Request<Body>>::ready(&mut server)
        .await
        .unwrap()
        .call(call())
        .await
        .unwrap();
    assert_eq!(finish(third).await.code(), Code::Ok);
    release.send(()).unwrap();
}
