//! A server stream from JS: the `MessageStream` async iterator (`stream.js`)
//! over a tonic `Streaming`. The call starts at the first `next()`;
//! `return()` aborts a controller of our own that joins the caller's signal.
use std::{cell::RefCell, future::Future, rc::Rc};

use js_sys::{Function, Promise};
use tonic::{Status, codec::Streaming};
use wasm_bindgen::{JsValue, prelude::*};
use wasm_bindgen_futures::future_to_promise;
use web_sys::{AbortController, AbortSignal};

use super::{
    call::{failure, prepare},
    messages::{FromJs, ToJs},
    options::CallOptions,
};

#[wasm_bindgen(module = "/src/js/stream.js")]
extern "C" {
    type MessageStream;

    #[wasm_bindgen(constructor)]
    fn new(next: &Function, cancel: &Function) -> MessageStream;
}

enum State<Req, Res, Open> {
    NotStarted(Result<(Req, CallOptions), JsValue>, Open),
    Open(Streaming<Res>, Option<AbortSignal>),
    /// A `next()` holds the stream while it waits.
    Reading,
    Done,
}

/// An async iterable of `Res` as JS objects; `open` starts the tonic call.
pub(crate) fn server_stream<Req, Res, Open, Fut>(
    defaults: &CallOptions,
    message: JsValue,
    options: JsValue,
    open: Open,
) -> JsValue
where
    Req: FromJs + 'static,
    Res: ToJs + 'static,
    Open: FnOnce(tonic::Request<Req>) -> Fut + 'static,
    Fut: Future<Output = Result<tonic::Response<Streaming<Res>>, Status>> + 'static,
{
    let prepared = prepare::<Req>(defaults, &message, &options);
    let state = Rc::new(RefCell::new(State::NotStarted(prepared, open)));
    let returned = AbortController::new().expect("AbortController is constructible");

    let next = {
        let (state, own) = (state.clone(), returned.signal());
        Closure::<dyn FnMut() -> Promise>::new(move || {
            future_to_promise(next_message(state.clone(), own.clone()))
        })
    };
    let cancel = Closure::<dyn FnMut()>::new(move || {
        // A read in progress fails fast on this abort and then sees `Done`.
        returned.abort();
        *state.borrow_mut() = State::Done;
    });
    MessageStream::new(
        next.into_js_value().unchecked_ref(),
        cancel.into_js_value().unchecked_ref(),
    )
    .into()
}

/// The next message as a JS object, `undefined` at the end.
async fn next_message<Req, Res, Open, Fut>(
    state: Rc<RefCell<State<Req, Res, Open>>>,
    own: AbortSignal,
) -> Result<JsValue, JsValue>
where
    Res: ToJs,
    Open: FnOnce(tonic::Request<Req>) -> Fut,
    Fut: Future<Output = Result<tonic::Response<Streaming<Res>>, Status>>,
{
    let current = std::mem::replace(&mut *state.borrow_mut(), State::Reading);
    let (mut stream, signal) = match current {
        State::NotStarted(prepared, open) => {
            let (message, options) = prepared.inspect_err(|_| *state.borrow_mut() = State::Done)?;
            let signal = options.signal.clone();
            match open(options.request(message, Some(&own))).await {
                Ok(response) => (response.into_inner(), signal),
                Err(status) => {
                    *state.borrow_mut() = State::Done;
                    return Err(failure(&status, signal.as_ref()));
                }
            }
        }
        State::Open(stream, signal) => (stream, signal),
        State::Reading | State::Done => {
            *state.borrow_mut() = State::Done;
            return Ok(JsValue::UNDEFINED);
        }
    };
    let read = stream.message().await;
    let mut state = state.borrow_mut();
    match read {
        Ok(Some(message)) => {
            if matches!(*state, State::Reading) {
                *state = State::Open(stream, signal);
            }
            Ok(message.to_js())
        }
        Ok(None) => {
            *state = State::Done;
            Ok(JsValue::UNDEFINED)
        }
        Err(status) => {
            *state = State::Done;
            Err(failure(&status, signal.as_ref()))
        }
    }
}
