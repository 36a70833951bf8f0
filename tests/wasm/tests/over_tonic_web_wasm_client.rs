//! The [`Channel`] over a `tonic_web_wasm_client::Client` an app already
//! has: the signal and deadline rows hold; the rows that depend on how the
//! transport reads a failed response are that transport's (see the README).
#![cfg(target_arch = "wasm32")]

mod support;

use std::time::Duration;

use grpc_web_abort::{Channel, RequestExt};
use support::*;
use tonic::{Code, Request};
use wasm_bindgen_test::*;
use wasm_tests::proto::{
    ComputeRequest, HelloRequest, WatchRequest, greeter_client::GreeterClient,
    updates_client::UpdatesClient, work_client::WorkClient,
};
use web_sys::AbortController;

wasm_bindgen_test_configure!(run_in_browser);

fn channel() -> Channel<tonic_web_wasm_client::Client> {
    Channel::with_transport(tonic_web_wasm_client::Client::new(SERVER.into()))
}

fn hello(delay_ms: u32) -> Request<HelloRequest> {
    Request::new(HelloRequest {
        name: "wasm-client".into(),
        delay_ms,
    })
}

#[wasm_bindgen_test]
async fn a_call_succeeds() {
    let before = Metrics::scrape().await;
    let reply = GreeterClient::new(channel())
        .say_hello(hello(1).with_timeout(Duration::from_secs(5)))
        .await
        .unwrap();
    assert_eq!(reply.into_inner().message, "Hello, wasm-client!");
    server_settled(&before, GREETER, &["OK"]).await;
}

#[wasm_bindgen_test]
async fn a_stream_runs_to_its_end() {
    let before = Metrics::scrape().await;
    let request = Request::new(WatchRequest {
        topic: "w".into(),
        interval_ms: 1,
        limit: 3,
        after_seq: 0,
    });
    let mut stream = UpdatesClient::new(channel())
        .watch(request)
        .await
        .unwrap()
        .into_inner();
    let mut seqs = vec![];
    while let Some(update) = stream.message().await.unwrap() {
        assert_eq!(update.topic, "w");
        seqs.push(update.seq);
    }
    assert_eq!(seqs, [1, 2, 3]);
    server_settled(&before, UPDATES, &["OK"]).await;
}

#[wasm_bindgen_test]
async fn a_server_status_arrives_with_its_code_and_message() {
    let before = Metrics::scrape().await;
    let status = WorkClient::new(channel())
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
async fn a_signal_cancels_the_call_and_the_server_stops() {
    let before = Metrics::scrape().await;
    let controller = AbortController::new().unwrap();
    let mut greeter = GreeterClient::new(channel());
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
async fn a_deadline_ends_a_stream_on_both_sides() {
    let before = Metrics::scrape().await;
    let request = Request::new(WatchRequest {
        topic: "w".into(),
        interval_ms: 50,
        limit: 0,
        after_seq: 0,
    })
    .with_timeout(Duration::from_millis(300));
    let mut stream = UpdatesClient::new(channel())
        .watch(request)
        .await
        .unwrap()
        .into_inner();
    let status = loop {
        match stream.message().await {
            Ok(Some(_)) => {}
            Ok(None) => panic!("an endless stream ended"),
            Err(status) => break status,
        }
    };
    assert_eq!(status.code(), Code::DeadlineExceeded);
    server_settled(&before, UPDATES, &["DeadlineExceeded", "Canceled"]).await;
}

#[wasm_bindgen_test]
async fn what_this_transport_cannot_map() {
    // A 404 without grpc-status: our Fetch says UNIMPLEMENTED (the gRPC
    // spec's mapping); tonic-web-wasm-client fails on the content type
    // first, as UNKNOWN, before it would look at the HTTP status.
    let origin = web_sys::window().unwrap().location().origin().unwrap();
    let transport = tonic_web_wasm_client::Client::new(origin);
    let status = GreeterClient::new(Channel::with_transport(transport))
        .say_hello(hello(0))
        .await
        .unwrap_err();
    assert_eq!(status.code(), Code::Unknown, "{status:?}");
    assert!(status.message().contains("content-type"), "{status:?}");
}
