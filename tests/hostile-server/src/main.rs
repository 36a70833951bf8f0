//! `hostile-server ADDR DIR`: a gRPC-Web server that answers every call with
//! the bytes its `x-case` request header names (see [`script`]), and serves
//! the files of DIR (the test's package) to anything else. `GET /stats`
//! tells, per case, how many requests arrived and how many replies lost
//! their client before they ended (the fetch was aborted), one
//! `case requests disconnects` line each.
//!
//! CORS, for the cross-origin cases: another origin may call, but no
//! response header is exposed to it (so a trailers-only status is hidden
//! from the page); under `/refuse/` no origin may call (the fetch fails).
use std::{
    collections::{BTreeMap, VecDeque},
    convert::Infallible,
    io,
    sync::Mutex,
    time::Duration,
};

use bytes::Bytes;
use futures_util::stream;
use http::{HeaderValue, Method, Request, Response, header};
use http_body_util::{BodyExt, Empty, Full, StreamBody, combinators::UnsyncBoxBody};
use hyper::body::{Frame, Incoming};
use hyper_util::{
    rt::{TokioExecutor, TokioIo},
    server::conn::auto::Builder,
    service::TowerToHyperService,
};
use tower::{ServiceExt, service_fn};
use tower_http::services::ServeDir;

type Body = UnsyncBoxBody<Bytes, io::Error>;

/// Per case: requests that arrived, replies whose client went away.
static STATS: Mutex<BTreeMap<String, [u32; 2]>> = Mutex::new(BTreeMap::new());

/// `Pong { text: "ok", n: 7 }`.
const PONG: &[u8] = &[0x0a, 2, b'o', b'k', 0x10, 7];
/// The same with an unknown group (field 50, holding a varint and an empty
/// group 2) between its fields.
const PONG_WITH_GROUP: &[u8] = &[
    0x0a, 2, b'o', b'k', 0x93, 0x03, 0x08, 5, 0x13, 0x14, 0x94, 0x03, 0x10, 7,
];
/// A group 50 that ends as group 51.
const BAD_GROUP: &[u8] = &[0x0a, 2, b'o', b'k', 0x93, 0x03, 0x9c, 0x03];
/// The limit the client applies by default (4 MiB) and a frame over it.
const OVER_LIMIT: u32 = 5 << 20;

#[tokio::main]
async fn main() {
    let mut args = std::env::args().skip(1);
    let addr = args.next().unwrap_or_else(|| "127.0.0.1:27097".into());
    let files = ServeDir::new(args.next().unwrap_or_else(|| ".".into()));
    let listener = tokio::net::TcpListener::bind(&addr)
        .await
        .unwrap_or_else(|e| panic!("cannot listen on {addr}: {e}"));
    eprintln!("hostile-server: listening on http://{addr}");
    loop {
        let Ok((socket, _)) = listener.accept().await else {
            continue;
        };
        let files = files.clone();
        let service = service_fn(move |request| handle(request, files.clone()));
        tokio::spawn(async move {
            let _ = Builder::new(TokioExecutor::new())
                .serve_connection(TokioIo::new(socket), TowerToHyperService::new(service))
                .await;
        });
    }
}

async fn handle(request: Request<Incoming>, files: ServeDir) -> Result<Response<Body>, Infallible> {
    let origin = request.headers().get(header::ORIGIN).cloned();
    let allowed = origin.filter(|_| !request.uri().path().starts_with("/refuse/"));
    if request.method() == Method::OPTIONS {
        let mut response = Response::new(empty());
        if let Some(origin) = allowed {
            let headers = response.headers_mut();
            headers.insert(header::ACCESS_CONTROL_ALLOW_ORIGIN, origin);
            headers.insert(
                header::ACCESS_CONTROL_ALLOW_METHODS,
                HeaderValue::from_static("POST"),
            );
            if let Some(asked) = request
                .headers()
                .get(header::ACCESS_CONTROL_REQUEST_HEADERS)
            {
                headers.insert(header::ACCESS_CONTROL_ALLOW_HEADERS, asked.clone());
            }
        }
        return Ok(response);
    }
    let grpc_web = request
        .headers()
        .get(header::CONTENT_TYPE)
        .is_some_and(|v| v.as_bytes().starts_with(b"application/grpc-web"));
    let mut response = if request.uri().path() == "/stats" {
        Response::new(
            Full::new(Bytes::from(stats()))
                .map_err(io::Error::other)
                .boxed_unsync(),
        )
    } else if grpc_web {
        call(request).await
    } else {
        match files.oneshot(request).await {
            Ok(response) => response.map(|b| b.map_err(io::Error::other).boxed_unsync()),
            Err(never) => match never {},
        }
    };
    if let Some(origin) = allowed {
        // Allowed, and nothing exposed: grpc-status stays hidden.
        response
            .headers_mut()
            .insert(header::ACCESS_CONTROL_ALLOW_ORIGIN, origin);
    }
    Ok(response)
}

fn stats() -> String {
    let stats = STATS.lock().unwrap();
    stats
        .iter()
        .map(|(case, [requests, gone])| format!("{case} {requests} {gone}\n"))
        .collect()
}

fn count(case: &str, which: usize) {
    STATS.lock().unwrap().entry(case.to_string()).or_default()[which] += 1;
}

async fn call(request: Request<Incoming>) -> Response<Body> {
    let case = request
        .headers()
        .get("x-case")
        .and_then(|v| v.to_str().ok())
        .unwrap_or("ok")
        .to_string();
    count(&case, 0);
    // The whole (small) request first, as a real server reads it.
    let _ = request.into_body().collect().await;
    let (status, steps) = script(&case);
    let mut response = Response::new(body(Reply {
        steps: steps.into(),
        case,
        ended: false,
    }));
    let headers = response.headers_mut();
    headers.insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static("application/grpc-web+proto"),
    );
    if let Some((code, message)) = status {
        headers.insert("grpc-status", HeaderValue::from_static(code));
        headers.insert("grpc-message", HeaderValue::from_static(message));
    }
    response
}

enum Step {
    Send(Vec<u8>),
    Wait(Duration),
    /// `left` zero bytes, `chunk` at a time, one chunk per `every`.
    Trickle {
        left: usize,
        chunk: usize,
        every: Duration,
    },
    /// Nothing more, ever (until the client goes away).
    Stall,
    /// The connection breaks.
    Reset,
}

/// What a case answers: a trailers-only status (in the headers), or the
/// body's steps.
fn script(case: &str) -> (Option<(&'static str, &'static str)>, Vec<Step>) {
    use Step::*;
    let ok_trailers = || Send(frame(0x80, b"grpc-status:0\r\n"));
    let steps = match case {
        "ok" => vec![Send(frame(0, PONG)), ok_trailers()],
        "max-length" => vec![Send(vec![0, 0xff, 0xff, 0xff, 0xff])],
        "over-limit" => vec![
            Send(header(0, OVER_LIMIT)),
            Trickle {
                left: OVER_LIMIT as usize,
                chunk: 64 << 10,
                every: Duration::from_millis(20),
            },
        ],
        "stall" => vec![Send(header(0, 100)), Send(vec![0; 10]), Stall],
        "group" => vec![Send(frame(0, PONG_WITH_GROUP)), ok_trailers()],
        "bad-group" => vec![Send(frame(0, BAD_GROUP)), ok_trailers()],
        "truncated" => vec![Send(header(0, 10)), Send(vec![0x0a, 2, b'o'])],
        "bad-trailers" => vec![
            Send(frame(0, PONG)),
            Send(frame(0x80, b"\xff\xfe:\x00\r\n")),
        ],
        "odd-status" => vec![Send(frame(
            0x80,
            b"grpc-status: 99\r\ngrpc-message: %zz%E2%9C%93\r\n",
        ))],
        "bad-details" => vec![Send(frame(
            0x80,
            b"grpc-status: 5\r\ngrpc-message: gone\r\ngrpc-status-details-bin: !!!\r\n",
        ))],
        "after-trailers" => vec![Send(frame(0, PONG)), ok_trailers(), Send(frame(0, PONG))],
        "two-trailers" => vec![
            Send(frame(0, PONG)),
            ok_trailers(),
            Send(frame(0x80, b"grpc-status:13\r\ngrpc-message:late\r\n")),
        ],
        "two-messages" => vec![Send(frame(0, PONG)), Send(frame(0, PONG)), ok_trailers()],
        "trailers-then-stall" => vec![Send(frame(0, PONG)), ok_trailers(), Stall],
        "dup-status" => vec![
            Send(frame(0, PONG)),
            Send(frame(0x80, b"grpc-status:0\r\ngrpc-status:13\r\n")),
        ],
        "unknown-flags" => vec![Send(frame(0x02, PONG))],
        "compressed" => vec![Send(frame(0x01, PONG))],
        "no-status" => vec![],
        "trailers-only" => return (Some(("5", "gone")), vec![]),
        "reset" => vec![
            Send(header(0, 100)),
            Send(vec![0; 10]),
            Wait(Duration::from_millis(50)),
            Reset,
        ],
        "stream-then-max-length" => vec![
            Send(frame(0, PONG)),
            Wait(Duration::from_millis(50)),
            Send(vec![0, 0xff, 0xff, 0xff, 0xff]),
        ],
        // Anything else (e.g. a request that must never arrive) is answered OK.
        _ => vec![Send(frame(0, PONG)), ok_trailers()],
    };
    (None, steps)
}

fn header(flags: u8, len: u32) -> Vec<u8> {
    let mut out = vec![flags];
    out.extend_from_slice(&len.to_be_bytes());
    out
}

fn frame(flags: u8, payload: &[u8]) -> Vec<u8> {
    let mut out = header(flags, payload.len() as u32);
    out.extend_from_slice(payload);
    out
}

fn empty() -> Body {
    Empty::new().map_err(|never| match never {}).boxed_unsync()
}

/// A reply being sent; dropped before its end means the client went away.
struct Reply {
    steps: VecDeque<Step>,
    case: String,
    ended: bool,
}

impl Reply {
    fn end(&mut self) {
        self.ended = true;
    }
}

impl Drop for Reply {
    fn drop(&mut self) {
        if !self.ended {
            count(&self.case, 1);
        }
    }
}

fn body(reply: Reply) -> Body {
    let chunks = stream::unfold(reply, |mut reply| async move {
        loop {
            let chunk = match reply.steps.pop_front() {
                None => {
                    reply.end();
                    return None;
                }
                Some(Step::Send(bytes)) => bytes,
                Some(Step::Wait(time)) => {
                    tokio::time::sleep(time).await;
                    continue;
                }
                Some(Step::Trickle { left, chunk, every }) => {
                    tokio::time::sleep(every).await;
                    let n = left.min(chunk);
                    if left > n {
                        reply.steps.push_front(Step::Trickle {
                            left: left - n,
                            chunk,
                            every,
                        });
                    }
                    vec![0; n]
                }
                Some(Step::Stall) => std::future::pending().await,
                Some(Step::Reset) => {
                    reply.end();
                    return Some((Err(io::Error::other("reset on purpose")), reply));
                }
            };
            return Some((Ok(Frame::data(Bytes::from(chunk))), reply));
        }
    });
    StreamBody::new(chunks).boxed_unsync()
}
