//! gRPC calls written from the spec, over hyper's bare connections: native
//! gRPC on HTTP/2 (h2c) and gRPC-Web on HTTP/1.1, as a browser's fetch speaks
//! it. Neither gives up by itself at the deadline, so what ends a call is the
//! server; and a call can be abandoned the way real clients abandon one.
use std::net::SocketAddr;

use bytes::{Buf, Bytes, BytesMut};
use futures_util::future::BoxFuture;
use http_body_util::{BodyExt, Full};
use hyper::body::Incoming;
use hyper_util::rt::{TokioExecutor, TokioIo};
use prost::Message;
use tokio::task::JoinHandle;
use tonic::Code;

use super::frames;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Transport {
    /// Native gRPC over HTTP/2 with prior knowledge.
    Native,
    /// gRPC-Web (binary) over HTTP/1.1.
    Web,
    /// gRPC-Web (binary) over HTTP/2, as a browser speaks it to an h2 server.
    WebH2,
}

/// One call on a connection of its own.
pub struct RawCall {
    transport: Transport,
    conn: Option<JoinHandle<()>>,
    response: Option<BoxFuture<'static, hyper::Result<http::Response<Incoming>>>>,
    body: Option<Incoming>,
    headers: http::HeaderMap,
    trailers: Option<http::HeaderMap>,
    buf: BytesMut,
    /// When the request left, once the connection was up.
    pub sent_at: std::time::Instant,
    /// Over HTTP/2: the types of the frames the server sent.
    pub frames: Option<frames::Frames>,
}

/// How a call ended.
#[derive(Debug)]
pub struct Outcome {
    pub code: Code,
    pub message: String,
    pub messages: Vec<Bytes>,
    /// The status came in trailers after a response (not trailers-only).
    pub in_trailers: bool,
    /// The response's headers.
    pub headers: http::HeaderMap,
}

/// `message` as one gRPC message frame: not compressed, its length, its bytes.
pub fn frame(message: &impl Message) -> Bytes {
    let payload = message.encode_to_vec();
    let mut frame = BytesMut::with_capacity(5 + payload.len());
    frame.extend_from_slice(&[0]);
    frame.extend_from_slice(&(payload.len() as u32).to_be_bytes());
    frame.extend_from_slice(&payload);
    frame.freeze()
}

impl RawCall {
    /// Sends `message` to `path` with extra `headers`; the response is read
    /// lazily, so the call can be abandoned before it answers.
    pub async fn start(
        transport: Transport,
        addr: SocketAddr,
        path: &str,
        message: &impl Message,
        headers: &[(&str, &str)],
    ) -> RawCall {
        let tcp = tokio::net::TcpStream::connect(addr).await.unwrap();
        tcp.set_nodelay(true).unwrap(); // as browsers and gRPC clients do
        let io = TokioIo::new(tcp);
        let mut req = http::Request::post(format!("http://{addr}{path}"));
        req = match transport {
            Transport::Native => req
                .header("content-type", "application/grpc")
                .header("te", "trailers"),
            Transport::Web => req
                .header("host", addr.to_string())
                .header("content-type", "application/grpc-web+proto")
                .header("x-grpc-web", "1"),
            Transport::WebH2 => req
                .header("content-type", "application/grpc-web+proto")
                .header("x-grpc-web", "1"),
        };
        for (k, v) in headers {
            req = req.header(*k, *v);
        }
        let req = req.body(Full::new(frame(message))).unwrap();
        let sent_at;
        let mut frames = None;
        let (conn, response): (JoinHandle<()>, BoxFuture<'static, _>) = match transport {
            Transport::Native | Transport::WebH2 => {
                let (io, seen) = frames::Logged::new(io.into_inner());
                frames = Some(seen);
                let (mut send, conn) =
                    hyper::client::conn::http2::handshake(TokioExecutor::new(), TokioIo::new(io))
                        .await
                        .unwrap();
                let conn = tokio::spawn(async move {
                    let _ = conn.await;
                });
                sent_at = std::time::Instant::now();
                (conn, Box::pin(send.send_request(req)))
            }
            Transport::Web => {
                let (mut send, conn) = hyper::client::conn::http1::handshake(io).await.unwrap();
                let conn = tokio::spawn(async move {
                    let _ = conn.await;
                });
                sent_at = std::time::Instant::now();
                (conn, Box::pin(send.send_request(req)))
            }
        };
        RawCall {
            transport,
            conn: Some(conn),
            response: Some(response),
            body: None,
            headers: http::HeaderMap::new(),
            trailers: None,
            buf: BytesMut::new(),
            sent_at,
            frames,
        }
    }

    async fn await_headers(&mut self) {
        if let Some(response) = self.response.take() {
            let res = response.await.expect("the server answers");
            assert_eq!(res.status(), 200, "gRPC answers HTTP 200");
            let (parts, body) = res.into_parts();
            self.headers = parts.headers;
            self.body = Some(body);
        }
    }

    /// The next message, or `None` at the end of the response.
    pub async fn next_message(&mut self) -> Option<Bytes> {
        self.await_headers().await;
        loop {
            if self.buf.len() >= 5 {
                let len = u32::from_be_bytes(self.buf[1..5].try_into().unwrap()) as usize;
                if self.buf.len() >= 5 + len {
                    let flags = self.buf[0];
                    self.buf.advance(5);
                    let data = self.buf.split_to(len).freeze();
                    if flags & 0x80 != 0 {
                        // gRPC-Web carries the trailers as a flagged frame.
                        self.trailers = Some(parse_trailer_block(&data));
                        return None;
                    }
                    return Some(data);
                }
            }
            let frame = match self.body.as_mut()?.frame().await {
                Some(frame) => frame.expect("the response body is intact"),
                None => {
                    self.body = None;
                    return None;
                }
            };
            match frame.into_data() {
                Ok(data) => self.buf.extend_from_slice(&data),
                Err(frame) => self.trailers = frame.into_trailers().ok(),
            }
        }
    }

    /// Reads to the end: the status from the trailers, or from the headers of
    /// a trailers-only response.
    pub async fn finish(mut self) -> Outcome {
        self.await_headers().await;
        let mut messages = Vec::new();
        while let Some(m) = self.next_message().await {
            messages.push(m);
        }
        let (from, in_trailers) = match &self.trailers {
            Some(t) if t.contains_key("grpc-status") => (t, true),
            _ => (&self.headers, false),
        };
        let status =
            tonic::Status::from_header_map(from).expect("the response carries grpc-status");
        Outcome {
            code: status.code(),
            message: status.message().to_string(),
            messages,
            in_trailers,
            headers: self.headers,
        }
    }

    /// The task that drives the call's connection: it ends when the
    /// connection has closed. (Taken, it no longer closes with `abandon`.)
    pub fn take_connection(&mut self) -> JoinHandle<()> {
        self.conn.take().expect("taken once")
    }

    /// Abandons the call as its client would: a browser aborting a fetch
    /// over HTTP/1.1 closes the socket; a native client resets the HTTP/2
    /// stream (RST_STREAM) and keeps the connection, as does any HTTP/2 client.
    pub fn abandon(self) {
        match self.transport {
            Transport::Web => {
                if let Some(conn) = &self.conn {
                    conn.abort();
                }
            }
            // Dropping the pending response or its body resets the stream;
            // dropping the handle leaves the connection task running.
            Transport::Native | Transport::WebH2 => drop(self),
        }
    }
}

fn parse_trailer_block(block: &[u8]) -> http::HeaderMap {
    let mut map = http::HeaderMap::new();
    for line in String::from_utf8_lossy(block).split("\r\n") {
        if let Some((k, v)) = line.split_once(':') {
            map.insert(
                http::HeaderName::from_bytes(k.trim().to_ascii_lowercase().as_bytes()).unwrap(),
                v.trim().parse().unwrap(),
            );
        }
    }
    map
}
