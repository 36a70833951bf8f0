//! A server stream from JS: `serverStream` returns `{ next, cancel }`, which
//! the runtime's `MessageStream` (an async iterator) drives. The call starts
//! at the first `next()`; `cancel()` (from `return()`/`break`) aborts a
//! controller of our own that joins the caller's signal, so the fetch is
//! aborted and the server sees the disconnect.
use std::{cell::RefCell, rc::Rc};

use js_sys::{Object, Promise, Reflect};
use wasm_bindgen::prelude::*;
use web_sys::{AbortController, AbortSignal};

use super::{
    call::{Prepared, prepare},
    promise::promise,
    transport::Call,
};

enum State {
    NotStarted,
    Open(Call),
    /// A `next()` holds the stream while it waits.
    Reading,
    Done,
}

/// Opens a server stream lazily: `next()` resolves with the next reply
/// object or `undefined` at the end; `cancel()` ends the call.
#[wasm_bindgen(js_name = serverStream)]
pub fn server_stream(
    schema: u32,
    #[wasm_bindgen(js_name = baseUrl)] base_url: JsValue,
    defaults: JsValue,
    path: JsValue,
    request: JsValue,
    options: JsValue,
) -> JsValue {
    let call = Rc::new(prepare(
        schema, &base_url, &defaults, &path, &request, &options, true,
    ));
    let state = Rc::new(RefCell::new(State::NotStarted));
    let returned = AbortController::new().expect("AbortController is constructible");

    let next = {
        let (state, own) = (state.clone(), returned.signal());
        Closure::<dyn FnMut() -> Promise>::new(move || {
            promise(next_message(state.clone(), call.clone(), own.clone()))
        })
    };
    let cancel = Closure::<dyn FnMut()>::new(move || {
        // A read in progress fails fast on this abort and then sees `Done`.
        returned.abort();
        *state.borrow_mut() = State::Done;
    });
    let handle = Object::new();
    // Setting properties of a fresh object cannot fail.
    let _ = Reflect::set(&handle, &"next".into(), &next.into_js_value());
    let _ = Reflect::set(&handle, &"cancel".into(), &cancel.into_js_value());
    handle.into()
}

async fn next_message(
    state: Rc<RefCell<State>>,
    call: Rc<Result<Prepared, JsValue>>,
    own: AbortSignal,
) -> Result<JsValue, JsValue> {
    let call = match &*call {
        Ok(call) => call,
        Err(type_error) => {
            *state.borrow_mut() = State::Done;
            return Err(type_error.clone());
        }
    };
    let current = std::mem::replace(&mut *state.borrow_mut(), State::Reading);
    let mut stream = match current {
        State::NotStarted => match call.open(Some(&own)).await {
            Ok(stream) => stream,
            Err(error) => {
                *state.borrow_mut() = State::Done;
                return Err(error);
            }
        },
        State::Open(stream) => stream,
        State::Reading | State::Done => {
            *state.borrow_mut() = State::Done;
            return Ok(JsValue::UNDEFINED);
        }
    };
    let outcome = match call.next(&mut stream).await {
        Ok(Some(message)) => {
            let mut state = state.borrow_mut();
            if matches!(*state, State::Reading) {
                *state = State::Open(stream);
            }
            return Ok(message);
        }
        Ok(None) => Ok(JsValue::UNDEFINED),
        Err(error) => Err(error),
    };
    // Over, one way or the other; dropping the stream aborts its fetch.
    *state.borrow_mut() = State::Done;
    outcome
}
