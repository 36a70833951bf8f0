//! gRPC health checking (`grpc.health.v1.Health`) on both tiers, as
//! Kubernetes' probes and balancers see it with a native client (tonic-health's
//! generated one): the overall status and one per service, `Check` and
//! `Watch`; and the lameduck: at SIGTERM health turns NOT_SERVING at once
//! while calls are still accepted and served, then GOAWAY, the drain, exit.
mod support;

use std::{
    net::SocketAddr,
    time::{Duration, Instant},
};

use demo_server::tiers::Limits;
use http_body_util::Empty;
use hyper_util::rt::{TokioExecutor, TokioIo};
use support::{
    check, eventually,
    metrics::{Counts, Scrape},
    process::{DemoServer, free_port},
    raw_call::{RawCall, Transport},
    requests::{HELLO, hello},
    two_tiers, two_tiers_with,
};
use tonic::{Code, Streaming, transport::Channel};
use tonic_health::pb::{
    HealthCheckRequest, HealthCheckResponse, health_check_response::ServingStatus,
    health_client::HealthClient,
};

/// The services each tier reports, besides the overall status "".
const SERVICES: [&str; 5] = [
    "",
    "demo.v1.Greeter",
    "demo.v1.Updates",
    "demo.v1.Work",
    "demo.v1.Stats",
];

async fn health_of(addr: SocketAddr) -> HealthClient<Channel> {
    let channel = Channel::from_shared(format!("http://{addr}"))
        .unwrap()
        .connect()
        .await
        .expect("connects");
    HealthClient::new(channel)
}

fn about(service: &str) -> HealthCheckRequest {
    HealthCheckRequest {
        service: service.into(),
    }
}

async fn watch(addr: SocketAddr) -> Streaming<HealthCheckResponse> {
    health_of(addr)
        .await
        .watch(about(""))
        .await
        .expect("Watch answers")
        .into_inner()
}

async fn next_status(watch: &mut Streaming<HealthCheckResponse>) -> ServingStatus {
    watch
        .message()
        .await
        .expect("an update, not an error")
        .expect("an update, not the end")
        .status()
}

#[tokio::test]
async fn check_and_watch_on_both_tiers() {
    let server = two_tiers().await;
    let tiers = [
        ("frontend", server.frontend.unwrap()),
        ("backend", server.backend.unwrap()),
    ];
    for (tier, addr) in tiers {
        let mut health = health_of(addr).await;
        for service in SERVICES {
            let reply = health.check(about(service)).await.unwrap().into_inner();
            assert_eq!(reply.status(), ServingStatus::Serving, "{tier} {service:?}");
        }
        let unknown = health.check(about("demo.v1.Nothing")).await.unwrap_err();
        assert_eq!(unknown.code(), Code::NotFound, "{tier}: {unknown:?}");
        let mut updates = watch(addr).await;
        assert_eq!(next_status(&mut updates).await, ServingStatus::Serving);
        // Probes and the frontends' watches are not calls of the tier: no
        // series for them, so in-flight counts stay the tier's own. A call
        // of the tier's own after them is counted.
        let call = RawCall::start(Transport::Native, addr, HELLO, &hello(0), &[]).await;
        assert_eq!(call.finish().await.code, Code::Ok);
        let s = Scrape::of(addr).await;
        // (The backend has the frontend's call too.)
        let own = s.sum("grpc_server_started_total", &[("tier", tier)]);
        let expected = if tier == "frontend" { 1.0 } else { 2.0 };
        assert_eq!(own, expected, "{tier}\n{}", s.text());
        let probes = s.absent_or_zero(
            "grpc_server_started_total",
            &[("grpc_service", "grpc.health.v1.Health")],
        );
        assert_eq!(probes, 0.0, "{tier}\n{}", s.text());
    }
}

/// A probe is answered even when the tier is at its call limit, where a
/// call of its own would be refused.
#[tokio::test]
async fn health_is_answered_at_the_call_limit() {
    let server = two_tiers_with(Limits {
        max_calls: Some(1),
        ..Limits::default()
    })
    .await;
    let addr = server.frontend.unwrap();
    let held = RawCall::start(Transport::Native, addr, HELLO, &hello(2_000), &[]).await;
    eventually(
        Duration::from_secs(5),
        "the held call in flight",
        || async {
            let c = Counts::so_far(&Scrape::of(addr).await, "frontend", "SayHello");
            check(c.in_flight == 1.0, c)
        },
    )
    .await;
    let refused = RawCall::start(Transport::Native, addr, HELLO, &hello(0), &[]).await;
    assert_eq!(refused.finish().await.code, Code::ResourceExhausted);
    let reply = health_of(addr).await.check(about("")).await.unwrap();
    assert_eq!(reply.into_inner().status(), ServingStatus::Serving);
    held.abandon();
}

/// An HTTP/2 connection of its own to `addr`, idle; completes when the server
/// closes it.
async fn idle_connection(addr: SocketAddr) -> tokio::task::JoinHandle<()> {
    let tcp = tokio::net::TcpStream::connect(addr).await.unwrap();
    let (send, connection) = hyper::client::conn::http2::Builder::new(TokioExecutor::new())
        .handshake::<_, Empty<bytes::Bytes>>(TokioIo::new(tcp))
        .await
        .unwrap();
    tokio::spawn(async move {
        let _send = send; // kept: the connection is the server's to close
        let _ = connection.await;
    })
}

/// `demo-server --lameduck 1s --drain-timeout 2s`, SIGTERM: NOT_SERVING at
/// both tiers within 50 ms, new calls on new connections still succeed for
/// the lameduck, then the listener closes, an idle connection is closed
/// (GOAWAY), the Watch streams end with UNAVAILABLE, a unary call in flight
/// drains to OK, and the process exits within lameduck + drain + 1 s.
#[tokio::test]
async fn sigterm_with_a_lameduck() {
    let (addr, backend_addr) = (free_port().await, free_port().await);
    let args = [
        "--addr",
        &addr.to_string(),
        "--backend-addr",
        &backend_addr.to_string(),
        "--lameduck",
        "1s",
        "--drain-timeout",
        "2s",
    ];
    let mut server = DemoServer::start(&args, addr).await;
    let lameduck = Duration::from_secs(1);
    let mut watches = [watch(addr).await, watch(backend_addr).await];
    for w in &mut watches {
        assert_eq!(next_status(w).await, ServingStatus::Serving);
    }
    let idle = idle_connection(addr).await;
    let slow = RawCall::start(Transport::Native, addr, HELLO, &hello(1_500), &[]).await;
    eventually(
        Duration::from_secs(5),
        "the slow call in flight",
        || async {
            let c = Counts::so_far(&Scrape::of(backend_addr).await, "backend", "SayHello");
            check(c.in_flight == 1.0, c)
        },
    )
    .await;

    let signalled = Instant::now();
    server.terminate();
    for w in &mut watches {
        assert_eq!(next_status(w).await, ServingStatus::NotServing);
    }
    let not_serving = signalled.elapsed();
    assert!(not_serving <= Duration::from_millis(50), "{not_serving:?}");
    let mut health = health_of(addr).await;
    for service in SERVICES {
        let reply = health.check(about(service)).await.unwrap().into_inner();
        assert_eq!(reply.status(), ServingStatus::NotServing, "{service:?}");
    }

    // The lameduck: still accepting, still serving (through both tiers).
    let mut served = 0;
    while signalled.elapsed() < lameduck - Duration::from_millis(250) {
        let call = RawCall::start(Transport::Native, addr, HELLO, &hello(0), &[]).await;
        let outcome = call.finish().await;
        assert_eq!(outcome.code, Code::Ok, "{outcome:?}");
        served += 1;
    }
    assert!(served >= 3, "only {served} calls in the lameduck");
    assert!(
        !idle.is_finished(),
        "the idle connection closed in the lameduck"
    );

    // Then the shutdown proper: streams end, GOAWAY, no more accepting.
    for w in &mut watches {
        let ended = w.message().await.expect_err("the Watch ends with an error");
        assert_eq!(ended.code(), Code::Unavailable, "{ended:?}");
    }
    let streams_ended = signalled.elapsed();
    assert!(
        streams_ended >= lameduck && streams_ended < lameduck + Duration::from_millis(300),
        "{streams_ended:?}"
    );
    tokio::time::timeout(Duration::from_millis(300), idle)
        .await
        .expect("the idle connection is closed right after the lameduck")
        .unwrap();
    eventually(
        Duration::from_millis(300),
        "the listener closes",
        || async {
            check(
                tokio::net::TcpStream::connect(addr).await.is_err(),
                "accepted",
            )
        },
    )
    .await;
    let drained = slow.finish().await;
    assert_eq!(
        drained.code,
        Code::Ok,
        "the call in flight drained: {drained:?}"
    );

    let remaining = (lameduck + Duration::from_secs(2) + Duration::from_secs(1))
        .saturating_sub(signalled.elapsed());
    let status = server.exited_within(remaining).await;
    assert!(status.success(), "{status:?}");
    eprintln!(
        "NOT_SERVING {not_serving:?} after SIGTERM, {served} calls served in the lameduck, \
         streams ended at {streams_ended:?}, exit at {:?}",
        signalled.elapsed()
    );
}
