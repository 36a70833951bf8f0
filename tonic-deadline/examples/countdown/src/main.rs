//! A tonic server with tonic-deadline, callable from browsers on other
//! origins: `countdown [ADDR] [--allow-origin ORIGIN]...` (default
//! 127.0.0.1:50051; without `--allow-origin`, loopback pages only).
//! Serves `/metrics` beside the gRPC routes.
use std::{pin::Pin, time::Duration};

use pb::{CountReply, CountRequest, TickReply, TickRequest, countdown_server::*};
use prometheus_client::registry::Registry;
use tokio_stream::{Stream, wrappers::ReceiverStream};
use tonic::{Request, Response, Status, transport::Server};
use tonic_deadline::{
    CallContext, DeadlineLayer, GrpcWebCors, Methods, Metrics, MetricsEndpoint, OtelMetrics,
    Shutdown,
};

mod pb {
    tonic::include_proto!("countdown.v1");

    /// What build.rs wrote: the protos' `FileDescriptorSet`.
    pub const DESCRIPTOR_SET: &[u8] =
        include_bytes!(concat!(env!("OUT_DIR"), "/countdown_descriptor.bin"));
}

struct Counter;

#[tonic::async_trait]
impl Countdown for Counter {
    async fn count(&self, request: Request<CountRequest>) -> Result<Response<CountReply>, Status> {
        let ctx = CallContext::of(&request).expect("the DeadlineLayer is installed");
        let token = ctx.token().clone();
        let CountRequest { n, wait_ms } = request.into_inner();
        if n == 0 {
            return Err(Status::invalid_argument("n is required"));
        }
        // Async work: stops when the token fires (deadline, disconnect, shutdown).
        let wait = tokio::time::sleep(Duration::from_millis(wait_ms.into()));
        token
            .run_until_cancelled(wait)
            .await
            .ok_or_else(|| Status::cancelled("cancelled"))?;
        // Blocking work: checks the token; holds `ctx` so metrics see it stop.
        let counted = tokio::task::spawn_blocking(move || {
            let _call = ctx;
            (0..n)
                .take_while(|i| i % 1024 != 0 || !token.is_cancelled())
                .count() as u64
        });
        let counted = counted.await.map_err(|e| Status::internal(e.to_string()))?;
        Ok(Response::new(CountReply { counted }))
    }

    type TickStream = Pin<Box<dyn Stream<Item = Result<TickReply, Status>> + Send>>;

    async fn tick(
        &self,
        request: Request<TickRequest>,
    ) -> Result<Response<Self::TickStream>, Status> {
        let ctx = CallContext::of(&request).expect("the DeadlineLayer is installed");
        let TickRequest { interval_ms, limit } = request.into_inner();
        let interval = Duration::from_millis(interval_ms.max(1).into());
        let (tx, rx) = tokio::sync::mpsc::channel(1);
        // The stream's producer is a task of its own; it owns `ctx`, so the
        // call counts as in flight until this task has really stopped.
        tokio::spawn(async move {
            let token = ctx.token().clone();
            let mut ticks = tokio::time::interval(interval);
            for seq in 1.. {
                // Ends when the token fires: the client went away, the
                // deadline passed, or the server is shutting down (the
                // layer sends the client the matching status itself).
                if token.run_until_cancelled(ticks.tick()).await.is_none() {
                    break;
                }
                let sent = token.run_until_cancelled(tx.send(Ok(TickReply { seq })));
                if !matches!(sent.await, Some(Ok(()))) || seq == limit {
                    break;
                }
            }
            drop(ctx);
        });
        Ok(Response::new(Box::pin(ReceiverStream::new(rx))))
    }
}

/// `[ADDR] [--allow-origin ORIGIN]...`
fn parse_args() -> Result<(String, GrpcWebCors), Box<dyn std::error::Error>> {
    let (mut addr, mut origins) = ("127.0.0.1:50051".to_string(), Vec::new());
    let mut args = std::env::args().skip(1);
    while let Some(arg) = args.next() {
        match arg.as_str() {
            "--allow-origin" => origins.push(args.next().ok_or("--allow-origin needs a value")?),
            _ => addr = arg,
        }
    }
    let cors = GrpcWebCors::new().setting_name("--allow-origin");
    let cors = match origins.is_empty() {
        true => cors.allow_loopback_origins(),
        false => cors.allow_origins(origins)?,
    };
    Ok((addr, cors))
}

#[tokio::main]
async fn main() -> Result<(), Box<dyn std::error::Error>> {
    tracing_subscriber::fmt()
        .with_writer(std::io::stderr)
        .init();
    let (addr, cors) = parse_args()?;
    let listener = tokio::net::TcpListener::bind(addr).await?;
    println!("listening on {}", listener.local_addr()?); // tests read the port here
    let mut registry = Registry::default();
    let metrics = Metrics::register(&mut registry);
    // gRFC A66's instruments too: a no-op until the app installs an SDK
    // meter provider (opentelemetry::global::set_meter_provider).
    let otel = OtelMetrics::new(&opentelemetry::global::meter("countdown"));
    let shutdown = Shutdown::new(Duration::from_secs(5));
    let methods = Methods::from_descriptor_set(pb::DESCRIPTOR_SET)?;
    // Connections that never send a byte are closed (tonic has no timeout
    // before the first byte); half an HTTP/1.1 header: hyper's 30 s.
    let incoming = tonic_deadline::first_byte_timeout(
        tokio_stream::wrappers::TcpListenerStream::new(listener),
        Duration::from_secs(10),
    );
    Server::builder()
        .accept_http1(true)
        // HTTP/2 peers gone without a FIN, found by PING.
        .http2_keepalive_interval(Some(Duration::from_secs(30)))
        .http2_keepalive_timeout(Some(Duration::from_secs(20)))
        // A page that leaves aborts its calls at once: h2 would GOAWAY after 20.
        .http2_max_pending_accept_reset_streams(Some(1_000))
        .layer(cors.layer()) // outermost: preflights and refused origins
        .layer(MetricsEndpoint::new(registry).layer("/metrics"))
        .layer(tonic_web::GrpcWebLayer::new())
        .layer(DeadlineLayer::new().methods(methods).shutdown(&shutdown))
        .layer(metrics.layer("countdown"))
        .layer(otel.layer())
        .add_service(CountdownServer::new(Counter))
        .serve_with_incoming_shutdown(incoming, shutdown.on_signal())
        .await?;
    Ok(())
}
