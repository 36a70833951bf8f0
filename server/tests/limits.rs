//! Limits that answer instead of queueing: a request message over
//! `max_message_bytes`, a call over the per-tier or per-connection
//! concurrency limit, both RESOURCE_EXHAUSTED naming the limit at once; and
//! the default deadline of calls that carry none.
mod support;

use std::{net::SocketAddr, time::Duration};

use demo_server::{
    proto::{HelloRequest, greeter_client::GreeterClient},
    tiers::Limits,
};
use support::{
    check, eventually,
    metrics::{Counts, Scrape},
    raw_call::{RawCall, Transport},
    requests::HELLO,
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
    assert!(
        refused.message.contains("limit of 1024 bytes"),
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
    slow.abort();
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
