//! One unary call from JS: validate, merge options, send, and translate the
//! outcome into a plain object or a `GrpcError`.
use std::future::Future;

use js_sys::Promise;
use tonic::{Code, Status};
use wasm_bindgen::JsValue;
use wasm_bindgen_futures::future_to_promise;
use web_sys::AbortSignal;

use super::{
    error::grpc_error,
    messages::{FromJs, ToJs},
    options::CallOptions,
};

/// The request message and the effective options, or the `TypeError`.
pub(crate) fn prepare<Req: FromJs>(
    defaults: &CallOptions,
    message: &JsValue,
    options: &JsValue,
) -> Result<(Req, CallOptions), JsValue> {
    let options = defaults.merged(CallOptions::from_js(options)?);
    Ok((Req::from_js(message)?, options))
}

/// A promise of the reply; `send` runs the tonic call.
pub(crate) fn unary<Req, Res, Fut>(
    defaults: &CallOptions,
    message: JsValue,
    options: JsValue,
    send: impl FnOnce(tonic::Request<Req>) -> Fut + 'static,
) -> Promise
where
    Req: FromJs + 'static,
    Res: ToJs,
    Fut: Future<Output = Result<tonic::Response<Res>, Status>> + 'static,
{
    let prepared = prepare::<Req>(defaults, &message, &options);
    future_to_promise(async move {
        let (message, options) = prepared?;
        match send(options.request(message, None)).await {
            Ok(reply) => Ok(reply.into_inner().to_js()),
            Err(status) => Err(failure(&status, options.signal.as_ref())),
        }
    })
}

/// The `GrpcError` for `status`; when the caller's signal ended the call, its
/// reason is the `cause`.
pub(crate) fn failure(status: &Status, signal: Option<&AbortSignal>) -> JsValue {
    let by_signal = matches!(status.code(), Code::Cancelled | Code::DeadlineExceeded);
    let cause = signal
        .filter(|s| by_signal && s.aborted())
        .map(AbortSignal::reason);
    grpc_error(status, cause)
}
