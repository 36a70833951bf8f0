//! gRPC status codes: their spec names, and what an HTTP failure means in them.
use http::HeaderMap;
use tonic::{Code, Status};

/// The gRPC spec's name for `code` (`"DEADLINE_EXCEEDED"`), as `GrpcError.codeName` shows it.
pub fn code_name(code: Code) -> &'static str {
    CODES[code as usize].0
}

/// Every code by number, with its spec name.
pub const CODES: [(&str, Code); 17] = [
    ("OK", Code::Ok),
    ("CANCELLED", Code::Cancelled),
    ("UNKNOWN", Code::Unknown),
    ("INVALID_ARGUMENT", Code::InvalidArgument),
    ("DEADLINE_EXCEEDED", Code::DeadlineExceeded),
    ("NOT_FOUND", Code::NotFound),
    ("ALREADY_EXISTS", Code::AlreadyExists),
    ("PERMISSION_DENIED", Code::PermissionDenied),
    ("RESOURCE_EXHAUSTED", Code::ResourceExhausted),
    ("FAILED_PRECONDITION", Code::FailedPrecondition),
    ("ABORTED", Code::Aborted),
    ("OUT_OF_RANGE", Code::OutOfRange),
    ("UNIMPLEMENTED", Code::Unimplemented),
    ("INTERNAL", Code::Internal),
    ("UNAVAILABLE", Code::Unavailable),
    ("DATA_LOSS", Code::DataLoss),
    ("UNAUTHENTICATED", Code::Unauthenticated),
];

/// The code for an HTTP response that carries no `grpc-status`, per
/// <https://github.com/grpc/grpc/blob/master/doc/http-grpc-status-mapping.md>.
pub fn code_for_http_status(http: u16) -> Code {
    match http {
        400 => Code::Internal,
        401 => Code::Unauthenticated,
        403 => Code::PermissionDenied,
        404 => Code::Unimplemented,
        429 | 502 | 503 | 504 => Code::Unavailable,
        _ => Code::Unknown,
    }
}

/// Fails a response that carries no `grpc-status` and is not a successful
/// gRPC-Web response (a proxy's error page, say) with the mapped code; what
/// passes is left to tonic, which reads `grpc-status` from headers (a
/// trailers-only response) or trailers.
pub(crate) fn check_http_response(http: u16, headers: &HeaderMap) -> Result<(), Status> {
    let grpc_web = headers
        .get(http::header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|ct| ct.starts_with("application/grpc-web"));
    if headers.contains_key("grpc-status") || (http == 200 && grpc_web) {
        return Ok(());
    }
    Err(Status::new(
        code_for_http_status(http),
        format!("HTTP {http} without grpc-status"),
    ))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_follow_the_spec_and_the_numbers() {
        for (i, (name, code)) in CODES.iter().enumerate() {
            assert_eq!(*code as usize, i);
            assert_eq!(code_name(*code), *name);
        }
        assert_eq!(code_name(Code::DeadlineExceeded), "DEADLINE_EXCEEDED");
    }

    #[test]
    fn http_statuses_map_as_grpc_specifies() {
        let cases = [
            (400, Code::Internal),
            (401, Code::Unauthenticated),
            (403, Code::PermissionDenied),
            (404, Code::Unimplemented),
            (429, Code::Unavailable),
            (502, Code::Unavailable),
            (503, Code::Unavailable),
            (504, Code::Unavailable),
            (500, Code::Unknown),
            (418, Code::Unknown),
        ];
        for (http, code) in cases {
            assert_eq!(code_for_http_status(http), code, "{http}");
        }
    }

    #[test]
    fn only_non_grpc_responses_are_failed_here() {
        let headers = |pairs: &[(&'static str, &'static str)]| {
            let mut map = HeaderMap::new();
            for (k, v) in pairs {
                map.insert(*k, v.parse().unwrap());
            }
            map
        };
        let grpc_web = headers(&[("content-type", "application/grpc-web+proto")]);
        assert!(check_http_response(200, &grpc_web).is_ok());
        let trailers_only = headers(&[("content-type", "text/plain"), ("grpc-status", "4")]);
        assert!(check_http_response(200, &trailers_only).is_ok());
        assert!(check_http_response(503, &trailers_only).is_ok());
        let page =
            check_http_response(404, &headers(&[("content-type", "text/html")])).unwrap_err();
        assert_eq!(
            (page.code(), page.message()),
            (Code::Unimplemented, "HTTP 404 without grpc-status")
        );
        assert_eq!(
            check_http_response(503, &grpc_web).unwrap_err().code(),
            Code::Unavailable
        );
        assert_eq!(
            check_http_response(200, &HeaderMap::new())
                .unwrap_err()
                .code(),
            Code::Unknown
        );
    }
}
