//! A client that goes away mid-call (HTTP/2 RST_STREAM, or an HTTP/1.1
//! socket closed as a browser closes it on `fetch` abort): both tiers stop
//! the call's work and count it `Canceled`.
mod support;

use std::time::Duration;

use demo_server::proto::{ComputeRequest, HelloRequest, WatchRequest};
use prost::Message;
use support::{
    check, computation_stopped_within_10ms, cpu_bound_test, eventually,
    metrics::{Counts, Scrape},
    raw_call::{RawCall, Transport},
    start_and_reach_backend, two_tiers,
};

const TIERS: [&str; 2] = ["frontend", "backend"];

/// After the client left: both tiers' in-flight back to 0 within 100 ms,
/// each counting one `Canceled`.
async fn both_tiers_stop(addr: std::net::SocketAddr, method: &str) {
    eventually(
        Duration::from_millis(100),
        "both tiers stop and count Canceled",
        || async {
            let s = Scrape::of(addr).await;
            let counts = TIERS.map(|tier| Counts::of(&s, tier, method));
            check(
                counts.iter().all(|c| {
                    c.in_flight == 0.0 && c.canceled == 1.0 && c.ok == 0.0 && c.started == 1.0
                }),
                counts,
            )
        },
    )
    .await;
}

async fn cancelled_unary_call(transport: Transport) {
    let server = two_tiers().await;
    let addr = server.frontend.unwrap();
    let slow = HelloRequest {
        name: "slow".into(),
        delay_ms: 3000,
    };
    let call = start_and_reach_backend(
        transport,
        addr,
        "/demo.v1.Greeter/SayHello",
        "SayHello",
        &slow,
        &[],
    )
    .await;
    call.abandon();
    both_tiers_stop(addr, "SayHello").await;
}

over_transports!(
    cancelled_unary_call:
    cancelled_unary_call_native => Native,
    cancelled_unary_call_grpc_web_socket_closed => Web,
    cancelled_unary_call_grpc_web_h2_stream_reset => WebH2,
);

async fn cancelled_stream_after_three_updates(transport: Transport) {
    let server = two_tiers().await;
    let addr = server.frontend.unwrap();
    let watch = WatchRequest {
        topic: "t".into(),
        interval_ms: 20,
        limit: 0,
        after_seq: 0,
    };
    let mut call = RawCall::start(transport, addr, "/demo.v1.Updates/Watch", &watch, &[]).await;
    for seq in 1..=3u64 {
        let bytes = call.next_message().await.expect("an update");
        let update = demo_server::proto::Update::decode(bytes).unwrap();
        assert_eq!(update.seq, seq);
    }
    call.abandon();
    both_tiers_stop(addr, "Watch").await;
}

over_transports!(
    cancelled_stream_after_three_updates:
    cancelled_stream_after_three_updates_native => Native,
    cancelled_stream_after_three_updates_grpc_web_socket_closed => Web,
    cancelled_stream_after_three_updates_grpc_web_h2_stream_reset => WebH2,
);

async fn cancelled_computation(transport: Transport) {
    let _cpu = cpu_bound_test().await;
    let server = two_tiers().await;
    let addr = server.frontend.unwrap();
    let huge = ComputeRequest {
        n: demo_server::services::work::MAX_N,
    };
    let call = start_and_reach_backend(
        transport,
        addr,
        "/demo.v1.Work/Compute",
        "Compute",
        &huge,
        &[],
    )
    .await;
    call.abandon();
    both_tiers_stop(addr, "Compute").await;
    computation_stopped_within_10ms(addr).await;
}

over_transports!(
    cancelled_computation:
    cancelled_computation_native => Native,
    cancelled_computation_grpc_web_socket_closed => Web,
);
