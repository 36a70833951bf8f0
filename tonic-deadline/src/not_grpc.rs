//! An upstream answer that is not gRPC, read as the status gRPC gives it;
//! and a gRPC answer's headers that must not travel on with its errors.
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
use http::{HeaderMap, Response, StatusCode, header::CONTENT_TYPE};
use tonic::{Code, Status, body::Body};

use crate::grpc_status;

/// `response` as it is if it is gRPC (a `grpc-status` in its headers, or
/// HTTP 200 with a gRPC content type), else a trailers-only response with
/// the status its HTTP status maps to. Either way without the headers that
/// describe the upstream's HTTP body rather than the call
/// ([`BODY_HEADERS`]).
pub(crate) fn as_grpc(mut response: Response<Body>) -> Response<Body> {
    if let Some(status) = status_of(response.status(), response.headers()) {
        return grpc_status::trailers_only(status);
    }
    for name in BODY_HEADERS {
        response.headers_mut().remove(name);
    }
    response
}

/// tonic copies a response's headers into the metadata of the error a
/// reply that fails to decode ends with, and a handler that returns that
/// error (`upstream.call().await?`) sends them as its own. Its answer has
/// no body, so an upstream's `content-length` made it malformed (HTTP/2
/// resets it: PROTOCOL_ERROR), and a `content-encoding` would have the
/// browser decode a body that is not there.
const BODY_HEADERS: [http::HeaderName; 2] =
    [http::header::CONTENT_LENGTH, http::header::CONTENT_ENCODING];

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
}
