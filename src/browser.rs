//! The browser's `fetch`, its abort and its body reader, with no HTTP crate
//! types: shared by the JS path's gRPC-Web transport (`js/transport.rs`) and
//! the tonic transport for Rust frontends (`fetch.rs`).
use std::{
    future::Future,
    pin::Pin,
    task::{Context, Poll, ready},
};

use js_sys::{Promise, Uint8Array};
use wasm_bindgen::{JsCast, JsValue, prelude::wasm_bindgen};
use wasm_bindgen_futures::JsFuture;
use web_sys::{AbortController, Headers, RequestInit};

#[wasm_bindgen]
extern "C" {
    // The global `fetch`, in windows and workers alike.
    #[wasm_bindgen(js_name = fetch)]
    fn global_fetch(request: &web_sys::Request) -> Promise;

    /// Any JS value read as an error (an abort reason, a rejection): its
    /// `name` and `message` by getters in the glue, not `Reflect.get` with
    /// a key string made anew on each read. They fail on `null` and
    /// `undefined`.
    pub(crate) type ErrorLike;
    #[wasm_bindgen(method, getter, structural, catch)]
    pub(crate) fn name(this: &ErrorLike) -> Result<JsValue, JsValue>;
    #[wasm_bindgen(method, getter, structural, catch)]
    pub(crate) fn message(this: &ErrorLike) -> Result<JsValue, JsValue>;

    /// What a body reader's `read()` resolves with, read by getters (as
    /// above: no key strings per chunk).
    type ReadResult;
    #[wasm_bindgen(method, getter, structural)]
    fn done(this: &ReadResult) -> bool;
    #[wasm_bindgen(method, getter, structural)]
    fn value(this: &ReadResult) -> Uint8Array;
}

/// A POST of `body` to `url` with `headers`, abortable through the returned
/// guard: dropping it (or the future, before the response) aborts the fetch.
/// `fetch`: the caller's own function (`CallOptions.fetch`, e.g. a test
/// transport), else the global one.
pub(crate) fn post(
    url: &str,
    headers: &Headers,
    body: &[u8],
    fetch: Option<&js_sys::Function>,
) -> Result<(JsFuture, AbortOnDrop), JsValue> {
    let controller = AbortController::new()?;
    let init = RequestInit::new();
    init.set_method("POST");
    init.set_headers(headers);
    init.set_body(&Uint8Array::from(body));
    init.set_signal(Some(&controller.signal()));
    let request = web_sys::Request::new_with_str_and_init(url, &init)?;
    let response = match fetch {
        // What it throws or returns goes the way of a fetch's rejection or result.
        Some(fetch) => match fetch.call1(&JsValue::UNDEFINED, &request) {
            Ok(value) => Promise::resolve(&value),
            Err(error) => Promise::reject(&error),
        },
        None => global_fetch(&request),
    };
    let abort = AbortOnDrop {
        controller,
        _request: request,
    };
    Ok((JsFuture::from(response), abort))
}

/// Aborts its fetch when dropped (a no-op once the response has been read).
pub(crate) struct AbortOnDrop {
    controller: AbortController,
    /// Held for as long as the call: the fetch's own signal follows this
    /// `Request`'s, which follows the controller's, and WebKit holds a
    /// following signal weakly. Once the `Request` was collected, an abort
    /// no longer reached the fetch: 10 of 100 aborted fetches (WebKitGTK
    /// 2.50, GC pressure while each was pending) went on to the server's
    /// reply, none with the `Request` held.
    _request: web_sys::Request,
}

impl AbortOnDrop {
    /// The fetch's controller, for the call's guard to abort it first.
    pub fn controller(&self) -> &AbortController {
        &self.controller
    }
}

impl Drop for AbortOnDrop {
    fn drop(&mut self) {
        // Without a reason, so each abort makes its own `DOMException`
        // (a cost on every call). One reason made once and shared by every
        // call's abort was tried (issue 17): WebKit then left an aborted
        // call's fetch open now and then (2 of 27 WebKit runs had the
        // server still serving it; 0 of 14 without). That was probably the
        // collected `Request` above, which loses plain aborts alike; the
        // reason was not tried again.
        self.controller.abort();
    }
}

/// The chunks of a response body, one `read()` at a time.
pub(crate) struct Chunks {
    reader: web_sys::ReadableStreamDefaultReader,
    pending: Option<JsFuture>,
}

impl Chunks {
    pub fn new(stream: web_sys::ReadableStream) -> Self {
        Self {
            reader: stream.get_reader().unchecked_into(),
            pending: None,
        }
    }

    /// The next chunk; `None` at the end of the stream. An error means the
    /// network failed (or the fetch was aborted).
    pub fn poll_chunk(&mut self, cx: &mut Context<'_>) -> Poll<Option<Result<Vec<u8>, JsValue>>> {
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
        let result: ReadResult = result.unchecked_into();
        if result.done() {
            return Poll::Ready(None);
        }
        Poll::Ready(Some(Ok(result.value().to_vec())))
    }
}

/// A thrown JS value's `message`, for error texts.
pub(crate) fn describe(error: &JsValue) -> String {
    error
        .unchecked_ref::<ErrorLike>()
        .message()
        .ok()
        .and_then(|m| m.as_string())
        .or_else(|| error.as_string())
        .unwrap_or_else(|| "unknown error".into())
}

/// Whether `response` came from another origin through CORS: its headers
/// are then only those the server exposes.
pub(crate) fn is_cross_origin(response: &web_sys::Response) -> bool {
    js_sys::Reflect::get(response, &"type".into())
        .ok()
        .and_then(|t| t.as_string())
        .is_some_and(|t| t == "cors")
}

/// Why a cross-origin response that ended with no status has none: a
/// trailers-only response's status is in headers the server's CORS must
/// expose.
pub(crate) const HIDDEN_STATUS: &str = "the response ended without a grpc-status; it is a \
    cross-origin response, whose grpc-status the browser hides unless the server's CORS \
    exposes it (Access-Control-Expose-Headers: grpc-status, grpc-message, \
    grpc-status-details-bin)";

/// A body stream errors only when the network failed.
pub(crate) fn network_failure_message(error: &JsValue) -> String {
    crate::ascii::join(&["fetch failed: ", &describe(error)])
}

/// `fetch` rejects with a TypeError when the server could not be reached
/// or, cross-origin, CORS refused the call; the browser hides which, so
/// the message names both.
pub(crate) fn fetch_failure_message(error: &JsValue) -> String {
    let mut message = network_failure_message(error);
    if error.is_instance_of::<js_sys::TypeError>() {
        message.push_str(
            " (the browser does not say why: the server may be down or unreachable, or, \
             for a cross-origin call, its CORS may not allow this origin, method or headers)",
        );
    }
    message
}
