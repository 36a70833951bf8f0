//! What the deadline layer costs per call: the same unary `SayHello` (no
//! delay) against the same backend service, served bare (tonic's routes
//! alone) and as a tier (tonic-web, CORS, the deadline layer, metrics), and
//! through both tiers (one more hop, with `Propagate`). Rounds alternate so
//! that a noisy machine slows every variant alike; ratios are what to read.
//!
//! `cargo xtask bench` (or `cargo bench -p demo-server`).
use std::{net::SocketAddr, sync::Arc, time::Instant};

use demo_server::{
    app::{self, AllowedOrigins},
    metrics::Metrics,
    proto::{HelloRequest, greeter_client::GreeterClient},
    services::greeter,
    tiers::{self, Config, Role},
};
use tonic::service::Routes;
use tonic_deadline::{DEFAULT_DRAIN_TIMEOUT, Http2Client, Shutdown};

const CALLS_PER_ROUND: usize = 500;
const ROUNDS: usize = 7;

async fn serve(router: axum::Router) -> SocketAddr {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    let listener = axum::serve::ListenerExt::tap_io(listener, |tcp| {
        let _ = tcp.set_nodelay(true);
    });
    tokio::spawn(async move { axum::serve(listener, router).await });
    addr
}

async fn serve_service(service: app::HttpService) -> SocketAddr {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    let listener = axum::serve::ListenerExt::tap_io(listener, |tcp| {
        let _ = tcp.set_nodelay(true);
    });
    let make = axum::ServiceExt::into_make_service(service);
    tokio::spawn(async move { axum::serve(listener, make).await });
    addr
}

/// Microseconds per call over one round of sequential calls.
async fn round(client: &mut GreeterClient<Http2Client>) -> f64 {
    let start = Instant::now();
    for _ in 0..CALLS_PER_ROUND {
        let mut req = tonic::Request::new(HelloRequest {
            name: "bench".into(),
            delay_ms: 0,
        });
        req.metadata_mut()
            .insert("grpc-timeout", "5S".parse().unwrap());
        client.say_hello(req).await.expect("the call succeeds");
    }
    start.elapsed().as_secs_f64() * 1e6 / CALLS_PER_ROUND as f64
}

fn median(mut v: Vec<f64>) -> f64 {
    v.sort_by(f64::total_cmp);
    v[v.len() / 2]
}

#[tokio::main]
async fn main() {
    let bare = serve(Routes::new(greeter::backend()).into_axum_router()).await;
    let tier_service = app::service(
        "backend",
        Routes::new(greeter::backend()),
        Arc::new(Metrics::default()),
        &Shutdown::default(),
        &Default::default(),
        &AllowedOrigins::default(),
        None,
    );
    let tier = serve_service(tier_service).await;
    let any: SocketAddr = "127.0.0.1:0".parse().unwrap();
    let two_tiers = tiers::start(Config {
        role: Role::Both,
        addr: any,
        backend_addr: any,
        upstream: Vec::new(),
        upstream_refresh: tonic_deadline::DEFAULT_REFRESH,
        lameduck: std::time::Duration::ZERO,
        origins: AllowedOrigins::default(),
        static_dirs: None,
        tls: None,
        limits: Default::default(),
        drain_timeout: DEFAULT_DRAIN_TIMEOUT,
    })
    .await
    .unwrap();

    let variants = [
        ("bare tonic routes", bare),
        ("one tier (layer)", tier),
        ("two tiers", two_tiers.frontend.unwrap()),
    ];
    let mut clients: Vec<_> = variants
        .iter()
        .map(|(_, addr)| {
            GreeterClient::new(Http2Client::new(format!("http://{addr}").parse().unwrap()).unwrap())
        })
        .collect();
    for client in &mut clients {
        round(client).await; // warm up: connections, allocations
    }
    let mut times = vec![Vec::new(); variants.len()];
    for _ in 0..ROUNDS {
        for (i, client) in clients.iter_mut().enumerate() {
            times[i].push(round(client).await);
        }
    }
    let base = median(times[0].clone());
    println!(
        "unary SayHello, {ROUNDS} alternating rounds of {CALLS_PER_ROUND} sequential calls, median per call:"
    );
    for ((name, _), t) in variants.iter().zip(times) {
        let m = median(t);
        println!("  {name:<20} {m:8.1} µs  x{:.2}", m / base);
    }
}
