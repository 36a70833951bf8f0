//! `Code`: the gRPC spec's status names as numbers (`Code.CANCELLED === 1`).
use wasm_bindgen::prelude::*;

/// gRPC status codes, numbered as the gRPC spec numbers them.
#[allow(non_camel_case_types, clippy::upper_case_acronyms)]
#[wasm_bindgen]
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

#[cfg(test)]
mod tests {
    use super::*;
    use crate::status::CODES;

    #[test]
    fn numbers_and_names_match_the_rust_codes() {
        let js = [
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
        for (code, (name, rust)) in js.iter().zip(CODES) {
            assert_eq!(*code as i32, rust as i32);
            assert_eq!(format!("{code:?}"), name);
        }
    }
}
