//! gRPC status codes, their spec names, what an HTTP failure means in them,
//! and [`Failure`]: how a call ended, without tonic, so that the JS path
//! carries no tonic (the Rust API turns it into a `tonic::Status`).
#[cfg(feature = "js-api")]
use wasm_bindgen::prelude::*;

use crate::{
    abort_reason::AbortReason,
    ascii::{digits, join},
};

/// gRPC status codes, numbered as the gRPC spec numbers them (JS: `Code`,
/// `Code.CANCELLED === 1`).
#[allow(non_camel_case_types, clippy::upper_case_acronyms)]
#[cfg_attr(feature = "js-api", wasm_bindgen)]
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Code {
    OK = 0,
    CANCELLED = 1,
    UNKNOWN = 2,
    INVALID_ARGUMENT = 3,
    DEADLINE_EXCEEDED = 4,
    NOT_FOUND = 5,
    ALREADY_EXISTS = 6,
    PERMISSION_DENIED = 7,
    RESOURCE_EXHAUSTED = 8,
    FAILED_PRECONDITION = 9,
    ABORTED = 10,
    OUT_OF_RANGE = 11,
    UNIMPLEMENTED = 12,
    INTERNAL = 13,
    UNAVAILABLE = 14,
    DATA_LOSS = 15,
    UNAUTHENTICATED = 16,
}

/// Every code by number.
pub const CODES: [Code; 17] = [
    Code::OK,
    Code::CANCELLED,
    Code::UNKNOWN,
    Code::INVALID_ARGUMENT,
    Code::DEADLINE_EXCEEDED,
    Code::NOT_FOUND,
    Code::ALREADY_EXISTS,
    Code::PERMISSION_DENIED,
    Code::RESOURCE_EXHAUSTED,
    Code::FAILED_PRECONDITION,
    Code::ABORTED,
    Code::OUT_OF_RANGE,
    Code::UNIMPLEMENTED,
    Code::INTERNAL,
    Code::UNAVAILABLE,
    Code::DATA_LOSS,
    Code::UNAUTHENTICATED,
];

const NAMES: [&str; 17] = [
    "OK",
    "CANCELLED",
    "UNKNOWN",
    "INVALID_ARGUMENT",
    "DEADLINE_EXCEEDED",
    "NOT_FOUND",
    "ALREADY_EXISTS",
    "PERMISSION_DENIED",
    "RESOURCE_EXHAUSTED",
    "FAILED_PRECONDITION",
    "ABORTED",
    "OUT_OF_RANGE",
    "UNIMPLEMENTED",
    "INTERNAL",
    "UNAVAILABLE",
    "DATA_LOSS",
    "UNAUTHENTICATED",
];

impl Code {
    /// The spec's name (`"DEADLINE_EXCEEDED"`), as `GrpcError.codeName` shows it.
    pub fn name(self) -> &'static str {
        NAMES[self as usize]
    }

    /// The code a `grpc-status` value names; unknown numbers are UNKNOWN, as
    /// the spec says.
    pub fn from_number(number: &str) -> Code {
        // As `usize`'s `parse` reads it (a `+` allowed), without its code.
        crate::ascii::decimal(number.strip_prefix("+").unwrap_or(number))
            .and_then(|n| CODES.get(usize::try_from(n).ok()?).copied())
            .unwrap_or(Code::UNKNOWN)
    }
}

/// The code for an HTTP response that carries no `grpc-status`, per
/// <https://github.com/grpc/grpc/blob/master/doc/http-grpc-status-mapping.md>.
pub fn code_for_http_status(http: u16) -> Code {
    match http {
        400 => Code::INTERNAL,
        401 => Code::UNAUTHENTICATED,
        403 => Code::PERMISSION_DENIED,
        404 => Code::UNIMPLEMENTED,
        429 | 502 | 503 | 504 => Code::UNAVAILABLE,
        _ => Code::UNKNOWN,
    }
}

/// How a call ended other than with OK.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Failure {
    pub code: Code,
    pub message: String,
    /// The signal's reason, when a signal ended the call.
    cause: Option<AbortReason>,
}

impl Failure {
    pub fn new(code: Code, message: impl Into<String>) -> Self {
        Self {
            code,
            message: message.into(),
            cause: None,
        }
    }

    /// The same failure, caused by a signal that aborted with `reason`.
    pub(crate) fn caused_by(mut self, reason: AbortReason) -> Self {
        self.cause = Some(reason);
        self
    }
}

/// The status carries the abort reason as its source
/// ([`StatusExt::abort_reason`](crate::StatusExt::abort_reason)).
impl From<Failure> for tonic::Status {
    fn from(failure: Failure) -> Self {
        let mut status =
            tonic::Status::new(tonic::Code::from(failure.code as i32), failure.message);
        if let Some(reason) = failure.cause {
            status.set_source(std::sync::Arc::new(reason));
        }
        status
    }
}

/// A response that carries no `grpc-status` and is not a successful
/// gRPC-Web response (a proxy's error page, say) fails with the mapped code;
/// what passes is read for `grpc-status` in headers (a trailers-only
/// response) or trailers.
pub(crate) fn http_failure(
    http: u16,
    content_type: Option<&str>,
    has_grpc_status: bool,
) -> Option<Failure> {
    let grpc_web = content_type.is_some_and(|ct| ct.starts_with("application/grpc-web"));
    if has_grpc_status || (http == 200 && grpc_web) {
        return None;
    }
    Some(Failure::new(
        code_for_http_status(http),
        join(&["HTTP ", &digits(http.into()), " without grpc-status"]),
    ))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_and_numbers_match_the_spec_and_tonic() {
        for (i, code) in CODES.iter().enumerate() {
            assert_eq!(*code as usize, i);
            assert_eq!(format!("{code:?}"), code.name());
            assert_eq!(tonic::Code::from(i as i32) as usize, i);
        }
        assert_eq!(Code::DEADLINE_EXCEEDED.name(), "DEADLINE_EXCEEDED");
        assert_eq!(Code::from_number("4"), Code::DEADLINE_EXCEEDED);
        assert_eq!(Code::from_number("17"), Code::UNKNOWN);
        assert_eq!(Code::from_number("x"), Code::UNKNOWN);
        // As `usize`'s `parse` read them before.
        assert_eq!(Code::from_number("+4"), Code::DEADLINE_EXCEEDED);
        assert_eq!(Code::from_number("004"), Code::DEADLINE_EXCEEDED);
        for bad in ["", "+", "-4", "4 ", "99999999999999999999999"] {
            assert_eq!(Code::from_number(bad), Code::UNKNOWN, "{bad:?}");
        }
    }

    // Differential: `from_number` against the `str::parse::<usize>` it
    // replaced (1e16534..c906844), on the values servers send and on text
    // made of digits, signs and spaces.
    fn as_parse_read_it(number: &str) -> Code {
        number
            .parse::<usize>()
            .ok()
            .and_then(|n| CODES.get(n).copied())
            .unwrap_or(Code::UNKNOWN)
    }

    #[test]
    fn from_number_reads_as_usize_parse_did() {
        for text in [
            "0",
            "+1",
            "007",
            "17",
            "-1",
            " 1",
            "1 ",
            "99999999999",
            "16",
            "+016",
            "+-1",
            "++1",
            "18446744073709551616",
            "\u{0661}",
            "\u{ff11}",
            "1e1",
            "0x1",
            "",
        ] {
            assert_eq!(Code::from_number(text), as_parse_read_it(text), "{text:?}");
        }
        assert_eq!(Code::from_number("+1"), Code::CANCELLED);
        assert_eq!(Code::from_number("007"), Code::PERMISSION_DENIED);
    }

    #[cfg(not(target_arch = "wasm32"))]
    proptest::proptest! {
        #[test]
        fn from_number_agrees_with_parse(text in "[+ -]?0*[0-9]{0,2} ?|[0-9+ -]{0,24}") {
            proptest::prop_assert_eq!(Code::from_number(&text), as_parse_read_it(&text));
        }
    }

    #[test]
    fn http_statuses_map_as_grpc_specifies() {
        let cases = [
            (400, Code::INTERNAL),
            (401, Code::UNAUTHENTICATED),
            (403, Code::PERMISSION_DENIED),
            (404, Code::UNIMPLEMENTED),
            (429, Code::UNAVAILABLE),
            (502, Code::UNAVAILABLE),
            (503, Code::UNAVAILABLE),
            (504, Code::UNAVAILABLE),
            (500, Code::UNKNOWN),
            (418, Code::UNKNOWN),
        ];
        for (http, code) in cases {
            assert_eq!(code_for_http_status(http), code, "{http}");
        }
    }

    #[test]
    fn only_non_grpc_responses_are_failed_here() {
        let grpc_web = Some("application/grpc-web+proto");
        assert_eq!(http_failure(200, grpc_web, false), None);
        assert_eq!(http_failure(200, Some("text/plain"), true), None);
        assert_eq!(http_failure(503, Some("text/plain"), true), None);
        assert_eq!(
            http_failure(404, Some("text/html"), false),
            Some(Failure::new(
                Code::UNIMPLEMENTED,
                "HTTP 404 without grpc-status"
            ))
        );
        assert_eq!(
            http_failure(503, grpc_web, false).unwrap().code,
            Code::UNAVAILABLE
        );
        assert_eq!(http_failure(200, None, false).unwrap().code, Code::UNKNOWN);
    }
}
