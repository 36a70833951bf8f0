//! Graceful shutdown: open streams end at once with UNAVAILABLE in trailers
//! (not a reset), unary calls in flight finish within the drain time (never
//! past their own deadline; ended with UNAVAILABLE after it, their upstream
//! calls cancelled), the server stops accepting (HTTP/2 GOAWAY, HTTP/1.1
//! keep-alive closed), and `wait` returns within the drain time plus 1 s.
//! SIGTERM and Ctrl-C (SIGINT) to the binary do the same. A frontend whose
//! backend shuts down ends its streams with UNAVAILABLE.
mod support;

use std::{
    net::SocketAddr,
    time::{Duration, Instant},
};

use demo_server::tiers::Role;
use http_body_util::{BodyExt, Empty};
use hyper_util::rt::TokioIo;
use support::{
    check, ends_unavailable_within_1s, eventually,
    frames::GOAWAY,
    frontend_counts_unavailable, frontend_of,
    metrics::{Counts, Scrape},
    process::{DemoServer, free_port},
    raw_call::{RawCall, Transport},
    requests::{HELLO, WATCH, endless_watch, hello},
    start, start_and_reach_backend,
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

/// The binary itself, as an outside client sees it: a signal during an open
/// stream ends it with UNAVAILABLE in trailers, a unary call in flight
/// drains to OK, and the process exits (by itself, not killed by the
/// signal) within the drain time plus 1 s. Ctrl-C (SIGINT) the same as SIGTERM.
async fn signal_ends_streams_drains_and_exits(interrupt: bool) {
    let (addr, backend_addr) = (free_port().await, free_port().await);
    let mut server = DemoServer::both(addr, backend_addr, "1s").await;
    let mut stream = RawCall::start(Transport::Native, addr, WATCH, &endless_watch(), &[]).await;
    assert!(stream.next_message().await.is_some());
    let unary = RawCall::start(Transport::Native, addr, HELLO, &hello(300), &[]).await;
    in_flight(backend_addr, "backend", "SayHello").await;

    let signalled = Instant::now();
    if interrupt {
        server.interrupt();
    } else {
        server.terminate();
    }
    let ended = ends_unavailable_within_1s(stream).await;
    assert!(ended.message.contains("shutting down"), "{ended:?}");
    let drained = unary.finish().await;
    assert_eq!(
        drained.code,
        Code::Ok,
        "the unary call drained: {drained:?}"
    );
    let status = server
        .exited_within(Duration::from_secs(2).saturating_sub(signalled.elapsed()))
        .await;
    assert!(status.success(), "{status:?}");
}

#[tokio::test]
async fn sigterm_ends_open_streams_and_exits() {
    signal_ends_streams_drains_and_exits(false).await;
}

#[tokio::test]
async fn sigint_is_handled_as_sigterm() {
    signal_ends_streams_drains_and_exits(true).await;
}

/// At shutdown the server stops accepting on the connections it has too:
/// HTTP/2 ones are sent GOAWAY while their calls drain; an HTTP/1.1 call's
/// answer says `connection: close` and the connection closes after it; an
/// idle HTTP/1.1 keep-alive connection is closed.
#[tokio::test]
async fn shutdown_sends_goaway_and_ends_http1_keep_alive() {
    let server = start(Role::Both, None, Duration::from_secs(2)).await;
    let addr = server.frontend.unwrap();
    let mut h2 = RawCall::start(Transport::Native, addr, HELLO, &hello(1_000), &[]).await;
    let mut h1 = RawCall::start(Transport::Web, addr, HELLO, &hello(1_000), &[]).await;
    let idle = keep_alive_connection(addr).await;
    eventually(Duration::from_secs(5), "both calls in flight", || async {
        let c = Counts::so_far(&Scrape::of(addr).await, "backend", "SayHello");
        check(c.in_flight == 2.0, c)
    })
    .await;
    let goaway = h2.frames.clone().expect("an HTTP/2 call");
    assert!(!goaway.seen(GOAWAY), "GOAWAY before the shutdown");
    let (h2_conn, h1_conn) = (h2.take_connection(), h1.take_connection());

    let began = Instant::now();
    server.shutdown();
    eventually(
        Duration::from_millis(200),
        "GOAWAY on the HTTP/2 connection",
        || async { check(goaway.seen(GOAWAY), &goaway) },
    )
    .await;
    tokio::time::timeout(Duration::from_millis(200), idle)
        .await
        .expect("the idle keep-alive connection is closed")
        .unwrap();

    // The calls in flight drain; then their connections close.
    let h1 = h1.finish().await;
    assert_eq!(h1.code, Code::Ok, "{h1:?}");
    let connection = h1.headers.get("connection").map(|v| v.to_str().unwrap());
    assert_eq!(connection, Some("close"), "{h1:?}");
    let h2 = h2.finish().await;
    assert_eq!(h2.code, Code::Ok, "{h2:?}");
    for (name, conn) in [("HTTP/1.1", h1_conn), ("HTTP/2", h2_conn)] {
        tokio::time::timeout(Duration::from_millis(300), conn)
            .await
            .unwrap_or_else(|_| panic!("the {name} connection closes after its call"))
            .unwrap();
    }
    assert!(
        began.elapsed() < Duration::from_secs(2),
        "{:?}",
        began.elapsed()
    );
}

/// An HTTP/1.1 connection that has had one answer (`GET /metrics`) and
/// waits for its next request; completes when the server closes it.
async fn keep_alive_connection(addr: SocketAddr) -> tokio::task::JoinHandle<()> {
    let tcp = tokio::net::TcpStream::connect(addr).await.unwrap();
    let (mut send, connection) = hyper::client::conn::http1::handshake(TokioIo::new(tcp))
        .await
        .unwrap();
    let connection = tokio::spawn(async move {
        let _ = connection.await;
    });
    let req = http::Request::get("/metrics")
        .header("host", addr.to_string())
        .body(Empty::<bytes::Bytes>::new())
        .unwrap();
    let res = send.send_request(req).await.unwrap();
    assert_eq!(res.status(), 200);
    assert!(res.headers().get("connection").is_none(), "kept alive");
    res.into_body().collect().await.unwrap();
    tokio::spawn(async move {
        let _send = send; // kept: the connection is the server's to close
        let _ = connection.await;
    })
}

/// A unary call that drains at shutdown still ends at its own deadline,
/// well inside the drain time: DEADLINE_EXCEEDED, not UNAVAILABLE later.
#[tokio::test]
async fn draining_calls_end_at_their_own_deadline() {
    let server = start(Role::Both, None, Duration::from_secs(5)).await;
    let addr = server.frontend.unwrap();
    let call = start_and_reach_backend(
        Transport::Native,
        addr,
        HELLO,
        "SayHello",
        &hello(10_000),
        &[("grpc-timeout", "1S")],
    )
    .await;
    server.shutdown();
    let sent_at = call.sent_at;
    let shutdown_after = sent_at.elapsed();
    assert!(
        shutdown_after < Duration::from_millis(500),
        "the shutdown began {shutdown_after:?} into the call, not well before its deadline"
    );
    let ended = call.finish().await;
    let took = sent_at.elapsed();
    assert_eq!(ended.code, Code::DeadlineExceeded, "{ended:?}");
    // The backend's deadline is the frontend's less the transit allowance.
    assert!(
        took >= Duration::from_millis(990) && took < Duration::from_millis(1_100),
        "ended {took:?} after it was sent, with a 1 s deadline"
    );
    let metrics = server.metrics.clone();
    eventually(
        Duration::from_millis(200),
        "both tiers count DeadlineExceeded",
        || async {
            let s = Scrape::in_process(&metrics);
            let c = ["frontend", "backend"].map(|t| Counts::of(&s, t, "SayHello"));
            check(
                c.iter()
                    .all(|c| c.deadline_exceeded == 1.0 && c.in_flight == 0.0),
                c,
            )
        },
    )
    .await;
}
