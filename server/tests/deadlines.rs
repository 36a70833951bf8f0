//! `grpc-timeout`: enforced at both tiers with DEADLINE_EXCEEDED (trailers-only
//! before the first message, trailers after), refused when malformed, and
//! passed upstream no later than the caller's.
mod support;

use std::time::Duration;

use demo_server::proto::{ComputeRequest, HelloRequest, WatchRequest};
use support::{
    check, computation_stopped_within_10ms, cpu_bound_test, eventually,
    metrics::{Counts, Scrape},
    raw_call::{RawCall, Transport},
    start_and_reach_backend, two_tiers,
};
use tonic::Code;

const SAY_HELLO: &str = "/demo.v1.Greeter/SayHello";
const WATCH: &str = "/demo.v1.Updates/Watch";

async fn deadline_ends_a_slow_call_at_both_tiers(transport: Transport) {
    let server = two_tiers().await;
    let addr = server.frontend.unwrap();
    let slow = HelloRequest {
        name: "slow".into(),
        delay_ms: 3000,
    };
    let call = RawCall::start(
        transport,
        addr,
        SAY_HELLO,
        &slow,
        &[("grpc-timeout", "200m")],
    )
    .await;
    // From when the request left (the connection was up), as the server's
    // clock starts when it arrives.
    let sent_at = call.sent_at;
    let outcome = call.finish().await;
    let took = sent_at.elapsed();
    assert_eq!(outcome.code, Code::DeadlineExceeded, "{outcome:?}");
    // The backend's deadline falls a transit allowance (5 ms) before the
    // frontend's, so its answer may arrive a little before 200 ms.
    assert!(
        took >= Duration::from_millis(190),
        "ended after {took:?}, before the deadline"
    );
    assert!(
        took <= Duration::from_millis(250),
        "ended after {took:?}, over 50 ms past the deadline"
    );
    eventually(
        Duration::from_millis(100),
        "both tiers count DeadlineExceeded and stop",
        || async {
            let s = Scrape::of(addr).await;
            let counts = ["frontend", "backend"].map(|tier| Counts::of(&s, tier, "SayHello"));
            check(
                counts.iter().all(|c| {
                    c.started == 1.0
                        && c.deadline_exceeded == 1.0
                        && c.in_flight == 0.0
                        && c.canceled == 0.0
                }),
                counts,
            )
        },
    )
    .await;
}

over_transports!(
    deadline_ends_a_slow_call_at_both_tiers:
    deadline_ends_a_slow_call_at_both_tiers_native => Native,
    deadline_ends_a_slow_call_at_both_tiers_grpc_web => Web,
    deadline_ends_a_slow_call_at_both_tiers_grpc_web_h2 => WebH2,
);

async fn deadline_stops_blocking_work_and_streams(transport: Transport) {
    let _cpu = cpu_bound_test().await;
    let server = two_tiers().await;
    let addr = server.frontend.unwrap();
    let compute = ComputeRequest {
        n: 1_000_000_000_000,
    };
    let outcome = RawCall::start(
        transport,
        addr,
        "/demo.v1.Work/Compute",
        &compute,
        &[("grpc-timeout", "200m")],
    )
    .await
    .finish()
    .await;
    assert_eq!(outcome.code, Code::DeadlineExceeded, "{outcome:?}");

    // The deadline covers the whole stream: some updates, then the end.
    let watch = WatchRequest {
        topic: "t".into(),
        interval_ms: 20,
        limit: 0,
        after_seq: 0,
    };
    let outcome = RawCall::start(
        transport,
        addr,
        "/demo.v1.Updates/Watch",
        &watch,
        &[("grpc-timeout", "200m")],
    )
    .await
    .finish()
    .await;
    assert_eq!(outcome.code, Code::DeadlineExceeded, "{outcome:?}");
    assert!(
        outcome.messages.len() >= 3,
        "only {} updates before the deadline",
        outcome.messages.len()
    );

    eventually(
        Duration::from_millis(100),
        "both tiers count DeadlineExceeded and stop",
        || async {
            let s = Scrape::of(addr).await;
            let counts = ["frontend", "backend"]
                .map(|tier| ["Compute", "Watch"].map(|m| (tier, m, Counts::of(&s, tier, m))));
            check(
                counts
                    .iter()
                    .flatten()
                    .all(|(_, _, c)| c.deadline_exceeded == 1.0 && c.in_flight == 0.0),
                counts,
            )
        },
    )
    .await;
    // The backend cancelled its own work at its deadline, and the blocking
    // computation noticed within 10 ms.
    computation_stopped_within_10ms(addr).await;
}

over_transports!(
    deadline_stops_blocking_work_and_streams:
    deadline_stops_blocking_work_and_streams_native => Native,
    deadline_stops_blocking_work_and_streams_grpc_web => Web,
);

async fn malformed_timeouts_are_refused_before_the_handler(transport: Transport) {
    let server = two_tiers().await;
    let addr = server.frontend.unwrap();
    let hello = HelloRequest {
        name: "x".into(),
        delay_ms: 0,
    };
    for bad in ["abc", "12x4", "123456789m", ""] {
        let outcome = RawCall::start(transport, addr, SAY_HELLO, &hello, &[("grpc-timeout", bad)])
            .await
            .finish()
            .await;
        assert_eq!(outcome.code, Code::InvalidArgument, "{bad:?}: {outcome:?}");
        assert!(
            outcome.message.contains("grpc-timeout"),
            "{bad:?}: message {:?} names no header",
            outcome.message
        );
        assert!(
            outcome.message.contains(&format!("{bad:?}")),
            "{bad:?}: message {:?} names no value",
            outcome.message
        );
    }
    // Nothing counted: no call series at all yet.
    let s = Scrape::of(addr).await;
    let started = s.absent_or_zero("grpc_server_started_total", &[]);
    assert_eq!(started, 0.0, "{}", s.text());
    // A well-formed one still works on the same server, and is the only
    // call counted (once per tier).
    let outcome = RawCall::start(
        transport,
        addr,
        SAY_HELLO,
        &hello,
        &[("grpc-timeout", "5S")],
    )
    .await
    .finish()
    .await;
    assert_eq!(outcome.code, Code::Ok, "{outcome:?}");
    let s = Scrape::of(addr).await;
    assert_eq!(s.sum("grpc_server_started_total", &[]), 2.0, "{}", s.text());
}

over_transports!(
    malformed_timeouts_are_refused_before_the_handler:
    malformed_timeouts_are_refused_before_the_handler_native => Native,
    malformed_timeouts_are_refused_before_the_handler_grpc_web => Web,
);

/// A client whose own timer fires at its deadline leaves a moment before the
/// server's (its request took time to arrive): that is the deadline, at both
/// tiers. A client that leaves well before the deadline cancelled. Each call
/// leaves once the backend has it: the first at its deadline's time less
/// 5 ms, counted from when it was sent; the second at once, which must be at
/// least twice the 50 ms tolerance before its deadline.
async fn client_timer_abort_counts_as_the_deadline(transport: Transport) {
    let server = two_tiers().await;
    let addr = server.frontend.unwrap();
    let slow = HelloRequest {
        name: "slow".into(),
        delay_ms: 3000,
    };
    let timer = Duration::from_millis(195);
    let well_before = Duration::from_millis(100);
    for (leave_after, code) in [(timer, "DeadlineExceeded"), (Duration::ZERO, "Canceled")] {
        let call = start_and_reach_backend(
            transport,
            addr,
            SAY_HELLO,
            "SayHello",
            &slow,
            &[("grpc-timeout", "200m")],
        )
        .await;
        let reached = call.sent_at.elapsed();
        let latest = if leave_after.is_zero() {
            well_before
        } else {
            leave_after
        };
        assert!(
            reached < latest,
            "the backend had the call only {reached:?} after it was sent, later than {latest:?}"
        );
        tokio::time::sleep_until((call.sent_at + leave_after).into()).await;
        call.abandon();
        eventually(
            Duration::from_millis(100),
            &format!("leaving after {leave_after:?} counts {code}"),
            || async {
                let s = Scrape::of(addr).await;
                let counts = ["frontend", "backend"].map(|tier| Counts::of(&s, tier, "SayHello"));
                let n = |c: &Counts| {
                    if code == "Canceled" {
                        c.canceled
                    } else {
                        c.deadline_exceeded
                    }
                };
                check(
                    counts.iter().all(|c| n(c) == 1.0 && c.in_flight == 0.0),
                    counts,
                )
            },
        )
        .await;
    }
}

over_transports!(
    client_timer_abort_counts_as_the_deadline:
    client_timer_abort_counts_as_the_deadline_native => Native,
    client_timer_abort_counts_as_the_deadline_grpc_web => Web,
);

/// DEADLINE_EXCEEDED comes as a trailers-only response (the status in the
/// headers, no body) when no message has gone out, and in the trailers
/// after the messages when some have.
async fn deadline_exceeded_trailers_only_before_the_first_message_trailers_after(
    transport: Transport,
) {
    let server = two_tiers().await;
    let addr = server.frontend.unwrap();
    let slow = HelloRequest {
        name: "slow".into(),
        delay_ms: 3000,
    };
    let before = RawCall::start(
        transport,
        addr,
        SAY_HELLO,
        &slow,
        &[("grpc-timeout", "100m")],
    )
    .await
    .finish()
    .await;
    assert_eq!(before.code, Code::DeadlineExceeded, "{before:?}");
    assert!(before.messages.is_empty(), "{before:?}");
    assert!(!before.in_trailers, "not trailers-only: {before:?}");

    let watch = WatchRequest {
        topic: "t".into(),
        interval_ms: 20,
        limit: 0,
        after_seq: 0,
    };
    let mut call =
        RawCall::start(transport, addr, WATCH, &watch, &[("grpc-timeout", "500m")]).await;
    assert!(call.next_message().await.is_some(), "an update");
    let after = call.finish().await;
    assert_eq!(after.code, Code::DeadlineExceeded, "{after:?}");
    assert!(after.in_trailers, "not in trailers: {after:?}");
}

over_transports!(
    deadline_exceeded_trailers_only_before_the_first_message_trailers_after:
    deadline_exceeded_trailers_only_before_the_first_message_trailers_after_native => Native,
    deadline_exceeded_trailers_only_before_the_first_message_trailers_after_grpc_web_h2 => WebH2,
);
