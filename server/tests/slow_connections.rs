//! Slowloris and idle connections (issue 20): 200 connections that send
//! half an HTTP/1.1 request header and stop are closed within the header
//! read timeout; connections that send nothing, or go quiet after a request,
//! within the idle timeout (and not before it); and normal calls keep
//! answering throughout.
mod support;

use std::time::{Duration, Instant};

use demo_server::{accept::Timeouts, proto::greeter_client::GreeterClient, tiers::Limits};
use support::{requests::hello, two_tiers_with};
use tokio::{
    io::{AsyncReadExt, AsyncWriteExt},
    net::TcpStream,
    task::JoinSet,
};
use tonic_deadline::Http2Client;

const HEADER_READ: Duration = Duration::from_secs(1);
const IDLE: Duration = Duration::from_secs(3);
/// How late after its timeout a connection may close (a loaded machine).
const SLACK: Duration = Duration::from_millis(1500);

const SLOW: usize = 200;
const SILENT: usize = 20;
const QUIET: usize = 20;

/// Reads until the server closes the connection; when that was.
async fn closed(mut tcp: TcpStream) -> Instant {
    let mut buf = [0u8; 4096];
    loop {
        match tcp.read(&mut buf).await {
            Ok(0) | Err(_) => return Instant::now(),
            Ok(_) => {} // a response (or an error page) before the close
        }
    }
}

async fn connect(addr: std::net::SocketAddr, send: &[u8]) -> TcpStream {
    let mut tcp = TcpStream::connect(addr).await.unwrap();
    tcp.write_all(send).await.unwrap();
    tcp
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn slow_and_idle_connections_are_closed_while_calls_answer() {
    let server = two_tiers_with(Limits {
        connections: Timeouts {
            header_read: HEADER_READ,
            idle: IDLE,
            ..Timeouts::default()
        },
        ..Limits::default()
    })
    .await;
    let addr = server.frontend.unwrap();

    // Normal calls, one after another over one HTTP/2 connection.
    let origin = format!("http://{addr}").parse().unwrap();
    let client = GreeterClient::new(Http2Client::new(origin).unwrap());
    let (stop, stopped) = tokio::sync::oneshot::channel::<()>();
    let calls = tokio::spawn(async move {
        let (mut client, mut stopped, mut slowest, mut answered) =
            (client, stopped, Duration::ZERO, 0);
        loop {
            let started = Instant::now();
            let reply = tokio::select! {
                _ = &mut stopped => return (answered, slowest),
                reply = client.say_hello(hello(10)) => reply,
            };
            reply.expect("a normal call answers");
            slowest = slowest.max(started.elapsed());
            answered += 1;
        }
    });

    let start = Instant::now();
    let mut slow = JoinSet::new();
    let mut idle = JoinSet::new();
    let half_header = b"POST /demo.v1.Greeter/SayHello HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Ty";
    for _ in 0..SLOW {
        slow.spawn(closed(connect(addr, half_header).await));
    }
    for _ in 0..SILENT {
        idle.spawn(closed(connect(addr, b"").await));
    }
    let one_request = b"GET /metrics HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n";
    for _ in 0..QUIET {
        idle.spawn(closed(connect(addr, one_request).await));
    }
    let opened = start.elapsed();

    let bound = HEADER_READ + opened + SLACK;
    let slow_closed = tokio::time::timeout(bound, slow.join_all())
        .await
        .unwrap_or_else(|_| panic!("half-header connections still open after {bound:?}"));
    let latest = slow_closed.iter().max().unwrap().duration_since(start);
    assert!(
        latest < IDLE,
        "closed by the idle timeout, not the header's: {latest:?}"
    );

    let bound = IDLE + opened + SLACK;
    let idle_closed = tokio::time::timeout(bound, idle.join_all())
        .await
        .unwrap_or_else(|_| panic!("idle connections still open after {bound:?}"));
    let earliest = idle_closed.iter().min().unwrap().duration_since(start);
    // Not earlier: an HTTP/1.1 keep-alive connection waiting for its next
    // request is idle, not slow (a proxy reusing it must not race a close).
    assert!(
        earliest >= IDLE,
        "an idle connection closed after {earliest:?}"
    );
    let latest = idle_closed.iter().max().unwrap().duration_since(start);

    stop.send(()).unwrap();
    let (answered, slowest) = calls.await.unwrap();
    eprintln!(
        "{SLOW} half-header connections closed by {:?}; {} idle ones between {earliest:?} and \
         {latest:?}; {answered} normal calls meanwhile, the slowest {slowest:?}",
        slow_closed.iter().max().unwrap().duration_since(start),
        SILENT + QUIET,
    );
    assert!(answered > 10, "only {answered} calls answered");
    assert!(slowest < Duration::from_secs(1), "a call took {slowest:?}");
}
