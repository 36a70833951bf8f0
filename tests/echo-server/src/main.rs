//! `echo-server ADDR [DIR]`: answers every gRPC or gRPC-Web call (HTTP/1.1
//! and HTTP/2, any origin: it is a test server on loopback) with the
//! request's own message bytes, and serves the files of DIR to anything else
//! (the test pages and the packages under test). Request metadata steers it:
//! - `x-echo-count: N` streams the message N times (a server-streaming call);
//! - `x-echo-reply-bin: B` (base64) answers with the bytes B instead (to
//!   test replies that do not decode);
//! - `x-echo-require-authorization: V` answers UNAUTHENTICATED unless the
//!   call's `authorization` is V (to test a token refresh).
//!
//! The response header `x-echo-request-bin` carries the request's bytes, so
//! a test can hand exactly what the client encoded to an independent
//! decoder; `x-echo-metadata` the request's text metadata as the server
//! received it (a JSON object), so a test can assert what reached it.
use std::{convert::Infallible, future::Future, pin::Pin, task::Poll};

use bytes::Bytes;
use futures_util::stream;
use grpc_web_abort::RawCodec;
use http::{Request, Response};
use hyper::body::Incoming;
use hyper_util::{
    rt::{TokioExecutor, TokioIo},
    server::conn::auto::Builder,
    service::TowerToHyperService,
};
use tonic::{
    Status,
    body::Body,
    metadata::{MetadataMap, MetadataValue},
    server::{Grpc, ServerStreamingService, UnaryService},
};
use tower::{Layer, Service, ServiceExt, steer::Steer, util::BoxCloneService};
use tower_http::{
    cors::{AllowHeaders, AllowMethods, AllowOrigin, CorsLayer, ExposeHeaders},
    services::ServeDir,
};

#[tokio::main]
async fn main() {
    let addr = std::env::args()
        .nth(1)
        .unwrap_or_else(|| "127.0.0.1:27090".into());
    let listener = tokio::net::TcpListener::bind(&addr)
        .await
        .unwrap_or_else(|e| panic!("cannot listen on {addr}: {e}"));
    eprintln!("echo-server: listening on http://{addr}");
    let cors = CorsLayer::new()
        .allow_origin(AllowOrigin::mirror_request())
        .allow_methods(AllowMethods::mirror_request())
        .allow_headers(AllowHeaders::mirror_request())
        .expose_headers(ExposeHeaders::any());
    let grpc = tonic_web::GrpcWebLayer::new().layer(Echo);
    let files = ServeDir::new(std::env::args().nth(2).unwrap_or_else(|| ".".into()));
    let files = ServiceExt::<Request<Incoming>>::map_response(files, |r| r.map(Body::new));
    let steer = Steer::new(
        [BoxCloneService::new(grpc), BoxCloneService::new(files)],
        |request: &Request<Incoming>, _: &[_]| {
            let grpc = request
                .headers()
                .get(http::header::CONTENT_TYPE)
                .is_some_and(|v| v.as_bytes().starts_with(b"application/grpc"));
            if grpc { 0 } else { 1 }
        },
    );
    let service = cors.layer(steer);
    loop {
        let Ok((socket, _)) = listener.accept().await else {
            continue;
        };
        let service = TowerToHyperService::new(service.clone());
        tokio::spawn(async move {
            let _ = Builder::new(TokioExecutor::new())
                .serve_connection(TokioIo::new(socket), service)
                .await;
        });
    }
}

#[derive(Clone, Copy)]
struct Echo;

impl Service<Request<Body>> for Echo {
    type Response = Response<Body>;
    type Error = Infallible;
    type Future = Pin<Box<dyn Future<Output = Result<Response<Body>, Infallible>> + Send>>;

    fn poll_ready(&mut self, _: &mut std::task::Context<'_>) -> Poll<Result<(), Infallible>> {
        Poll::Ready(Ok(()))
    }

    fn call(&mut self, request: Request<Body>) -> Self::Future {
        let count = request
            .headers()
            .get("x-echo-count")
            .and_then(|v| v.to_str().ok()?.parse::<usize>().ok());
        Box::pin(async move {
            let mut grpc = Grpc::new(RawCodec);
            Ok(match count {
                Some(count) => grpc.server_streaming(Repeat(count), request).await,
                None => grpc.unary(Once, request).await,
            })
        })
    }
}

/// The reply (the request's bytes, or what `x-echo-reply-base64` asks for)
/// and the response metadata that shows the request's bytes.
fn reply(request: tonic::Request<Bytes>) -> Result<(Bytes, MetadataMap), Status> {
    let (metadata, _, bytes) = request.into_parts();
    let text = |name: &str| metadata.get(name).and_then(|v| v.to_str().ok());
    if let Some(required) = text("x-echo-require-authorization")
        && text("authorization") != Some(required)
    {
        return Err(Status::unauthenticated(format!(
            "authorization is not the one required (got {:?})",
            text("authorization")
        )));
    }
    let received: serde_json::Map<_, _> = metadata
        .clone()
        .into_headers()
        .iter()
        .filter_map(|(name, value)| Some((name.to_string(), value.to_str().ok()?.into())))
        .collect();
    let reply = match metadata.get_bin("x-echo-reply-bin") {
        Some(value) => value
            .to_bytes()
            .map_err(|_| Status::invalid_argument("x-echo-reply-bin is not base64"))?,
        None => bytes.clone(),
    };
    let mut out = MetadataMap::new();
    out.insert_bin("x-echo-request-bin", MetadataValue::from_bytes(&bytes));
    let received = serde_json::Value::Object(received).to_string();
    // (Visible ASCII: only values that were text went in, and JSON escapes controls.)
    if let Ok(value) = received.parse() {
        out.insert("x-echo-metadata", value);
    }
    Ok((reply, out))
}

#[derive(Clone, Copy)]
struct Once;

impl UnaryService<Bytes> for Once {
    type Response = Bytes;
    type Future = std::future::Ready<Result<tonic::Response<Bytes>, Status>>;

    fn call(&mut self, request: tonic::Request<Bytes>) -> Self::Future {
        std::future::ready(reply(request).map(|(bytes, metadata)| {
            let mut response = tonic::Response::new(bytes);
            *response.metadata_mut() = metadata;
            response
        }))
    }
}

#[derive(Clone, Copy)]
struct Repeat(usize);

type Copies = stream::Iter<std::vec::IntoIter<Result<Bytes, Status>>>;

impl ServerStreamingService<Bytes> for Repeat {
    type Response = Bytes;
    type ResponseStream = Copies;
    type Future = std::future::Ready<Result<tonic::Response<Copies>, Status>>;

    fn call(&mut self, request: tonic::Request<Bytes>) -> Self::Future {
        let count = self.0;
        std::future::ready(reply(request).map(|(bytes, metadata)| {
            let copies = vec![Ok(bytes); count];
            let mut response = tonic::Response::new(stream::iter(copies));
            *response.metadata_mut() = metadata;
            response
        }))
    }
}
