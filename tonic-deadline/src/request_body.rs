//! The request body as the handler reads it, watched for the client leaving
//! before it has fully arrived.
//!
//! A reset stream or a closed connection makes the body fail, or (hyper
//! reads RST_STREAM with NO_ERROR or CANCEL as the body's end) end in the
//! middle of a gRPC message; tonic would answer either with INTERNAL and the
//! call would be counted so. Seen here first, it cancels the call as a
//! disconnect, whose first-recorded outcome sticks; tonic still never hands
//! the handler half a message. (A client that ends its request mid-message
//! on purpose has broken the protocol; it is counted as gone too, and told
//! CANCELLED.)
//!
//! A gRPC-Web-text body that is not base64 is not taken for a client that
//! left: the client is still there, its request is malformed, and tonic
//! answers INTERNAL (see [`is_malformed_text`]).
//!
//! The same framing tells a message's size from its prefix, before the
//! message is read: one over the limit ends the call with RESOURCE_EXHAUSTED
//! naming the limit (tonic's own check answers OUT_OF_RANGE).
use std::{
    pin::Pin,
    task::{Context, Poll, ready},
};

use bytes::Bytes;
use http_body::{Body as HttpBody, Frame, SizeHint};
use tonic::Status;
use tower::BoxError;

use crate::context::{CallContext, CancelReason};

pub(crate) struct RequestBody<B> {
    inner: Pin<Box<B>>,
    /// Let go once the body has ended, so as not to keep the call in flight.
    ctx: Option<CallContext>,
    framing: Framing,
    max_message_bytes: Option<u64>,
}

/// Where the body is in gRPC's length-prefixed framing (1 flag byte, a
/// 4-byte big-endian length, the message).
#[derive(Default)]
struct Framing {
    prefix: Vec<u8>,
    /// Bytes of the current message still to come.
    remaining: u64,
}

impl Framing {
    /// Reads `data`; returns the largest message length announced in it.
    fn read(&mut self, mut data: &[u8]) -> Option<u64> {
        let mut largest = None;
        while !data.is_empty() {
            if self.remaining > 0 {
                let n = data
                    .len()
                    .min(usize::try_from(self.remaining).unwrap_or(usize::MAX));
                self.remaining -= n as u64;
                data = &data[n..];
                continue;
            }
            let n = data.len().min(5 - self.prefix.len());
            self.prefix.extend_from_slice(&data[..n]);
            data = &data[n..];
            if let Ok(prefix) = <[u8; 5]>::try_from(self.prefix.as_slice()) {
                self.remaining =
                    u32::from_be_bytes([prefix[1], prefix[2], prefix[3], prefix[4]]).into();
                largest = largest.max(Some(self.remaining));
                self.prefix.clear();
            }
        }
        largest
    }

    /// Whether a message was cut off.
    fn mid_message(&self) -> bool {
        self.remaining > 0 || !self.prefix.is_empty()
    }
}

impl<B> RequestBody<B> {
    pub(crate) fn new(inner: B, ctx: CallContext, max_message_bytes: Option<usize>) -> Self {
        RequestBody {
            inner: Box::pin(inner),
            ctx: Some(ctx),
            framing: Framing::default(),
            max_message_bytes: max_message_bytes.map(|m| m as u64),
        }
    }
}

impl<B> HttpBody for RequestBody<B>
where
    B: HttpBody<Data = Bytes>,
    B::Error: Into<BoxError>,
{
    type Data = Bytes;
    type Error = BoxError;

    fn poll_frame(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
    ) -> Poll<Option<Result<Frame<Bytes>, BoxError>>> {
        let this = &mut *self;
        let frame = ready!(this.inner.as_mut().poll_frame(cx)).map(|f| f.map_err(Into::into));
        let gone = match &frame {
            Some(Ok(frame)) => {
                let largest = frame.data_ref().and_then(|data| this.framing.read(data));
                if let (Some(len), Some(max)) = (largest, this.max_message_bytes)
                    && len > max
                    && let Some(ctx) = this.ctx.take()
                {
                    ctx.reject(Status::resource_exhausted(format!(
                        "request message of {len} bytes is over the limit of {max} bytes"
                    )));
                    return Poll::Ready(Some(Err("request message over the size limit".into())));
                }
                false
            }
            Some(Err(e)) => !is_malformed_text(&**e),
            None => this.framing.mid_message(),
        };
        if gone {
            if let Some(ctx) = this.ctx.take() {
                ctx.cancel(CancelReason::Disconnect);
                // What a client that is still there (one that ended its
                // request mid-message) reads, rather than tonic's INTERNAL.
                ctx.reject(Status::cancelled(
                    "the request ended before its message did: the client reset or left",
                ));
            }
        } else if frame.is_none() {
            this.ctx = None;
        }
        Poll::Ready(frame)
    }

    fn is_end_stream(&self) -> bool {
        self.inner.is_end_stream()
    }

    fn size_hint(&self) -> SizeHint {
        self.inner.size_hint()
    }
}

/// Whether a request body's error is tonic-web's own for a gRPC-Web-text
/// body that is not base64, rather than the connection's: the client is
/// still there, its request is malformed, and tonic answers INTERNAL with
/// that message. tonic-web reports both kinds as a `Status` whose message
/// is `"tonic-web: "` and the error's text (`internal_error`), so the
/// text is all there is to tell them by: its base64 decoder's errors
/// ("Invalid symbol 33, offset 0.", "Invalid padding", …) and its own
/// ("malformed base64 request"). If their wording changes, such a request
/// is counted as a cancel again (`server/tests/early_cancel.rs` would say).
fn is_malformed_text(error: &(dyn std::error::Error + 'static)) -> bool {
    error.downcast_ref::<Status>().is_some_and(|status| {
        let text = status.message();
        text.starts_with("tonic-web: Invalid ") || text.starts_with("tonic-web: malformed base64")
    })
}

#[cfg(test)]
mod tests {
    use super::{Framing, is_malformed_text};

    #[test]
    fn tells_tonic_webs_base64_errors_from_the_connections() {
        let status = |text: &str| tonic::Status::internal(text.to_owned());
        for own in [
            "tonic-web: Invalid symbol 33, offset 0.",
            "tonic-web: Invalid padding",
            "tonic-web: malformed base64 request",
        ] {
            assert!(is_malformed_text(&status(own)), "{own}");
        }
        for gone in [
            "tonic-web: error reading a body from connection",
            "tonic-web: stream error received: stream no longer needed",
        ] {
            assert!(!is_malformed_text(&status(gone)), "{gone}");
        }
        let io = std::io::Error::other("Invalid symbol");
        assert!(!is_malformed_text(&io));
    }

    #[test]
    fn tells_a_cut_off_message_from_whole_ones() {
        let mut f = Framing::default();
        assert_eq!(f.read(&[0, 0, 0, 0, 2, b'h']), Some(2));
        assert!(f.mid_message());
        assert_eq!(f.read(&[b'i', 0, 0]), None); // one message's end, a prefix's start
        assert!(f.mid_message());
        assert_eq!(f.read(&[0, 1, 0]), Some(256));
        assert!(f.mid_message());
        assert_eq!(f.read(&[7; 256]), None);
        assert!(!f.mid_message());
        assert_eq!(f.read(&[]), None);
        assert!(!f.mid_message());
    }
}
