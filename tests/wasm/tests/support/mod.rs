//! What the browser tests share: the live server's address, its `/metrics`
//! as seen from the page, timing, and reading errors.
#![allow(dead_code)] // each test file uses its own subset

use std::time::Duration;

use js_sys::Reflect;
use wasm_bindgen::{JsCast, JsValue};
use wasm_bindgen_futures::JsFuture;

/// The demo server's frontend tier; `cargo xtask test` sets it at build time.
pub const SERVER: &str = match option_env!("DEMO_SERVER_URL") {
    Some(url) => url,
    None => "http://127.0.0.1:27080",
};

pub const GREETER: &str = "demo.v1.Greeter";
pub const UPDATES: &str = "demo.v1.Updates";
pub const WORK: &str = "demo.v1.Work";
pub const TIERS: [&str; 2] = ["frontend", "backend"];

/// Milliseconds on the page's monotonic clock.
pub fn now() -> f64 {
    web_sys::window().unwrap().performance().unwrap().now()
}

pub async fn sleep(ms: u64) {
    gloo_timers::future::sleep(Duration::from_millis(ms)).await;
}

/// One series: its name, its labels and its value.
type Series = (String, Vec<(String, String)>, f64);

/// One scrape of `/metrics`.
pub struct Metrics(Vec<Series>);

impl Metrics {
    pub async fn scrape() -> Self {
        let response = get("/metrics").await;
        let text = JsFuture::from(response.text().unwrap())
            .await
            .unwrap()
            .as_string()
            .unwrap();
        Self(text.lines().filter_map(parse_line).collect())
    }

    /// The sum of every `name` series whose labels include all of `labels`
    /// (0 where there is none: a baseline before a method's first call).
    pub fn sum(&self, name: &str, labels: &[(&str, &str)]) -> f64 {
        self.get(name, labels).unwrap_or(0.0)
    }

    /// The same, `None` where there is no such series: a check that needs a
    /// series must not read a vanished one as 0.
    pub fn get(&self, name: &str, labels: &[(&str, &str)]) -> Option<f64> {
        let mut matching = self
            .0
            .iter()
            .filter(|(n, l, _)| {
                n == name
                    && labels
                        .iter()
                        .all(|(k, v)| l.iter().any(|(lk, lv)| lk == k && lv == v))
            })
            .peekable();
        matching.peek()?;
        Some(matching.map(|(_, _, v)| v).sum())
    }

    /// Per code, the calls of `service` that `tier` has ended.
    pub fn codes(&self, tier: &str, service: &str) -> Vec<(String, f64)> {
        let mut codes: Vec<(String, f64)> = vec![];
        for (name, labels, value) in &self.0 {
            let label = |k: &str| {
                labels
                    .iter()
                    .find(|(lk, _)| lk == k)
                    .map(|(_, v)| v.as_str())
            };
            if name != "grpc_server_handled_total"
                || label("tier") != Some(tier)
                || label("grpc_service") != Some(service)
            {
                continue;
            }
            let code = label("grpc_code").unwrap_or_default().to_string();
            match codes.iter_mut().find(|(c, _)| *c == code) {
                Some((_, sum)) => *sum += value,
                None => codes.push((code, *value)),
            }
        }
        codes
    }

    pub fn started(&self, tier: &str, service: &str) -> f64 {
        self.sum(
            "grpc_server_started_total",
            &[("tier", tier), ("grpc_service", service)],
        )
    }

    pub fn handled(&self, tier: &str, service: &str, code: &str) -> f64 {
        self.sum(
            "grpc_server_handled_total",
            &[
                ("tier", tier),
                ("grpc_service", service),
                ("grpc_code", code),
            ],
        )
    }

    pub fn in_flight(&self, tier: &str, service: &str) -> f64 {
        self.sum(
            "grpc_server_in_flight",
            &[("tier", tier), ("grpc_service", service)],
        )
    }

    /// Calls started on the frontend, any service but the uncounted Stats.
    pub fn frontend_started(&self) -> f64 {
        [GREETER, UPDATES, WORK]
            .iter()
            .map(|s| self.started("frontend", s))
            .sum()
    }
}

fn parse_line(line: &str) -> Option<Series> {
    if line.starts_with('#') || line.is_empty() {
        return None;
    }
    let (series, value) = line.rsplit_once(' ')?;
    let (name, labels) = match series.split_once('{') {
        Some((name, rest)) => (name, rest.trim_end_matches('}')),
        None => (series, ""),
    };
    let labels = labels
        .split("\",")
        .filter_map(|kv| kv.split_once("=\""))
        .map(|(k, v)| (k.to_string(), v.trim_end_matches('"').to_string()))
        .collect();
    Some((name.to_string(), labels, value.parse().ok()?))
}

/// What is wrong with `now` for "one call of `service` since `before`,
/// ended with one of `codes`" at `tier`; `None` when nothing is.
fn one_call_problem(
    before: &Metrics,
    now: &Metrics,
    tier: &str,
    service: &str,
    codes: &[&str],
) -> Option<String> {
    let labels = [("tier", tier), ("grpc_service", service)];
    let (Some(started), Some(in_flight)) = (
        now.get("grpc_server_started_total", &labels),
        now.get("grpc_server_in_flight", &labels),
    ) else {
        return Some(format!(
            "{tier}: no started or in-flight series for {service}"
        ));
    };
    let started = started - before.sum("grpc_server_started_total", &labels);
    let was = before.codes(tier, service);
    let grown: Vec<(String, f64)> = now
        .codes(tier, service)
        .into_iter()
        .map(|(code, n)| {
            let before = was
                .iter()
                .find(|(c, _)| *c == code)
                .map_or(0.0, |(_, n)| *n);
            (code, n - before)
        })
        .filter(|(_, n)| *n != 0.0)
        .collect();
    let as_expected = grown.len() == 1 && grown[0].1 == 1.0 && codes.contains(&grown[0].0.as_str());
    if started == 1.0 && in_flight == 0.0 && as_expected {
        None
    } else {
        Some(format!(
            "{tier}: started +{started}, in flight {in_flight}, ended {grown:?} (expected one of {codes:?})"
        ))
    }
}

/// Polls `/metrics` until each tier has started exactly one call of
/// `service` since `before`, ended it with one of `codes` (and no other
/// call with any code), and has none in flight; fails after 250 ms from the
/// client's outcome (the server must stop work that fast).
pub async fn server_settled(before: &Metrics, service: &str, codes: &[&str]) {
    let start = now();
    loop {
        let m = Metrics::scrape().await;
        let problems: Vec<String> = TIERS
            .iter()
            .filter_map(|tier| one_call_problem(before, &m, tier, service, codes))
            .collect();
        if problems.is_empty() {
            return;
        }
        if now() - start > 250.0 {
            panic!("{service} not settled 250 ms after the client's outcome: {problems:?}");
        }
        sleep(10).await;
    }
}

/// The demo server's stop log (`GET /stops?after=SEQ`, its wall clock) as
/// JSON; the first read arms it.
pub async fn stop_log(after: f64) -> JsValue {
    let response = get(&format!("/stops?after={after}")).await;
    JsFuture::from(response.json().unwrap()).await.unwrap()
}

/// `GET` a path of the demo server, which must answer 2xx.
async fn get(path: &str) -> web_sys::Response {
    get_url(&format!("{SERVER}{path}")).await
}

/// `GET` `url`, which must answer 2xx.
pub async fn get_url(url: &str) -> web_sys::Response {
    let window = web_sys::window().unwrap();
    let response: web_sys::Response = JsFuture::from(window.fetch_with_str(url))
        .await
        .unwrap_or_else(|e| panic!("GET {url}: {e:?}"))
        .unchecked_into();
    assert!(response.ok(), "GET {url}: HTTP {}", response.status());
    response
}

/// When the frontend's one logged call of `method` ("pkg.Service/Method")
/// after `after` stopped: ms since the Unix epoch, as `Date.now()`.
pub async fn frontend_stop(after: f64, method: &str) -> f64 {
    let entries: js_sys::Array = prop(&stop_log(after).await, "entries").unchecked_into();
    let mine: Vec<JsValue> = entries
        .iter()
        .filter(|e| {
            prop(e, "tier").as_string().as_deref() == Some("frontend")
                && prop(e, "method").as_string().as_deref() == Some(method)
        })
        .collect();
    assert_eq!(mine.len(), 1, "frontend stops of {method} logged");
    prop(&mine[0], "stop_us").as_f64().unwrap() / 1000.0
}

/// Queues a task that keeps the page busy for `ms`, as a framework's render
/// queued right after an abort would.
pub fn queue_long_task(ms: u32) {
    let busy = js_sys::Function::new_no_args(&format!(
        "const end = performance.now() + {ms}; while (performance.now() < end);"
    ));
    web_sys::window()
        .unwrap()
        .set_timeout_with_callback(&busy)
        .unwrap();
}

/// Waits until the backend has a call of `service` begun since `before`
/// and still in flight: what a test that aborts a call in flight waits for,
/// instead of a fixed pause (bounded: 5 s).
pub async fn backend_has_call(before: &Metrics, service: &str) {
    let labels = [("tier", "backend"), ("grpc_service", service)];
    let start = now();
    loop {
        let m = Metrics::scrape().await;
        let started = m.sum("grpc_server_started_total", &labels)
            - before.sum("grpc_server_started_total", &labels);
        if started >= 1.0 && m.sum("grpc_server_in_flight", &labels) >= 1.0 {
            return;
        }
        assert!(
            now() - start < 5_000.0,
            "the backend did not have the {service} call within 5 s"
        );
        sleep(5).await;
    }
}

/// Asserts that no call reached the server since `before`: a later call
/// (`Greeter.SayHello`, which a stray request would have come before) is
/// the only one the frontend counted.
pub async fn no_request_since(before: &Metrics) {
    use grpc_web_abort::Channel;
    use wasm_tests::proto::{HelloRequest, greeter_client::GreeterClient};
    let later = tonic::Request::new(HelloRequest {
        name: "later".into(),
        delay_ms: 0,
    });
    GreeterClient::new(Channel::new(SERVER))
        .say_hello(later)
        .await
        .expect("the later call");
    let after = Metrics::scrape().await;
    let labels = [("tier", "frontend"), ("grpc_service", GREETER)];
    assert!(
        after.get("grpc_server_started_total", &labels).is_some(),
        "no started series for the later call"
    );
    assert_eq!(
        after.frontend_started(),
        before.frontend_started() + 1.0,
        "a request reached the server before the later call"
    );
}

/// A property of a JS object.
pub fn prop(value: &JsValue, name: &str) -> JsValue {
    Reflect::get(value, &name.into()).unwrap_or(JsValue::UNDEFINED)
}

/// An options or message object from `(key, value)` pairs.
pub fn object(pairs: &[(&str, JsValue)]) -> JsValue {
    let o = js_sys::Object::new();
    for (k, v) in pairs {
        Reflect::set(&o, &(*k).into(), v).unwrap();
    }
    o.into()
}

/// Asserts `error` is a `GrpcError` (an `Error` named so) with `code_name`; returns it.
pub fn expect_grpc_error(error: &JsValue, code: u32, code_name: &str) {
    assert!(
        error.is_instance_of::<js_sys::Error>(),
        "not an Error: {error:?}"
    );
    assert_eq!(
        prop(error, "name").as_string().as_deref(),
        Some("GrpcError"),
        "{error:?}"
    );
    assert_eq!(
        prop(error, "codeName").as_string().as_deref(),
        Some(code_name),
        "{error:?}"
    );
    assert_eq!(prop(error, "code").as_f64(), Some(code.into()), "{error:?}");
    assert!(prop(error, "metadata").is_instance_of::<web_sys::Headers>());
}

/// Asserts `error` is a `TypeError` whose message mentions `what`.
pub fn expect_type_error(error: &JsValue, what: &str) {
    assert!(
        error.is_instance_of::<js_sys::TypeError>(),
        "not a TypeError: {error:?}"
    );
    let message = prop(error, "message").as_string().unwrap_or_default();
    assert!(message.contains(what), "{message:?} does not name {what:?}");
}
