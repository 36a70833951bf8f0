//! One test per row of the client's semantics table (design.md), through
//! the wasm core that every generated JS client calls (`unary`,
//! `serverStream`, with the demo's descriptor set registered as a generated
//! package registers its own), against the live two-tier demo server; each
//! checks the client's outcome and what the server observed in `/metrics`.
//! The generated classes themselves are tested from JS (tests/js/).
#![cfg(target_arch = "wasm32")]

mod support;

use grpc_web_abort::js;
use js_sys::{BigInt, Date, Function, Promise};
use support::*;
use wasm_bindgen::{JsCast, JsValue};
use wasm_bindgen_futures::JsFuture;
use wasm_bindgen_test::*;
use wasm_tests::proto::DESCRIPTOR_SET;
use web_sys::{AbortController, AbortSignal};

wasm_bindgen_test_configure!(run_in_browser);

/// How the server counts a call our deadline ended: its own deadline fired,
/// or our deadline's abort reached it within its disconnect tolerance
/// (DeadlineExceeded); or, when the request took longer to arrive than the
/// abort by more than that tolerance (seen with the 2-core machine at a
/// load of 10), the abort came first (Canceled). Either way the server
/// stopped the call, which `server_settled` checks; server/tests/deadlines.rs
/// pins the code where the test controls the transit.
const ENDED: &[&str] = &["DeadlineExceeded", "Canceled"];

thread_local! {
    static SCHEMA: u32 = js::register_schema(DESCRIPTOR_SET).expect("the demo's descriptor set reads");
}

fn schema() -> u32 {
    SCHEMA.with(|s| *s)
}

fn hello(delay_ms: u32) -> JsValue {
    object(&[("name", "test".into()), ("delayMs", delay_ms.into())])
}

/// `Greeter.SayHello` on `base`: the outcome and how long it took (ms).
async fn say_hello(
    base: &str,
    request: JsValue,
    options: JsValue,
) -> (Result<JsValue, JsValue>, f64) {
    say_hello_with(base, JsValue::UNDEFINED, request, options).await
}

/// The same with a client's `defaults`.
async fn say_hello_with(
    base: &str,
    defaults: JsValue,
    request: JsValue,
    options: JsValue,
) -> (Result<JsValue, JsValue>, f64) {
    let start = now();
    let promise = js::unary(
        schema(),
        base.into(),
        defaults,
        "/demo.v1.Greeter/SayHello".into(),
        request,
        options,
    );
    let outcome = JsFuture::from(promise).await;
    (outcome, now() - start)
}

/// `Updates.Watch`: the `{ next, cancel }` handle a `MessageStream` drives.
fn watch(interval_ms: u32, options: JsValue) -> JsValue {
    let request = object(&[("topic", "t".into()), ("intervalMs", interval_ms.into())]);
    js::server_stream(
        schema(),
        SERVER.into(),
        JsValue::UNDEFINED,
        "/demo.v1.Updates/Watch".into(),
        request,
        options,
    )
}

/// `stream.next()`, awaited.
async fn next(stream: &JsValue) -> Result<JsValue, JsValue> {
    let f: Function = prop(stream, "next").unchecked_into();
    JsFuture::from(f.call0(stream).unwrap().unchecked_into::<Promise>()).await
}

/// What `break` out of `for await` does to the call.
fn cancel(stream: &JsValue) {
    let f: Function = prop(stream, "cancel").unchecked_into();
    f.call0(stream).unwrap();
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
    let options = object(&[("signal", controller.signal().into())]);
    let call = say_hello(SERVER, hello(10_000), options);
    // Aborted once the backend has the call, not after a fixed pause.
    let abort = async {
        backend_has_call(&before, GREETER).await;
        controller.abort_with_reason(&"user left".into());
        now()
    };
    let ((outcome, _), aborted_at) = futures_util::join!(call, abort);
    let took = now() - aborted_at;
    let error = outcome.unwrap_err();
    expect_grpc_error(&error, 1, "CANCELLED");
    assert_eq!(prop(&error, "cause"), JsValue::from_str("user left"));
    assert!(took < 600.0, "settled {took} ms after the abort");
    server_settled(&before, GREETER, &["Canceled"]).await;
}

#[wasm_bindgen_test]
async fn signal_aborting_a_stream_throws_cancelled_from_the_iteration() {
    let before = Metrics::scrape().await;
    let controller = AbortController::new().unwrap();
    let stream = watch(50, object(&[("signal", controller.signal().into())]));
    for seq in 1..=2u64 {
        let item = next(&stream).await.unwrap();
        assert_eq!(prop(&item, "seq"), JsValue::from(BigInt::from(seq)));
    }
    controller.abort_with_reason(&"stop".into());
    let error = next(&stream).await.unwrap_err();
    expect_grpc_error(&error, 1, "CANCELLED");
    assert_eq!(prop(&error, "cause"), JsValue::from_str("stop"));
    server_settled(&before, UPDATES, &["Canceled"]).await;
}

#[wasm_bindgen_test]
async fn returning_from_the_iteration_cancels_the_call_quietly() {
    let before = Metrics::scrape().await;
    let stream = watch(50, JsValue::UNDEFINED);
    assert!(next(&stream).await.unwrap().is_object());
    cancel(&stream);
    // After the cancel the stream is over: no message, no error.
    assert!(next(&stream).await.unwrap().is_undefined());
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
        match next(&stream).await {
            Ok(item) => {
                assert!(item.is_object(), "an update, not the end");
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
        let before = Metrics::scrape().await;
        let deadline = Date::new(&(Date::now() + deadline_in).into());
        let options = object(&[("timeoutMs", timeout.into()), ("deadline", deadline.into())]);
        let (outcome, took) = say_hello(SERVER, hello(10_000), options).await;
        expect_grpc_error(&outcome.unwrap_err(), 4, "DEADLINE_EXCEEDED");
        assert!(
            (280.0..900.0).contains(&took),
            "took {took} ms ({timeout}, {deadline_in})"
        );
        server_settled(&before, GREETER, ENDED).await;
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
    // A client's defaults are validated too.
    let defaults = object(&[("timeoutMs", (-5).into())]);
    let (outcome, _) = say_hello_with(SERVER, defaults, hello(0), JsValue::UNDEFINED).await;
    expect_type_error(&outcome.unwrap_err(), "timeoutMs");
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
async fn a_server_status_reaches_the_error_with_its_message_through_both_tiers() {
    let before = Metrics::scrape().await;
    let request = object(&[("n", "10000000000000".into())]);
    let promise = js::unary(
        schema(),
        SERVER.into(),
        JsValue::UNDEFINED,
        "/demo.v1.Work/Compute".into(),
        request,
        JsValue::UNDEFINED,
    );
    let error = JsFuture::from(promise).await.unwrap_err();
    expect_grpc_error(&error, 3, "INVALID_ARGUMENT");
    assert_eq!(
        prop(&error, "message").as_string().as_deref(),
        Some("n must be at most 1000000000000, got 10000000000000")
    );
    server_settled(&before, WORK, &["InvalidArgument"]).await;
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

#[wasm_bindgen_test]
async fn on_header_and_on_trailer_see_a_successful_calls_metadata() {
    use std::{cell::RefCell, rc::Rc};
    let seen: Rc<RefCell<Vec<(&str, web_sys::Headers)>>> = Rc::default();
    let callback = |name: &'static str| {
        let seen = seen.clone();
        wasm_bindgen::closure::Closure::<dyn FnMut(web_sys::Headers)>::new(move |h| {
            seen.borrow_mut().push((name, h))
        })
        .into_js_value()
    };
    let options = object(&[
        ("onHeader", callback("header")),
        ("onTrailer", callback("trailer")),
    ]);
    let before = Metrics::scrape().await;
    let (outcome, _) = say_hello(SERVER, hello(0), options).await;
    assert!(outcome.is_ok(), "{outcome:?}");
    server_settled(&before, GREETER, &["OK"]).await;
    let seen = seen.take();
    let order: Vec<&str> = seen.iter().map(|(name, _)| *name).collect();
    assert_eq!(order, ["header", "trailer"]);
    assert!(
        seen[0]
            .1
            .get("content-type")
            .unwrap()
            .unwrap()
            .starts_with("application/grpc-web"),
        "the response headers"
    );
    // A callback that is not a function is a TypeError, before any request.
    let (outcome, _) = say_hello(SERVER, hello(0), object(&[("onTrailer", 1.into())])).await;
    expect_type_error(&outcome.unwrap_err(), "onTrailer");
}
