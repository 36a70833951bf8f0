//! `/stops` (server/src/stop_log.rs): nothing is logged until it is read;
//! then each call's stop at each tier, on the wall clock, in order; a
//! cancelled call with its own cancel-to-stop.
mod support;

use std::{net::SocketAddr, time::Duration};

use support::{
    check, eventually, http_get,
    raw_call::{RawCall, Transport},
    requests::{HELLO, hello},
    start_and_reach_backend, two_tiers,
};
use tonic::Code;

async fn stops(addr: SocketAddr, after: u64) -> serde_json::Value {
    let (status, body) = http_get(addr, &format!("/stops?after={after}")).await;
    assert_eq!(status, 200, "{body}");
    serde_json::from_str(&body).unwrap()
}

#[tokio::test]
async fn each_tier_logs_each_call_once_read() {
    let server = two_tiers().await;
    let addr = server.frontend.unwrap();
    let unseen = RawCall::start(Transport::Native, addr, HELLO, &hello(0), &[]).await;
    assert_eq!(unseen.finish().await.code, Code::Ok);
    let first = stops(addr, 0).await;
    assert_eq!(
        first["last_seq"], 0,
        "logged before anyone read it: {first}"
    );

    let ok = RawCall::start(Transport::Web, addr, HELLO, &hello(0), &[]).await;
    assert_eq!(ok.finish().await.code, Code::Ok);
    let cancelled = start_and_reach_backend(
        Transport::Native,
        addr,
        HELLO,
        "SayHello",
        &hello(600_000),
        &[],
    )
    .await;
    let abandoned_at = demo_server::stop_log::now_us();
    cancelled.abandon();
    eventually(
        Duration::from_secs(5),
        "both calls stop at both tiers",
        || async {
            let seen = stops(addr, 0).await;
            check(seen["entries"].as_array().unwrap().len() == 4, seen)
        },
    )
    .await;
    let seen = stops(addr, 0).await;
    let entries = seen["entries"].as_array().unwrap();
    let now = seen["now_us"].as_u64().unwrap();
    for (i, e) in entries.iter().enumerate() {
        assert_eq!(e["seq"], i as u64 + 1, "{seen}");
        assert_eq!(e["method"], "demo.v1.Greeter/SayHello", "{seen}");
        let (start, stop) = (
            e["start_us"].as_u64().unwrap(),
            e["stop_us"].as_u64().unwrap(),
        );
        assert!(start <= stop && stop <= now, "{seen}");
    }
    let at = |tier: &str, code: Code| {
        entries
            .iter()
            .find(|e| e["tier"] == tier && e["code"] == code as i32)
            .unwrap_or_else(|| panic!("no {tier} {code:?} in {seen}"))
    };
    for tier in ["frontend", "backend"] {
        assert!(at(tier, Code::Ok)["cancel_to_stop_us"].is_null(), "{seen}");
        let c = at(tier, Code::Cancelled);
        assert!(c["stop_us"].as_u64().unwrap() >= abandoned_at, "{seen}");
        assert!(c["cancel_to_stop_us"].as_u64().is_some(), "{seen}");
    }
    // Only what came after `after`, and a bad query is refused.
    assert_eq!(stops(addr, 3).await["entries"].as_array().unwrap().len(), 1);
    let (status, body) = http_get(addr, "/stops?after=x").await;
    assert_eq!(status, 400, "{body}");
}
