//! Faults of the upstream, as the frontend (in this process) survives them:
//! a backend process killed mid-stream (SIGKILL: its sockets simply close),
//! calls while it is down (they fail at once), the same backend restarted
//! on the same port, and a backend that accepts connections and never answers.
mod support;

use std::time::{Duration, Instant};

use demo_server::tiers::Running;
use support::{
    check, ends_unavailable_within_1s, eventually, frontend_counts_unavailable, frontend_of,
    metrics::{Counts, Scrape},
    process::{DemoServer, free_port},
    raw_call::{RawCall, Transport},
    requests::{HELLO, WATCH, endless_watch, hello},
};
use tonic::Code;

#[tokio::test]
async fn backend_killed_mid_stream_then_restarted() {
    let backend_addr = free_port().await;
    let backend = DemoServer::backend(backend_addr).await;
    let frontend = frontend_of(backend_addr).await;
    let addr = frontend.frontend.unwrap();
    let mut streams = Vec::new();
    for transport in [Transport::Native, Transport::Web, Transport::WebH2] {
        let mut call = RawCall::start(transport, addr, WATCH, &endless_watch(), &[]).await;
        assert!(call.next_message().await.is_some());
        streams.push(call);
    }

    let killed = Instant::now();
    drop(backend);
    for call in streams {
        ends_unavailable_within_1s(call).await;
    }
    assert!(killed.elapsed() < Duration::from_secs(1));
    frontend_counts_unavailable(addr, "Watch", 3.0).await;

    // While it is down, calls fail at once with UNAVAILABLE ...
    let down = RawCall::start(Transport::Native, addr, HELLO, &hello(0), &[]).await;
    let sent_at = down.sent_at;
    assert_eq!(down.finish().await.code, Code::Unavailable);
    assert!(sent_at.elapsed() < AT_ONCE, "{:?}", sent_at.elapsed());
    // ... and once it is back, they succeed, the frontend untouched.
    let _backend = DemoServer::backend(backend_addr).await;
    eventually(Duration::from_secs(2), "calls succeed again", || async {
        let call = RawCall::start(Transport::Native, addr, HELLO, &hello(0), &[]).await;
        let outcome = call.finish().await;
        check(outcome.code == Code::Ok, outcome)
    })
    .await;
}

/// How soon a call to a backend that is down fails (a loaded machine).
const AT_ONCE: Duration = Duration::from_millis(200);

/// A frontend whose backend is not there (nothing listens on its port):
/// every call fails at once with UNAVAILABLE, long before its deadline, and
/// is counted so.
#[tokio::test]
async fn calls_to_a_backend_that_is_down_fail_at_once() {
    let frontend = frontend_of(free_port().await).await;
    let addr = frontend.frontend.unwrap();
    for transport in [Transport::Native, Transport::Web, Transport::WebH2] {
        let call = RawCall::start(
            transport,
            addr,
            HELLO,
            &hello(0),
            &[("grpc-timeout", "10S")],
        )
        .await;
        let sent_at = call.sent_at;
        let ended = call.finish().await;
        let took = sent_at.elapsed();
        assert_eq!(ended.code, Code::Unavailable, "{transport:?}: {ended:?}");
        assert!(took < AT_ONCE, "{transport:?}: failed after {took:?}");
        eprintln!("{transport:?}: UNAVAILABLE after {took:?}");
    }
    frontend_counts_unavailable(addr, "SayHello", 3.0).await;
}

#[tokio::test]
async fn backend_that_never_answers_ends_calls_at_their_deadline() {
    // Accepts connections (the kernel does) and never reads or writes.
    let hanging = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let hanging_addr = hanging.local_addr().unwrap();
    let held = tokio::spawn(async move {
        let mut sockets = Vec::new();
        while let Ok((socket, _)) = hanging.accept().await {
            sockets.push(socket);
        }
    });
    let frontend = frontend_of(hanging_addr).await;
    let addr = frontend.frontend.unwrap();

    let deadline = [("grpc-timeout", "200m")];
    let calls = [
        (
            "SayHello",
            RawCall::start(Transport::Native, addr, HELLO, &hello(0), &deadline).await,
        ),
        (
            "Watch",
            RawCall::start(Transport::Native, addr, WATCH, &endless_watch(), &deadline).await,
        ),
    ];
    for (method, call) in calls {
        let started = call.sent_at;
        let ended = call.finish().await;
        let took = started.elapsed();
        assert_eq!(ended.code, Code::DeadlineExceeded, "{method}: {ended:?}");
        assert!(
            took >= Duration::from_millis(190) && took < Duration::from_millis(600),
            "{method}: {took:?}"
        );
    }
    eventually(
        Duration::from_millis(200),
        "the frontend counts the deadlines",
        || async {
            let s = Scrape::of(addr).await;
            let c = [
                Counts::of(&s, "frontend", "SayHello"),
                Counts::of(&s, "frontend", "Watch"),
            ];
            check(
                c.iter()
                    .all(|c| c.deadline_exceeded == 1.0 && c.in_flight == 0.0),
                c,
            )
        },
    )
    .await;
    held.abort();
}

/// A fake upstream on h2c that answers every call with `answer()`, its
/// health checks too if `health`; else it has no health service
/// (UNIMPLEMENTED), so the frontend takes it in for as long as it is
/// connected.
async fn fake_upstream(
    answer: fn() -> http::Response<Reply>,
    health: bool,
) -> (std::net::SocketAddr, tokio::task::JoinHandle<()>) {
    use hyper::{body::Incoming, server::conn::http2, service::service_fn};
    use hyper_util::rt::{TokioExecutor, TokioIo};

    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    let served = tokio::spawn(async move {
        while let Ok((socket, _)) = listener.accept().await {
            let page = service_fn(move |request: http::Request<Incoming>| async move {
                if !health && request.uri().path().starts_with("/grpc.health.v1.Health/") {
                    return http::Response::builder()
                        .header("content-type", "application/grpc")
                        .header("grpc-status", "12")
                        .body(reply(b""));
                }
                Ok::<_, http::Error>(answer())
            });
            tokio::spawn(
                http2::Builder::new(TokioExecutor::new())
                    .serve_connection(TokioIo::new(socket), page),
            );
        }
    });
    (addr, served)
}

/// What a fake upstream answers with.
type Reply = http_body_util::combinators::BoxBody<bytes::Bytes, std::convert::Infallible>;

/// A reply body of just `bytes`.
fn reply(bytes: &'static [u8]) -> Reply {
    use http_body_util::BodyExt;
    http_body_util::Full::new(bytes::Bytes::from_static(bytes)).boxed()
}

/// A frontend whose upstream is a fake answering with `answer()` (its
/// health checks too if `health`): `SayHello` and `Watch`, native and over
/// gRPC-Web, each end with `code`, the message holding each of `texts`.
/// The frontend is returned running, for checks of its own.
async fn callers_get(
    answer: fn() -> http::Response<Reply>,
    health: bool,
    code: Code,
    texts: &[&str],
) -> Running {
    let (upstream, served) = fake_upstream(answer, health).await;
    let frontend = frontend_of(upstream).await;
    let addr = frontend.frontend.unwrap();
    for transport in [Transport::Native, Transport::Web] {
        let calls = [
            (
                "SayHello",
                RawCall::start(transport, addr, HELLO, &hello(0), &[]).await,
            ),
            (
                "Watch",
                RawCall::start(transport, addr, WATCH, &endless_watch(), &[]).await,
            ),
        ];
        for (method, call) in calls {
            let ended = call.finish().await;
            assert_eq!(ended.code, code, "{transport:?} {method}: {ended:?}");
            for text in texts {
                assert!(
                    ended.message.contains(text),
                    "{transport:?} {method}: {ended:?}"
                );
            }
        }
    }
    served.abort();
    frontend
}

/// A proxy between the tiers whose backend is gone answers with an error
/// page (nginx: `502 Bad Gateway`, in HTML). The frontend's callers get
/// UNAVAILABLE naming it, as gRPC maps a 502, not the INTERNAL that
/// decoding the page as gRPC frames gives ("invalid compression flag: 60").
#[tokio::test]
async fn a_proxys_502_page_is_unavailable() {
    fn page() -> http::Response<Reply> {
        http::Response::builder()
            .status(502)
            .header("content-type", "text/html")
            .body(reply(
                b"<html><head><title>502 Bad Gateway</title></head></html>\r\n",
            ))
            .unwrap()
    }
    let text = "HTTP 502 Bad Gateway (text/html)";
    let frontend = callers_get(page, false, Code::Unavailable, &[text]).await;
    let addr = frontend.frontend.unwrap();
    frontend_counts_unavailable(addr, "SayHello", 2.0).await;
    frontend_counts_unavailable(addr, "Watch", 2.0).await;
}

/// An upstream whose gRPC reply does not decode (a length and body that
/// are no gRPC frame): the frontend's callers get its INTERNAL as a
/// status, not a reset stream, although tonic's status carries the
/// upstream's headers (its `content-length`) as metadata.
#[tokio::test]
async fn an_upstream_reply_that_does_not_decode_is_internal() {
    fn hello_in_five_bytes() -> http::Response<Reply> {
        http::Response::builder()
            .header("content-type", "application/grpc")
            .header("content-length", "5")
            .body(reply(b"hello"))
            .unwrap()
    }
    callers_get(hello_in_five_bytes, false, Code::Internal, &[]).await;
}

/// An upstream whose error's `grpc-status-details-bin` is not base64, in a
/// trailers-only answer and in the trailers after a body alike, to calls
/// and to the frontend's health checks: tonic's client panics reading it
/// (`Status::from_header_map`'s `expect`), which took the frontend's
/// handler down (or, built with `panic = "abort"` as the demo's release
/// build is, the whole frontend). Its callers get INTERNAL naming the
/// upstream's own status, and nothing in this process panics.
#[tokio::test]
async fn an_upstreams_malformed_status_details_are_internal() {
    static PANICS: std::sync::atomic::AtomicUsize = std::sync::atomic::AtomicUsize::new(0);
    let before = std::panic::take_hook();
    std::panic::set_hook(Box::new(move |info| {
        if info.to_string().contains("base64") {
            PANICS.fetch_add(1, std::sync::atomic::Ordering::SeqCst);
        }
        before(info);
    }));
    fn trailers_only() -> http::Response<Reply> {
        http::Response::builder()
            .header("content-type", "application/grpc")
            .header("grpc-status", "5")
            .header("grpc-message", "no%20such thing")
            .header("grpc-status-details-bin", "!!!")
            .body(reply(b""))
            .unwrap()
    }
    fn in_trailers() -> http::Response<Reply> {
        use http_body_util::BodyExt;
        let mut trailers = http::HeaderMap::new();
        trailers.insert("grpc-status", "5".parse().unwrap());
        trailers.insert("grpc-message", "no%20such thing".parse().unwrap());
        trailers.insert("grpc-status-details-bin", "!!!".parse().unwrap());
        http::Response::builder()
            .header("content-type", "application/grpc")
            .body(
                http_body_util::Empty::new()
                    .with_trailers(async move { Some(Ok(trailers)) })
                    .boxed(),
            )
            .unwrap()
    }
    let texts = [
        "grpc-status-details-bin is malformed",
        "NotFound: no such thing",
    ];
    for answer in [trailers_only as fn() -> _, in_trailers] {
        callers_get(answer, false, Code::Internal, &texts).await;
        // Its health checks answered so too: it is not taken in, and the
        // frontend goes on.
        callers_get(answer, true, Code::Unavailable, &[]).await;
    }
    assert_eq!(PANICS.load(std::sync::atomic::Ordering::SeqCst), 0);
}

/// An upstream reply that announces a 4 GiB message: the frontend refuses
/// it at its prefix, at its own message limit (`--max-message-bytes`,
/// 4 MiB), naming it, rather than set out to buffer it (tonic reserves a
/// message's announced length as it starts reading it).
#[tokio::test]
async fn an_upstream_reply_over_the_message_limit_is_refused_at_its_prefix() {
    fn four_gib() -> http::Response<Reply> {
        http::Response::builder()
            .header("content-type", "application/grpc")
            .body(reply(&[0, 0xff, 0xff, 0xff, 0xff]))
            .unwrap()
    }
    let text = "found 4294967295 bytes, the limit is: 4194304 bytes";
    callers_get(four_gib, false, Code::OutOfRange, &[text]).await;
}
