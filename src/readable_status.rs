//! A server's status as tonic's client can read it.
//!
//! tonic panics reading a status whose `grpc-status-details-bin` is not
//! base64 (`Status::from_header_map` `expect`s it to decode;
//! grpc/grpc-rust#2618, open). In a browser a panic is a trap: the app's
//! wasm is gone, for one header a server (or anything between) sent. Such
//! a status is INTERNAL here, naming the code and message it came with, as
//! grpc-go ends such a call ("malformed grpc-status-details-bin").
//! tonic-deadline's `upstream_answer.rs` does the same for a server's
//! upstream calls: the browser's crate and the server's share no crate
//! where one copy could live.
use base64::Engine as _;
use http::HeaderMap;
use tonic::Status;

const DETAILS: &str = "grpc-status-details-bin";

/// INTERNAL for headers or trailers whose status tonic cannot read; `None`
/// for any others.
pub(crate) fn unreadable_status(headers: &HeaderMap) -> Option<Status> {
    headers.get("grpc-status")?;
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
        "the server's {DETAILS} is malformed ({error}); its status was {:?}: {}",
        sent.code(),
        sent.message()
    )))
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
    fn unreadable_details_are_internal() {
        let bad = headers(&[
            ("grpc-status", "5"),
            ("grpc-message", "gone%20away"),
            ("grpc-status-details-bin", "!!!"),
        ]);
        let status = unreadable_status(&bad).unwrap();
        assert_eq!(status.code(), tonic::Code::Internal);
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
