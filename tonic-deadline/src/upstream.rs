//! An HTTP/2 client for upstream calls that leaves deadlines to the tiers.
//!
//! Not tonic's `Channel`: that one enforces `grpc-timeout` itself and resets
//! the stream at the very moment the backend's own deadline would fire, so
//! the backend would see a disconnect instead of its deadline. Here the
//! caller's deadline is enforced by the caller's [`DeadlineLayer`] and the
//! backend's by the backend: each tier on its own, as gRPC intends.
//!
//! [`DeadlineLayer`]: crate::DeadlineLayer
use std::task::{Context, Poll};

use futures_util::future::BoxFuture;
use http::{Request, Response, Uri, uri::PathAndQuery};
use hyper_util::{
    client::legacy::{Client, connect::HttpConnector},
    rt::TokioExecutor,
};
use tonic::body::Body;
use tower::{BoxError, Service};

use crate::{propagate::Propagate, windows};

/// Sends every request to one origin over cleartext HTTP/2 (h2c).
#[derive(Clone, Debug)]
pub struct Http2Client {
    client: Client<HttpConnector, Body>,
    origin: Uri,
}

impl Http2Client {
    /// A client for `origin`, e.g. `http://127.0.0.1:8081`; connects lazily.
    pub fn new(origin: Uri) -> Result<Self, BoxError> {
        if origin.scheme_str() != Some("http") || origin.authority().is_none() {
            return Err(format!("upstream {origin} must be an http:// origin (h2c)").into());
        }
        let mut connector = HttpConnector::new();
        // gRPC writes headers and data apart: without this, Nagle's algorithm
        // and delayed ACKs hold a request back for 40 ms, deadline and all.
        connector.set_nodelay(true);
        let client = Client::builder(TokioExecutor::new())
            .http2_only(true)
            .http2_initial_stream_window_size(windows::STREAM_WINDOW)
            .http2_initial_connection_window_size(windows::CONNECTION_WINDOW)
            .build(connector);
        Ok(Http2Client { client, origin })
    }

    /// Opens the connection now rather than on the first call, whose deadline
    /// would otherwise pay for the TCP and HTTP/2 handshakes on the way up.
    pub async fn connect(&self) -> Result<(), BoxError> {
        let req = Request::get(self.origin.clone()).body(Body::empty())?;
        self.client.request(req).await?; // any HTTP answer will do
        Ok(())
    }

    /// The same, wrapped so that calls inherit deadline and cancellation.
    pub fn propagating(self) -> Propagate<Http2Client> {
        Propagate::new(self)
    }
}

impl Service<Request<Body>> for Http2Client {
    type Response = Response<Body>;
    type Error = BoxError;
    type Future = BoxFuture<'static, Result<Response<Body>, BoxError>>;

    fn poll_ready(&mut self, _: &mut Context<'_>) -> Poll<Result<(), BoxError>> {
        Poll::Ready(Ok(()))
    }

    fn call(&mut self, mut req: Request<Body>) -> Self::Future {
        let path = req
            .uri()
            .path_and_query()
            .cloned()
            .unwrap_or(PathAndQuery::from_static("/"));
        let mut parts = self.origin.clone().into_parts();
        parts.path_and_query = Some(path);
        let client = self.client.clone();
        Box::pin(async move {
            *req.uri_mut() = Uri::from_parts(parts)?;
            let response = client.request(req).await?;
            Ok(response.map(Body::new))
        })
    }
}
