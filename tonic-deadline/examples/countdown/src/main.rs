//! A tonic server with tonic-deadline: `countdown [ADDR]` (default 127.0.0.1:50051).
use std::time::Duration;

use pb::{CountReply, CountRequest, countdown_server::*};
use tonic::{Request, Response, Status, transport::Server};
use tonic_deadline::{CallContext, DeadlineLayer, Metrics, Shutdown};

mod pb {
    tonic::include_proto!("countdown.v1");
}

struct Counter;

#[tonic::async_trait]
impl Countdown for Counter {
    async fn count(&self, request: Request<CountRequest>) -> Result<Response<CountReply>, Status> {
        let ctx = CallContext::of(&request).expect("the DeadlineLayer is installed");
        let token = ctx.token().clone();
        let CountRequest { n, wait_ms } = request.into_inner();
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
}

#[tokio::main]
async fn main() -> Result<(), Box<dyn std::error::Error>> {
    let addr = std::env::args().nth(1).unwrap_or("127.0.0.1:50051".into());
    let listener = tokio::net::TcpListener::bind(addr).await?;
    println!("listening on {}", listener.local_addr()?); // tests read the port here
    let mut registry = prometheus_client::registry::Registry::default();
    let metrics = Metrics::register(&mut registry);
    let shutdown = Shutdown::new(Duration::from_secs(5));
    Server::builder()
        .accept_http1(true)
        .layer(tonic_web::GrpcWebLayer::new())
        .layer(DeadlineLayer::new().shutdown(&shutdown))
        .layer(metrics.layer("countdown"))
        .add_service(CountdownServer::new(Counter))
        .serve_with_incoming_shutdown(
            tokio_stream::wrappers::TcpListenerStream::new(listener),
            shutdown.on_signal(),
        )
        .await?;
    Ok(())
}
