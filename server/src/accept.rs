//! One tier's accept loop, plain or TLS: each connection served as what it
//! speaks (HTTP/1.1 or HTTP/2, by ALPN over TLS), with the tier's HTTP/2
//! limits and its per-connection call limit; on shutdown it stops accepting
//! and waits for the open connections to finish.
//!
//! hyper-util's server rather than `axum::serve`, which cannot set HTTP/2's
//! `max_concurrent_streams` nor serve TLS.
use std::{sync::Arc, time::Duration};

use axum::body::Body;
use hyper::body::Incoming;
use hyper_util::{
    rt::{TokioExecutor, TokioIo},
    server::{conn::auto, graceful::GracefulShutdown},
    service::TowerToHyperService,
};
use tokio::{
    io::{AsyncRead, AsyncWrite},
    net::TcpListener,
};
use tokio_rustls::TlsAcceptor;
use tonic_deadline::PerConnection;
use tower::ServiceExt as _;
use tower_http::add_extension::AddExtension;

use crate::app::HttpService;

/// A handshake that has not finished by then is a client gone astray.
const HANDSHAKE_TIMEOUT: Duration = Duration::from_secs(10);

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
    } = serving;
    let acceptor = tls.map(TlsAcceptor::from);
    let mut builder = auto::Builder::new(TokioExecutor::new());
    // A client that aborts many calls at once resets many streams before the
    // server has accepted them; past h2's default of 20 such resets the
    // server would close the connection (GOAWAY) and fail its other calls.
    builder
        .http2()
        .max_concurrent_streams(max_streams)
        .max_pending_accept_reset_streams(max_streams as usize);
    let graceful = GracefulShutdown::new();
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
            watcher: graceful.watcher(),
            service: connection_service(&service, per_connection),
        };
        let acceptor = acceptor.clone();
        tokio::spawn(async move {
            let Some(acceptor) = acceptor else {
                return connection.serve(tcp, peer).await;
            };
            match tokio::time::timeout(HANDSHAKE_TIMEOUT, acceptor.accept(tcp)).await {
                Ok(Ok(stream)) => connection.serve(stream, peer).await,
                Ok(Err(e)) => tracing::debug!(%peer, error = %e, "TLS handshake failed"),
                Err(_) => tracing::debug!(%peer, "TLS handshake timed out"),
            }
        });
    }
    drop(listener);
    graceful.shutdown().await;
    Ok(())
}

/// What one accepted connection is served with.
struct Connection {
    builder: auto::Builder<TokioExecutor>,
    watcher: hyper_util::server::graceful::Watcher,
    service: HttpService,
}

impl Connection {
    async fn serve<I>(self, io: I, peer: std::net::SocketAddr)
    where
        I: AsyncRead + AsyncWrite + Send + Unpin + 'static,
    {
        let service = self
            .service
            .map_request(|req: http::Request<Incoming>| req.map(Body::new));
        let connection = self
            .builder
            .serve_connection_with_upgrades(TokioIo::new(io), TowerToHyperService::new(service));
        if let Err(e) = self.watcher.watch(connection.into_owned()).await {
            // A client that goes away is no error of ours.
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
