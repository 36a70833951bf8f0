//! One backend address as the balancer sees it: an HTTP/2 (h2c) connection
//! of its own that is ready while it is up, with the in-flight calls on it
//! counted until their response bodies end (streams included).
//!
//! hyper's bare HTTP/2 connection rather than hyper-util's pooled client (the
//! [`Http2Client`](crate::Http2Client)): tower's balancer drops an endpoint
//! whose `poll_ready` fails, and only the bare connection reports, there,
//! that it has closed; the pool would reconnect behind the balancer's back
//! and hand a call to a dead backend. Like the `Http2Client`, it sets no
//! timer of its own: each tier enforces its own deadline.
use std::{
    fmt,
    net::SocketAddr,
    pin::Pin,
    sync::Mutex,
    task::{Context, Poll},
    time::Duration,
};

use futures_util::future::BoxFuture;
use http::{
    Request, Response, Uri,
    uri::{Authority, PathAndQuery, Scheme},
};
use http_body::{Body as HttpBody, Frame, SizeHint};
use hyper::client::conn::http2::SendRequest;
use hyper_util::rt::{TokioExecutor, TokioIo, TokioTimer};
use tonic::body::Body;
use tower::{
    BoxError, Service,
    load::{PendingRequests, completion::TrackCompletion, pending_requests::Handle},
};

use crate::windows;

/// How long a connection to a backend may take before the address counts as down.
const CONNECT_TIMEOUT: Duration = Duration::from_secs(2);
/// An HTTP/2 PING every `interval`; no answer within `timeout` closes the
/// connection, which takes the backend out.
#[derive(Clone, Copy, Debug)]
pub(crate) struct Keepalive {
    pub interval: Duration,
    pub timeout: Duration,
}

impl Default for Keepalive {
    fn default() -> Self {
        Keepalive {
            interval: Duration::from_secs(10),
            timeout: Duration::from_secs(5),
        }
    }
}

/// One connection to one backend address.
#[derive(Clone, Debug)]
pub(crate) struct Endpoint {
    send: SendRequest<Body>,
    /// The authority requests carry (the name the user gave), over `http://`.
    authority: Authority,
}

/// What the balancer holds: an endpoint and its calls in flight.
pub(crate) type Loaded = PendingRequests<Endpoint, UntilBodyEnds>;

impl Endpoint {
    /// Connects to `addr`; requests name `authority`. The second value
    /// completes when the connection has closed.
    pub(crate) async fn connect(
        addr: SocketAddr,
        authority: &Authority,
        keepalive: Keepalive,
    ) -> Result<(Endpoint, tokio::task::JoinHandle<()>), BoxError> {
        let tcp = tokio::time::timeout(CONNECT_TIMEOUT, tokio::net::TcpStream::connect(addr))
            .await
            .map_err(|_| format!("connecting to {addr} timed out"))??;
        // gRPC writes headers and data apart: no waiting on Nagle's algorithm.
        tcp.set_nodelay(true)?;
        let (send, connection) = hyper::client::conn::http2::Builder::new(TokioExecutor::new())
            // A backend whose host is gone (no FIN, no RST: a node lost, a
            // partition) is noticed by its silence, as gRPC clients do it.
            .timer(TokioTimer::new())
            .keep_alive_interval(keepalive.interval)
            .keep_alive_timeout(keepalive.timeout)
            .keep_alive_while_idle(true)
            .initial_stream_window_size(windows::STREAM_WINDOW)
            .initial_connection_window_size(windows::CONNECTION_WINDOW)
            .handshake(TokioIo::new(tcp))
            .await?;
        let closed = tokio::spawn(async move {
            if let Err(e) = connection.await {
                tracing::debug!(%addr, error = %e, "upstream connection ended");
            }
        });
        let authority = authority.clone();
        Ok((Endpoint { send, authority }, closed))
    }

    /// The same, counting its calls in flight for the balancer.
    pub(crate) fn loaded(self) -> Loaded {
        PendingRequests::new(self, UntilBodyEnds)
    }
}

impl Service<Request<Body>> for Endpoint {
    type Response = Response<Body>;
    type Error = BoxError;
    type Future = BoxFuture<'static, Result<Response<Body>, BoxError>>;

    /// Fails once the connection has closed: the balancer then drops it.
    fn poll_ready(&mut self, cx: &mut Context<'_>) -> Poll<Result<(), BoxError>> {
        self.send.poll_ready(cx).map_err(Into::into)
    }

    fn call(&mut self, mut req: Request<Body>) -> Self::Future {
        let mut parts = http::uri::Parts::default();
        parts.scheme = Some(Scheme::HTTP);
        parts.authority = Some(self.authority.clone());
        parts.path_and_query = Some(
            req.uri()
                .path_and_query()
                .cloned()
                .unwrap_or(PathAndQuery::from_static("/")),
        );
        let uri = Uri::from_parts(parts);
        let mut send = self.send.clone();
        Box::pin(async move {
            *req.uri_mut() = uri?;
            match send.try_send_request(req).await {
                Ok(response) => Ok(response.map(Body::new)),
                Err(mut e) => match e.take_message() {
                    Some(req) => Err(NotSent::new(req, e.into_error().into()).into()),
                    None => Err(e.into_error().into()),
                },
            }
        })
    }
}

/// A call that never left: its connection had closed before the request was
/// written, or its pool had no backend left. Nothing reached a backend, so
/// the balancer may send it to another.
#[derive(Debug)]
pub(crate) struct NotSent {
    /// In a mutex only because errors must be `Sync`.
    request: Mutex<Option<Request<Body>>>,
    error: BoxError,
}

impl NotSent {
    pub(crate) fn new(request: Request<Body>, error: BoxError) -> Self {
        NotSent {
            request: Mutex::new(Some(request)),
            error,
        }
    }

    /// The request, unsent; once.
    pub(crate) fn take(&self) -> Option<Request<Body>> {
        self.request.lock().ok()?.take()
    }
}

impl fmt::Display for NotSent {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "the call was not sent: {}", self.error)
    }
}

impl std::error::Error for NotSent {
    fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
        Some(&*self.error)
    }
}

/// Counts a call in flight until its response body ends or is dropped, not
/// only until its headers arrive: a stream is load for as long as it runs.
#[derive(Clone, Copy, Debug, Default)]
pub(crate) struct UntilBodyEnds;

impl TrackCompletion<Handle, Response<Body>> for UntilBodyEnds {
    type Output = Response<Body>;

    fn track_completion(&self, handle: Handle, response: Response<Body>) -> Response<Body> {
        response.map(|body| {
            Body::new(Tracked {
                body,
                _handle: handle,
            })
        })
    }
}

struct Tracked {
    body: Body,
    _handle: Handle,
}

impl HttpBody for Tracked {
    type Data = bytes::Bytes;
    type Error = tonic::Status;

    fn poll_frame(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
    ) -> Poll<Option<Result<Frame<Self::Data>, Self::Error>>> {
        Pin::new(&mut self.body).poll_frame(cx)
    }

    fn is_end_stream(&self) -> bool {
        self.body.is_end_stream()
    }

    fn size_hint(&self) -> SizeHint {
        self.body.size_hint()
    }
}
