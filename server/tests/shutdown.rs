//! Graceful shutdown: open streams end at once with UNAVAILABLE in trailers
//! (not a reset), unary calls in flight finish within the drain time (and
//! are ended with UNAVAILABLE after it, their upstream calls cancelled), the
//! server stops accepting, and `wait` returns within the drain time plus 1 s.
//! A frontend whose backend shuts down ends its streams with UNAVAILABLE.
mod support;

use std::{
    net::SocketAddr,
    time::{Duration, Instant},
};

use demo_server::tiers::Role;
use support::{
    check, ends_unavailable_within_1s, eventually, frontend_counts_unavailable, frontend_of,
    metrics::{Counts, Scrape},
    process::{DemoServer, free_port},
    raw_call::{RawCall, Transport},
    requests::{HELLO, WATCH, endless_watch, hello},
    start,
};
use tonic::Code;

/// Waits until `tier` is working on one call of `method`.
async fn in_flight(addr: SocketAddr, tier: &str, method: &str) {
    eventually(Duration::from_secs(5), "the call is in flight", || async {
        let c = Counts::so_far(&Scrape::of(addr).await, tier, method);
        check(c.in_flight == 1.0, c)
    })
    .await;
}

async fn streams_end_unary_calls_drain(transport: Transport) {
    let server = start(Role::Both, None, Duration::from_secs(2)).await;
    let addr = server.frontend.unwrap();
    let mut stream = RawCall::start(transport, addr, WATCH, &endless_watch(), &[]).await;
    assert!(stream.next_message().await.is_some());
    let unary = RawCall::start(transport, addr, HELLO, &hello(300), &[]).await;
    in_flight(addr, "backend", "SayHello").await;

    let began = Instant::now();
    server.shutdown();
    let ended = stream.finish().await;
    assert_eq!(ended.code, Code::Unavailable, "{ended:?}");
    assert!(ended.message.contains("shutting down"), "{ended:?}");
    assert!(
        began.elapsed() < Duration::from_millis(500),
        "{:?}",
        began.elapsed()
    );
    let answered = unary.finish().await;
    assert_eq!(
        answered.code,
        Code::Ok,
        "the unary call drained: {answered:?}"
    );
    assert_eq!(answered.messages.len(), 1);

    // No new connections; every call ended, as the server saw it.
    eventually(Duration::from_secs(1), "the listener closes", || async {
        check(
            tokio::net::TcpStream::connect(addr).await.is_err(),
            "accepted",
        )
    })
    .await;
    let metrics = server.metrics.clone();
    tokio::time::timeout(Duration::from_secs(3), server.wait())
        .await
        .expect("wait() returns within the drain time plus 1 s")
        .unwrap();
    let s = Scrape::in_process(&metrics);
    for tier in ["frontend", "backend"] {
        assert_eq!(
            s.handled(tier, "Watch", "Unavailable"),
            1.0,
            "{tier}\n{}",
            s.text()
        );
        assert_eq!(
            s.handled(tier, "SayHello", "OK"),
            1.0,
            "{tier}\n{}",
            s.text()
        );
        assert_eq!(
            s.sum("grpc_server_in_flight", &[("tier", tier)]),
            0.0,
            "{tier}"
        );
    }
}

over_transports!(
    streams_end_unary_calls_drain:
    streams_end_unary_calls_drain_native => Native,
    streams_end_unary_calls_drain_grpc_web => Web,
    streams_end_unary_calls_drain_grpc_web_h2 => WebH2,
);

/// A frontend of its own, so that only it shuts down: the unary call it cuts
/// off at the end of the drain time is cancelled at the backend.
#[tokio::test]
async fn unary_call_past_the_drain_time_ends_unavailable_and_cancels_upstream() {
    let backend = start(Role::Backend, None, support::DRAIN).await;
    let backend_addr = backend.backend.unwrap();
    let frontend = start(
        Role::Frontend,
        Some(format!("http://{backend_addr}")),
        Duration::from_millis(200),
    )
    .await;
    let addr = frontend.frontend.unwrap();
    let slow = RawCall::start(Transport::Native, addr, HELLO, &hello(10_000), &[]).await;
    in_flight(backend_addr, "backend", "SayHello").await;

    let began = Instant::now();
    frontend.shutdown();
    let ended = slow.finish().await;
    let took = began.elapsed();
    assert_eq!(ended.code, Code::Unavailable, "{ended:?}");
    assert!(ended.message.contains("shutting down"), "{ended:?}");
    assert!(
        took >= Duration::from_millis(200) && took < Duration::from_millis(700),
        "{took:?}"
    );

    eventually(
        Duration::from_millis(200),
        "the backend's call is cancelled",
        || async {
            let c = Counts::of(&Scrape::of(backend_addr).await, "backend", "SayHello");
            check(c.canceled == 1.0 && c.in_flight == 0.0, c)
        },
    )
    .await;
    let s = Scrape::in_process(&frontend.metrics);
    assert_eq!(
        s.handled("frontend", "SayHello", "Unavailable"),
        1.0,
        "{}",
        s.text()
    );
}

#[tokio::test]
async fn frontend_ends_its_streams_when_its_backend_shuts_down() {
    let backend = start(Role::Backend, None, support::DRAIN).await;
    let frontend = frontend_of(backend.backend.unwrap()).await;
    let addr = frontend.frontend.unwrap();
    let mut stream = RawCall::start(Transport::Native, addr, WATCH, &endless_watch(), &[]).await;
    assert!(stream.next_message().await.is_some());

    backend.shutdown();
    ends_unavailable_within_1s(stream).await;
    frontend_counts_unavailable(addr, "Watch", 1.0).await;
    let s = Scrape::in_process(&backend.metrics);
    assert_eq!(
        s.handled("backend", "Watch", "Unavailable"),
        1.0,
        "{}",
        s.text()
    );
}

/// The binary itself, as an outside client sees it: SIGTERM during an open
/// stream ends it with UNAVAILABLE in trailers, and the process exits within
/// the drain time plus 1 s.
#[tokio::test]
async fn sigterm_ends_open_streams_and_exits() {
    let (addr, backend_addr) = (free_port().await, free_port().await);
    let mut server = DemoServer::both(addr, backend_addr, "1s").await;
    let mut stream = RawCall::start(Transport::Native, addr, WATCH, &endless_watch(), &[]).await;
    assert!(stream.next_message().await.is_some());

    server.terminate();
    let ended = ends_unavailable_within_1s(stream).await;
    assert!(ended.message.contains("shutting down"), "{ended:?}");
    let status = server.exited_within(Duration::from_secs(2)).await;
    assert!(status.success(), "{status:?}");
}
