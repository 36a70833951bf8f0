//! One frontend (in this process), three backends (processes of their own,
//! or recording servers): calls are spread per call, each backend's own
//! `/metrics` says how many it served; a backend killed under load fails
//! only its own calls in flight, later calls go to the others, and once
//! restarted it serves again within the refresh period; a cancel and a
//! deadline still reach the backend that serves the call.
mod support;

use std::{
    net::SocketAddr,
    sync::{Arc, Mutex},
    time::{Duration, Instant},
};

use demo_server::{
    app::AllowedOrigins,
    proto::{
        ComputeRequest, HelloReply, HelloRequest,
        greeter_client::GreeterClient,
        greeter_server::{Greeter, GreeterServer},
    },
    tiers::{self, Config, Limits, Role, Running},
};
use futures_util::{StreamExt, stream};
use support::{
    check, eventually,
    metrics::{Counts, Scrape},
    process::{DemoServer, free_port},
    raw_call::{RawCall, Transport},
    requests::{HELLO, hello},
};
use tonic::{Code, Request, Response, Status, transport::Channel};
use tonic_deadline::TRANSIT_ALLOWANCE;

const COMPUTE: &str = "/demo.v1.Work/Compute";

/// How often the frontend resolves its upstreams again in these tests.
const REFRESH: Duration = Duration::from_secs(1);

/// A lone frontend balancing over `backends`.
async fn frontend_over(backends: &[SocketAddr]) -> Running {
    let any: SocketAddr = "127.0.0.1:0".parse().unwrap();
    tiers::start(Config {
        role: Role::Frontend,
        addr: any,
        backend_addr: any,
        upstream: backends.iter().map(|a| format!("http://{a}")).collect(),
        upstream_refresh: REFRESH,
        lameduck: Duration::ZERO,
        origins: AllowedOrigins::default(),
        static_dirs: None,
        tls: None,
        limits: Limits::default(),
        drain_timeout: support::DRAIN,
    })
    .await
    .expect("the frontend starts")
}

async fn three_backends() -> (Vec<SocketAddr>, Vec<DemoServer>) {
    let mut addrs = Vec::new();
    let mut servers = Vec::new();
    for _ in 0..3 {
        let addr = free_port().await;
        servers.push(DemoServer::backend(addr).await);
        addrs.push(addr);
    }
    (addrs, servers)
}

/// `SayHello` at each backend, as its own `/metrics` counts it (0 at one
/// that has not been sent a call yet).
async fn greeter_counts(backends: &[SocketAddr]) -> Vec<Counts> {
    let mut counts = Vec::new();
    for addr in backends {
        counts.push(Counts::so_far(
            &Scrape::of(*addr).await,
            "backend",
            "SayHello",
        ));
    }
    counts
}

async fn client(addr: SocketAddr) -> GreeterClient<Channel> {
    let channel = Channel::from_shared(format!("http://{addr}"))
        .unwrap()
        .connect()
        .await
        .unwrap();
    GreeterClient::new(channel)
}

/// `n` unary calls, `at_once` at a time; their codes.
async fn calls(
    client: &GreeterClient<Channel>,
    n: usize,
    at_once: usize,
    delay_ms: u32,
) -> Vec<Code> {
    stream::iter(0..n)
        .map(|_| {
            let mut client = client.clone();
            async move {
                match client.say_hello(hello(delay_ms)).await {
                    Ok(_) => Code::Ok,
                    Err(status) => status.code(),
                }
            }
        })
        .buffer_unordered(at_once)
        .collect()
        .await
}

#[tokio::test]
async fn calls_are_spread_over_every_backend() {
    let (backends, _servers) = three_backends().await;
    let frontend = frontend_over(&backends).await;
    let client = client(frontend.frontend.unwrap()).await;

    let codes = calls(&client, 300, 10, 0).await;
    assert!(codes.iter().all(|c| *c == Code::Ok), "{codes:?}");
    let served: Vec<f64> = greeter_counts(&backends)
        .await
        .iter()
        .map(|c| c.ok)
        .collect();
    assert_eq!(served.iter().sum::<f64>(), 300.0, "{served:?}");
    eprintln!("SayHello served per backend: {served:?}");
    assert!(
        served.iter().all(|n| *n >= 60.0),
        "each backend serves 20%: {served:?}"
    );
}

#[tokio::test]
async fn a_killed_backend_fails_only_its_calls_in_flight_and_serves_again_once_restarted() {
    let (backends, mut servers) = three_backends().await;
    let frontend = frontend_over(&backends).await;
    let client = client(frontend.frontend.unwrap()).await;

    // Under load: 30 calls in flight, spread over the three.
    let in_flight = tokio::spawn({
        let client = client.clone();
        async move { calls(&client, 30, 30, 2_000).await }
    });
    eventually(Duration::from_secs(5), "30 calls in flight", || async {
        let c = greeter_counts(&backends).await;
        let n: Vec<f64> = c.iter().map(|c| c.in_flight).collect();
        check(
            n.iter().sum::<f64>() == 30.0 && n.iter().all(|n| *n > 0.0),
            n,
        )
    })
    .await;
    let on_killed = greeter_counts(&backends).await[0].in_flight as usize;
    eprintln!("{on_killed} of the 30 calls in flight on the backend killed");

    drop(servers.remove(0)); // SIGKILL, and reaped: its sockets are closed
    let codes = in_flight.await.unwrap();
    let failed: Vec<_> = codes.iter().filter(|c| **c != Code::Ok).collect();
    assert_eq!(failed.len(), on_killed, "{codes:?}");
    assert!(failed.iter().all(|c| **c == Code::Unavailable), "{codes:?}");

    // Every later call succeeds, on the others.
    let before: Vec<f64> = greeter_counts(&backends[1..])
        .await
        .iter()
        .map(|c| c.ok)
        .collect();
    let later = calls(&client, 60, 10, 0).await;
    assert!(later.iter().all(|c| *c == Code::Ok), "{later:?}");
    let after: Vec<f64> = greeter_counts(&backends[1..])
        .await
        .iter()
        .map(|c| c.ok)
        .collect();
    assert_eq!(after[0] + after[1] - before[0] - before[1], 60.0);

    // Restarted on its address, it serves again within the refresh period.
    servers.insert(0, DemoServer::backend(backends[0]).await);
    let took = eventually(
        REFRESH + Duration::from_millis(500),
        "the restarted backend serves",
        || {
            let client = client.clone();
            let backend = backends[0];
            async move {
                let codes = calls(&client, 6, 6, 0).await;
                assert!(codes.iter().all(|c| *c == Code::Ok), "{codes:?}");
                let c = Counts::so_far(&Scrape::of(backend).await, "backend", "SayHello");
                check(c.ok > 0.0, c)
            }
        },
    )
    .await;
    eprintln!("the restarted backend served again {took:?} after it listened");
}

#[tokio::test]
async fn a_cancel_ends_the_call_at_the_backend_that_serves_it() {
    let (backends, _servers) = three_backends().await;
    let frontend = frontend_over(&backends).await;
    let addr = frontend.frontend.unwrap();
    for round in 0..3 {
        let before = greeter_counts(&backends).await;
        let call = RawCall::start(Transport::Native, addr, HELLO, &hello(10_000), &[]).await;
        let started = Instant::now();
        let serving = loop {
            let now = greeter_counts(&backends).await;
            let busy: Vec<usize> = (0..3)
                .filter(|i| now[*i].in_flight > before[*i].in_flight)
                .collect();
            if let [one] = busy[..] {
                break one;
            }
            assert!(started.elapsed() < Duration::from_secs(5), "{now:?}");
            tokio::time::sleep(Duration::from_millis(2)).await;
        };
        call.abandon(); // the connection closes: a disconnect, as an abort in a page
        let took = eventually(
            Duration::from_millis(300),
            "the serving backend counts it Canceled, none in flight",
            || async {
                let c = Counts::of(&Scrape::of(backends[serving]).await, "backend", "SayHello");
                let b = before[serving];
                check(
                    c.in_flight == b.in_flight && c.canceled == b.canceled + 1.0,
                    c,
                )
            },
        )
        .await;
        eprintln!(
            "round {round}: backend {serving} stopped the call {took:?} after the disconnect"
        );
    }
}

/// A backend that writes down the `grpc-timeout` each call carried.
#[derive(Clone, Default)]
struct RecordingBackend {
    timeouts: Arc<Mutex<Vec<Duration>>>,
}

#[tonic::async_trait]
impl Greeter for RecordingBackend {
    async fn say_hello(
        &self,
        request: Request<HelloRequest>,
    ) -> Result<Response<HelloReply>, Status> {
        let timeout = request
            .metadata()
            .get("grpc-timeout")
            .map(|v| grpc_timeout::parse(v.as_bytes()).expect("a well-formed grpc-timeout"))
            .ok_or_else(|| Status::invalid_argument("no grpc-timeout"))?;
        self.timeouts.lock().unwrap().push(timeout);
        Ok(Response::new(HelloReply {
            message: "recorded".into(),
        }))
    }
}

/// Plain tonic servers without a health service: the frontend keeps each in
/// for as long as it is connected.
async fn recording_backend() -> (SocketAddr, RecordingBackend) {
    let backend = RecordingBackend::default();
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    let incoming = tonic::transport::server::TcpIncoming::from(listener);
    tokio::spawn(
        tonic::transport::Server::builder()
            .add_service(GreeterServer::new(backend.clone()))
            .serve_with_incoming(incoming),
    );
    (addr, backend)
}

#[tokio::test]
async fn a_deadline_reaches_each_backend_lowered_by_the_time_spent() {
    let mut backends = Vec::new();
    for _ in 0..3 {
        backends.push(recording_backend().await);
    }
    let addrs: Vec<SocketAddr> = backends.iter().map(|(a, _)| *a).collect();
    let frontend = frontend_over(&addrs).await;
    let addr = frontend.frontend.unwrap();
    let deadline = Duration::from_millis(300);
    let header = grpc_timeout::encode(deadline);
    for _ in 0..30 {
        let call = RawCall::start(
            Transport::Native,
            addr,
            HELLO,
            &hello(0),
            &[("grpc-timeout", &header)],
        )
        .await;
        let outcome = call.finish().await;
        assert_eq!(outcome.code, Code::Ok, "{outcome:?}");
    }
    for (i, (_, backend)) in backends.iter().enumerate() {
        let timeouts = backend.timeouts.lock().unwrap().clone();
        assert!(!timeouts.is_empty(), "backend {i} served no call");
        for t in timeouts {
            assert!(
                t <= deadline - TRANSIT_ALLOWANCE && t > deadline / 2,
                "backend {i} was given {t:?} of the caller's {deadline:?}"
            );
        }
    }
}

/// The backend that serves a `Compute` past its deadline ends it itself
/// (DeadlineExceeded), before the frontend's reset at its own deadline would
/// reach it (that would count Canceled).
#[tokio::test]
async fn a_deadline_ends_the_work_at_the_backend_that_serves_it() {
    let _cpu = support::cpu_bound_test().await;
    let (backends, _servers) = three_backends().await;
    let frontend = frontend_over(&backends).await;
    let addr = frontend.frontend.unwrap();
    let call = RawCall::start(
        Transport::Native,
        addr,
        COMPUTE,
        &ComputeRequest { n: 2_000_000_000 },
        &[("grpc-timeout", "300m")],
    )
    .await;
    let outcome = call.finish().await;
    assert_eq!(outcome.code, Code::DeadlineExceeded, "{outcome:?}");
    eventually(
        Duration::from_millis(500),
        "one backend counts DeadlineExceeded",
        || async {
            let mut c = Vec::new();
            for b in &backends {
                // Only the one that served it has the series.
                c.push(Counts::so_far(&Scrape::of(*b).await, "backend", "Compute"));
            }
            let exceeded: f64 = c.iter().map(|c| c.deadline_exceeded).sum();
            let canceled: f64 = c.iter().map(|c| c.canceled).sum();
            let in_flight: f64 = c.iter().map(|c| c.in_flight).sum();
            check(exceeded == 1.0 && canceled == 0.0 && in_flight == 0.0, c)
        },
    )
    .await;
}

/// A backend in its lameduck (SIGTERM with `--lameduck`) reports NOT_SERVING:
/// the frontend stops sending it calls at once, while the calls it has
/// still finish there; the others take every new call.
#[tokio::test]
async fn a_backend_in_its_lameduck_is_avoided() {
    let mut backends = Vec::new();
    let mut servers = Vec::new();
    for _ in 0..3 {
        let addr = free_port().await;
        let args = [
            "--role",
            "backend",
            "--backend-addr",
            &addr.to_string(),
            "--lameduck",
            "3s",
        ];
        servers.push(DemoServer::start(&args, addr).await);
        backends.push(addr);
    }
    let frontend = frontend_over(&backends).await;
    let client = client(frontend.frontend.unwrap()).await;
    let running = tokio::spawn({
        let client = client.clone();
        async move { calls(&client, 15, 15, 1_000).await }
    });
    eventually(Duration::from_secs(5), "15 calls in flight", || async {
        let n: Vec<f64> = greeter_counts(&backends)
            .await
            .iter()
            .map(|c| c.in_flight)
            .collect();
        check(n.iter().sum::<f64>() == 15.0 && n[0] > 0.0, n)
    })
    .await;

    let signalled = Instant::now();
    servers[0].terminate();
    // Soon (within 250 ms), a batch of calls none of which reaches it ...
    let took = eventually(
        Duration::from_millis(250),
        "calls avoid the backend",
        || async {
            let before = greeter_counts(&backends[..1]).await[0].started;
            let codes = calls(&client, 10, 10, 0).await;
            assert!(codes.iter().all(|c| *c == Code::Ok), "{codes:?}");
            let after = greeter_counts(&backends[..1]).await[0].started;
            check(after == before, (before, after))
        },
    )
    .await;
    // ... and from then on none does, while its own calls end OK there.
    let before = greeter_counts(&backends).await;
    let codes = calls(&client, 60, 10, 0).await;
    assert!(codes.iter().all(|c| *c == Code::Ok), "{codes:?}");
    let after = greeter_counts(&backends).await;
    assert_eq!(after[0].started, before[0].started, "{after:?}");
    let codes = running.await.unwrap();
    assert!(codes.iter().all(|c| *c == Code::Ok), "{codes:?}");
    assert!(
        signalled.elapsed() < Duration::from_secs(3),
        "still in the lameduck"
    );
    eprintln!("calls avoided the backend in its lameduck {took:?} after SIGTERM");
}

/// `--upstream http://localhost:PORT`: a name, resolved to its addresses
/// (here the backend's 127.0.0.1, and perhaps a ::1 nobody listens on,
/// which is left out).
#[tokio::test]
async fn an_upstream_name_is_resolved() {
    let addr = free_port().await;
    let _backend = DemoServer::backend(addr).await;
    let any: SocketAddr = "127.0.0.1:0".parse().unwrap();
    let frontend = tiers::start(Config {
        role: Role::Frontend,
        addr: any,
        backend_addr: any,
        upstream: vec![format!("http://localhost:{}", addr.port())],
        upstream_refresh: REFRESH,
        lameduck: Duration::ZERO,
        origins: AllowedOrigins::default(),
        static_dirs: None,
        tls: None,
        limits: Limits::default(),
        drain_timeout: support::DRAIN,
    })
    .await
    .expect("the frontend starts");
    let client = client(frontend.frontend.unwrap()).await;
    let codes = calls(&client, 20, 5, 0).await;
    assert!(codes.iter().all(|c| *c == Code::Ok), "{codes:?}");
    let served = greeter_counts(&[addr]).await[0].ok;
    assert_eq!(served, 20.0);
}
