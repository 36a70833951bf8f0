//! One test per row of the client's semantics table (design.md), through the
//! JS API's classes, against the live two-tier demo server; each checks the
//! client's outcome and what the server observed in `/metrics`.
#![cfg(target_arch = "wasm32")]

mod support;

use grpc_web_abort::js::{GreeterClient, UpdatesClient};
use js_sys::{Date, Function, Promise};
use support::*;
use wasm_bindgen::{JsCast, JsValue};
use wasm_bindgen_futures::JsFuture;
use wasm_bindgen_test::*;
use web_sys::{AbortController, AbortSignal};

wasm_bindgen_test_configure!(run_in_browser);

/// How the server counts a call our deadline ended: its own deadline fired,
/// or our deadline's abort reached it within its disconnect tolerance.
const ENDED: &[&str] = &["DeadlineExceeded"];

fn hello(delay_ms: u32) -> JsValue {
    object(&[("name", "test".into()), ("delayMs", delay_ms.into())])
}

/// `sayHello` on `base`: the outcome and how long it took (ms).
async fn say_hello(
    base: &str,
    request: JsValue,
    options: JsValue,
) -> (Result<JsValue, JsValue>, f64) {
    let start = now();
    let client = GreeterClient::new(base, None).unwrap();
    let promise = client.say_hello(request.unchecked_into(), Some(options.unchecked_into()));
    let outcome = JsFuture::from(promise.unchecked_into::<Promise>()).await;
    (outcome, now() - start)
}

fn watch(interval_ms: u32, options: JsValue) -> JsValue {
    let request = object(&[("topic", "t".into()), ("intervalMs", interval_ms.into())]);
    UpdatesClient::new(SERVER, None)
        .unwrap()
        .watch(request.unchecked_into(), Some(options.unchecked_into()))
}

/// Calls `stream.next()` (or `return()`) and awaits it.
async fn step(stream: &JsValue, method: &str) -> Result<JsValue, JsValue> {
    let f: Function = prop(stream, method).unchecked_into();
    JsFuture::from(f.call0(stream).unwrap().unchecked_into::<Promise>()).await
}

fn abort_later(controller: &AbortController, ms: i32, reason: &str) {
    let c = controller.clone();
    let reason = JsValue::from_str(reason);
    let abort = wasm_bindgen::closure::Closure::once_into_js(move || c.abort_with_reason(&reason));
    web_sys::window()
        .unwrap()
        .set_timeout_with_callback_and_timeout_and_arguments_0(abort.unchecked_ref(), ms)
        .unwrap();
}

#[wasm_bindgen_test]
async fn signal_already_aborted_rejects_at_once_without_a_request() {
    let before = Metrics::scrape().await;
    let controller = AbortController::new().unwrap();
    controller.abort_with_reason(&"gone".into());
    let options = object(&[("signal", controller.signal().into())]);
    let (outcome, took) = say_hello(SERVER, hello(0), options).await;
    let error = outcome.unwrap_err();
    expect_grpc_error(&error, 1, "CANCELLED");
    assert_eq!(prop(&error, "cause"), JsValue::from_str("gone"));
    assert!(took < 100.0, "took {took} ms");
    no_request_since(&before).await;
}

#[wasm_bindgen_test]
async fn signal_aborting_a_unary_call_aborts_the_fetch() {
    let before = Metrics::scrape().await;
    let controller = AbortController::new().unwrap();
    abort_later(&controller, 300, "user left");
    let options = object(&[("signal", controller.signal().into())]);
    let (outcome, took) = say_hello(SERVER, hello(10_000), options).await;
    let error = outcome.unwrap_err();
    expect_grpc_error(&error, 1, "CANCELLED");
    assert_eq!(prop(&error, "cause"), JsValue::from_str("user left"));
    assert!((295.0..900.0).contains(&took), "took {took} ms");
    server_settled(&before, GREETER, &["Canceled"]).await;
}

#[wasm_bindgen_test]
async fn signal_aborting_a_stream_throws_cancelled_from_the_iteration() {
    let before = Metrics::scrape().await;
    let controller = AbortController::new().unwrap();
    let stream = watch(50, object(&[("signal", controller.signal().into())]));
    for seq in 1..=2 {
        let item = step(&stream, "next").await.unwrap();
        assert_eq!(prop(&item, "done"), JsValue::FALSE);
        assert_eq!(
            prop(&prop(&item, "value"), "seq").as_f64(),
            Some(seq.into())
        );
    }
    controller.abort_with_reason(&"stop".into());
    let error = step(&stream, "next").await.unwrap_err();
    expect_grpc_error(&error, 1, "CANCELLED");
    assert_eq!(prop(&error, "cause"), JsValue::from_str("stop"));
    server_settled(&before, UPDATES, &["Canceled"]).await;
}

#[wasm_bindgen_test]
async fn returning_from_the_iteration_cancels_the_call_quietly() {
    let before = Metrics::scrape().await;
    let stream = watch(50, JsValue::UNDEFINED);
    assert_eq!(
        prop(&step(&stream, "next").await.unwrap(), "done"),
        JsValue::FALSE
    );
    // What `break` in `for await` does.
    let done = step(&stream, "return").await.unwrap();
    assert_eq!(prop(&done, "done"), JsValue::TRUE);
    assert_eq!(
        prop(&step(&stream, "next").await.unwrap(), "done"),
        JsValue::TRUE
    );
    server_settled(&before, UPDATES, &["Canceled"]).await;
}

#[wasm_bindgen_test]
async fn a_timeout_ends_a_unary_call_with_deadline_exceeded_on_both_sides() {
    let before = Metrics::scrape().await;
    let (outcome, took) =
        say_hello(SERVER, hello(10_000), object(&[("timeoutMs", 300.into())])).await;
    let error = outcome.unwrap_err();
    expect_grpc_error(&error, 4, "DEADLINE_EXCEEDED");
    assert!(prop(&error, "cause").is_undefined());
    assert!((290.0..900.0).contains(&took), "took {took} ms");
    // The server's copy of the deadline (grpc-timeout) ends a transit time
    // after ours, so either its deadline or our disconnect stops it.
    server_settled(&before, GREETER, ENDED).await;
}

#[wasm_bindgen_test]
async fn the_deadline_covers_the_whole_stream() {
    let before = Metrics::scrape().await;
    let start = now();
    let stream = watch(100, object(&[("timeoutMs", 450.into())]));
    let mut received = 0;
    let error = loop {
        match step(&stream, "next").await {
            Ok(item) => {
                assert_eq!(prop(&item, "done"), JsValue::FALSE);
                received += 1;
            }
            Err(error) => break error,
        }
    };
    let took = now() - start;
    expect_grpc_error(&error, 4, "DEADLINE_EXCEEDED");
    assert!(received >= 2, "{received} updates before the deadline");
    assert!((440.0..1000.0).contains(&took), "took {took} ms");
    server_settled(&before, UPDATES, ENDED).await;
}

#[wasm_bindgen_test]
async fn of_timeout_and_deadline_the_earlier_wins() {
    for (timeout, deadline_in) in [(5_000.0, 300.0), (300.0, 5_000.0)] {
        let deadline = Date::new(&(Date::now() + deadline_in).into());
        let options = object(&[("timeoutMs", timeout.into()), ("deadline", deadline.into())]);
        let (outcome, took) = say_hello(SERVER, hello(10_000), options).await;
        expect_grpc_error(&outcome.unwrap_err(), 4, "DEADLINE_EXCEEDED");
        assert!(
            (280.0..900.0).contains(&took),
            "took {took} ms ({timeout}, {deadline_in})"
        );
    }
}

#[wasm_bindgen_test]
async fn a_passed_deadline_or_zero_timeout_fails_at_once_without_a_request() {
    let before = Metrics::scrape().await;
    let past = object(&[("deadline", Date::new(&(Date::now() - 1000.0).into()).into())]);
    let past_number = object(&[("deadline", (Date::now() - 1.0).into())]);
    let zero = object(&[("timeoutMs", 0.into())]);
    for options in [past, past_number, zero] {
        let (outcome, took) = say_hello(SERVER, hello(0), options).await;
        expect_grpc_error(&outcome.unwrap_err(), 4, "DEADLINE_EXCEEDED");
        assert!(took < 100.0, "took {took} ms");
    }
    no_request_since(&before).await;
}

#[wasm_bindgen_test]
async fn a_timeout_error_abort_reason_is_deadline_exceeded() {
    let before = Metrics::scrape().await;
    let signal = AbortSignal::timeout_with_u32(250);
    let (outcome, took) =
        say_hello(SERVER, hello(10_000), object(&[("signal", signal.into())])).await;
    let error = outcome.unwrap_err();
    expect_grpc_error(&error, 4, "DEADLINE_EXCEEDED");
    assert_eq!(
        prop(&prop(&error, "cause"), "name").as_string().as_deref(),
        Some("TimeoutError")
    );
    assert!((240.0..900.0).contains(&took), "took {took} ms");
    // No grpc-timeout went out with a bare signal: the server saw a disconnect.
    server_settled(&before, GREETER, &["Canceled"]).await;
}

#[wasm_bindgen_test]
async fn invalid_options_are_type_errors_naming_the_option_without_a_request() {
    let before = Metrics::scrape().await;
    let not_a_signal = object(&[("aborted", false.into())]);
    let bad_headers = object(&[("bad name", "x".into())]);
    let bad_value = object(&[("x-ok", "line\nbreak".into())]);
    let cases: [(JsValue, &str); 9] = [
        (object(&[("timeoutMs", (-1).into())]), "timeoutMs"),
        (object(&[("timeoutMs", f64::NAN.into())]), "timeoutMs"),
        (object(&[("timeoutMs", f64::INFINITY.into())]), "timeoutMs"),
        (object(&[("timeoutMs", "100".into())]), "timeoutMs"),
        (object(&[("signal", not_a_signal)]), "signal"),
        (object(&[("headers", bad_headers)]), "headers"),
        (object(&[("headers", bad_value)]), "headers"),
        (object(&[("deadline", "tomorrow".into())]), "deadline"),
        ("fast".into(), "CallOptions"),
    ];
    for (options, name) in cases {
        let (outcome, _) = say_hello(SERVER, hello(0), options).await;
        expect_type_error(&outcome.unwrap_err(), name);
    }
    // Client defaults are validated when the client is made.
    let error = GreeterClient::new(
        SERVER,
        Some(object(&[("timeoutMs", (-5).into())]).unchecked_into()),
    )
    .err()
    .unwrap();
    expect_type_error(&error, "timeoutMs");
    no_request_since(&before).await;
}

#[wasm_bindgen_test]
async fn a_server_status_arrives_with_its_code_message_and_metadata() {
    // No such route: the server answers UNIMPLEMENTED in a trailers-only response.
    let (outcome, _) = say_hello(
        &format!("{SERVER}/no-such-prefix"),
        hello(0),
        JsValue::UNDEFINED,
    )
    .await;
    let error = outcome.unwrap_err();
    expect_grpc_error(&error, 12, "UNIMPLEMENTED");
    assert!(prop(&error, "cause").is_undefined());
    let metadata: web_sys::Headers = prop(&error, "metadata").unchecked_into();
    assert!(
        metadata.has("content-type").unwrap(),
        "metadata holds the response headers"
    );
}

#[wasm_bindgen_test]
async fn an_http_error_without_grpc_status_is_mapped_per_the_grpc_spec() {
    // The test page's own server knows no gRPC: it answers 404 to the POST.
    let origin = web_sys::window().unwrap().location().origin().unwrap();
    let (outcome, _) = say_hello(&origin, hello(0), JsValue::UNDEFINED).await;
    expect_grpc_error(&outcome.unwrap_err(), 12, "UNIMPLEMENTED");
}

#[wasm_bindgen_test]
async fn a_network_failure_is_unavailable() {
    // Nothing listens on the discard port.
    let (outcome, _) = say_hello("http://127.0.0.1:9", hello(0), JsValue::UNDEFINED).await;
    expect_grpc_error(&outcome.unwrap_err(), 14, "UNAVAILABLE");
}
