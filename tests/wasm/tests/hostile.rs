//! The Rust API (a tonic client over the [`Channel`]) against
//! tests/hostile-server, whose replies are chosen byte sequences (the
//! `x-case` header picks one, whatever the method's path: the demo's
//! clients serve): every call ends in time with the code docs/rust.md
//! gives and no trap, and the server sees the fetches the client gave up
//! on. Built only by `cargo xtask test --only hostile`, which starts the
//! server and sets `HOSTILE_SERVER_URL`.
//!
//! The page is another origin than the server, which exposes no header:
//! a trailers-only status is hidden from it (INTERNAL, naming the CORS
//! setting), as in any cross-origin app whose server forgot to expose it.
//! Run in Chromium and Firefox, whose fetch errors differ in their text.
#![cfg(all(target_arch = "wasm32", hostile_server))]

mod support;

use std::time::Duration;

use grpc_web_abort::{Channel, RequestExt};
use support::{get_url, now, sleep};
use tonic::{Code, Request, Status, metadata::MetadataValue};
use wasm_bindgen_futures::JsFuture;
use wasm_bindgen_test::*;
use wasm_tests::proto::{
    HelloRequest, WatchRequest, greeter_client::GreeterClient, updates_client::UpdatesClient,
};

wasm_bindgen_test_configure!(run_in_browser);

const HOSTILE: &str = env!("HOSTILE_SERVER_URL");

/// Each call's deadline: far beyond what any case takes but `stall`.
const DEADLINE: Duration = Duration::from_secs(5);

fn with_case<T>(message: T, case: &str, timeout: Duration) -> Request<T> {
    let mut request = Request::new(message).with_timeout(timeout);
    request
        .metadata_mut()
        .insert("x-case", MetadataValue::try_from(case).unwrap());
    request
}

/// A unary call answered by `case`: its outcome and how long it took (ms).
async fn unary(case: &str, timeout: Duration) -> (Result<String, Status>, f64) {
    let hello = HelloRequest {
        name: "hostile".into(),
        delay_ms: 0,
    };
    let started = now();
    let outcome = GreeterClient::new(Channel::new(HOSTILE))
        .say_hello(with_case(hello, case, timeout))
        .await
        .map(|reply| reply.into_inner().message);
    (outcome, now() - started)
}

/// A stream answered by `case`: the messages before its end, how it ended,
/// and how long it took (ms).
async fn stream(case: &str, timeout: Duration) -> (usize, Result<(), Status>, f64) {
    let watch = WatchRequest {
        topic: "hostile".into(),
        interval_ms: 1,
        limit: 0,
        after_seq: 0,
    };
    let started = now();
    let mut received = 0;
    let ended = match UpdatesClient::new(Channel::new(HOSTILE))
        .watch(with_case(watch, case, timeout))
        .await
    {
        Err(status) => Err(status),
        Ok(updates) => {
            let mut updates = updates.into_inner();
            loop {
                match updates.message().await {
                    Ok(Some(_)) => received += 1,
                    Ok(None) => break Ok(()),
                    Err(status) => break Err(status),
                }
            }
        }
    };
    (received, ended, now() - started)
}

/// [requests that arrived, replies whose client went away] for `case`.
async fn stats(case: &str) -> [u32; 2] {
    let response = get_url(&format!("{HOSTILE}/stats")).await;
    let text = JsFuture::from(response.text().unwrap()).await.unwrap();
    let text = text.as_string().unwrap();
    let counts = text
        .lines()
        .find_map(|line| line.strip_prefix(case)?.strip_prefix(' '))
        .map(|rest| {
            rest.split(' ')
                .map(|n| n.parse().unwrap())
                .collect::<Vec<u32>>()
        });
    counts.map_or([0, 0], |c| [c[0], c[1]])
}

/// Waits (polling) until the server has seen `more` more of `case`'s
/// replies lose their client than `before`.
async fn server_saw_aborts(case: &str, before: [u32; 2], more: u32) {
    let until = now() + 5000.0;
    while stats(case).await[1] < before[1] + more {
        assert!(
            now() < until,
            "the server did not see {more} of {case}'s fetches aborted within 5 s"
        );
        sleep(25).await;
    }
}

fn expect(case: &str, ended: Result<(), Status>, code: Code, text: &str, took: f64, within: f64) {
    let status = ended.expect_err(case);
    assert_eq!(status.code(), code, "{case}: {status:?}");
    assert!(status.message().contains(text), "{case}: {status:?}");
    assert!(took < within, "{case}: ended after {took:.0} ms");
}

/// Every case, unary and stream: the code, a text of its message, and the
/// most it may take (ms).
#[wasm_bindgen_test]
async fn each_hostile_answer_ends_the_call_with_its_code() {
    let limit = "over the limit of 4194304 bytes (max_decoding_message_size)";
    let hidden = "Access-Control-Expose-Headers: grpc-status";
    let cases = [
        ("max-length", Code::ResourceExhausted, limit, 2000.0),
        // The server would take 1.6 s to send the 5 MiB.
        ("over-limit", Code::ResourceExhausted, limit, 1000.0),
        (
            "bad-group",
            Code::Internal,
            "unexpected end group tag",
            2000.0,
        ),
        ("truncated", Code::Internal, hidden, 2000.0),
        ("bad-trailers", Code::Internal, "header name", 2000.0),
        ("odd-status", Code::Unknown, "%zz\u{2713}", 2000.0),
        ("bad-details", Code::Internal, "NotFound: gone", 2000.0),
        (
            "unknown-flags",
            Code::Internal,
            "a frame with unknown flags 2",
            2000.0,
        ),
        ("compressed", Code::Internal, "compressed frame", 2000.0),
        ("no-status", Code::Internal, hidden, 2000.0),
        ("trailers-only", Code::Internal, hidden, 2000.0),
        ("reset", Code::Unavailable, "fetch failed: ", 2000.0),
    ];
    for (case, code, text, within) in cases {
        let (outcome, took) = unary(case, DEADLINE).await;
        expect(case, outcome.map(drop), code, text, took, within);
        let (_, ended, took) = stream(case, DEADLINE).await;
        expect(case, ended, code, text, took, within);
    }
    // Between and after them all, the client still works.
    assert_eq!(unary("ok", DEADLINE).await.0.unwrap(), "ok");
    let (received, ended, _) = stream("ok", DEADLINE).await;
    assert_eq!((received, ended.map_err(|s| s.code())), (1, Ok(())));
    // An unknown group is skipped.
    assert_eq!(unary("group", DEADLINE).await.0.unwrap(), "ok");
}

/// The trailers end the call, as in the JS API: a message or a second
/// trailers frame after them is never handed on (tonic-web handed on a
/// message that followed the trailers in the same chunk), and a body left
/// open after them does not hold the call.
#[wasm_bindgen_test]
async fn the_trailers_end_the_call() {
    for case in ["after-trailers", "two-trailers", "trailers-then-stall"] {
        let (outcome, took) = unary(case, DEADLINE).await;
        assert_eq!(outcome.map_err(|s| s.code()), Ok("ok".to_owned()), "{case}");
        assert!(took < 1000.0, "{case}: {took:.0} ms");
        let (received, ended, took) = stream(case, DEADLINE).await;
        assert_eq!(
            (received, ended.map_err(|s| s.code())),
            (1, Ok(())),
            "{case}"
        );
        assert!(took < 1000.0, "{case}: {took:.0} ms");
    }
}

#[wasm_bindgen_test]
async fn a_message_then_a_frame_over_the_limit_ends_the_stream_after_it() {
    let case = "stream-then-max-length";
    let (received, ended, took) = stream(case, DEADLINE).await;
    assert_eq!(received, 1);
    let limit = "4294967295 bytes is over the limit";
    expect(case, ended, Code::ResourceExhausted, limit, took, 2000.0);
}

/// The client gives up on a frame over the limit at its header, and on a
/// stalled reply at its deadline: both abort the fetch, which the server sees.
#[wasm_bindgen_test]
async fn the_server_sees_the_fetches_the_client_gave_up_on() {
    let before = stats("over-limit").await;
    let (outcome, took) = unary("over-limit", DEADLINE).await;
    expect(
        "over-limit",
        outcome.map(drop),
        Code::ResourceExhausted,
        "",
        took,
        1000.0,
    );
    let (_, ended, took) = stream("over-limit", DEADLINE).await;
    expect(
        "over-limit",
        ended,
        Code::ResourceExhausted,
        "",
        took,
        1000.0,
    );
    server_saw_aborts("over-limit", before, 2).await;

    let before = stats("stall").await;
    let deadline = Duration::from_millis(300);
    let (outcome, took) = unary("stall", deadline).await;
    expect(
        "stall",
        outcome.map(drop),
        Code::DeadlineExceeded,
        "",
        took,
        1000.0,
    );
    assert!(took >= 299.0, "stall: ended after {took:.0} ms");
    let (_, ended, took) = stream("stall", deadline).await;
    expect("stall", ended, Code::DeadlineExceeded, "", took, 1000.0);
    assert!(took >= 299.0, "stall: ended after {took:.0} ms");
    server_saw_aborts("stall", before, 2).await;
}
