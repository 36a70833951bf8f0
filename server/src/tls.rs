//! TLS towards browsers: they speak HTTP/2 only over TLS, and over HTTP/1.1 a
//! page gets six connections per origin, so six open streams stall it. A tier
//! serves TLS from PEM files or from a certificate made at start-up; ALPN
//! offers h2 and http/1.1, and each connection is served as what it speaks.
use std::{path::Path, sync::Arc, time::Duration};

use anyhow::Context as _;
use axum::body::Body;
use base64::Engine as _;
use hyper_util::{
    rt::{TokioExecutor, TokioIo},
    server::{conn::auto, graceful::GracefulShutdown},
    service::TowerToHyperService,
};
use rcgen::PublicKeyData as _;
use rustls::{
    ServerConfig,
    pki_types::{CertificateDer, PrivateKeyDer, pem::PemObject},
};
use tokio::net::TcpListener;
use tokio_rustls::TlsAcceptor;
use tower::ServiceExt as _;

use crate::app::HttpService;

/// A handshake that has not finished by then is a client gone astray.
const HANDSHAKE_TIMEOUT: Duration = Duration::from_secs(10);

/// A tier's TLS settings.
#[derive(Clone, Debug)]
pub struct Tls {
    pub config: Arc<ServerConfig>,
    /// base64 of the SHA-256 of the certificate's SubjectPublicKeyInfo, as
    /// Chromium's `--ignore-certificate-errors-spki-list` wants it; known for
    /// a self-signed certificate.
    pub spki_sha256: Option<String>,
}

impl Tls {
    /// The certificate chain and private key in PEM files.
    pub fn from_pem_files(cert: &Path, key: &Path) -> anyhow::Result<Self> {
        let chain = CertificateDer::pem_file_iter(cert)
            .and_then(|certs| certs.collect::<Result<Vec<_>, _>>())
            .with_context(|| format!("--tls-cert {}: no PEM certificates", cert.display()))?;
        let key = PrivateKeyDer::from_pem_file(key)
            .with_context(|| format!("--tls-key {}: no PEM private key", key.display()))?;
        Ok(Self {
            config: server_config(chain, key)?,
            spki_sha256: None,
        })
    }

    /// A certificate made now for `localhost`, `127.0.0.1` and `::1`.
    pub fn self_signed() -> anyhow::Result<Self> {
        let names = ["localhost", "127.0.0.1", "::1"].map(String::from);
        let rcgen::CertifiedKey { cert, signing_key } = rcgen::generate_simple_self_signed(names)?;
        let spki = signing_key.subject_public_key_info();
        let key =
            PrivateKeyDer::try_from(signing_key.serialize_der()).map_err(anyhow::Error::msg)?;
        Ok(Self {
            config: server_config(vec![cert.der().clone()], key)?,
            spki_sha256: Some(spki_sha256(&spki)),
        })
    }
}

fn server_config(
    chain: Vec<CertificateDer<'static>>,
    key: PrivateKeyDer<'static>,
) -> anyhow::Result<Arc<ServerConfig>> {
    let provider = Arc::new(rustls::crypto::ring::default_provider());
    let mut config = ServerConfig::builder_with_provider(provider)
        .with_safe_default_protocol_versions()?
        .with_no_client_auth()
        .with_single_cert(chain, key)
        .context("the TLS certificate and key do not fit together")?;
    config.alpn_protocols = vec![b"h2".to_vec(), b"http/1.1".to_vec()];
    Ok(Arc::new(config))
}

/// base64(SHA-256(SubjectPublicKeyInfo DER)).
pub fn spki_sha256(spki_der: &[u8]) -> String {
    let digest = ring::digest::digest(&ring::digest::SHA256, spki_der);
    base64::engine::general_purpose::STANDARD.encode(digest.as_ref())
}

/// Serves `service` over TLS on `listener` until `stop` fires; then, like
/// `axum::serve`'s graceful shutdown, it stops accepting and waits for the
/// open connections to finish.
pub async fn serve(
    listener: TcpListener,
    tls: Arc<ServerConfig>,
    service: HttpService,
    per_connection: Option<usize>,
    stop: impl Future<Output = ()> + Send + 'static,
) -> std::io::Result<()> {
    let mut stop = std::pin::pin!(stop);
    let acceptor = TlsAcceptor::from(tls);
    let builder = auto::Builder::new(TokioExecutor::new());
    let graceful = GracefulShutdown::new();
    loop {
        let (tcp, peer) = tokio::select! {
            () = &mut stop => break,
            accepted = listener.accept() => match accepted {
                Ok(accepted) => accepted,
                Err(e) => {
                    // Out of file descriptors and the like: try again soon.
                    tracing::warn!(error = %e, "accept failed");
                    tokio::time::sleep(Duration::from_millis(50)).await;
                    continue;
                }
            },
        };
        // Small gRPC frames must not wait on Nagle's algorithm.
        let _ = tcp.set_nodelay(true);
        let service = crate::tiers::connection_service(&service, per_connection);
        let (acceptor, builder) = (acceptor.clone(), builder.clone());
        let watcher = graceful.watcher();
        tokio::spawn(async move {
            let stream = match tokio::time::timeout(HANDSHAKE_TIMEOUT, acceptor.accept(tcp)).await {
                Ok(Ok(stream)) => stream,
                Ok(Err(e)) => return tracing::debug!(%peer, error = %e, "TLS handshake failed"),
                Err(_) => return tracing::debug!(%peer, "TLS handshake timed out"),
            };
            let service =
                service.map_request(|req: http::Request<hyper::body::Incoming>| req.map(Body::new));
            let connection = builder.serve_connection_with_upgrades(
                TokioIo::new(stream),
                TowerToHyperService::new(service),
            );
            if let Err(e) = watcher.watch(connection.into_owned()).await {
                tracing::debug!(%peer, error = %e, "connection ended with an error");
            }
        });
    }
    graceful.shutdown().await;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn self_signed_offers_h2_and_http1_and_names_its_key() {
        let tls = Tls::self_signed().unwrap();
        assert_eq!(
            tls.config.alpn_protocols,
            [b"h2".to_vec(), b"http/1.1".to_vec()]
        );
        // 32 bytes in base64.
        assert_eq!(tls.spki_sha256.unwrap().len(), 44);
    }

    #[test]
    fn spki_hash_is_base64_of_sha256() {
        // SHA-256 of the empty input (`openssl dgst -sha256 -binary | base64`).
        assert_eq!(
            spki_sha256(b""),
            "47DEQpj8HBSa+/TImW+5JCeuQeRkm5NMpJWZG3hSuFU="
        );
    }
}
