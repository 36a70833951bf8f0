//! `Greeter.SayHello`: the backend waits `delay_ms`, then greets.
use std::time::Duration;

use tonic::{Request, Response, Status};

use super::Upstream;
use crate::proto::{
    HelloReply, HelloRequest,
    greeter_client::GreeterClient,
    greeter_server::{Greeter, GreeterServer},
};

pub struct GreeterBackend;

#[tonic::async_trait]
impl Greeter for GreeterBackend {
    async fn say_hello(
        &self,
        request: Request<HelloRequest>,
    ) -> Result<Response<HelloReply>, Status> {
        let HelloRequest { name, delay_ms } = request.into_inner();
        // Async work stops here at once when the call is cancelled: the
        // deadline layer drops this future.
        if delay_ms > 0 {
            // (Even a zero sleep waits for tokio's next 1 ms timer tick.)
            tokio::time::sleep(Duration::from_millis(delay_ms.into())).await;
        }
        let name = if name.is_empty() { "stranger" } else { &name };
        Ok(Response::new(HelloReply {
            message: format!("Hello, {name}!"),
        }))
    }
}

pub struct GreeterFrontend {
    pub upstream: GreeterClient<Upstream>,
}

#[tonic::async_trait]
impl Greeter for GreeterFrontend {
    async fn say_hello(
        &self,
        request: Request<HelloRequest>,
    ) -> Result<Response<HelloReply>, Status> {
        self.upstream
            .clone()
            .say_hello(request.into_inner())
            .await
            .map_err(super::relay::relayed)
    }
}

pub fn backend() -> GreeterServer<GreeterBackend> {
    GreeterServer::new(GreeterBackend)
}

/// `max_reply_bytes`: the most bytes an upstream reply message may have.
pub fn frontend(upstream: Upstream, max_reply_bytes: usize) -> GreeterServer<GreeterFrontend> {
    GreeterServer::new(GreeterFrontend {
        upstream: GreeterClient::new(upstream).max_decoding_message_size(max_reply_bytes),
    })
}
