//! gRPC-Web over `fetch` for the JS path, written here rather than taken
//! from tonic + tonic-web: their code and the `http` crate's were most of
//! the package's size, and a call needs only this much: one POST, the
//! 5-byte message frames, the trailers frame, and the status from the
//! headers (a trailers-only response) or the trailers, all raced against
//! the call's guard (its signal and deadline). Dropping a [`Call`] aborts
//! its fetch, so the server sees the disconnect.
use std::{future::poll_fn, pin::pin, task::Poll};

use wasm_bindgen::{JsCast, JsValue};
use web_sys::Headers;

use crate::{
    browser::{AbortOnDrop, Chunks, describe, network_failure_message, post},
    guard::Guard,
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
    buffer: Vec<u8>,
    guard: Guard,
}

/// Sends the request; resolves once the response's headers are in.
pub(crate) async fn open(
    url: &str,
    headers: &Headers,
    body: &[u8],
    mut guard: Guard,
) -> Result<Call, CallError> {
    guard.check()?;
    let (response, abort) =
        post(url, headers, &frame(body)).map_err(|e| Failure::new(Code::INTERNAL, describe(&e)))?;
    let mut response = pin!(response);
    let response = poll_fn(|cx| {
        // The signal's verdict first, so an abort racing the response still cancels.
        if let Poll::Ready(failure) = guard.poll_fired(cx) {
            return Poll::Ready(Err(failure));
        }
        response.as_mut().poll(cx).map_err(|e| network_failure(&e))
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
    let mut call = Call {
        trailers: None,
        body: response.body().map(|b| (Chunks::new(b), abort)),
        buffer: Vec::new(),
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
            if let Some((flags, payload)) = self.take_frame() {
                match flags {
                    0x00 => return Ok(Some(payload)),
                    0x80 => {
                        self.end(trailers(&payload))?;
                        return Ok(None);
                    }
                    _ => return Err(self.fail(Code::INTERNAL, "a compressed or unknown frame")),
                }
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
            match chunk {
                Ok(Some(bytes)) => self.buffer.extend_from_slice(&bytes),
                Ok(None) => {
                    let problem = if self.buffer.is_empty() {
                        "the response ended without a grpc-status"
                    } else {
                        "the response ended inside a frame"
                    };
                    return Err(self.fail(Code::INTERNAL, problem));
                }
                Err(failure) => return Err(self.fail(failure.code, failure.message)),
            }
        }
    }

    /// One whole frame from the buffer: its flags and payload.
    fn take_frame(&mut self) -> Option<(u8, Vec<u8>)> {
        let header = self.buffer.get(..5)?;
        let len = u32::from_be_bytes([header[1], header[2], header[3], header[4]]) as usize;
        if self.buffer.len() < 5 + len {
            return None;
        }
        let flags = header[0];
        let payload = self.buffer[5..5 + len].to_vec();
        self.buffer.drain(..5 + len);
        Some((flags, payload))
    }

    /// The call is over with the status in `trailers`: the fetch, its
    /// listener and its timer are released.
    fn end(&mut self, trailers: Headers) -> Result<(), CallError> {
        self.body = None;
        self.guard = Guard::new(None, None);
        let get = |name: &str| trailers.get(name).ok().flatten();
        let code = get("grpc-status").map_or(Code::UNKNOWN, |n| Code::from_number(&n));
        let message = get("grpc-message").map(|m| percent_decode(&m));
        self.trailers = Some(trailers);
        match (code, message) {
            (Code::OK, _) => Ok(()),
            (code, message) => Err(self.fail(code, message.unwrap_or_default())),
        }
    }

    /// A failure carrying the headers and trailers seen so far; the fetch
    /// is aborted.
    fn fail(&mut self, code: Code, message: impl Into<String>) -> CallError {
        self.body = None;
        let metadata = Headers::new_with_headers(&self.headers).ok();
        if let (Some(all), Some(trailers)) = (&metadata, &self.trailers)
            && let Ok(Some(entries)) = js_sys::try_iter(trailers)
        {
            for pair in entries.flatten() {
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

/// The trailers frame: `name: value` lines separated by CRLF.
fn trailers(block: &[u8]) -> Headers {
    let headers = Headers::new().expect("Headers is constructible");
    for (name, value) in trailer_lines(block) {
        // A line the browser's Headers refuses carries nothing we can use.
        let _ = headers.append(name, value);
    }
    headers
}

fn trailer_lines(block: &[u8]) -> impl Iterator<Item = (&str, &str)> {
    std::str::from_utf8(block)
        .unwrap_or_default()
        .split('\n')
        .filter_map(|line| line.split_once(':'))
        .map(|(name, value)| (name.trim(), value.trim()))
}

/// `grpc-message` is percent-encoded UTF-8; anything undecodable stays as sent.
fn percent_decode(text: &str) -> String {
    let bytes = text.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        let hex = |b: u8| (b as char).to_digit(16);
        if bytes[i] == b'%'
            && let (Some(h), Some(l)) = (
                bytes.get(i + 1).and_then(|&b| hex(b)),
                bytes.get(i + 2).and_then(|&b| hex(b)),
            )
        {
            out.push((h * 16 + l) as u8);
            i += 3;
        } else {
            out.push(bytes[i]);
            i += 1;
        }
    }
    String::from_utf8(out).unwrap_or_else(|_| text.to_string())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn frames_carry_flags_and_a_big_endian_length() {
        assert_eq!(frame(b"ab"), [0, 0, 0, 0, 2, b'a', b'b']);
        assert_eq!(frame(b""), [0, 0, 0, 0, 0]);
    }

    #[test]
    fn trailer_lines_split_on_crlf_and_the_first_colon() {
        let block = b"grpc-status:0\r\ngrpc-message: a: b \r\nx-b: 1\r\n";
        let lines: Vec<_> = trailer_lines(block).collect();
        assert_eq!(
            lines,
            [("grpc-status", "0"), ("grpc-message", "a: b"), ("x-b", "1")]
        );
        assert_eq!(trailer_lines(b"\xff").count(), 0);
    }

    #[test]
    fn grpc_messages_are_percent_decoded() {
        assert_eq!(percent_decode("a%20b%E2%9C%93"), "a b✓");
        assert_eq!(percent_decode("100%"), "100%");
        assert_eq!(percent_decode("%zz"), "%zz");
        assert_eq!(percent_decode("%ff"), "%ff");
    }
}
