//! `first_byte_timeout` on a tonic server: a connection that sends nothing
//! is closed within the timeout; a client that speaks keeps its connection
//! past it.
use std::time::{Duration, Instant};

use tokio::io::AsyncReadExt as _;
use tonic::transport::Server;
use tonic_deadline::{Http2Client, first_byte_timeout};
use tonic_health::pb::{HealthCheckRequest, health_client::HealthClient};

const TIMEOUT: Duration = Duration::from_millis(300);

#[tokio::test]
async fn silent_connections_are_closed_speaking_ones_are_not() {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    let (_reporter, health) = tonic_health::server::health_reporter();
    let incoming = tokio_stream::wrappers::TcpListenerStream::new(listener);
    tokio::spawn(
        Server::builder()
            .add_service(health)
            .serve_with_incoming(first_byte_timeout(incoming, TIMEOUT)),
    );

    let origin = format!("http://{addr}").parse().unwrap();
    let mut client = HealthClient::new(Http2Client::new(origin).unwrap());
    let check = || HealthCheckRequest {
        service: String::new(),
    };
    client.check(check()).await.expect("a call answers");

    let started = Instant::now();
    let mut silent = tokio::net::TcpStream::connect(addr).await.unwrap();
    // Read until the server closes it (an HTTP/2 server sends its SETTINGS first).
    let closed = async {
        let mut buf = [0u8; 64];
        while let Ok(1..) = silent.read(&mut buf).await {}
    };
    tokio::time::timeout(Duration::from_secs(5), closed)
        .await
        .expect("the silent connection is closed");
    let closed_after = started.elapsed();
    assert!(
        closed_after >= TIMEOUT - Duration::from_millis(50) && closed_after < TIMEOUT * 4,
        "closed after {closed_after:?}"
    );

    // The first client's connection is older than the timeout by now.
    client
        .check(check())
        .await
        .expect("the speaking client keeps its connection");
}
