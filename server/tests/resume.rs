//! `Updates.Watch` resumes (issue 15): `after_seq` makes the stream go on
//! after the last update the client saw, through both tiers; nothing comes
//! after the largest sequence number.
mod support;

use demo_server::proto::{Update, WatchRequest};
use prost::Message;
use support::{
    raw_call::{RawCall, Transport},
    two_tiers,
};

fn watch(after_seq: u64, limit: u32) -> WatchRequest {
    WatchRequest {
        topic: "resume".into(),
        interval_ms: 10,
        limit,
        after_seq,
    }
}

#[tokio::test]
async fn a_resumed_stream_goes_on_after_the_last_update_seen() {
    let server = two_tiers().await;
    let addr = server.frontend.unwrap();
    for (after, expected) in [(0, [1, 2, 3]), (41, [42, 43, 44])] {
        let call = RawCall::start(
            Transport::Web,
            addr,
            "/demo.v1.Updates/Watch",
            &watch(after, 3),
            &[],
        )
        .await;
        let outcome = call.finish().await;
        assert_eq!(outcome.code, tonic::Code::Ok, "{}", outcome.message);
        let seqs: Vec<u64> = outcome
            .messages
            .iter()
            .map(|m| Update::decode(m.clone()).unwrap().seq)
            .collect();
        assert_eq!(seqs, expected, "after_seq {after}");
    }
}

#[tokio::test]
async fn nothing_comes_after_the_largest_sequence_number() {
    let server = two_tiers().await;
    let addr = server.frontend.unwrap();
    let call = RawCall::start(
        Transport::Web,
        addr,
        "/demo.v1.Updates/Watch",
        &watch(u64::MAX, 1),
        &[],
    )
    .await;
    let outcome = call.finish().await;
    assert_eq!(outcome.code, tonic::Code::OutOfRange);
    assert!(outcome.message.contains("after_seq"), "{}", outcome.message);
}
