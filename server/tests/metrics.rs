//! The `/metrics` series as docs/tonic-server.md lists them: named after
//! go-grpc-prometheus, each with the labels `tier`, `grpc_service`,
//! `grpc_method` and `grpc_type` (from the descriptor set: `unary`,
//! `server_stream`), and `grpc_code` on the handled ones.
mod support;

use demo_server::proto::WatchRequest;
use support::{
    metrics::Scrape,
    raw_call::{RawCall, Transport},
    requests::{HELLO, WATCH, hello},
    two_tiers,
};
use tonic::Code;

#[tokio::test]
async fn every_series_has_the_documented_names_and_labels() {
    let server = two_tiers().await;
    let addr = server.frontend.unwrap();
    let unary = RawCall::start(Transport::Native, addr, HELLO, &hello(0), &[]).await;
    assert_eq!(unary.finish().await.code, Code::Ok);
    let watch = WatchRequest {
        topic: "t".into(),
        interval_ms: 1,
        limit: 2,
        after_seq: 0,
    };
    let stream = RawCall::start(Transport::Native, addr, WATCH, &watch, &[]).await;
    assert_eq!(stream.finish().await.code, Code::Ok);

    let s = Scrape::of(addr).await;
    for tier in ["frontend", "backend"] {
        for (service, method, kind) in [
            ("demo.v1.Greeter", "SayHello", "unary"),
            ("demo.v1.Updates", "Watch", "server_stream"),
        ] {
            let labels = [
                ("tier", tier),
                ("grpc_service", service),
                ("grpc_method", method),
                ("grpc_type", kind),
            ];
            let what = format!("{tier} {method}\n{}", s.text());
            assert_eq!(s.sum("grpc_server_started_total", &labels), 1.0, "{what}");
            assert_eq!(s.sum("grpc_server_in_flight", &labels), 0.0, "{what}");
            let mut handled = labels.to_vec();
            handled.push(("grpc_code", "OK"));
            assert_eq!(s.sum("grpc_server_handled_total", &handled), 1.0, "{what}");
        }
    }
    // The histogram is there once a call has been cancelled (cancellation.rs
    // reads its values); until then it has no sample.
    let cancels = s.absent_or_zero("grpc_server_cancel_to_stop_seconds_count", &[]);
    assert_eq!(cancels, 0.0, "{}", s.text());
}
