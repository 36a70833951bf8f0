//! The library crates would publish: `cargo publish --dry-run` of all four at
//! once, so that a crate depending on another one not yet on crates.io
//! (tonic-deadline on grpc-timeout) resolves it from the others' packages
//! (cargo 1.90+ does that for several `-p`), each package built from its
//! packed files alone. Any warning (missing metadata, a file left out) fails
//! the check too.
use std::process::Command;

use anyhow::{Context, bail};

use crate::cmd::root;

/// The crates users get from crates.io.
const CRATES: [&str; 4] = [
    "grpc-timeout",
    "tonic-deadline",
    "grpc-web-abort",
    "grpc-web-abort-build",
];

pub fn run() -> anyhow::Result<()> {
    let mut args = vec!["publish", "--dry-run", "--allow-dirty"];
    args.extend(CRATES.iter().flat_map(|c| ["-p", *c]));
    eprintln!("xtask: $ cargo {}", args.join(" "));
    let out = Command::new("cargo")
        .args(&args)
        .current_dir(root())
        .output()
        .context("could not start cargo publish")?;
    let log = String::from_utf8_lossy(&out.stderr);
    if !out.status.success() {
        bail!("cargo publish --dry-run failed ({}):\n{log}", out.status);
    }
    let warnings: Vec<&str> = log
        .lines()
        .filter(|l| l.trim_start().starts_with("warning:"))
        .filter(|l| !l.contains("aborting upload due to dry run"))
        .collect();
    if !warnings.is_empty() {
        bail!("cargo publish --dry-run warns:\n{}", warnings.join("\n"));
    }
    let uploaded = log.lines().filter(|l| l.contains("Uploading")).count();
    if uploaded != CRATES.len() {
        bail!(
            "cargo publish --dry-run packed {uploaded} crates, not {}:\n{log}",
            CRATES.len()
        );
    }
    eprintln!(
        "xtask: the {} library crates publish (dry run)",
        CRATES.len()
    );
    Ok(())
}
