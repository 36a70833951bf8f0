//! TLS towards browsers: they speak HTTP/2 only over TLS, and over HTTP/1.1 a
//! page gets six connections per origin, so six open streams stall it. A tier
//! serves TLS from PEM files or from a certificate made at start-up; ALPN
//! offers h2 and http/1.1, and `accept` serves each connection as what it
//! speaks.
use std::{path::Path, sync::Arc};

use anyhow::Context as _;
use base64::Engine as _;
use rcgen::PublicKeyData as _;
use rustls::{
    ServerConfig,
    pki_types::{CertificateDer, PrivateKeyDer, pem::PemObject},
};

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
