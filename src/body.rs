//! The response body, still under the call's signal and deadline: a stream
//! (or a slow unary body) ends with the status the moment either fires.
use std::{
    cell::RefCell,
    pin::Pin,
    rc::Rc,
    task::{Context, Poll, ready},
};

use bytes::Bytes;
use http_body::{Body, Frame};
use tonic::Status;

use crate::{
    channel::status_of, guard::Guard, readable_status::unreadable_status, unshared::Unshared,
};

/// A response body that ends early when its call's guard fires. Dropping the
/// inner body (the fetch's) aborts the `fetch`.
pub struct GuardedBody<B> {
    live: Unshared<Option<(B, Guard)>>,
    failure: BodyFailure,
}

impl<B> GuardedBody<B> {
    pub(crate) fn new(body: B, guard: Guard, failure: BodyFailure) -> Self {
        Self {
            live: Unshared(Some((body, guard))),
            failure,
        }
    }
}

/// The status [`Fetch`](crate::Fetch)'s body failed with (a frame over the
/// limit: RESOURCE_EXHAUSTED; the network: UNAVAILABLE), carried in the
/// request's extensions to the body that tonic reads: tonic-web's framing
/// between the two turns any error of the body under it into INTERNAL with
/// the code only in its text ("tonic-web: code: ...").
#[derive(Clone, Default)]
pub(crate) struct BodyFailure(Unshared<Rc<RefCell<Option<Status>>>>);

impl BodyFailure {
    pub fn set(&self, status: &Status) {
        *self.0.0.borrow_mut() = Some(status.clone());
    }

    fn take(&self) -> Option<Status> {
        self.0.0.borrow_mut().take()
    }
}

impl<B> Body for GuardedBody<B>
where
    B: Body<Data = Bytes> + Unpin,
    B::Error: Into<Box<dyn std::error::Error + Send + Sync>>,
{
    type Data = Bytes;
    type Error = Status;

    fn poll_frame(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
    ) -> Poll<Option<Result<Frame<Bytes>, Status>>> {
        let this = self.get_mut();
        let live = &mut this.live.0;
        let Some((body, guard)) = live else {
            return Poll::Ready(None);
        };
        if let Poll::Ready(failure) = guard.poll_fired(cx) {
            *live = None;
            return Poll::Ready(Some(Err(failure.into())));
        }
        let mut frame = ready!(Pin::new(body).poll_frame(cx))
            .map(|f| f.map_err(|e| this.failure.take().unwrap_or_else(|| status_of(e))));
        let unreadable = frame.as_ref().and_then(|f| f.as_ref().ok()?.trailers_ref());
        if let Some(status) = unreadable.and_then(unreadable_status) {
            // tonic would panic reading these trailers (`readable_status.rs`).
            let mut trailers = http::HeaderMap::new();
            status.add_header(&mut trailers).ok();
            frame = Some(Ok(Frame::trailers(trailers)));
        }
        if frame.is_none() {
            // Done: release the signal's listener and the timer now.
            *live = None;
        }
        Poll::Ready(frame)
    }

    fn is_end_stream(&self) -> bool {
        self.live.0.is_none()
    }
}
