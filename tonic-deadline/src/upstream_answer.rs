//! An upstream's answer made fit to relay as a call's answer: read as the
//! status gRPC gives it when it is not gRPC, its status made readable when
//! tonic could not read it, and without the headers that must not travel on
//! with its errors.
//!
//! A proxy between the tiers (nginx's `grpc_pass`, a load balancer) answers
//! for a backend that has died or cannot be reached with an HTTP error and
//! a page of its own: nginx's `502 Bad Gateway` in HTML. tonic decodes that
//! body as gRPC frames and fails with INTERNAL ("invalid compression flag:
//! 60", the `<`), which would tell the caller the server has a bug where
//! gRPC means "try again". gRPC's mapping of HTTP statuses
//! (`doc/http-grpc-status-mapping.md`, as grpc-go applies it) gives the
//! code instead; tonic has the same table, but applies it only to a body
//! that decodes, and keeps it private.
use std::{
    pin::Pin,
    task::{Context, Poll, ready},
};

use base64::Engine as _;
use bytes::Bytes;
use http::{HeaderMap, Response, StatusCode, header::CONTENT_TYPE};
use http_body::{Body as HttpBody, Frame};
use tonic::{Code, Status, body::Body};

use crate::grpc_status;

/// `response` as it is if it is gRPC (a `grpc-status` in its headers, or
/// HTTP 200 with a gRPC content type), else a trailers-only response with
/// the status its HTTP status maps to. Either way without the headers that
/// describe the upstream's HTTP body rather than the call
/// ([`BODY_HEADERS`]), and with a status in its headers tonic can read
/// ([`unreadable_status`]). Its body is the caller's to carry on through
/// [`readable`], frame by frame, for its trailers: `Propagate`'s own body
/// in a handler, [`ReadableTrailers`] outside one, so that an answer's body
/// is wrapped once.
pub(crate) fn as_grpc(mut response: Response<Body>) -> Response<Body> {
    let status = status_of(response.status(), response.headers())
        .or_else(|| unreadable_status(response.headers()));
    if let Some(status) = status {
        return grpc_status::trailers_only(status);
    }
    for name in BODY_HEADERS {
        response.headers_mut().remove(name);
    }
    response
}

/// `frame`, its trailers replaced by INTERNAL if tonic could not read them
/// ([`unreadable_status`]).
pub(crate) fn readable(frame: Frame<Bytes>) -> Frame<Bytes> {
    match frame.trailers_ref().and_then(unreadable_status) {
        Some(status) => Frame::trailers(grpc_status::trailers(&status)),
        None => frame,
    }
}

/// tonic copies a response's headers into the metadata of the error a
/// reply that fails to decode ends with, and a handler that returns that
/// error (`upstream.call().await?`) sends them as its own. Its answer has
/// no body, so an upstream's `content-length` made it malformed (HTTP/2
/// resets it: PROTOCOL_ERROR), and a `content-encoding` would have the
/// browser decode a body that is not there.
const BODY_HEADERS: [http::HeaderName; 2] =
    [http::header::CONTENT_LENGTH, http::header::CONTENT_ENCODING];

const DETAILS: &str = "grpc-status-details-bin";

/// INTERNAL for a status whose `grpc-status-details-bin` is not base64, as
/// grpc-go ends such a call ("malformed grpc-status-details-bin"), naming
/// the code and message it came with; `None` for any other headers.
///
/// tonic's client panics reading such a status (`Status::from_header_map`
/// `expect`s the details to decode; grpc/grpc-rust#2618, open), which took
/// the handler relaying it down, or the whole server where it is built
/// with `panic = "abort"`: one malformed header from an upstream, and every
/// call the server had in flight was gone.
///
/// grpc-web-abort's `src/readable_status.rs` is this function's twin for
/// the browser's tonic clients: the server's crate and the browser's share
/// no crate where one copy could live.
fn unreadable_status(headers: &HeaderMap) -> Option<Status> {
    grpc_status::code_in(headers)?;
    let details = headers.get(DETAILS)?;
    // tonic's own engine: the standard alphabet, padded or not.
    let engine = base64::engine::GeneralPurpose::new(
        &base64::alphabet::STANDARD,
        base64::engine::GeneralPurposeConfig::new()
            .with_decode_padding_mode(base64::engine::DecodePaddingMode::Indifferent),
    );
    let error = engine.decode(details.as_bytes()).err()?;
    let mut readable = headers.clone();
    readable.remove(DETAILS);
    let sent = Status::from_header_map(&readable)?;
    Some(Status::internal(format!(
        "the upstream's {DETAILS} is malformed ({error}); its status was {:?}: {}",
        sent.code(),
        sent.message()
    )))
}

/// A body whose trailers end with a status tonic can read ([`readable`]).
pub(crate) struct ReadableTrailers(pub Body);

impl HttpBody for ReadableTrailers {
    type Data = Bytes;
    type Error = Status;

    fn poll_frame(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
    ) -> Poll<Option<Result<Frame<Self::Data>, Self::Error>>> {
        let frame = ready!(Pin::new(&mut self.0).poll_frame(cx));
        Poll::Ready(frame.map(|f| f.map(readable)))
    }

    fn is_end_stream(&self) -> bool {
        self.0.is_end_stream()
    }

    fn size_hint(&self) -> http_body::SizeHint {
        self.0.size_hint()
    }
}

/// The status for an answer that is not gRPC; `None` for one that is.
fn status_of(http: StatusCode, headers: &HeaderMap) -> Option<Status> {
    let content_type = headers.get(CONTENT_TYPE).map(|v| v.to_str().unwrap_or("?"));
    let grpc_type = content_type.is_some_and(|t| t.starts_with("application/grpc"));
    if grpc_status::code_in(headers).is_some() || (http == StatusCode::OK && grpc_type) {
        return None;
    }
    let code = match http {
        StatusCode::BAD_REQUEST => Code::Internal,
        StatusCode::UNAUTHORIZED => Code::Unauthenticated,
        StatusCode::FORBIDDEN => Code::PermissionDenied,
        StatusCode::NOT_FOUND => Code::Unimplemented,
        StatusCode::TOO_MANY_REQUESTS
        | StatusCode::BAD_GATEWAY
        | StatusCode::SERVICE_UNAVAILABLE
        | StatusCode::GATEWAY_TIMEOUT => Code::Unavailable,
        _ => Code::Unknown,
    };
    Some(Status::new(
        code,
        format!(
            "the upstream answered HTTP {http} ({}), not gRPC",
            content_type.unwrap_or("no content type")
        ),
    ))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn headers(pairs: &[(&'static str, &'static str)]) -> HeaderMap {
        pairs
            .iter()
            .map(|(k, v)| (http::HeaderName::from_static(k), v.parse().unwrap()))
            .collect()
    }

    #[test]
    fn grpc_answers_pass_untouched() {
        let grpc = headers(&[("content-type", "application/grpc")]);
        assert!(status_of(StatusCode::OK, &grpc).is_none());
        let web = headers(&[("content-type", "application/grpc-web+proto")]);
        assert!(status_of(StatusCode::OK, &web).is_none());
        // A trailers-only answer keeps its own status, whatever the HTTP one.
        let own = headers(&[("content-type", "text/plain"), ("grpc-status", "8")]);
        assert!(status_of(StatusCode::SERVICE_UNAVAILABLE, &own).is_none());
    }

    #[test]
    fn a_proxys_error_page_gets_the_mapped_code() {
        let html = headers(&[("content-type", "text/html")]);
        let cases = [
            (StatusCode::BAD_GATEWAY, Code::Unavailable),
            (StatusCode::SERVICE_UNAVAILABLE, Code::Unavailable),
            (StatusCode::GATEWAY_TIMEOUT, Code::Unavailable),
            (StatusCode::TOO_MANY_REQUESTS, Code::Unavailable),
            (StatusCode::BAD_REQUEST, Code::Internal),
            (StatusCode::UNAUTHORIZED, Code::Unauthenticated),
            (StatusCode::FORBIDDEN, Code::PermissionDenied),
            (StatusCode::NOT_FOUND, Code::Unimplemented),
            (StatusCode::INTERNAL_SERVER_ERROR, Code::Unknown),
        ];
        for (http, code) in cases {
            let status = status_of(http, &html).unwrap();
            assert_eq!(status.code(), code, "{http}");
            assert!(
                status.message().contains(http.as_str()),
                "{}",
                status.message()
            );
        }
        let status = status_of(StatusCode::BAD_GATEWAY, &HeaderMap::new()).unwrap();
        assert_eq!(
            status.message(),
            "the upstream answered HTTP 502 Bad Gateway (no content type), not gRPC"
        );
    }

    #[test]
    fn a_200_that_is_not_grpc_is_unknown() {
        let html = headers(&[("content-type", "text/html")]);
        assert_eq!(
            status_of(StatusCode::OK, &html).unwrap().code(),
            Code::Unknown
        );
        assert_eq!(
            status_of(StatusCode::OK, &HeaderMap::new()).unwrap().code(),
            Code::Unknown
        );
    }

    #[test]
    fn unreadable_details_are_internal() {
        let bad = headers(&[
            ("grpc-status", "5"),
            ("grpc-message", "gone%20away"),
            ("grpc-status-details-bin", "!!!"),
        ]);
        let status = unreadable_status(&bad).unwrap();
        assert_eq!(status.code(), Code::Internal);
        assert!(
            status
                .message()
                .ends_with("its status was NotFound: gone away"),
            "{}",
            status.message()
        );
        // What tonic reads (padded or not), and no status at all, pass.
        for details in ["CAU", "CAU=", ""] {
            let good = headers(&[("grpc-status", "5"), ("grpc-status-details-bin", details)]);
            assert!(unreadable_status(&good).is_none(), "{details:?}");
            Status::from_header_map(&good).unwrap();
        }
        let no_status = headers(&[("grpc-status-details-bin", "!!!")]);
        assert!(unreadable_status(&no_status).is_none());
    }
}
