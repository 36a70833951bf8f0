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
    None => "http://127.0.0.1:47080",
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
        let window = web_sys::window().unwrap();
        let url = format!("{SERVER}/metrics");
        let response: web_sys::Response = JsFuture::from(window.fetch_with_str(&url))
            .await
            .expect("GET /metrics")
            .unchecked_into();
        assert!(response.ok(), "GET /metrics: HTTP {}", response.status());
        let text = JsFuture::from(response.text().unwrap())
            .await
            .unwrap()
            .as_string()
            .unwrap();
        Self(text.lines().filter_map(parse_line).collect())
    }

    /// The sum of every `name` series whose labels include all of `labels`.
    pub fn sum(&self, name: &str, labels: &[(&str, &str)]) -> f64 {
        self.0
            .iter()
            .filter(|(n, l, _)| {
                n == name
                    && labels
                        .iter()
                        .all(|(k, v)| l.iter().any(|(lk, lv)| lk == k && lv == v))
            })
            .map(|(_, _, v)| v)
            .sum()
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

/// Polls `/metrics` until `service` is in flight on neither tier and each
/// tier has counted one more call ending in one of `codes` than in `before`;
/// fails after 250 ms (the server must stop work that fast).
pub async fn server_settled(before: &Metrics, service: &str, codes: &[&str]) {
    let delta = |m: &Metrics, tier: &str| -> f64 {
        codes
            .iter()
            .map(|c| m.handled(tier, service, c) - before.handled(tier, service, c))
            .sum()
    };
    let start = now();
    loop {
        let m = Metrics::scrape().await;
        let idle = TIERS.iter().all(|t| m.in_flight(t, service) == 0.0);
        let counted = TIERS.iter().all(|t| delta(&m, t) >= 1.0);
        if idle && counted {
            return;
        }
        if now() - start > 250.0 {
            let report: Vec<String> = TIERS
                .iter()
                .map(|t| {
                    format!(
                        "{t}: in flight {}, {codes:?} +{}",
                        m.in_flight(t, service),
                        delta(&m, t)
                    )
                })
                .collect();
            panic!("{service} not settled 250 ms after the client's outcome: {report:?}");
        }
        sleep(10).await;
    }
}

/// Asserts that no call reached the server since `before`.
pub async fn no_request_since(before: &Metrics) {
    // Give a stray request time to arrive before concluding it never left.
    sleep(50).await;
    let after = Metrics::scrape().await;
    assert_eq!(
        after.frontend_started(),
        before.frontend_started(),
        "a request reached the server"
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
