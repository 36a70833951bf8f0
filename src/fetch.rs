//! The transport: one `fetch` per call, whose `AbortController` aborts it when
//! the call (before the response) or its response body (after) is dropped, so
//! the server sees the disconnect. gRPC-Web framing is tonic-web's; the body
//! refuses a frame over the receive limit at its header, before tonic-web
//! would buffer it.
use std::{
    future::Future,
    pin::Pin,
    task::{Context, Poll, ready},
};

use bytes::Bytes;
use http::{HeaderMap, Request, Response};
use http_body::{Body, Frame};
use http_body_util::BodyExt;
use js_sys::Array;
use tonic::Status;
use tonic_web::GrpcWebCall;
use tower_service::Service;
use wasm_bindgen::{JsCast, JsValue};

use crate::{
    body::BodyFailure,
    browser::{
        AbortOnDrop, Chunks, HIDDEN_STATUS, describe, fetch_failure_message, is_cross_origin,
        network_failure_message, post,
    },
    frames::{DEFAULT_MAX_RECEIVE, FrameLimit},
    guard::FetchLink,
    status::http_failure,
    unshared::Unshared,
};

/// `fetch` to a gRPC-Web server at a base URL.
#[derive(Clone, Debug)]
pub struct Fetch {
    base_url: String,
}

impl Fetch {
    pub fn new(base_url: impl Into<String>) -> Self {
        let mut base_url = base_url.into();
        base_url.truncate(base_url.trim_end_matches('/').len());
        Self { base_url }
    }
}

impl Service<Request<GrpcWebCall<tonic::body::Body>>> for Fetch {
    type Response = Response<FetchBody>;
    type Error = Status;
    type Future = Pin<Box<dyn Future<Output = Result<Self::Response, Status>>>>;

    fn poll_ready(&mut self, _: &mut Context<'_>) -> Poll<Result<(), Status>> {
        Poll::Ready(Ok(()))
    }

    fn call(&mut self, request: Request<GrpcWebCall<tonic::body::Body>>) -> Self::Future {
        Box::pin(fetch(self.base_url.clone(), request))
    }
}

async fn fetch(
    base_url: String,
    request: Request<GrpcWebCall<tonic::body::Body>>,
) -> Result<Response<FetchBody>, Status> {
    let (parts, body) = request.into_parts();
    // At most 2 GiB - 1: tonic-web adds a frame's length to the bytes it
    // holds in a usize, which a larger one could overflow on wasm32.
    let limit = parts
        .extensions
        .get::<ReceiveLimit>()
        .map_or(DEFAULT_MAX_RECEIVE, |l| l.0)
        .min(i32::MAX as usize);
    let path = parts.uri.path_and_query().map_or("/", |p| p.as_str());
    let body = body.collect().await?.to_bytes();

    let headers = web_sys::Headers::new().map_err(js_failure)?;
    for (name, value) in &parts.headers {
        let value = value
            .to_str()
            .map_err(|_| Status::internal("non-ASCII request metadata"))?;
        // The browser silently drops what it forbids (`te`, for one).
        headers.append(name.as_str(), value).map_err(js_failure)?;
    }
    headers.set("x-grpc-web", "1").map_err(js_failure)?;

    let (response, abort) =
        post(&format!("{base_url}{path}"), &headers, &body, None).map_err(js_failure)?;
    if let Some(link) = parts.extensions.get::<FetchLink>() {
        link.link(abort.controller());
    }
    // If this future is dropped here, `abort` goes with it and aborts the fetch.
    let response: web_sys::Response = response
        .await
        .map_err(|e| Status::unavailable(fetch_failure_message(&e)))?
        .unchecked_into();

    let mut head = Response::builder().status(response.status());
    let header_map = head.headers_mut().expect("a fresh builder");
    read_headers(&response.headers(), header_map);
    let content_type = header_map
        .get(http::header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok());
    if let Some(failure) = http_failure(
        response.status(),
        content_type,
        header_map.contains_key("grpc-status"),
    ) {
        return Err(failure.into());
    }
    let status_may_hide = is_cross_origin(&response) && !header_map.contains_key("grpc-status");
    let mut body = FetchBody::new(response.body(), abort, limit);
    body.status_may_hide = status_may_hide;
    body.failure = parts.extensions.get::<BodyFailure>().cloned();
    head.body(body).map_err(|e| Status::internal(e.to_string()))
}

fn read_headers(headers: &web_sys::Headers, into: &mut HeaderMap) {
    let Ok(Some(entries)) = js_sys::try_iter(headers) else {
        return;
    };
    for pair in entries.flatten() {
        let pair: Array = pair.unchecked_into();
        let (Some(name), Some(value)) = (pair.get(0).as_string(), pair.get(1).as_string()) else {
            continue;
        };
        if let (Ok(name), Ok(value)) = (
            http::HeaderName::from_bytes(name.as_bytes()),
            http::HeaderValue::from_str(&value),
        ) {
            into.append(name, value);
        }
    }
}

fn network_failure(error: &JsValue) -> Status {
    Status::unavailable(network_failure_message(error))
}

fn js_failure(error: JsValue) -> Status {
    Status::internal(describe(&error))
}

/// The most bytes a reply message may have, set by
/// [`Channel::max_decoding_message_size`](crate::Channel::max_decoding_message_size)
/// in a request's extensions.
#[derive(Clone, Copy, Debug)]
pub(crate) struct ReceiveLimit(pub usize);

/// The response body as it streams in; dropping it aborts the fetch.
pub struct FetchBody {
    live: Unshared<Option<(Chunks, AbortOnDrop, FrameLimit)>>,
    /// A cross-origin response with no visible grpc-status: if no trailers
    /// frame comes either, CORS hid the status (see [`HIDDEN_STATUS`]).
    status_may_hide: bool,
    /// Where the status it fails with is told (see [`BodyFailure`]).
    failure: Option<BodyFailure>,
}

impl FetchBody {
    fn new(stream: Option<web_sys::ReadableStream>, abort: AbortOnDrop, limit: usize) -> Self {
        Self {
            live: Unshared(stream.map(|s| (Chunks::new(s), abort, FrameLimit::new(limit)))),
            status_may_hide: false,
            failure: None,
        }
    }

    /// Ends the body with `status`: dropping the fetch's reader aborts it.
    fn fail(&mut self, status: Status) -> Poll<Option<Result<Frame<Bytes>, Status>>> {
        self.live.0 = None;
        if let Some(failure) = &self.failure {
            failure.set(&status);
        }
        Poll::Ready(Some(Err(status)))
    }
}

impl Body for FetchBody {
    type Data = Bytes;
    type Error = Status;

    fn poll_frame(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
    ) -> Poll<Option<Result<Frame<Bytes>, Status>>> {
        let this = self.get_mut();
        let live = &mut this.live.0;
        let Some((chunks, _, limit)) = live else {
            return Poll::Ready(None);
        };
        match ready!(chunks.poll_chunk(cx)) {
            Some(Ok(mut chunk)) => match limit.check(&chunk) {
                Ok(None) => Poll::Ready(Some(Ok(Frame::data(chunk.into())))),
                // The trailers end the call: the rest is not read, and the
                // fetch is let go (`FrameLimit::check`).
                Ok(Some(end)) => {
                    chunk.truncate(end);
                    *live = None;
                    Poll::Ready(Some(Ok(Frame::data(chunk.into()))))
                }
                // The server sees the cancel.
                Err(failure) => this.fail(failure.into()),
            },
            Some(Err(error)) => this.fail(network_failure(&error)),
            None if this.status_may_hide && !limit.saw_trailers() => {
                this.fail(Status::internal(HIDDEN_STATUS))
            }
            None => {
                *live = None;
                Poll::Ready(None)
            }
        }
    }
}
