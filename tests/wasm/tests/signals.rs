//! The Rust-side signals: `CallScope` (aborts when dropped),
//! `navigation_signal()`, and the abort reason a status carries back,
//! against the live demo server.
#![cfg(target_arch = "wasm32")]

mod support;

use grpc_web_abort::{CallScope, Channel, RequestExt, StatusExt, navigation_signal};
use support::*;
use tonic::{Code, Request, Status};
use wasm_bindgen::{JsCast, JsValue};
use wasm_bindgen_test::*;
use wasm_tests::proto::{
    HelloRequest, WatchRequest, greeter_client::GreeterClient, updates_client::UpdatesClient,
};
use web_sys::{AbortController, AbortSignal, DomException};

wasm_bindgen_test_configure!(run_in_browser);

/// A greeting the server delays by 10 s, under `signal`.
async fn slow_hello(signal: AbortSignal) -> Status {
    let mut greeter = GreeterClient::new(Channel::new(SERVER));
    let request = Request::new(HelloRequest {
        name: "signals".into(),
        delay_ms: 10_000,
    })
    .with_signal(&signal);
    greeter.say_hello(request).await.unwrap_err()
}

fn dom_exception(reason: &JsValue) -> &DomException {
    reason
        .dyn_ref::<DomException>()
        .unwrap_or_else(|| panic!("not a DOMException: {reason:?}"))
}

#[wasm_bindgen_test]
async fn dropping_a_call_scope_cancels_its_call_and_the_server_stops() {
    let before = Metrics::scrape().await;
    let scope = CallScope::new();
    let call = slow_hello(scope.signal());
    let unmount = async {
        backend_has_call(&before, GREETER).await;
        drop(scope);
    };
    let (status, ()) = futures_util::join!(call, unmount);
    assert_eq!(status.code(), Code::Cancelled);
    let reason = status.abort_reason().expect("a signal ended the call");
    let reason = dom_exception(&reason);
    assert_eq!(reason.name(), "AbortError");
    assert_eq!(reason.message(), "the call's scope was dropped");
    server_settled(&before, GREETER, &["Canceled"]).await;
}

#[wasm_bindgen_test]
async fn the_abort_reason_is_the_very_value_the_signal_aborted_with() {
    let before = Metrics::scrape().await;
    let controller = AbortController::new().unwrap();
    let reason: JsValue = js_sys::Object::new().into();
    let call = slow_hello(controller.signal());
    let abort = async {
        backend_has_call(&before, GREETER).await;
        controller.abort_with_reason(&reason);
    };
    let (status, ()) = futures_util::join!(call, abort);
    assert_eq!(status.code(), Code::Cancelled);
    // `==` on JsValues is `Object.is`: the same object, not a copy.
    assert_eq!(status.abort_reason(), Some(reason));
    server_settled(&before, GREETER, &["Canceled"]).await;

    // A string reason too; an already-aborted signal carries it as well.
    let aborted = AbortSignal::abort_with_reason(&"user left".into());
    let status = slow_hello(aborted).await;
    assert_eq!(
        status.abort_reason().and_then(|r| r.as_string()).as_deref(),
        Some("user left")
    );
}

/// The fetch is aborted inside the signal's `abort` event: aborted a
/// microtask later, Chromium sent the cancel only after the long task the
/// page had queued right after `abort()`. The frontend's stop is read from
/// the demo server's stop log once the page is free again.
#[wasm_bindgen_test]
async fn an_abort_reaches_the_server_before_a_long_task_queued_behind_it() {
    const LONG_TASK_MS: u32 = 400;
    let after = prop(&stop_log(f64::from(u32::MAX)).await, "last_seq")
        .as_f64()
        .unwrap();
    let before = Metrics::scrape().await;
    let controller = AbortController::new().unwrap();
    let call = slow_hello(controller.signal());
    let abort = async {
        backend_has_call(&before, GREETER).await;
        let aborted_at = js_sys::Date::now();
        controller.abort();
        queue_long_task(LONG_TASK_MS);
        aborted_at
    };
    let (status, aborted_at) = futures_util::join!(call, abort);
    assert_eq!(status.code(), Code::Cancelled);
    sleep(0).await; // past the long task
    let late = frontend_stop(after, "demo.v1.Greeter/SayHello").await - aborted_at;
    assert!(
        late < f64::from(LONG_TASK_MS) / 2.0,
        "the frontend stopped {late:.1} ms after abort(), behind a {LONG_TASK_MS} ms task"
    );
    server_settled(&before, GREETER, &["Canceled"]).await;
}

#[wasm_bindgen_test]
async fn a_status_no_signal_ended_has_no_abort_reason() {
    let before = Metrics::scrape().await;
    let mut greeter = GreeterClient::new(Channel::new(SERVER));
    let request = Request::new(HelloRequest {
        name: "signals".into(),
        delay_ms: 5_000,
    })
    .with_timeout(std::time::Duration::from_millis(100));
    let status = greeter.say_hello(request).await.unwrap_err();
    assert_eq!(status.code(), Code::DeadlineExceeded);
    assert_eq!(status.abort_reason(), None);
    // Our deadline's abort may reach the server before its own copy of the
    // deadline fires (a slow request's transit): either code means it stopped.
    server_settled(&before, GREETER, &["DeadlineExceeded", "Canceled"]).await;
}

#[wasm_bindgen_test]
async fn a_linked_scope_ends_with_its_parent_and_keeps_the_parents_reason() {
    let before = Metrics::scrape().await;
    let parent = AbortController::new().unwrap();
    let scope = CallScope::linked(&parent.signal());
    let call = slow_hello(scope.signal());
    let abort = async {
        backend_has_call(&before, GREETER).await;
        parent.abort_with_reason(&"parent".into());
    };
    let (status, ()) = futures_util::join!(call, abort);
    assert_eq!(status.code(), Code::Cancelled);
    assert_eq!(
        status.abort_reason().and_then(|r| r.as_string()).as_deref(),
        Some("parent")
    );
    server_settled(&before, GREETER, &["Canceled"]).await;
    // Cancel (`abort`) on a fresh scope: CANCELLED with the scope's own reason.
    let scope = CallScope::new();
    scope.abort();
    let status = slow_hello(scope.signal()).await;
    let reason = status.abort_reason().unwrap();
    assert_eq!(dom_exception(&reason).message(), "the call was cancelled");
}

#[wasm_bindgen_test]
async fn navigation_signal_ends_a_stream_at_the_next_navigation() {
    let before = Metrics::scrape().await;
    let signal = navigation_signal();
    assert!(!signal.aborted());
    // Until the navigation, every caller shares the one signal.
    assert_eq!(navigation_signal(), signal);
    let mut updates = UpdatesClient::new(Channel::new(SERVER));
    let request = Request::new(WatchRequest {
        topic: "navigation".into(),
        interval_ms: 20,
        limit: 0,
        after_seq: 0,
    })
    .with_signal(&signal);
    let mut stream = updates.watch(request).await.unwrap().into_inner();
    assert!(stream.message().await.unwrap().is_some());
    // A same-document navigation: the Navigation API's `navigate` where the
    // browser has it, `hashchange` where not.
    let location = web_sys::window().unwrap().location();
    location
        .set_hash(&format!("navigated-{}", now() as u64))
        .unwrap();
    let status = loop {
        match stream.message().await {
            Ok(Some(_)) => {}
            Ok(None) => panic!("an endless stream ended"),
            Err(status) => break status,
        }
    };
    assert_eq!(status.code(), Code::Cancelled);
    let reason = status.abort_reason().unwrap();
    let reason = dom_exception(&reason);
    assert_eq!(reason.name(), "AbortError");
    assert!(
        [
            "the page navigated (navigate)",
            "the page navigated (hashchange)"
        ]
        .contains(&reason.message().as_str()),
        "{}",
        reason.message()
    );
    server_settled(&before, UPDATES, &["Canceled"]).await;
    // After it, a new signal is live; the old one stays aborted.
    let next = navigation_signal();
    assert!(!next.aborted() && signal.aborted());
    assert_ne!(next, signal);
}
