//! The Rust API: tonic-generated clients over the [`Channel`], with the
//! signal and deadline given per request, against the live demo server.
#![cfg(target_arch = "wasm32")]

mod support;

use std::{
    cell::RefCell,
    future::{Ready, ready},
    rc::Rc,
    task::{Context, Poll},
    time::Duration,
};

use grpc_web_abort::{Channel, Deadline, RequestExt, grpc_timeout};
use support::*;
use tonic::{Code, Request, Status, body::Body};
use tower_service::Service;
use wasm_bindgen_test::*;
use wasm_tests::proto::{
    ComputeRequest, HelloRequest, WatchRequest, greeter_client::GreeterClient,
    updates_client::UpdatesClient, work_client::WorkClient,
};
use web_sys::AbortController;

wasm_bindgen_test_configure!(run_in_browser);

fn hello(delay_ms: u32) -> Request<HelloRequest> {
    Request::new(HelloRequest {
        name: "Rust".into(),
        delay_ms,
    })
}

#[wasm_bindgen_test]
async fn a_unary_call_succeeds_within_its_deadline() {
    let before = Metrics::scrape().await;
    let mut greeter = GreeterClient::new(Channel::new(SERVER));
    let reply = greeter
        .say_hello(hello(10).with_timeout(Duration::from_secs(5)))
        .await
        .unwrap();
    assert_eq!(reply.into_inner().message, "Hello, Rust!");
    server_settled(&before, GREETER, &["OK"]).await;
}

#[wasm_bindgen_test]
async fn a_stream_runs_to_its_end() {
    let before = Metrics::scrape().await;
    let mut updates = UpdatesClient::new(Channel::new(SERVER));
    let request = Request::new(WatchRequest {
        topic: "r".into(),
        interval_ms: 1,
        limit: 3,
        after_seq: 0,
    });
    let mut stream = updates.watch(request).await.unwrap().into_inner();
    let mut seqs = vec![];
    while let Some(update) = stream.message().await.unwrap() {
        seqs.push(update.seq);
    }
    assert_eq!(seqs, [1, 2, 3]);
    server_settled(&before, UPDATES, &["OK"]).await;
}

#[wasm_bindgen_test]
async fn a_server_status_arrives_with_its_code_and_message() {
    let before = Metrics::scrape().await;
    let status = WorkClient::new(Channel::new(SERVER))
        .compute(Request::new(ComputeRequest {
            n: 10_000_000_000_000,
        }))
        .await
        .unwrap_err();
    assert_eq!(status.code(), Code::InvalidArgument, "{status:?}");
    assert_eq!(
        status.message(),
        "n must be at most 1000000000000, got 10000000000000"
    );
    server_settled(&before, WORK, &["InvalidArgument"]).await;
}

#[wasm_bindgen_test]
async fn a_signal_cancels_a_unary_call_and_the_server_stops() {
    let before = Metrics::scrape().await;
    let controller = AbortController::new().unwrap();
    let mut greeter = GreeterClient::new(Channel::new(SERVER));
    let call = greeter.say_hello(hello(10_000).with_signal(&controller.signal()));
    let abort = async {
        backend_has_call(&before, GREETER).await;
        controller.abort();
    };
    let (outcome, ()) = futures_util::join!(call, abort);
    assert_eq!(outcome.unwrap_err().code(), Code::Cancelled);
    server_settled(&before, GREETER, &["Canceled"]).await;
}

#[wasm_bindgen_test]
async fn an_absolute_deadline_ends_a_stream_midway() {
    let before = Metrics::scrape().await;
    let mut updates = UpdatesClient::new(Channel::new(SERVER));
    let request = Request::new(WatchRequest {
        topic: "r".into(),
        interval_ms: 50,
        limit: 0,
        after_seq: 0,
    })
    .with_deadline(Deadline::after(Duration::from_millis(300)));
    let start = now();
    let mut stream = updates.watch(request).await.unwrap().into_inner();
    let mut received = 0;
    let status = loop {
        match stream.message().await {
            Ok(Some(_)) => received += 1,
            Ok(None) => panic!("an endless stream ended"),
            Err(status) => break status,
        }
    };
    let took = now() - start;
    assert_eq!(status.code(), Code::DeadlineExceeded);
    assert!(received >= 2, "{received} updates before the deadline");
    assert!((290.0..900.0).contains(&took), "took {took} ms");
    server_settled(&before, UPDATES, &["DeadlineExceeded", "Canceled"]).await;
}

/// A transport that records each request's `grpc-timeout` and answers UNAVAILABLE.
#[derive(Clone, Default)]
struct Recorder(Rc<RefCell<Vec<Option<String>>>>);

impl Service<http::Request<Body>> for Recorder {
    type Response = http::Response<Body>;
    type Error = Status;
    type Future = Ready<Result<Self::Response, Status>>;

    fn poll_ready(&mut self, _: &mut Context<'_>) -> Poll<Result<(), Status>> {
        Poll::Ready(Ok(()))
    }

    fn call(&mut self, request: http::Request<Body>) -> Self::Future {
        let timeout = request
            .headers()
            .get("grpc-timeout")
            .map(|v| v.to_str().unwrap().to_owned());
        self.0.borrow_mut().push(timeout);
        ready(Err(Status::unavailable("recorded")))
    }
}

#[wasm_bindgen_test]
async fn grpc_timeout_announces_the_time_remaining_rounded_down() {
    let recorder = Recorder::default();
    let mut greeter = GreeterClient::new(Channel::with_transport(recorder.clone()));
    let deadline = Deadline::after(Duration::from_millis(800));
    // Time passes (a condition on the deadline, not a fixed pause): what is
    // announced is the time remaining when the call leaves, not the 800 ms.
    while deadline.remaining() > Duration::from_millis(700) {
        sleep(5).await;
    }
    // The earlier of the two wins: the absolute deadline.
    let request = hello(0)
        .with_timeout(Duration::from_secs(60))
        .with_deadline(deadline);
    let left_before = deadline.remaining();
    assert_eq!(
        greeter.say_hello(request).await.unwrap_err().code(),
        Code::Unavailable
    );
    let left_after = deadline.remaining();
    let _ = greeter.say_hello(hello(0)).await;
    let sent = recorder.0.borrow().clone();
    let announced =
        grpc_timeout::parse(sent[0].as_deref().expect("grpc-timeout sent").as_bytes()).unwrap();
    assert!(
        announced <= left_before && announced >= left_after,
        "{announced:?} not within [{left_after:?}, {left_before:?}]"
    );
    assert!(left_before < Duration::from_millis(701), "the wait counted");
    assert_eq!(sent[1], None, "no deadline, no grpc-timeout");
}

#[wasm_bindgen_test]
async fn an_aborted_signal_or_passed_deadline_never_reaches_the_transport() {
    let recorder = Recorder::default();
    let mut greeter = GreeterClient::new(Channel::with_transport(recorder.clone()));
    let controller = AbortController::new().unwrap();
    controller.abort();
    let cancelled = greeter
        .say_hello(hello(0).with_signal(&controller.signal()))
        .await;
    assert_eq!(cancelled.unwrap_err().code(), Code::Cancelled);
    let late = greeter
        .say_hello(hello(0).with_timeout(Duration::ZERO))
        .await;
    assert_eq!(late.unwrap_err().code(), Code::DeadlineExceeded);
    assert!(recorder.0.borrow().is_empty());
}

/// A transport whose calls never answer, and that notes when one is dropped.
#[derive(Clone, Default)]
struct Silent(Rc<RefCell<bool>>);

struct NeverAnswers(Rc<RefCell<bool>>);

impl std::future::Future for NeverAnswers {
    type Output = Result<http::Response<Body>, Status>;

    fn poll(self: std::pin::Pin<&mut Self>, _: &mut Context<'_>) -> Poll<Self::Output> {
        Poll::Pending
    }
}

impl Drop for NeverAnswers {
    fn drop(&mut self) {
        *self.0.borrow_mut() = true;
    }
}

impl Service<http::Request<Body>> for Silent {
    type Response = http::Response<Body>;
    type Error = Status;
    type Future = NeverAnswers;

    fn poll_ready(&mut self, _: &mut Context<'_>) -> Poll<Result<(), Status>> {
        Poll::Ready(Ok(()))
    }

    fn call(&mut self, _: http::Request<Body>) -> NeverAnswers {
        NeverAnswers(self.0.clone())
    }
}

#[wasm_bindgen_test]
async fn the_local_timer_ends_a_call_to_a_silent_server_and_drops_it() {
    let silent = Silent::default();
    let mut greeter = GreeterClient::new(Channel::with_transport(silent.clone()));
    let start = now();
    let status = greeter
        .say_hello(hello(0).with_timeout(Duration::from_millis(200)))
        .await;
    let took = now() - start;
    assert_eq!(status.unwrap_err().code(), Code::DeadlineExceeded);
    assert!((199.0..900.0).contains(&took), "took {took} ms");
    assert!(
        *silent.0.borrow(),
        "the transport's call was dropped (the fetch aborted)"
    );
}

/// A transport whose every answer is NOT_FOUND with a
/// `grpc-status-details-bin` that is not base64: trailers-only, or in the
/// trailers after an empty body.
#[derive(Clone, Copy)]
struct MalformedDetails {
    in_trailers: bool,
}

impl Service<http::Request<Body>> for MalformedDetails {
    type Response = http::Response<Body>;
    type Error = Status;
    type Future = Ready<Result<Self::Response, Status>>;

    fn poll_ready(&mut self, _: &mut Context<'_>) -> Poll<Result<(), Status>> {
        Poll::Ready(Ok(()))
    }

    fn call(&mut self, _: http::Request<Body>) -> Self::Future {
        use http::HeaderValue;
        use http_body_util::BodyExt;
        let mut status = http::HeaderMap::new();
        status.insert("grpc-status", HeaderValue::from_static("5"));
        status.insert(
            "grpc-message",
            HeaderValue::from_static("no%20such%20thing"),
        );
        status.insert("grpc-status-details-bin", HeaderValue::from_static("!!!"));
        let mut response = if self.in_trailers {
            let trailers = ready(Some(Ok::<_, std::convert::Infallible>(status)));
            http::Response::new(Body::new(
                http_body_util::Empty::<bytes::Bytes>::new().with_trailers(trailers),
            ))
        } else {
            let mut response = http::Response::new(Body::empty());
            response.headers_mut().extend(status);
            response
        };
        let grpc = HeaderValue::from_static("application/grpc");
        response.headers_mut().insert("content-type", grpc);
        ready(Ok(response))
    }
}

/// tonic's client panics reading such a status (`Status::from_header_map`
/// `expect`s the details to decode), and a panic in the browser is a trap:
/// the app's wasm gone. The call ends INTERNAL, naming what was sent.
#[wasm_bindgen_test]
async fn a_status_with_malformed_details_is_internal_not_a_trap() {
    for in_trailers in [false, true] {
        let transport = MalformedDetails { in_trailers };
        let unary = GreeterClient::new(Channel::with_transport(transport))
            .say_hello(hello(0))
            .await
            .unwrap_err();
        let request = Request::new(WatchRequest {
            topic: "t".into(),
            interval_ms: 1,
            limit: 1,
            after_seq: 0,
        });
        let stream = match UpdatesClient::new(Channel::with_transport(transport))
            .watch(request)
            .await
        {
            Ok(stream) => stream.into_inner().message().await.unwrap_err(),
            Err(status) => status,
        };
        for status in [unary, stream] {
            assert_eq!(status.code(), Code::Internal, "{in_trailers}: {status:?}");
            assert!(
                status
                    .message()
                    .contains("grpc-status-details-bin is malformed")
                    && status.message().contains("NotFound: no such thing"),
                "{in_trailers}: {status:?}"
            );
        }
    }
}
