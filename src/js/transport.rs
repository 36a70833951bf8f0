//! gRPC-Web over `fetch` for the JS path, written here rather than taken
//! from tonic + tonic-web: their code and the `http` crate's were most of
//! the package's size, and a call needs only this much: one POST, the
//! 5-byte message frames and the trailers frame (cut by [`Frames`], which
//! also enforces the receive limit), and the status from the headers (a
//! trailers-only response) or the trailers, all raced against the call's
//! guard (its signal and deadline). Dropping a [`Call`] aborts its fetch,
//! so the server sees the disconnect.
use std::{future::poll_fn, pin::pin, task::Poll};

use wasm_bindgen::{JsCast, JsValue};
use web_sys::Headers;

use crate::{
    browser::{
        AbortOnDrop, Chunks, HIDDEN_STATUS, describe, fetch_failure_message, is_cross_origin,
        network_failure_message, post,
    },
    frames::{self, Frame, Frames},
    guard::Guard,
    js::value::array_from,
    status::{Code, Failure, http_failure},
};

/// How a call failed, with the response's headers and trailers when there
/// were any.
pub(crate) struct CallError {
    pub failure: Failure,
    pub metadata: Option<Headers>,
}

impl From<Failure> for CallError {
    fn from(failure: Failure) -> Self {
        Self {
            failure,
            metadata: None,
        }
    }
}

/// A call whose response has begun: its messages, then its trailers.
pub(crate) struct Call {
    headers: Headers,
    trailers: Option<Headers>,
    /// The body and its fetch's abort; gone once the call is over.
    body: Option<(Chunks, AbortOnDrop)>,
    frames: Frames,
    /// A CORS response (its headers are only those the server exposes).
    cross_origin: bool,
    guard: Guard,
}

/// Sends the request (through `fetch` when the caller gave one); resolves
/// once the response's headers are in. A reply frame over `max_receive`
/// bytes fails the call (RESOURCE_EXHAUSTED).
pub(crate) async fn open(
    url: &str,
    headers: &Headers,
    body: &[u8],
    mut guard: Guard,
    max_receive: usize,
    fetch: Option<&js_sys::Function>,
) -> Result<Call, CallError> {
    guard.check()?;
    let (response, abort) = post(url, headers, &frame(body), fetch)
        .map_err(|e| Failure::new(Code::INTERNAL, describe(&e)))?;
    guard.fetch_link().link(abort.controller());
    let mut response = pin!(response);
    let response = poll_fn(|cx| {
        // The signal's verdict first, so an abort racing the response still cancels.
        if let Poll::Ready(failure) = guard.poll_fired(cx) {
            return Poll::Ready(Err(failure));
        }
        response
            .as_mut()
            .poll(cx)
            .map_err(|e| Failure::new(Code::UNAVAILABLE, fetch_failure_message(&e)))
    })
    .await?;
    // On the error paths `abort` is dropped, which aborts the fetch.
    let response: web_sys::Response = response.unchecked_into();
    let headers = response.headers();
    let get = |name: &str| headers.get(name).ok().flatten();
    let grpc_status = get("grpc-status");
    if let Some(failure) = http_failure(
        response.status(),
        get("content-type").as_deref(),
        grpc_status.is_some(),
    ) {
        return Err(CallError {
            failure,
            metadata: Some(headers),
        });
    }
    let cross_origin = is_cross_origin(&response);
    let mut call = Call {
        trailers: None,
        body: response.body().map(|b| (Chunks::new(b), abort)),
        frames: Frames::new(max_receive, "maxReceiveMessageBytes"),
        cross_origin,
        guard,
        headers,
    };
    if grpc_status.is_some() {
        // Trailers-only: the status is in the headers and no body follows.
        let headers = call.headers.clone();
        call.end(headers)?;
    }
    Ok(call)
}

impl Call {
    pub fn headers(&self) -> &Headers {
        &self.headers
    }

    /// The trailers, once the last message has been read.
    pub fn trailers(&self) -> Option<&Headers> {
        self.trailers.as_ref()
    }

    /// The next message's bytes; `None` after the last, with an OK status.
    pub async fn message(&mut self) -> Result<Option<Vec<u8>>, CallError> {
        loop {
            match self.frames.next() {
                Ok(Some(Frame::Message(payload))) => return Ok(Some(payload)),
                Ok(Some(Frame::Trailers(block))) => {
                    self.end(trailers(&block))?;
                    return Ok(None);
                }
                Ok(None) => {}
                Err(failure) => return Err(self.fail(failure.code, failure.message)),
            }
            let Some((chunks, _)) = &mut self.body else {
                return Ok(None);
            };
            let guard = &mut self.guard;
            let chunk = poll_fn(|cx| {
                if let Poll::Ready(failure) = guard.poll_fired(cx) {
                    return Poll::Ready(Err(failure));
                }
                chunks.poll_chunk(cx).map(|c| match c {
                    Some(Ok(bytes)) => Ok(Some(bytes)),
                    Some(Err(error)) => Err(network_failure(&error)),
                    None => Ok(None),
                })
            })
            .await;
            let failure = match chunk {
                // A frame over the limit fails here, before its body is buffered.
                Ok(Some(bytes)) => match self.frames.push(&bytes) {
                    Ok(()) => continue,
                    Err(failure) => failure,
                },
                Ok(None) if self.frames.in_frame() => {
                    Failure::new(Code::INTERNAL, "the response ended inside a frame")
                }
                Ok(None) if self.cross_origin => Failure::new(Code::INTERNAL, HIDDEN_STATUS),
                Ok(None) => {
                    Failure::new(Code::INTERNAL, "the response ended without a grpc-status")
                }
                Err(failure) => failure,
            };
            return Err(self.fail(failure.code, failure.message));
        }
    }

    /// The call is over with the status in `trailers`: the fetch, its
    /// listener and its timer are released.
    fn end(&mut self, trailers: Headers) -> Result<(), CallError> {
        self.body = None;
        self.guard = Guard::new(None, None);
        let get = |name: &str| trailers.get(name).ok().flatten();
        let failure = frames::status(
            get("grpc-status").as_deref(),
            get("grpc-message").as_deref(),
        );
        self.trailers = Some(trailers);
        match failure {
            None => Ok(()),
            Some(failure) => Err(self.fail(failure.code, failure.message)),
        }
    }

    /// A failure carrying the headers and trailers seen so far; the fetch
    /// is aborted.
    fn fail(&mut self, code: Code, message: impl Into<String>) -> CallError {
        self.body = None;
        let metadata = Headers::new_with_headers(&self.headers).ok();
        // A trailers-only response's trailers are its headers: once is enough.
        let separate =
            |t: &&Headers| AsRef::<JsValue>::as_ref(*t) != AsRef::<JsValue>::as_ref(&self.headers);
        if let (Some(all), Some(trailers)) = (&metadata, self.trailers.as_ref().filter(separate))
            && let Ok(entries) = array_from(trailers)
        {
            for pair in entries.iter() {
                let pair: js_sys::Array = pair.unchecked_into();
                let (name, value) = (pair.get(0), pair.get(1));
                if let (Some(name), Some(value)) = (name.as_string(), value.as_string()) {
                    let _ = all.append(&name, &value);
                }
            }
        }
        CallError {
            failure: Failure::new(code, message),
            metadata,
        }
    }
}

fn network_failure(error: &JsValue) -> Failure {
    Failure::new(Code::UNAVAILABLE, network_failure_message(error))
}

/// A message as gRPC frames it: flags (0: not compressed), length, bytes.
fn frame(message: &[u8]) -> Vec<u8> {
    let mut out = Vec::with_capacity(5 + message.len());
    out.push(0);
    out.extend_from_slice(&(message.len() as u32).to_be_bytes());
    out.extend_from_slice(message);
    out
}

/// The trailers frame as `Headers`.
fn trailers(block: &[u8]) -> Headers {
    let headers = Headers::new().expect("Headers is constructible");
    for (name, value) in frames::trailer_lines(block) {
        // A line the browser's Headers refuses carries nothing we can use.
        let _ = headers.append(name, value);
    }
    headers
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn frames_carry_flags_and_a_big_endian_length() {
        assert_eq!(frame(b"ab"), [0, 0, 0, 0, 2, b'a', b'b']);
        assert_eq!(frame(b""), [0, 0, 0, 0, 0]);
    }
}
