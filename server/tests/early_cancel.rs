//! A client that leaves before its request has fully arrived: a reset
//! stream (any RST_STREAM code: Envoy resets with NO_ERROR), a closed HTTP/2
//! connection, a closed HTTP/1.1 socket. The call counts `Canceled` (not
//! `Internal`, as tonic alone would have it), and the handler never runs on
//! half a request: the frontend never calls its backend.
mod support;

use std::{net::SocketAddr, time::Duration};

use bytes::Bytes;
use h2::Reason;
use support::{
    check, eventually,
    metrics::{Counts, Scrape, at},
    raw_call::{RawCall, Transport},
    requests::hello,
    two_tiers,
};
use tokio::io::{AsyncReadExt, AsyncWriteExt};

const PATH: &str = "/demo.v1.Greeter/SayHello";

/// A gRPC message prefix announcing 100 bytes, and only 3 of them.
fn half_a_message() -> Bytes {
    let mut frame = vec![0, 0, 0, 0, 100];
    frame.extend_from_slice(b"abc");
    Bytes::from(frame)
}

/// Waits until the frontend has the call, then checks how it ended.
async fn frontend_started(addr: SocketAddr) {
    eventually(
        Duration::from_secs(5),
        "the frontend starts the call",
        || async {
            let c = Counts::so_far(&Scrape::of(addr).await, "frontend", "SayHello");
            check(c.started == 1.0, c)
        },
    )
    .await;
}

async fn counted_canceled_and_backend_never_called(addr: SocketAddr) {
    eventually(
        Duration::from_secs(1),
        "the frontend counts Canceled",
        || async {
            let s = Scrape::of(addr).await;
            let front = Counts::of(&s, "frontend", "SayHello");
            let all_codes =
                s.absent_or_zero("grpc_server_handled_total", &at("frontend", "SayHello"));
            check(
                front.canceled == 1.0 && all_codes == 1.0 && front.in_flight == 0.0,
                (front, all_codes),
            )
        },
    )
    .await;
    // A later call through both tiers: had the first reached the backend, it
    // would have been counted there before this one.
    let later = RawCall::start(Transport::Native, addr, PATH, &hello(0), &[])
        .await
        .finish()
        .await;
    assert_eq!(later.code, tonic::Code::Ok, "{later:?}");
    let s = Scrape::of(addr).await;
    let back = Counts::of(&s, "backend", "SayHello");
    assert_eq!(back.started, 1.0, "only the later call: {back:?}");
}

/// Native gRPC over h2c: headers and half the message, then `leave`.
async fn leave_mid_request(leave: impl FnOnce(h2::SendStream<Bytes>, tokio::task::JoinHandle<()>)) {
    let server = two_tiers().await;
    let addr = server.frontend.unwrap();
    let tcp = tokio::net::TcpStream::connect(addr).await.unwrap();
    let (mut client, conn) = h2::client::handshake(tcp).await.unwrap();
    let conn = tokio::spawn(async move {
        let _ = conn.await;
    });
    let req = http::Request::post(format!("http://{addr}{PATH}"))
        .header("content-type", "application/grpc")
        .header("te", "trailers")
        .body(())
        .unwrap();
    let (_response, mut body) = client.send_request(req, false).unwrap();
    body.send_data(half_a_message(), false).unwrap();
    frontend_started(addr).await;
    leave(body, conn);
    counted_canceled_and_backend_never_called(addr).await;
}

macro_rules! reset_with {
    ($($test:ident => $reason:expr),+ $(,)?) => {$(
        #[tokio::test]
        async fn $test() {
            leave_mid_request(|mut body, _conn| body.send_reset($reason)).await;
        }
    )+};
}

reset_with!(
    reset_cancel_mid_request => Reason::CANCEL,
    reset_no_error_mid_request => Reason::NO_ERROR,
    reset_internal_error_mid_request => Reason::INTERNAL_ERROR,
);

#[tokio::test]
async fn http2_connection_closed_mid_request() {
    leave_mid_request(|_body, conn| conn.abort()).await;
}

#[tokio::test]
async fn http1_socket_closed_mid_request() {
    let server = two_tiers().await;
    let addr = server.frontend.unwrap();
    let mut tcp = tokio::net::TcpStream::connect(addr).await.unwrap();
    let head = format!(
        "POST {PATH} HTTP/1.1\r\nhost: {addr}\r\ncontent-type: application/grpc-web+proto\r\n\
         x-grpc-web: 1\r\ncontent-length: 105\r\n\r\n"
    );
    tcp.write_all(head.as_bytes()).await.unwrap();
    tcp.write_all(&half_a_message()).await.unwrap();
    frontend_started(addr).await;
    drop(tcp);
    counted_canceled_and_backend_never_called(addr).await;
}

/// A client that is still there after ending its request mid-message (over
/// HTTP/1.1, a body shorter than the message it announces) is told
/// CANCELLED, what the server counts, not tonic's INTERNAL.
#[tokio::test]
async fn request_ended_mid_message_is_told_cancelled() {
    let server = two_tiers().await;
    let addr = server.frontend.unwrap();
    let mut tcp = tokio::net::TcpStream::connect(addr).await.unwrap();
    let body = half_a_message();
    let head = format!(
        "POST {PATH} HTTP/1.1\r\nhost: {addr}\r\ncontent-type: application/grpc-web+proto\r\n\
         x-grpc-web: 1\r\nconnection: close\r\ncontent-length: {}\r\n\r\n",
        body.len()
    );
    tcp.write_all(head.as_bytes()).await.unwrap();
    tcp.write_all(&body).await.unwrap();
    let mut response = String::new();
    tcp.read_to_string(&mut response).await.unwrap();
    assert!(response.contains("grpc-status: 1\r\n"), "{response}");
    counted_canceled_and_backend_never_called(addr).await;
}

/// The converse: a gRPC-Web-text request whose body is not base64 comes
/// from a client that is still there. It is malformed, answered and counted
/// INTERNAL naming the base64 error, not taken for a client that left
/// (tonic-web reports its decoder's error and the connection's alike).
#[tokio::test]
async fn a_grpc_web_text_request_that_is_not_base64_is_internal() {
    let server = two_tiers().await;
    let addr = server.frontend.unwrap();
    for body in ["!!!!****", "AAAAAA==BQoDQWRh"] {
        let mut tcp = tokio::net::TcpStream::connect(addr).await.unwrap();
        let head = format!(
            "POST {PATH} HTTP/1.1\r\nhost: {addr}\r\ncontent-type: application/grpc-web-text\r\n\
             x-grpc-web: 1\r\nconnection: close\r\ncontent-length: {}\r\n\r\n",
            body.len()
        );
        tcp.write_all(head.as_bytes()).await.unwrap();
        tcp.write_all(body.as_bytes()).await.unwrap();
        let mut response = String::new();
        tcp.read_to_string(&mut response).await.unwrap();
        assert!(
            response.contains("grpc-status: 13\r\n"),
            "{body}: {response}"
        );
        assert!(
            response.contains("grpc-message: tonic-web"),
            "{body}: {response}"
        );
    }
    eventually(
        Duration::from_secs(1),
        "the frontend counts Internal",
        || async {
            let s = Scrape::of(addr).await;
            let front = Counts::of(&s, "frontend", "SayHello");
            let internal = s.handled("frontend", "SayHello", "Internal");
            check(
                internal == 2.0 && front.canceled == 0.0 && front.in_flight == 0.0,
                (internal, front),
            )
        },
    )
    .await;
    let back = Counts::so_far(&Scrape::of(addr).await, "backend", "SayHello");
    assert_eq!(back.started, 0.0, "the handler never ran: {back:?}");
}
