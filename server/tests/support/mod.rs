//! What the server tests share: a live two-tier server, its `/metrics`, and
//! clients that are not tonic's `Channel` (which would give up by itself at
//! the deadline): raw gRPC-Web over HTTP/1.1, and native gRPC over h2c.
#![allow(dead_code)] // each test file uses its own part

pub mod frames;
pub mod metrics;
pub mod process;
pub mod raw_call;
pub mod requests;

use std::{
    future::Future,
    net::SocketAddr,
    time::{Duration, Instant},
};

use demo_server::{
    app::AllowedOrigins,
    tiers::{self, Config, Limits, Role, Running},
};

/// One `#[tokio::test]` per transport for a scenario `async fn(Transport)`:
/// `over_transports!(scenario: test_name => Native, other_name => Web);`
#[macro_export]
macro_rules! over_transports {
    ($scenario:ident: $($test:ident => $transport:ident),+ $(,)?) => {
        $(
            #[tokio::test]
            async fn $test() {
                $scenario($crate::support::raw_call::Transport::$transport).await;
            }
        )+
    };
}

/// `GET path` over a fresh HTTP/1.1 connection: the status and the body as
/// text (`/metrics`, `/stops`).
pub async fn http_get(addr: SocketAddr, path: &str) -> (http::StatusCode, String) {
    use http_body_util::{BodyExt, Empty};
    let stream = tokio::net::TcpStream::connect(addr).await.unwrap();
    let (mut send, conn) =
        hyper::client::conn::http1::handshake(hyper_util::rt::TokioIo::new(stream))
            .await
            .unwrap();
    tokio::spawn(conn);
    let req = http::Request::get(path)
        .header("host", addr.to_string())
        .body(Empty::<bytes::Bytes>::new())
        .unwrap();
    let res = send.send_request(req).await.unwrap();
    let status = res.status();
    let body = res.into_body().collect().await.unwrap().to_bytes();
    (status, String::from_utf8(body.to_vec()).unwrap())
}

/// How long unary calls may drain at shutdown, unless a test says otherwise.
pub const DRAIN: Duration = Duration::from_secs(5);

/// Both tiers in this process, on ports of their own.
pub async fn two_tiers() -> Running {
    start(Role::Both, None, DRAIN).await
}

/// A lone frontend whose backend is at `upstream`.
pub async fn frontend_of(upstream: SocketAddr) -> Running {
    start(Role::Frontend, Some(format!("http://{upstream}")), DRAIN).await
}

/// Starts the tiers of `role`; `upstream` for a lone frontend.
pub async fn start(role: Role, upstream: Option<String>, drain_timeout: Duration) -> Running {
    start_with(role, upstream, drain_timeout, Limits::default()).await
}

/// Both tiers in this process, with `limits`.
pub async fn two_tiers_with(limits: Limits) -> Running {
    start_with(Role::Both, None, DRAIN, limits).await
}

async fn start_with(
    role: Role,
    upstream: Option<String>,
    drain_timeout: Duration,
    limits: Limits,
) -> Running {
    let any: SocketAddr = "127.0.0.1:0".parse().unwrap();
    tiers::start(Config {
        role,
        addr: any,
        backend_addr: any,
        upstream: upstream.into_iter().collect(),
        upstream_refresh: tonic_deadline::DEFAULT_REFRESH,
        lameduck: Duration::ZERO,
        origins: AllowedOrigins::default(),
        static_dirs: None,
        tls: None,
        limits,
        drain_timeout,
    })
    .await
    .expect("the tiers start")
}

/// Held by tests whose server burns a core on `Work.Compute`, so that two of
/// them on a two-core machine do not starve each other's timers and make the
/// 10 ms stop bound measure the test harness instead of the server.
pub async fn cpu_bound_test() -> tokio::sync::MutexGuard<'static, ()> {
    static CPU: tokio::sync::Mutex<()> = tokio::sync::Mutex::const_new(());
    CPU.lock().await
}

/// Polls `check` until it holds or `within` has passed; returns how long it
/// took. `check` describes what it saw, for the failure message.
pub async fn eventually<F, Fut>(within: Duration, what: &str, mut check: F) -> Duration
where
    F: FnMut() -> Fut,
    Fut: Future<Output = Result<(), String>>,
{
    let start = Instant::now();
    loop {
        let seen = match check().await {
            Ok(()) => return start.elapsed(),
            Err(seen) => seen,
        };
        assert!(
            start.elapsed() < within,
            "{what}: not within {within:?}; last saw {seen}"
        );
        tokio::time::sleep(Duration::from_millis(2)).await;
    }
}

/// Starts a call to `path` (the `method` of the demo's services) with extra
/// `headers`, and returns it once the backend is working on it (its
/// in-flight count is up): a test that then abandons the call, or waits
/// for its deadline, knows both tiers have it.
pub async fn start_and_reach_backend(
    transport: raw_call::Transport,
    addr: SocketAddr,
    path: &str,
    method: &str,
    message: &impl prost::Message,
    headers: &[(&str, &str)],
) -> raw_call::RawCall {
    let call = raw_call::RawCall::start(transport, addr, path, message, headers).await;
    eventually(
        Duration::from_secs(5),
        "the backend starts the call",
        || async {
            let c = metrics::Counts::so_far(&metrics::Scrape::of(addr).await, "backend", method);
            check(c.in_flight == 1.0, c)
        },
    )
    .await;
    call
}

/// `Ok` when `cond`, else what was seen.
pub fn check(cond: bool, seen: impl std::fmt::Debug) -> Result<(), String> {
    if cond {
        Ok(())
    } else {
        Err(format!("{seen:#?}"))
    }
}

/// The backend observed one cancellation of `Work.Compute`, and its blocking
/// computation stopped within 10 ms of it.
pub async fn computation_stopped_within_10ms(addr: SocketAddr) {
    let s = metrics::Scrape::of(addr).await;
    let labels = [("tier", "backend"), ("grpc_method", "Compute")];
    let count = s.sum("grpc_server_cancel_to_stop_seconds_count", &labels);
    assert_eq!(count, 1.0, "cancellations of Compute at the backend");
    let stop = s.sum("grpc_server_cancel_to_stop_seconds_sum", &labels);
    assert!(stop < 0.010, "the computation took {stop} s to stop");
}

/// `call` ends within 1 s with UNAVAILABLE in trailers (not a reset).
pub async fn ends_unavailable_within_1s(call: raw_call::RawCall) -> raw_call::Outcome {
    let ended = tokio::time::timeout(Duration::from_secs(1), call.finish())
        .await
        .expect("the call ends within 1 s");
    assert_eq!(ended.code, tonic::Code::Unavailable, "{ended:?}");
    assert!(ended.in_trailers, "{ended:?}");
    ended
}

/// Within 200 ms, the frontend has counted `n` calls of `method`
/// Unavailable and has none in flight.
pub async fn frontend_counts_unavailable(addr: SocketAddr, method: &str, n: f64) {
    eventually(
        Duration::from_millis(200),
        "the frontend counts Unavailable",
        || async {
            let s = metrics::Scrape::of(addr).await;
            let c = metrics::Counts::of(&s, "frontend", method);
            let mut labels = metrics::at("frontend", method);
            labels.push(("grpc_code", "Unavailable"));
            let unavailable = s.absent_or_zero("grpc_server_handled_total", &labels);
            check(unavailable == n && c.in_flight == 0.0, (unavailable, c))
        },
    )
    .await;
}
