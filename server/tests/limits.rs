//! Limits that answer instead of queueing: a request message over
//! `max_message_bytes` (naming its size, before it is read), a call over the
//! per-tier or per-connection concurrency limit, both RESOURCE_EXHAUSTED
//! naming the limit at once and counted so; a call holds its place until
//! its work has stopped; and the default deadline of calls that carry none.
mod support;

use std::{net::SocketAddr, time::Duration};

use demo_server::{
    proto::{HelloRequest, greeter_client::GreeterClient},
    tiers::Limits,
};
use prost::Message;
use support::{
    check, eventually,
    metrics::{Counts, Scrape},
    raw_call::{RawCall, Transport},
    requests::{HELLO, WATCH, endless_watch},
    two_tiers_with,
};
use tonic::Code;
use tonic_deadline::Http2Client;

fn hello(name_len: usize, delay_ms: u32) -> HelloRequest {
    HelloRequest {
        name: "x".repeat(name_len),
        delay_ms,
    }
}

async fn in_flight_at_frontend(addr: SocketAddr, n: f64) {
    eventually(Duration::from_secs(5), "calls in flight", || async {
        let c = Counts::so_far(&Scrape::of(addr).await, "frontend", "SayHello");
        check(c.in_flight == n, c)
    })
    .await;
}

async fn message_over_the_limit(transport: Transport) {
    let server = two_tiers_with(Limits {
        max_message_bytes: 1024,
        ..Limits::default()
    })
    .await;
    let addr = server.frontend.unwrap();
    let ok = RawCall::start(transport, addr, HELLO, &hello(1000, 0), &[]).await;
    assert_eq!(ok.finish().await.code, Code::Ok);
    let big = RawCall::start(transport, addr, HELLO, &hello(2000, 0), &[]).await;
    let refused = big.finish().await;
    assert_eq!(refused.code, Code::ResourceExhausted, "{refused:?}");
    let size = hello(2000, 0).encoded_len();
    assert!(
        refused
            .message
            .contains(&format!("of {size} bytes is over the limit of 1024 bytes")),
        "{refused:?}"
    );

    let s = Scrape::of(addr).await;
    assert_eq!(
        s.handled("frontend", "SayHello", "ResourceExhausted"),
        1.0,
        "{}",
        s.text()
    );
    assert_eq!(
        Counts::of(&s, "backend", "SayHello").started,
        1.0,
        "only the small one"
    );
}

/// Above tonic's own default of 4 MiB, which the flag raises.
#[tokio::test]
async fn messages_up_to_a_limit_above_tonics_default() {
    let server = two_tiers_with(Limits {
        max_message_bytes: 8 << 20,
        ..Limits::default()
    })
    .await;
    let addr = server.frontend.unwrap();
    let call = RawCall::start(Transport::Native, addr, HELLO, &hello(5 << 20, 0), &[]).await;
    let outcome = call.finish().await;
    assert_eq!(outcome.code, Code::Ok, "{}", outcome.message);
}

over_transports!(
    message_over_the_limit:
    message_over_the_limit_native => Native,
    message_over_the_limit_grpc_web => Web,
);

/// The refusal comes from the message's 5-byte prefix alone: the client
/// announces 1 MiB, sends none of it and keeps its request open, and is
/// answered RESOURCE_EXHAUSTED naming that size at once.
#[tokio::test]
async fn message_over_the_limit_is_refused_before_it_is_read() {
    let server = two_tiers_with(Limits {
        max_message_bytes: 1024,
        ..Limits::default()
    })
    .await;
    let addr = server.frontend.unwrap();
    let tcp = tokio::net::TcpStream::connect(addr).await.unwrap();
    let (client, conn) = h2::client::handshake(tcp).await.unwrap();
    tokio::spawn(async move {
        let _ = conn.await;
    });
    let mut client = client.ready().await.unwrap();
    let req = http::Request::post(format!("http://{addr}{HELLO}"))
        .header("content-type", "application/grpc")
        .header("te", "trailers")
        .body(())
        .unwrap();
    let (response, mut body) = client.send_request(req, false).unwrap();
    let announced: u32 = 1 << 20;
    let mut prefix = vec![0u8];
    prefix.extend_from_slice(&announced.to_be_bytes());
    body.send_data(prefix.into(), false).unwrap(); // and nothing more
    let response = tokio::time::timeout(Duration::from_secs(1), response)
        .await
        .expect("answered without the message")
        .unwrap();
    let status = tonic::Status::from_header_map(response.headers()).expect("trailers-only");
    assert_eq!(status.code(), Code::ResourceExhausted, "{status:?}");
    assert!(
        status
            .message()
            .contains("request message of 1048576 bytes is over the limit of 1024 bytes"),
        "{status:?}"
    );
    let s = Scrape::of(addr).await;
    assert_eq!(s.handled("frontend", "SayHello", "ResourceExhausted"), 1.0);
    drop(body);
}

#[tokio::test]
async fn calls_over_the_tier_limit_are_refused_at_once() {
    let server = two_tiers_with(Limits {
        max_calls: Some(2),
        ..Limits::default()
    })
    .await;
    let addr = server.frontend.unwrap();
    let slow = [
        RawCall::start(Transport::Native, addr, HELLO, &hello(1, 10_000), &[]).await,
        RawCall::start(Transport::Native, addr, HELLO, &hello(1, 10_000), &[]).await,
    ];
    in_flight_at_frontend(addr, 2.0).await;
    let third = RawCall::start(Transport::Native, addr, HELLO, &hello(1, 0), &[]).await;
    let refused = tokio::time::timeout(Duration::from_secs(1), third.finish())
        .await
        .expect("answered at once, not queued");
    assert_eq!(refused.code, Code::ResourceExhausted, "{refused:?}");
    assert!(refused.message.contains("the limit is 2"), "{refused:?}");

    // The permits come back when the calls stop.
    slow.into_iter().for_each(RawCall::abandon);
    in_flight_at_frontend(addr, 0.0).await;
    let after = RawCall::start(Transport::Native, addr, HELLO, &hello(1, 0), &[]).await;
    assert_eq!(after.finish().await.code, Code::Ok);
    let s = Scrape::of(addr).await;
    assert_eq!(
        s.handled("frontend", "SayHello", "ResourceExhausted"),
        1.0,
        "{}",
        s.text()
    );
    assert_eq!(
        s.handled("frontend", "SayHello", "Canceled"),
        2.0,
        "{}",
        s.text()
    );
}

/// A call holds its place until its work has stopped, not until its answer
/// has begun: an open stream (its headers and an update out) keeps the
/// tier's only place, and gives it back once both tiers have stopped it.
#[tokio::test]
async fn a_stream_holds_its_place_until_its_work_has_stopped() {
    let server = two_tiers_with(Limits {
        max_calls: Some(1),
        ..Limits::default()
    })
    .await;
    let addr = server.frontend.unwrap();
    let mut stream = RawCall::start(Transport::Native, addr, WATCH, &endless_watch(), &[]).await;
    assert!(stream.next_message().await.is_some(), "an update");
    let refused = RawCall::start(Transport::Native, addr, HELLO, &hello(1, 0), &[])
        .await
        .finish()
        .await;
    assert_eq!(refused.code, Code::ResourceExhausted, "{refused:?}");

    stream.abandon();
    eventually(
        Duration::from_secs(1),
        "the stream stops at both tiers",
        || async {
            let s = Scrape::of(addr).await;
            let c = ["frontend", "backend"].map(|t| Counts::of(&s, t, "Watch"));
            check(c.iter().all(|c| c.canceled == 1.0 && c.in_flight == 0.0), c)
        },
    )
    .await;
    let after = RawCall::start(Transport::Native, addr, HELLO, &hello(1, 0), &[]).await;
    assert_eq!(after.finish().await.code, Code::Ok);
}

#[tokio::test]
async fn calls_over_the_connection_limit_are_refused_on_that_connection_only() {
    let server = two_tiers_with(Limits {
        max_calls_per_connection: Some(1),
        ..Limits::default()
    })
    .await;
    let addr = server.frontend.unwrap();
    // One HTTP/2 connection carries both calls.
    let origin = format!("http://{addr}").parse().unwrap();
    let client = GreeterClient::new(Http2Client::new(origin).unwrap());
    let mut first = client.clone();
    let slow = tokio::spawn(async move { first.say_hello(hello(1, 10_000)).await });
    in_flight_at_frontend(addr, 1.0).await;
    let refused = client.clone().say_hello(hello(1, 0)).await.unwrap_err();
    assert_eq!(refused.code(), Code::ResourceExhausted, "{refused:?}");
    assert!(
        refused
            .message()
            .contains("on this connection (the limit is 1)"),
        "{refused:?}"
    );
    // Another connection is not limited by this one.
    let other = RawCall::start(Transport::Native, addr, HELLO, &hello(1, 0), &[]).await;
    assert_eq!(other.finish().await.code, Code::Ok);

    // As the server counted it: the refusal ResourceExhausted at the
    // frontend, never at the backend (which has the other two calls).
    let s = Scrape::of(addr).await;
    let front = Counts::of(&s, "frontend", "SayHello");
    assert_eq!(
        s.handled("frontend", "SayHello", "ResourceExhausted"),
        1.0,
        "{}",
        s.text()
    );
    assert_eq!((front.started, front.ok, front.in_flight), (3.0, 1.0, 1.0));
    let back = Counts::of(&s, "backend", "SayHello");
    assert_eq!((back.started, back.ok, back.in_flight), (2.0, 1.0, 1.0));

    // The slow call given up: its place on the connection comes back.
    slow.abort();
    eventually(
        Duration::from_secs(1),
        "both tiers count the slow call Canceled",
        || async {
            let s = Scrape::of(addr).await;
            let c = ["frontend", "backend"].map(|t| Counts::of(&s, t, "SayHello"));
            check(c.iter().all(|c| c.canceled == 1.0 && c.in_flight == 0.0), c)
        },
    )
    .await;
    let again = client.clone().say_hello(hello(1, 0)).await;
    assert!(again.is_ok(), "{again:?}");
}

#[tokio::test]
async fn calls_without_a_deadline_get_the_default_one() {
    let server = two_tiers_with(Limits {
        default_timeout: Some(Duration::from_millis(100)),
        ..Limits::default()
    })
    .await;
    let addr = server.frontend.unwrap();
    let call = RawCall::start(Transport::Native, addr, HELLO, &hello(1, 10_000), &[]).await;
    let ended = tokio::time::timeout(Duration::from_secs(1), call.finish())
        .await
        .expect("ended near the default deadline");
    assert_eq!(ended.code, Code::DeadlineExceeded, "{ended:?}");
    eventually(
        Duration::from_millis(200),
        "both tiers count the deadline",
        || async {
            let s = Scrape::of(addr).await;
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
