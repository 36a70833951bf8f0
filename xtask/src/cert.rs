//! A self-signed certificate made with openssl (for nginx in `cargo xtask
//! cluster`), and its SPKI hash, by which Chromium can be told to trust it.
use std::{path::Path, process::Command};

use anyhow::{Context, bail};

use crate::cmd::command;

/// A certificate for nginx (localhost, 127.0.0.1, ::1) made by openssl;
/// returns its SPKI SHA-256 in base64, as Chromium wants it.
pub fn self_signed(cert: &Path, key: &Path) -> anyhow::Result<String> {
    let status = Command::new("openssl")
        .args([
            "req",
            "-x509",
            "-newkey",
            "ec",
            "-pkeyopt",
            "ec_paramgen_curve:prime256v1",
            "-nodes",
        ])
        .args(["-days", "30", "-subj", "/CN=localhost"])
        .args([
            "-addext",
            "subjectAltName=DNS:localhost,IP:127.0.0.1,IP:::1",
        ])
        .arg("-keyout")
        .arg(key)
        .arg("-out")
        .arg(cert)
        .stderr(std::process::Stdio::null())
        .status()
        .context("could not run openssl")?;
    if !status.success() {
        bail!("openssl req failed: {status}");
    }
    let out = command(
        "sh",
        &[
            "-c",
            "openssl x509 -in \"$0\" -pubkey -noout | openssl pkey -pubin -outform der \
             | openssl dgst -sha256 -binary | base64",
        ],
    )
    .arg(cert)
    .output()?;
    let spki = String::from_utf8(out.stdout)?.trim().to_string();
    if !out.status.success() || spki.len() != 44 {
        bail!("could not compute the SPKI hash of {}", cert.display());
    }
    Ok(spki)
}
