//! Writing and reading `grpc-status` in HTTP headers and trailers.
use http::{HeaderMap, Response};
use tonic::{Code, Status, body::Body};

/// A trailers-only response: the status in the headers, no body. Valid for
/// native gRPC and, through tonic-web, for gRPC-Web.
pub(crate) fn trailers_only(status: Status) -> Response<Body> {
    let (parts, ()) = status.into_http::<()>().into_parts();
    Response::from_parts(parts, Body::empty())
}

/// The trailers that end a response with `status`.
pub(crate) fn trailers(status: &Status) -> HeaderMap {
    let mut map = HeaderMap::new();
    // Only fails on metadata that is not a valid header, and ours has none.
    let _ = status.add_header(&mut map);
    map
}

/// The code in a `grpc-status` header, if there is one.
pub(crate) fn code_in(headers: &HeaderMap) -> Option<Code> {
    let value = headers.get("grpc-status")?;
    Some(Code::from_bytes(value.as_bytes()))
}
