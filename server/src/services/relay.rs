//! What a frontend passes on when its upstream call fails. A status the
//! upstream sent (in its trailers) goes on as it is. A call that broke off
//! without one (the backend died, a proxy reset the stream because its
//! upstream went away, the connection was lost) is UNAVAILABLE, as a lost
//! connection is in gRPC: the caller may retry; it is not the server's bug
//! that INTERNAL (tonic's reading of a RST_STREAM INTERNAL_ERROR) would say.
use futures_util::{Stream, StreamExt};
use tonic::{Code, Status};

/// The status to answer with for an upstream call that failed with `status`.
pub fn relayed(status: Status) -> Status {
    // Statuses read from trailers have no source; transport errors do.
    let broke_off = std::error::Error::source(&status).is_some();
    match status.code() {
        // Our own cancellation or deadline, as the propagation reports it.
        Code::Cancelled | Code::DeadlineExceeded => status,
        _ if broke_off => {
            Status::unavailable(format!("the upstream call broke off: {}", status.message()))
        }
        _ => status,
    }
}

/// An upstream stream, its failure [`relayed`].
pub fn relay_stream<T>(
    upstream: impl Stream<Item = Result<T, Status>>,
) -> impl Stream<Item = Result<T, Status>> {
    upstream.map(|item| item.map_err(relayed))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_status_from_the_upstream_goes_on_as_it_is() {
        let status = relayed(Status::internal("the backend's own bug"));
        assert_eq!(
            (status.code(), status.message()),
            (Code::Internal, "the backend's own bug")
        );
    }

    #[test]
    fn a_call_that_broke_off_is_unavailable() {
        let io = std::io::Error::new(std::io::ErrorKind::ConnectionReset, "reset");
        let status = relayed(Status::from_error(Box::new(io)));
        assert_eq!(status.code(), Code::Unavailable);
    }
}
