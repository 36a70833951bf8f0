//! The channel: a tower `Service` under any tonic-generated client that gives
//! every call its signal and deadline, and ends it by dropping it.
use std::{
    future::{Future, poll_fn},
    pin::Pin,
    task::{Context, Poll},
};

use bytes::Bytes;
use http::{HeaderValue, Request, Response};
use tonic::{Status, body::Body};

type BoxError = Box<dyn std::error::Error + Send + Sync>;
use tonic_web::GrpcWebClientService;
use tower_service::Service;

use crate::{
    abort::Signal,
    body::{BodyFailure, GuardedBody},
    deadline::Deadline,
    fetch::{Fetch, ReceiveLimit},
    frames::DEFAULT_MAX_RECEIVE,
    guard::Guard,
    readable_status::unreadable_status,
};

/// The transport under a default [`Channel`]: tonic-web's gRPC-Web framing
/// over [`Fetch`].
pub type GrpcWebFetch = GrpcWebClientService<Fetch>;

/// gRPC-Web over `fetch` where each call honours the [`Signal`] and
/// [`Deadline`] in its request extensions and the timeout set with
/// `tonic::Request::set_timeout`.
///
/// The transport is this crate's [`Fetch`] by default; any other gRPC-Web
/// transport whose dropped calls abort their fetch works too, e.g. a
/// `tonic_web_wasm_client::Client` an app already has:
/// `Channel::with_transport(tonic_web_wasm_client::Client::new(url))`.
///
/// Ending a call early drops the transport's call or response body, which
/// aborts the `fetch`: the server sees the disconnect.
#[derive(Clone, Debug)]
pub struct Channel<T = GrpcWebFetch> {
    transport: T,
    max_decoding_message_size: usize,
}

impl Channel {
    /// A channel to the gRPC-Web server at `base_url` (e.g. `http://127.0.0.1:8080`).
    pub fn new(base_url: impl Into<String>) -> Self {
        Self::with_transport(GrpcWebClientService::new(Fetch::new(base_url)))
    }
}

impl<T> Channel<T> {
    /// A channel over another transport (a test double that records requests, say).
    pub fn with_transport(transport: T) -> Self {
        Self {
            transport,
            max_decoding_message_size: DEFAULT_MAX_RECEIVE,
        }
    }

    /// The most bytes a reply message may have (default 4 MiB, as tonic's
    /// clients; at most 2 GiB - 1): a frame announced larger fails the call with
    /// `RESOURCE_EXHAUSTED` at its header, before it is buffered, and the
    /// fetch is aborted. [`Fetch`] (the default transport) enforces it;
    /// tonic's own limit applies after it, so raise the generated client's
    /// `max_decoding_message_size` too.
    pub fn max_decoding_message_size(mut self, limit: usize) -> Self {
        self.max_decoding_message_size = limit;
        self
    }
}

impl<T, B> Service<Request<Body>> for Channel<T>
where
    T: Service<Request<Body>, Response = Response<B>> + Clone + 'static,
    T::Error: Into<BoxError>,
    T::Future: 'static,
    B: http_body::Body<Data = Bytes> + Unpin + 'static,
    B::Error: Into<BoxError>,
{
    type Response = Response<GuardedBody<B>>;
    type Error = Status;
    type Future = Pin<Box<dyn Future<Output = Result<Self::Response, Status>>>>;

    fn poll_ready(&mut self, _: &mut Context<'_>) -> Poll<Result<(), Status>> {
        Poll::Ready(Ok(()))
    }

    fn call(&mut self, mut request: Request<Body>) -> Self::Future {
        let limit = ReceiveLimit(self.max_decoding_message_size);
        request.extensions_mut().insert(limit);
        Box::pin(call(self.transport.clone(), request))
    }
}

async fn call<T, B>(
    mut transport: T,
    mut request: Request<Body>,
) -> Result<Response<GuardedBody<B>>, Status>
where
    T: Service<Request<Body>, Response = Response<B>>,
    T::Error: Into<BoxError>,
{
    let signal = request
        .extensions()
        .get::<Signal>()
        .map(|s| s.get().clone());
    let deadline = Deadline::earliest(
        request.extensions().get::<Deadline>().copied(),
        announced_timeout(&request)?.map(Deadline::after),
    );
    let mut guard = Guard::new(signal, deadline);
    guard.check().map_err(Status::from)?;
    if let Some(deadline) = deadline {
        // What is left now, rounded down: the server's deadline is never later than ours.
        let value = HeaderValue::from_str(&grpc_timeout::encode(deadline.remaining()))
            .expect("grpc-timeout values are ASCII");
        request.headers_mut().insert(grpc_timeout::HEADER, value);
    }
    // Our `Fetch` links its fetch to the guard and tells its body's failure;
    // another transport ignores both.
    request.extensions_mut().insert(guard.fetch_link());
    let failure = BodyFailure::default();
    request.extensions_mut().insert(failure.clone());
    let mut fetch = std::pin::pin!(transport.call(request));
    let response = poll_fn(|cx| {
        // The signal's verdict first, so an abort racing the response still cancels.
        if let Poll::Ready(failure) = guard.poll_fired(cx) {
            return Poll::Ready(Err(failure.into()));
        }
        fetch.as_mut().poll(cx).map_err(status_of)
    })
    .await?;
    // On the error paths `fetch` or `response` is dropped here, which aborts the request.
    if let Some(status) = unreadable_status(response.headers()) {
        return Err(status);
    }
    Ok(response.map(|body| GuardedBody::new(body, guard, failure)))
}

/// The status in a transport's error (tonic-web-wasm-client wraps a
/// `Status` in its own error type; tonic finds it in the source chain).
pub(crate) fn status_of(error: impl Into<BoxError>) -> Status {
    Status::from_error(error.into())
}

/// The relative deadline set with `tonic::Request::set_timeout`, if any.
fn announced_timeout(request: &Request<Body>) -> Result<Option<std::time::Duration>, Status> {
    let Some(value) = request.headers().get(grpc_timeout::HEADER) else {
        return Ok(None);
    };
    grpc_timeout::parse(value.as_bytes())
        .map(Some)
        .map_err(|e| Status::invalid_argument(e.to_string()))
}
