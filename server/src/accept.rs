//! One tier's accept loop, plain or TLS: each connection served as what it
//! speaks (HTTP/1.1 or HTTP/2, by ALPN over TLS), with the tier's HTTP/2
//! limits and its per-connection call limit; on shutdown it stops accepting
//! and waits for the open connections to finish.
//!
//! Slow and idle connections are closed ([`Timeouts`]): an HTTP/1.1 request
//! header must arrive in time once it has begun, a connection with no call
//! open is closed after a while (GOAWAY first for HTTP/2), and
//! HTTP/2 peers that are gone without a FIN are found by PING. Otherwise
//! enough clients that send half a header, or nothing, would hold every
//! file descriptor the process may have (slowloris).
//!
//! hyper-util's server rather than `axum::serve`, which cannot set HTTP/2's
//! `max_concurrent_streams` nor serve TLS.
mod activity;

use std::{sync::Arc, time::Duration};

use hyper_util::{
    rt::{TokioExecutor, TokioIo, TokioTimer},
    server::conn::auto,
    service::TowerToHyperService,
};
use tokio::{
    io::{AsyncRead, AsyncWrite},
    net::TcpListener,
    time::Instant,
};
use tokio_rustls::TlsAcceptor;
use tokio_util::{sync::CancellationToken, task::TaskTracker};
use tonic_deadline::PerConnection;
use tower_http::add_extension::AddExtension;

use crate::app::HttpService;
use activity::Activity;

/// A handshake that has not finished by then is a client gone astray.
const HANDSHAKE_TIMEOUT: Duration = Duration::from_secs(10);

/// After an idle connection is told to close, how long it may take to
/// while it has no call open.
const IDLE_CLOSE_GRACE: Duration = Duration::from_secs(1);

/// How long a connection may be slow or idle before it is closed.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Timeouts {
    /// An HTTP/1.1 request's header must have fully arrived this long after
    /// its first byte (a keep-alive connection waiting for its next request
    /// is idle, not slow).
    pub header_read: Duration,
    /// A connection with no call open (none yet, or none since the last
    /// one ended) is closed after this long. Longer than a proxy's own idle
    /// time for its upstream connections (nginx: 60 s), so that the proxy
    /// closes first and never sends on a connection closing under it.
    pub idle: Duration,
    /// HTTP/2: a PING this often, and the connection closed if it is not
    /// answered within [`keepalive_timeout`](Self::keepalive_timeout): a
    /// peer gone without a FIN is found even while its calls are open.
    pub keepalive_interval: Duration,
    pub keepalive_timeout: Duration,
}

impl Default for Timeouts {
    fn default() -> Self {
        Timeouts {
            header_read: Duration::from_secs(10),
            idle: Duration::from_secs(75),
            keepalive_interval: Duration::from_secs(30),
            keepalive_timeout: Duration::from_secs(20),
        }
    }
}

/// How a tier serves its connections.
pub struct Serving {
    pub tier: String,
    pub service: HttpService,
    /// With TLS: the server's config (ALPN offering h2 and http/1.1).
    pub tls: Option<Arc<rustls::ServerConfig>>,
    /// HTTP/2 streams at once on one connection.
    pub max_streams: u32,
    /// Calls at once on one connection, if limited.
    pub per_connection: Option<usize>,
    pub timeouts: Timeouts,
}

/// Serves connections from `listener` until `stop` fires, then stops
/// accepting, sends GOAWAY (HTTP/2), closes idle keep-alive connections
/// (HTTP/1.1) and waits for the rest.
pub async fn serve(
    listener: TcpListener,
    serving: Serving,
    stop: impl Future<Output = ()> + Send + 'static,
) -> std::io::Result<()> {
    let Serving {
        tier,
        service,
        tls,
        max_streams,
        per_connection,
        timeouts,
    } = serving;
    let acceptor = tls.map(TlsAcceptor::from);
    let mut builder = auto::Builder::new(TokioExecutor::new());
    // A client that aborts many calls at once resets many streams before the
    // server has accepted them; past h2's default of 20 such resets the
    // server would close the connection (GOAWAY) and fail its other calls.
    builder
        .http2()
        .timer(TokioTimer::new())
        .keep_alive_interval(timeouts.keepalive_interval)
        .keep_alive_timeout(timeouts.keepalive_timeout)
        .max_concurrent_streams(max_streams)
        .max_pending_accept_reset_streams(max_streams as usize);
    // Connections are shut down one by one (on `stop`, or when idle), so
    // each watches a token rather than hyper-util's GracefulShutdown.
    let stopping = CancellationToken::new();
    let connections = TaskTracker::new();
    let mut stop = std::pin::pin!(stop);
    loop {
        let (tcp, peer) = tokio::select! {
            () = &mut stop => break,
            accepted = listener.accept() => match accepted {
                Ok(accepted) => accepted,
                Err(e) => {
                    // Out of file descriptors and the like: try again soon.
                    tracing::warn!(%tier, error = %e, "accept failed");
                    tokio::time::sleep(Duration::from_millis(50)).await;
                    continue;
                }
            },
        };
        // Small gRPC frames must not wait on Nagle's algorithm.
        let _ = tcp.set_nodelay(true);
        let connection = Connection {
            builder: builder.clone(),
            stopping: stopping.clone(),
            timeouts,
            service: connection_service(&service, per_connection),
        };
        let acceptor = acceptor.clone();
        connections.spawn(async move {
            let Some(acceptor) = acceptor else {
                return connection.serve(tcp, None, peer).await;
            };
            match tokio::time::timeout(HANDSHAKE_TIMEOUT, acceptor.accept(tcp)).await {
                Ok(Ok(stream)) => {
                    let http2 = stream.get_ref().1.alpn_protocol() == Some(b"h2");
                    connection.serve(stream, Some(http2), peer).await
                }
                Ok(Err(e)) => tracing::debug!(%peer, error = %e, "TLS handshake failed"),
                Err(_) => tracing::debug!(%peer, "TLS handshake timed out"),
            }
        });
    }
    drop(listener);
    stopping.cancel();
    connections.close();
    connections.wait().await;
    Ok(())
}

/// What one accepted connection is served with.
struct Connection {
    builder: auto::Builder<TokioExecutor>,
    stopping: CancellationToken,
    timeouts: Timeouts,
    service: HttpService,
}

impl Connection {
    /// `http2`: whether it speaks HTTP/2, if known (by ALPN).
    async fn serve<I>(self, io: I, http2: Option<bool>, peer: std::net::SocketAddr)
    where
        I: AsyncRead + AsyncWrite + Send + Unpin + 'static,
    {
        let activity = Activity::new();
        let service = activity.counting(self.service);
        let io = TokioIo::new(activity.reads(io, http2));
        let connection = self
            .builder
            .serve_connection_with_upgrades(io, TowerToHyperService::new(service));
        let mut connection = std::pin::pin!(connection);
        let ended = tokio::select! {
            ended = connection.as_mut() => ended,
            () = self.stopping.cancelled() => {
                connection.as_mut().graceful_shutdown();
                connection.await
            }
            () = activity.header_overdue(self.timeouts.header_read) => {
                tracing::debug!(%peer, "closing a connection whose request header is too slow");
                Ok(()) // dropped: the socket closes
            }
            () = activity.idle_for(self.timeouts.idle, Instant::now()) => {
                tracing::debug!(%peer, "closing an idle connection");
                connection.as_mut().graceful_shutdown();
                // One that is halfway through a request header does not
                // close on its own: dropped (socket closed) if it still has
                // no call after the grace; a call that slipped in before the
                // GOAWAY is served to its end.
                tokio::select! {
                    ended = connection.as_mut() => ended,
                    () = activity.idle_for(IDLE_CLOSE_GRACE, Instant::now()) => Ok(()),
                }
            }
        };
        if let Err(e) = ended {
            // A client that goes away (or too slowly) is no error of ours.
            tracing::debug!(%peer, error = %e, "connection ended with an error");
        }
    }
}

/// One connection's service: its requests carry that connection's own
/// limit, if there is one.
fn connection_service(service: &HttpService, per_connection: Option<usize>) -> HttpService {
    match per_connection {
        Some(max) => HttpService::new(AddExtension::new(service.clone(), PerConnection::new(max))),
        None => service.clone(),
    }
}
