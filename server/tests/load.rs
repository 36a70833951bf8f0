//! Load: 10 waves of 1,000 concurrent `Updates.Watch` streams through both
//! tiers, each opened (its first update received, so the backend has it) and
//! then reset. After each wave: in-flight back to 0 at both tiers within 1 s,
//! the live tokio tasks back to their baseline; resident memory after wave
//! 10 within 10% of wave 2. Prints the figures (`--nocapture`).
mod support;

use std::{
    net::SocketAddr,
    time::{Duration, Instant},
};

use bytes::Bytes;
use support::{
    check, cpu_bound_test, eventually,
    metrics::{Counts, Scrape},
    raw_call::{RawCall, Transport, frame},
    requests::{HELLO, WATCH, hello},
    two_tiers,
};

const WAVES: usize = 10;
const CONNECTIONS: usize = 10;
/// Under hyper's default of 200 concurrent streams per HTTP/2 connection.
const STREAMS_PER_CONNECTION: usize = 100;
const STREAMS: usize = CONNECTIONS * STREAMS_PER_CONNECTION;

/// A `Watch` whose first update comes at once and the next after 10 s:
/// the load is in holding the streams, not in sending updates.
fn request_body() -> Bytes {
    let watch = demo_server::proto::WatchRequest {
        topic: "load".into(),
        interval_ms: 10_000,
        limit: 0,
        after_seq: 0,
    };
    frame(&watch)
}

/// Opens `STREAMS_PER_CONNECTION` streams on one HTTP/2 connection and
/// returns once each has its first update; dropping the result resets them
/// all and closes the connection.
async fn open_streams(addr: SocketAddr) -> Vec<h2::RecvStream> {
    let tcp = tokio::net::TcpStream::connect(addr).await.unwrap();
    tcp.set_nodelay(true).unwrap();
    let (client, conn) = h2::client::handshake(tcp).await.unwrap();
    tokio::spawn(async move {
        let _ = conn.await;
    });
    let mut pending = Vec::new();
    for _ in 0..STREAMS_PER_CONNECTION {
        let mut client = client.clone().ready().await.unwrap();
        let req = http::Request::post(format!("http://{addr}{WATCH}"))
            .header("content-type", "application/grpc")
            .header("te", "trailers")
            .body(())
            .unwrap();
        let (response, mut send) = client.send_request(req, false).unwrap();
        send.send_data(request_body(), true).unwrap();
        pending.push(response);
    }
    let mut streams = Vec::new();
    for response in pending {
        let mut body = response.await.unwrap().into_body();
        let first = body.data().await.expect("a first update").unwrap();
        assert!(!first.is_empty());
        streams.push(body);
    }
    streams
}

unsafe extern "C" {
    /// glibc: hands the allocator's free pages back to the kernel.
    fn malloc_trim(pad: usize) -> i32;
}

/// Resident memory once the allocator has handed back what is free: memory
/// the process still holds live, which is what a leak would grow. (Without
/// the trim, glibc's heaps keep the high-water mark of the first waves: 41
/// MiB after wave 2, then 45-46 MiB from wave 4 on, flat to wave 20.)
fn resident_bytes() -> u64 {
    // SAFETY: takes no pointers; only returns free memory to the kernel.
    unsafe { malloc_trim(0) };
    let statm = std::fs::read_to_string("/proc/self/statm").unwrap();
    let pages: u64 = statm.split_whitespace().nth(1).unwrap().parse().unwrap();
    pages * 4096
}

fn in_flight(s: &Scrape, tier: &str) -> f64 {
    Counts::of(s, tier, "Watch").in_flight
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn ten_waves_of_a_thousand_streams() {
    let _cpu = cpu_bound_test().await;
    let server = two_tiers().await;
    let addr = server.frontend.unwrap();
    let runtime = tokio::runtime::Handle::current().metrics();
    // After one call, so that the frontend's connection to its backend is
    // up: on a busy machine (a fresh clone's first run, just built) it may
    // not be yet when the tiers start, and its task came after the baseline.
    let warm = RawCall::start(Transport::Native, addr, HELLO, &hello(0), &[])
        .await
        .finish()
        .await;
    assert_eq!(warm.code, tonic::Code::Ok, "{}", warm.message);
    // The tiers' accept loops and the frontend's upstream connection.
    let baseline = runtime.num_alive_tasks();
    let mut resident = Vec::new();
    let started = Instant::now();

    for wave in 1..=WAVES {
        let opened = Instant::now();
        let connections = (0..CONNECTIONS).map(|_| tokio::spawn(open_streams(addr)));
        let mut streams = Vec::new();
        for c in connections {
            streams.push(c.await.unwrap());
        }
        let opened = opened.elapsed();
        let s = Scrape::of(addr).await;
        for tier in ["frontend", "backend"] {
            assert_eq!(in_flight(&s, tier), STREAMS as f64, "wave {wave}, {tier}");
        }

        drop(streams); // resets every stream and closes the connections
        let reset = Instant::now();
        let drained = eventually(Duration::from_secs(1), "in flight back to 0", || async {
            let s = Scrape::of(addr).await;
            let seen = [in_flight(&s, "frontend"), in_flight(&s, "backend")];
            check(seen == [0.0, 0.0], seen)
        })
        .await;
        eventually(
            Duration::from_secs(1),
            "tasks back to the baseline",
            || async {
                let alive = runtime.num_alive_tasks();
                check(alive <= baseline, (alive, baseline))
            },
        )
        .await;
        resident.push(resident_bytes());
        println!(
            "wave {wave}: {STREAMS} streams open in {opened:?}; both tiers at 0 in flight {drained:?} \
             after the resets ({:?} to tasks at baseline {baseline}); resident {} MiB",
            reset.elapsed(),
            resident[wave - 1] / (1024 * 1024)
        );
    }

    let s = Scrape::of(addr).await;
    for tier in ["frontend", "backend"] {
        let c = Counts::of(&s, tier, "Watch");
        assert_eq!(c.started, (WAVES * STREAMS) as f64, "{tier}");
        assert_eq!(
            c.canceled,
            (WAVES * STREAMS) as f64,
            "{tier}: every stream Canceled"
        );
    }
    let (second, last) = (resident[1] as f64, resident[WAVES - 1] as f64);
    println!(
        "resident after wave 2 {:.1} MiB, after wave 10 {:.1} MiB ({:+.1}%); {:?} in all",
        second / 1048576.0,
        last / 1048576.0,
        (last / second - 1.0) * 100.0,
        started.elapsed()
    );
    assert!(last <= second * 1.10, "memory grew: {second} -> {last}");
}
