//! Upstream calls inherit the caller's deadline: the backend is given what
//! the frontend had left, never more; and they are reset when the caller's
//! call ends, also when it ends normally. (That a caller's disconnect and
//! deadline reach the backend is in `cancellation.rs` and `deadlines.rs`.)
mod support;

use std::{
    sync::{Arc, Mutex},
    time::Duration,
};

use demo_server::{
    proto::{
        HelloReply, HelloRequest,
        greeter_client::GreeterClient,
        greeter_server::{Greeter, GreeterServer},
        updates_client::UpdatesClient,
    },
    tiers::Role,
};
use support::{
    frontend_of,
    metrics::{Counts, Scrape},
    raw_call::{RawCall, Transport},
    requests::{HELLO, endless_watch, hello},
};
use tonic::{Code, Request, Response, Status, transport::Channel};
use tonic_deadline::{DeadlineLayer, Propagate, TRANSIT_ALLOWANCE};

/// A backend that writes down the `grpc-timeout` each call carried.
#[derive(Clone, Default)]
struct RecordingBackend {
    timeouts: Arc<Mutex<Vec<Option<Duration>>>>,
}

#[tonic::async_trait]
impl Greeter for RecordingBackend {
    async fn say_hello(
        &self,
        request: Request<HelloRequest>,
    ) -> Result<Response<HelloReply>, Status> {
        let timeout = request
            .metadata()
            .get("grpc-timeout")
            .map(|v| grpc_timeout::parse(v.as_bytes()).expect("a well-formed grpc-timeout"));
        self.timeouts.lock().unwrap().push(timeout);
        Ok(Response::new(HelloReply {
            message: "recorded".into(),
        }))
    }
}

async fn recording_backend() -> (std::net::SocketAddr, RecordingBackend) {
    let backend = RecordingBackend::default();
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    let incoming = tonic::transport::server::TcpIncoming::from(listener);
    let service = GreeterServer::new(backend.clone());
    tokio::spawn(
        tonic::transport::Server::builder()
            .add_service(service)
            .serve_with_incoming(incoming),
    );
    (addr, backend)
}

async fn backend_deadline_is_no_later_than_the_frontends(transport: Transport) {
    let (backend_addr, backend) = recording_backend().await;
    let frontend = frontend_of(backend_addr).await;
    let addr = frontend.frontend.unwrap();
    let hello = HelloRequest {
        name: "x".into(),
        delay_ms: 0,
    };

    for timeout in [
        Duration::from_millis(300),
        Duration::from_secs(2),
        Duration::from_secs(30),
    ] {
        let header = grpc_timeout::encode(timeout);
        let call = RawCall::start(
            transport,
            addr,
            "/demo.v1.Greeter/SayHello",
            &hello,
            &[("grpc-timeout", &header)],
        )
        .await;
        let outcome = call.finish().await;
        assert_eq!(outcome.code, Code::Ok, "{outcome:?}");
        let received = backend
            .timeouts
            .lock()
            .unwrap()
            .pop()
            .expect("the backend was called");
        let received = received.expect("the backend received a grpc-timeout");
        // What the frontend had left when it called, less the transit
        // allowance: so the backend's deadline falls before the frontend's
        // whenever the request takes less than the allowance to get there.
        assert!(
            received <= timeout - TRANSIT_ALLOWANCE,
            "{timeout:?}: the backend was given {received:?}, more than the frontend had left"
        );
        assert!(
            timeout - received < Duration::from_millis(100),
            "{timeout:?}: the backend was given only {received:?}"
        );
    }

    // Without a deadline, none is invented.
    let outcome = RawCall::start(transport, addr, "/demo.v1.Greeter/SayHello", &hello, &[])
        .await
        .finish()
        .await;
    assert_eq!(outcome.code, Code::Ok, "{outcome:?}");
    assert_eq!(backend.timeouts.lock().unwrap().pop(), Some(None));
}

over_transports!(
    backend_deadline_is_no_later_than_the_frontends:
    backend_deadline_is_no_later_than_the_frontends_native => Native,
    backend_deadline_is_no_later_than_the_frontends_grpc_web => Web,
);

/// A tonic server of its own (`Server::builder().layer(..)`, no demo code)
/// whose handler calls the demo's backend over tonic's `Channel` wrapped in
/// `Propagate`: the client sees DEADLINE_EXCEEDED at its deadline, and the
/// backend's call ends too instead of running on.
#[derive(Clone)]
struct ChannelRelay(GreeterClient<Propagate<Channel>>);

#[tonic::async_trait]
impl Greeter for ChannelRelay {
    async fn say_hello(
        &self,
        request: Request<HelloRequest>,
    ) -> Result<Response<HelloReply>, Status> {
        self.0.clone().say_hello(request.into_inner()).await
    }
}

#[tokio::test]
async fn propagates_over_tonics_channel() {
    let backend = support::start(Role::Backend, None, support::DRAIN).await;
    let backend_addr = backend.backend.unwrap();
    let channel = Channel::from_shared(format!("http://{backend_addr}"))
        .unwrap()
        .connect_lazy();
    let relay = ChannelRelay(GreeterClient::new(Propagate::new(channel)));
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    tokio::spawn(
        tonic::transport::Server::builder()
            .layer(DeadlineLayer::new())
            .add_service(GreeterServer::new(relay))
            .serve_with_incoming(tonic::transport::server::TcpIncoming::from(listener)),
    );

    let slow = HelloRequest {
        name: "relay".into(),
        delay_ms: 10_000,
    };
    let call = RawCall::start(
        Transport::Native,
        addr,
        HELLO,
        &slow,
        &[("grpc-timeout", "200m")],
    )
    .await;
    let ended = call.finish().await;
    assert_eq!(ended.code, Code::DeadlineExceeded, "{ended:?}");
    support::eventually(
        Duration::from_millis(500),
        "the backend's call ends",
        || async {
            let c = Counts::of(&Scrape::of(backend_addr).await, "backend", "SayHello");
            support::check(c.started == 1.0 && c.in_flight == 0.0 && c.ok == 0.0, c)
        },
    )
    .await;
}

/// A handler that starts an upstream stream, hands it to a task of its own
/// to read, and answers at once: its call ends normally (OK), and that end
/// resets the upstream call as a cancel would. The task's reading ends
/// CANCELLED, and the backend counts the stream `Canceled`, not running on.
#[derive(Clone)]
struct LeavesAStreamBehind {
    upstream: UpdatesClient<Propagate<Channel>>,
    read: tokio::sync::mpsc::UnboundedSender<(usize, Status)>,
}

#[tonic::async_trait]
impl Greeter for LeavesAStreamBehind {
    async fn say_hello(
        &self,
        _request: Request<HelloRequest>,
    ) -> Result<Response<HelloReply>, Status> {
        let mut updates = self
            .upstream
            .clone()
            .watch(endless_watch())
            .await?
            .into_inner();
        let first = updates.message().await?;
        assert!(first.is_some(), "the backend's stream runs");
        let read = self.read.clone();
        tokio::spawn(async move {
            let mut n = 1;
            let ended = loop {
                match updates.message().await {
                    Ok(Some(_)) => n += 1,
                    Ok(None) => break Status::ok("the stream ended"),
                    Err(status) => break status,
                }
            };
            let _ = read.send((n, ended));
        });
        Ok(Response::new(HelloReply {
            message: "answered; the stream is left to a task".into(),
        }))
    }
}

#[tokio::test]
async fn the_upstream_call_is_reset_when_the_handlers_call_ends() {
    let backend = support::start(Role::Backend, None, support::DRAIN).await;
    let backend_addr = backend.backend.unwrap();
    let channel = Channel::from_shared(format!("http://{backend_addr}"))
        .unwrap()
        .connect_lazy();
    let (read, mut reads) = tokio::sync::mpsc::unbounded_channel();
    let relay = LeavesAStreamBehind {
        upstream: UpdatesClient::new(Propagate::new(channel)),
        read,
    };
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    tokio::spawn(
        tonic::transport::Server::builder()
            .layer(DeadlineLayer::new())
            .add_service(GreeterServer::new(relay))
            .serve_with_incoming(tonic::transport::server::TcpIncoming::from(listener)),
    );

    let answered = RawCall::start(Transport::Native, addr, HELLO, &hello(0), &[])
        .await
        .finish()
        .await;
    assert_eq!(answered.code, Code::Ok, "{answered:?}");
    let (n, ended) = tokio::time::timeout(Duration::from_secs(1), reads.recv())
        .await
        .expect("the task's stream ends once the call has")
        .unwrap();
    assert_eq!(
        ended.code(),
        Code::Cancelled,
        "after {n} updates: {ended:?}"
    );
    support::eventually(
        Duration::from_millis(300),
        "the backend counts its stream Canceled",
        || async {
            let c = Counts::of(&Scrape::of(backend_addr).await, "backend", "Watch");
            support::check(c.canceled == 1.0 && c.in_flight == 0.0, c)
        },
    )
    .await;
}
