//! The transport: one `fetch` per call, whose `AbortController` aborts it when
//! the call (before the response) or its response body (after) is dropped, so
//! the server sees the disconnect. gRPC-Web framing is tonic-web's.
use std::{
    future::Future,
    pin::Pin,
    task::{Context, Poll, ready},
};

use bytes::Bytes;
use http::{HeaderMap, Request, Response};
use http_body::{Body, Frame};
use http_body_util::BodyExt;
use js_sys::{Array, Promise, Uint8Array};
use tonic::Status;
use tonic_web::GrpcWebCall;
use tower_service::Service;
use wasm_bindgen::{JsCast, JsValue, prelude::wasm_bindgen};
use wasm_bindgen_futures::JsFuture;
use web_sys::{AbortController, RequestInit};

use crate::{status::check_http_response, unshared::Unshared};

#[wasm_bindgen]
extern "C" {
    // The global `fetch`, in windows and workers alike.
    #[wasm_bindgen(js_name = fetch)]
    fn global_fetch(request: &web_sys::Request) -> Promise;
}

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

    let abort = AbortOnDrop(AbortController::new().map_err(js_failure)?);
    let init = RequestInit::new();
    init.set_method("POST");
    init.set_headers(&headers);
    init.set_body(&Uint8Array::from(body.as_ref()));
    init.set_signal(Some(&abort.0.signal()));
    let request = web_sys::Request::new_with_str_and_init(&format!("{base_url}{path}"), &init)
        .map_err(js_failure)?;

    // If this future is dropped here, `abort` goes with it and aborts the fetch.
    let response: web_sys::Response = JsFuture::from(global_fetch(&request))
        .await
        .map_err(network_failure)?
        .unchecked_into();

    let mut head = Response::builder().status(response.status());
    let header_map = head.headers_mut().expect("a fresh builder");
    read_headers(&response.headers(), header_map);
    check_http_response(response.status(), header_map)?;
    let body = FetchBody::new(response.body(), abort);
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

/// `fetch` rejects (and a body stream errors) only when the network, or CORS,
/// which a page cannot tell apart from it, failed.
fn network_failure(error: JsValue) -> Status {
    Status::unavailable(format!("fetch failed: {}", describe(&error)))
}

fn js_failure(error: JsValue) -> Status {
    Status::internal(describe(&error))
}

fn describe(error: &JsValue) -> String {
    js_sys::Reflect::get(error, &"message".into())
        .ok()
        .and_then(|m| m.as_string())
        .unwrap_or_else(|| format!("{error:?}"))
}

/// Aborts its fetch when dropped (a no-op once the response has been read).
struct AbortOnDrop(AbortController);

impl Drop for AbortOnDrop {
    fn drop(&mut self) {
        self.0.abort();
    }
}

/// The response body as it streams in; dropping it aborts the fetch.
pub struct FetchBody {
    live: Unshared<Option<(Chunks, AbortOnDrop)>>,
}

impl FetchBody {
    fn new(stream: Option<web_sys::ReadableStream>, abort: AbortOnDrop) -> Self {
        let live = stream.map(|s| {
            let reader = s.get_reader().unchecked_into();
            (
                Chunks {
                    reader,
                    pending: None,
                },
                abort,
            )
        });
        Self {
            live: Unshared(live),
        }
    }
}

/// The chunks of a `ReadableStream`, one `read()` at a time.
struct Chunks {
    reader: web_sys::ReadableStreamDefaultReader,
    pending: Option<JsFuture>,
}

impl Chunks {
    /// The next chunk; `None` at the end of the stream.
    fn poll_chunk(&mut self, cx: &mut Context<'_>) -> Poll<Option<Result<Bytes, JsValue>>> {
        let reader = &self.reader;
        let read = self
            .pending
            .get_or_insert_with(|| JsFuture::from(reader.read()));
        let result = ready!(Pin::new(read).poll(cx));
        self.pending = None;
        let result = match result {
            Ok(result) => result,
            Err(error) => return Poll::Ready(Some(Err(error))),
        };
        let field = |name: &str| js_sys::Reflect::get(&result, &name.into()).unwrap_or_default();
        if field("done").as_bool() == Some(true) {
            return Poll::Ready(None);
        }
        let chunk: Uint8Array = field("value").unchecked_into();
        Poll::Ready(Some(Ok(chunk.to_vec().into())))
    }
}

impl Body for FetchBody {
    type Data = Bytes;
    type Error = Status;

    fn poll_frame(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
    ) -> Poll<Option<Result<Frame<Bytes>, Status>>> {
        let live = &mut self.get_mut().live.0;
        let Some((chunks, _)) = live else {
            return Poll::Ready(None);
        };
        match ready!(chunks.poll_chunk(cx)) {
            Some(Ok(chunk)) => Poll::Ready(Some(Ok(Frame::data(chunk)))),
            Some(Err(error)) => {
                *live = None;
                Poll::Ready(Some(Err(network_failure(error))))
            }
            None => {
                *live = None;
                Poll::Ready(None)
            }
        }
    }
}
