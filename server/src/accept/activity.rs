//! What one connection is doing, for its timeouts: the calls open on it (a
//! connection with none is idle), and whether an HTTP/1.1 request header is
//! arriving (bytes came while no call was open).
//!
//! The header's clock is ours rather than hyper's `header_read_timeout`,
//! which also runs while an HTTP/1.1 keep-alive connection waits for its
//! next request: it would close every idle keep-alive connection after the
//! header timeout, and a proxy that keeps connections to this server (nginx
//! keeps them 60 s) could send a request on one just as it closes.
use std::{
    convert::Infallible,
    io,
    pin::Pin,
    sync::Arc,
    task::{Context, Poll},
    time::Duration,
};

use axum::body::Body;
use http_body_util::BodyExt as _;
use hyper::body::Incoming;
use tokio::{
    io::{AsyncRead, AsyncWrite, ReadBuf},
    sync::watch,
    time::Instant,
};
use tower::{ServiceExt as _, util::BoxCloneService};

use crate::app::HttpService;

#[derive(Clone, Copy)]
struct State {
    /// Calls open.
    open: usize,
    /// When `open` last changed.
    changed: Instant,
    /// When the first byte of a request header came, until its call opens.
    head_since: Option<Instant>,
}

/// One connection's activity; clones share it.
#[derive(Clone)]
pub struct Activity(Arc<watch::Sender<State>>);

impl Activity {
    pub fn new() -> Self {
        let state = State {
            open: 0,
            changed: Instant::now(),
            head_since: None,
        };
        Activity(Arc::new(watch::Sender::new(state)))
    }

    /// `service`, counting each request as an open call until its response
    /// body has ended or been dropped.
    pub fn counting(
        &self,
        service: HttpService,
    ) -> BoxCloneService<http::Request<Incoming>, http::Response<Body>, Infallible> {
        let activity = self.clone();
        let service = service.map_request(|req: http::Request<Incoming>| req.map(Body::new));
        BoxCloneService::new(tower::service_fn(move |req| {
            let open = activity.open();
            let response = service.clone().oneshot(req);
            async move {
                let response = response.await?;
                Ok(response.map(|body| {
                    Body::new(body.map_frame(move |frame| {
                        let _open = &open; // dropped with the body
                        frame
                    }))
                }))
            }
        }))
    }

    /// `io`, whose reads tell when a request header starts arriving; for
    /// HTTP/1.1 only (`http2`: known from ALPN, else told by the preface).
    pub fn reads<I>(&self, io: I, http2: Option<bool>) -> Reads<I> {
        Reads {
            io,
            activity: self.clone(),
            http2,
        }
    }

    fn open(&self) -> OpenCall {
        self.0.send_modify(|s| {
            s.open += 1;
            s.changed = Instant::now();
            s.head_since = None;
        });
        OpenCall(self.clone())
    }

    fn bytes_arrived(&self) {
        self.0.send_if_modified(|s| {
            let starts = s.open == 0 && s.head_since.is_none();
            if starts {
                s.head_since = Some(Instant::now());
            }
            starts
        });
    }

    /// Resolves once no call has been open for `timeout`, counting from
    /// `from` at the earliest.
    pub async fn idle_for(&self, timeout: Duration, from: Instant) {
        self.wait_for(|s| (s.open == 0).then(|| s.changed.max(from) + timeout))
            .await
    }

    /// Resolves once a request header has been arriving for `timeout`
    /// without its call opening.
    pub async fn header_overdue(&self, timeout: Duration) {
        self.wait_for(|s| s.head_since.map(|since| since + timeout))
            .await
    }

    /// Waits until the instant `due` gives for the current state has come.
    async fn wait_for(&self, due: impl Fn(&State) -> Option<Instant>) {
        let mut state = self.0.subscribe();
        loop {
            let due = due(&state.borrow_and_update());
            match due {
                Some(due) if Instant::now() >= due => return,
                Some(due) => tokio::select! {
                    _ = state.changed() => {}
                    () = tokio::time::sleep_until(due) => {}
                },
                None => {
                    let _ = state.changed().await;
                }
            }
        }
    }
}

/// One open call; dropping it ends it.
struct OpenCall(Activity);

impl Drop for OpenCall {
    fn drop(&mut self) {
        self.0.0.send_modify(|s| {
            s.open -= 1;
            s.changed = Instant::now();
        });
    }
}

/// A connection whose reads are watched; see [`Activity::reads`].
pub struct Reads<I> {
    io: I,
    activity: Activity,
    http2: Option<bool>,
}

/// How an HTTP/2 connection without TLS begins (RFC 9113, 3.4).
const HTTP2_PREFACE_START: &[u8] = b"PRI ";

impl<I: AsyncRead + Unpin> AsyncRead for Reads<I> {
    fn poll_read(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &mut ReadBuf<'_>,
    ) -> Poll<io::Result<()>> {
        let this = self.get_mut();
        let before = buf.filled().len();
        let polled = Pin::new(&mut this.io).poll_read(cx, buf);
        let read = &buf.filled()[before..];
        if !read.is_empty() {
            let http2 = *this
                .http2
                .get_or_insert_with(|| read.starts_with(HTTP2_PREFACE_START));
            if !http2 {
                this.activity.bytes_arrived();
            }
        }
        polled
    }
}

impl<I: AsyncWrite + Unpin> AsyncWrite for Reads<I> {
    fn poll_write(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &[u8],
    ) -> Poll<io::Result<usize>> {
        Pin::new(&mut self.get_mut().io).poll_write(cx, buf)
    }

    fn poll_flush(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        Pin::new(&mut self.get_mut().io).poll_flush(cx)
    }

    fn poll_shutdown(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        Pin::new(&mut self.get_mut().io).poll_shutdown(cx)
    }

    fn poll_write_vectored(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        bufs: &[io::IoSlice<'_>],
    ) -> Poll<io::Result<usize>> {
        Pin::new(&mut self.get_mut().io).poll_write_vectored(cx, bufs)
    }

    fn is_write_vectored(&self) -> bool {
        self.io.is_write_vectored()
    }
}
