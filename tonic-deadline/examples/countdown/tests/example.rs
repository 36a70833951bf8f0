//! The example server, started as its own process and called with a native
//! tonic client: a call that completes, and one that ends at its deadline.
use std::{
    io::{BufRead, BufReader},
    process::{Child, Command, Stdio},
    time::{Duration, Instant},
};

mod pb {
    tonic::include_proto!("countdown.v1");
}
use pb::{CountRequest, countdown_client::CountdownClient};

/// Kills the server when the test ends, however it ends.
struct Server(Child);

impl Drop for Server {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

/// Starts the example on a free loopback port; returns it and its address.
fn start() -> (Server, String) {
    let mut child = Command::new(env!("CARGO_BIN_EXE_countdown"))
        .arg("127.0.0.1:0")
        .stdout(Stdio::piped())
        .spawn()
        .expect("the example starts");
    let stdout = child.stdout.take().unwrap();
    let server = Server(child);
    let line = BufReader::new(stdout).lines().next().unwrap().unwrap();
    let addr = line
        .strip_prefix("listening on ")
        .expect("the example says where")
        .to_string();
    (server, addr)
}

#[tokio::test]
async fn counts_and_ends_at_the_deadline() {
    let (_server, addr) = start();
    // tonic-deadline's h2c client: unlike tonic's Channel it has no timer of
    // its own, so what ends the slow call below is the server's deadline.
    let origin = format!("http://{addr}").parse().unwrap();
    let mut client = CountdownClient::new(tonic_deadline::Http2Client::new(origin).unwrap());

    let reply = client
        .count(CountRequest {
            n: 1000,
            wait_ms: 0,
        })
        .await
        .unwrap();
    assert_eq!(reply.into_inner().counted, 1000);

    let mut slow = tonic::Request::new(CountRequest {
        n: 1,
        wait_ms: 10_000,
    });
    slow.set_timeout(Duration::from_millis(100));
    let started = Instant::now();
    let status = client.count(slow).await.unwrap_err();
    assert_eq!(status.code(), tonic::Code::DeadlineExceeded, "{status:?}");
    assert!(
        started.elapsed() < Duration::from_secs(2),
        "{:?}",
        started.elapsed()
    );
}
