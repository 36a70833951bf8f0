//! One call from JS, unary or the opening of a stream: validate the options,
//! encode the request by the schema, send it over the lean gRPC-Web
//! transport under the call's signal and deadline, decode the reply, and
//! turn a failure into a `GrpcError`.
use std::rc::Rc;

use js_sys::{Function, Promise};
use wasm_bindgen::prelude::*;
use web_sys::{AbortSignal, Headers};

use super::{
    decode::decode,
    encode::encode,
    error::{grpc_error, type_error},
    options::CallOptions,
    promise::promise,
    registry,
    transport::{self, Call, CallError},
};
use crate::{
    ascii::{digits, join, trim_end},
    guard::Guard,
    schema::Schema,
    status::{Code, Failure},
};

/// A call checked and encoded, ready to send.
pub(crate) struct Prepared {
    schema: Rc<Schema>,
    output: usize,
    url: String,
    body: Vec<u8>,
    options: CallOptions,
}

/// Checks everything a call needs before anything is sent: a bad option or
/// message is a `TypeError` and no request leaves the browser.
pub(crate) fn prepare(
    schema: u32,
    base_url: &JsValue,
    defaults: &JsValue,
    path: &JsValue,
    request: &JsValue,
    options: &JsValue,
    server_streaming: bool,
) -> Result<Prepared, JsValue> {
    // Strings the runtime's JS always passes, read here once for both
    // exports: as `String` arguments, each export's shim and glue copied
    // them in on its own (issue 17).
    let (base_url, path) = (
        base_url.as_string().unwrap_or_default(),
        path.as_string().unwrap_or_default(),
    );
    let path = path.as_str();
    let schema = registry::schema(schema)?;
    let method = schema
        .method(path)
        .filter(|m| m.server_streaming == server_streaming && !m.client_streaming)
        .ok_or_else(|| type_error(&join(&[path, " is not a method this client can call"])))?;
    let (input, output) = (method.input, method.output);
    let options = CallOptions::from_js(defaults)?.merged(CallOptions::from_js(options)?);
    let body = encode(&schema, input, request)?;
    if body.len() as u64 > options.max_send() {
        let failure = Failure::new(
            Code::RESOURCE_EXHAUSTED,
            join(&[
                "the request message of ",
                &digits(body.len() as u64),
                " bytes is over the limit of ",
                &digits(options.max_send()),
                " bytes (maxSendMessageBytes)",
            ]),
        );
        return Err(grpc_error(&failure, None, None));
    }
    Ok(Prepared {
        output,
        url: join(&[trim_end(&base_url, b'/'), path]),
        schema,
        body,
        options,
    })
}

impl Prepared {
    /// Sends the request with the options' signal (and `extra`, a stream's
    /// own) and deadline; the response headers go to `onHeader`.
    pub async fn open(&self, extra: Option<&AbortSignal>) -> Result<Call, JsValue> {
        let deadline = self.options.deadline();
        let headers = self.options.headers();
        let set = |name: &str, value: &str| headers.set(name, value);
        set("content-type", "application/grpc-web+proto")?;
        set("x-grpc-web", "1")?;
        if let Some(deadline) = deadline {
            // What is left now, rounded down: the server's deadline is never later than ours.
            set(
                grpc_timeout::HEADER,
                &grpc_timeout::encode(deadline.remaining()),
            )?;
        }
        let guard = Guard::new(self.options.signal_with(extra), deadline);
        let call = transport::open(
            &self.url,
            &headers,
            &self.body,
            guard,
            self.options.max_receive(),
            self.options.fetch.as_ref(),
        )
        .await
        .map_err(|e| self.failure(e))?;
        notify(&self.options.on_header, call.headers())?;
        Ok(call)
    }

    /// The next reply as a JS object; `None` after the last, when the
    /// trailers have gone to `onTrailer`.
    pub async fn next(&self, call: &mut Call) -> Result<Option<JsValue>, JsValue> {
        match call.message().await.map_err(|e| self.failure(e))? {
            Some(bytes) => self.decode(&bytes).map(Some),
            None => {
                if let Some(trailers) = call.trailers() {
                    notify(&self.options.on_trailer, trailers)?;
                }
                Ok(None)
            }
        }
    }

    /// A reply message as a JS object; bytes that do not decode are INTERNAL.
    fn decode(&self, bytes: &[u8]) -> Result<JsValue, JsValue> {
        decode(&self.schema, self.output, bytes).map_err(|e| {
            let name = &self.schema.messages[self.output].full_name;
            self.failure(
                Failure::new(
                    Code::INTERNAL,
                    join(&["the reply is not a valid ", name, ": ", &e]),
                )
                .into(),
            )
        })
    }

    /// The `GrpcError`; when the caller's signal ended the call, its reason
    /// is the `cause`.
    pub fn failure(&self, error: CallError) -> JsValue {
        let by_signal = matches!(
            error.failure.code,
            Code::CANCELLED | Code::DEADLINE_EXCEEDED
        );
        let cause = self
            .options
            .signal
            .as_ref()
            .filter(|s| by_signal && s.aborted())
            .map(AbortSignal::reason);
        grpc_error(&error.failure, error.metadata, cause)
    }
}

/// A unary call: a promise of the reply object, or a `GrpcError` / `TypeError`.
#[wasm_bindgen]
pub fn unary(
    schema: u32,
    #[wasm_bindgen(js_name = baseUrl)] base_url: JsValue,
    defaults: JsValue,
    path: JsValue,
    request: JsValue,
    options: JsValue,
) -> Promise {
    let prepared = prepare(
        schema, &base_url, &defaults, &path, &request, &options, false,
    );
    promise(async move {
        let call = prepared?;
        let mut stream = call.open(None).await?;
        let Some(reply) = call.next(&mut stream).await? else {
            let missing = Failure::new(Code::INTERNAL, "the server sent no reply message");
            return Err(call.failure(missing.into()));
        };
        // The trailers (and the status in them) follow the one message.
        match call.next(&mut stream).await? {
            None => Ok(reply),
            Some(_) => {
                let extra = Failure::new(Code::INTERNAL, "the server sent more than one reply");
                Err(call.failure(extra.into()))
            }
        }
    })
}

/// Calls `callback` (`onHeader`, `onTrailer`) with `metadata`, if there is
/// one; what it throws fails the call.
fn notify(callback: &Option<Function>, metadata: &Headers) -> Result<(), JsValue> {
    match callback {
        Some(f) => f.call1(&JsValue::UNDEFINED, metadata).map(drop),
        None => Ok(()),
    }
}
