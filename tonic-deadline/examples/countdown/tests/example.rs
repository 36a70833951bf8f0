//! The example server, started as its own process and called with a native
//! tonic client: a call that completes, one that ends at its deadline, and
//! the server-streaming `Tick` ending at its deadline and at shutdown, each
//! counted in the example's `/metrics` once its task has stopped.
use std::{
    io::{BufRead, BufReader, Read, Write},
    net::TcpStream,
    process::{Child, Command, Stdio},
    time::{Duration, Instant},
};

mod pb {
    tonic::include_proto!("countdown.v1");
}
use pb::{CountRequest, TickRequest, countdown_client::CountdownClient};
use tonic::Code;

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

/// The example's `/metrics`, over plain HTTP/1.1.
fn scrape(addr: &str) -> String {
    let mut tcp = TcpStream::connect(addr).unwrap();
    write!(
        tcp,
        "GET /metrics HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n"
    )
    .unwrap();
    let mut response = String::new();
    tcp.read_to_string(&mut response).unwrap();
    assert!(
        response.contains("content-type: application/openmetrics-text"),
        "{response}"
    );
    response
}

/// The value of the series whose line has all of `labels`, 0 if none.
fn value(metrics: &str, series: &str, labels: &[&str]) -> f64 {
    metrics
        .lines()
        .find(|l| l.starts_with(series) && labels.iter().all(|label| l.contains(label)))
        .and_then(|l| l.rsplit(' ').next()?.parse().ok())
        .unwrap_or(0.0)
}

/// Polls `/metrics` until `Tick` has `n` calls handled with `code` and none
/// in flight (its task has stopped), for at most 5 s.
async fn tick_handled(addr: &str, code: &str, n: f64) {
    let end = Instant::now() + Duration::from_secs(5);
    let code = format!("grpc_code=\"{code}\"");
    loop {
        let metrics = scrape(addr);
        let tick = ["grpc_method=\"Tick\"", "grpc_type=\"server_stream\""];
        let handled = value(
            &metrics,
            "grpc_server_handled_total",
            &[&tick[..], &[&code]].concat(),
        );
        let in_flight = value(&metrics, "grpc_server_in_flight", &tick);
        if handled == n && in_flight == 0.0 {
            return;
        }
        assert!(
            Instant::now() < end,
            "handled {handled}, in flight {in_flight}:\n{metrics}"
        );
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
}

#[tokio::test]
async fn a_stream_ends_at_its_deadline_and_at_shutdown() {
    let (mut server, addr) = start();
    let origin = format!("http://{addr}").parse().unwrap();
    let mut client = CountdownClient::new(tonic_deadline::Http2Client::new(origin).unwrap());

    let mut endless = tonic::Request::new(TickRequest {
        interval_ms: 10,
        limit: 0,
    });
    endless.set_timeout(Duration::from_millis(200));
    let mut stream = client.tick(endless).await.unwrap().into_inner();
    let mut ticks = 0;
    let status = loop {
        match stream.message().await {
            Ok(Some(_)) => ticks += 1,
            Ok(None) => panic!("the stream ended without a status"),
            Err(status) => break status,
        }
    };
    assert_eq!(status.code(), Code::DeadlineExceeded, "{status:?}");
    assert!(ticks > 0, "no tick before the deadline");
    tick_handled(&addr, "DeadlineExceeded", 1.0).await;

    let endless = TickRequest {
        interval_ms: 10,
        limit: 0,
    };
    let mut stream = client.tick(endless).await.unwrap().into_inner();
    stream.message().await.unwrap().expect("a first tick");
    let pid = server.0.id().to_string();
    let killed = Command::new("kill").args(["-TERM", &pid]).status().unwrap();
    assert!(killed.success());
    let status = loop {
        match stream.message().await {
            Ok(Some(_)) => {}
            Ok(None) => panic!("the stream ended without a status"),
            Err(status) => break status,
        }
    };
    assert_eq!(status.code(), Code::Unavailable, "{status:?}");
    assert_eq!(status.message(), "the server is shutting down");
    // The process exits once its connections have drained.
    let end = Instant::now() + Duration::from_secs(8);
    while server.0.try_wait().unwrap().is_none() {
        assert!(
            Instant::now() < end,
            "the example did not exit after SIGTERM"
        );
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
}
