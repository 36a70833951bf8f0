//! Clients that stop reading relayed streams (found by issue 17's bench):
//! the frontend stops reading each stream upstream in turn, and the
//! backend's DATA frames wait unread in the frontend's one connection to
//! it. That must cost those streams alone: h2 closes a connection (GOAWAY
//! ENHANCE_YOUR_CALM) whose unread small frames exceed a budget, and with
//! hyper's default windows a few stalled streams spent it in seconds,
//! failing every call on the connection, whoever made it (see
//! tonic-deadline/src/windows.rs).
mod support;

use std::time::{Duration, Instant};

use demo_server::proto::WatchRequest;
use http_body_util::{BodyExt, Full};
use hyper_util::rt::{TokioExecutor, TokioIo};
use support::{
    metrics::{Counts, Scrape},
    raw_call::{RawCall, Transport, frame},
    requests::{HELLO, WATCH, hello},
    two_tiers,
};
use tonic::Code;

/// Stalled streams, and how long calls must keep succeeding beside them:
/// with hyper's default windows (2 MiB per stream, 5 MiB per connection)
/// a call failed UNAVAILABLE ("no backend ... is available") 2.2 s after
/// the streams stalled; with the tiers' windows none does.
const STALLED: usize = 16;
const EXPOSURE: Duration = Duration::from_secs(6);

#[tokio::test]
async fn stalled_readers_of_relayed_streams_leave_the_upstream_connection_up() {
    let tiers = two_tiers().await;
    let addr = tiers.frontend.unwrap();

    // One connection with a 64 KiB stream window, as a browser tab with
    // little memory to spare; each stream is read once, then never again.
    let tcp = tokio::net::TcpStream::connect(addr).await.unwrap();
    let (mut send, conn) = hyper::client::conn::http2::Builder::new(TokioExecutor::new())
        .initial_stream_window_size(65_535)
        .handshake(TokioIo::new(tcp))
        .await
        .unwrap();
    tokio::spawn(conn);
    // An update a millisecond, each about 130 bytes: small frames, the kind
    // the budget counts (under 256 bytes), and quick to fill the windows.
    let watch = WatchRequest {
        topic: "s".repeat(50),
        interval_ms: 1,
        limit: 0,
        after_seq: 0,
    };
    let body = frame(&watch);
    let mut stalled = Vec::new();
    for _ in 0..STALLED {
        let request = http::Request::post(format!("http://{addr}{WATCH}"))
            .header("content-type", "application/grpc")
            .header("te", "trailers")
            .body(Full::new(body.clone()))
            .unwrap();
        let response = send.send_request(request).await.unwrap();
        assert_eq!(response.status(), 200);
        let mut body = response.into_body();
        assert!(body.frame().await.unwrap().unwrap().is_data());
        stalled.push(body);
    }

    // Calls through the same frontend, and so over the same upstream
    // connection, keep answering all along.
    let started = Instant::now();
    let mut calls = 0.0;
    while started.elapsed() < EXPOSURE {
        let outcome = RawCall::start(Transport::Native, addr, HELLO, &hello(0), &[])
            .await
            .finish()
            .await;
        assert_eq!(
            outcome.code,
            Code::Ok,
            "a call {:?} after the streams stalled: {}",
            started.elapsed(),
            outcome.message
        );
        calls += 1.0;
        // The calls' pace, not a wait for a condition: the exposure is the test.
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    let backend = Counts::of(&Scrape::of(addr).await, "backend", "SayHello");
    assert_eq!(backend.started, calls, "every call reached the backend");

    drop(stalled);
}
