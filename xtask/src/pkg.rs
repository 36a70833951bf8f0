//! Builds the npm package into `pkg/`: wasm-pack (release, `--target web`, so
//! it loads from a plain `<script type="module">` and from bundlers alike),
//! then binaryen's `wasm-opt` from `e2e/` (wasm-pack cannot download its own
//! here), then the re-export of `GrpcError`, which lives in a JS snippet.
use std::path::Path;

use anyhow::{Context, bail};

use crate::cmd::{command, exec, root};

const WASM: &str = "pkg/grpc_web_abort_bg.wasm";
const ENTRY: &str = "pkg/grpc_web_abort.js";
const WASM_OPT: &str = "e2e/node_modules/.bin/wasm-opt";

pub fn build() -> anyhow::Result<()> {
    exec(&mut command(
        "wasm-pack",
        &["build", "--release", "--target", "web", "--out-dir", "pkg"],
    ))?;
    let before = sizes(&root().join(WASM))?;
    optimize()?;
    let after = sizes(&root().join(WASM))?;
    eprintln!(
        "xtask: {WASM}: {} -> {} bytes raw, {} -> {} bytes gzipped",
        before.0, after.0, before.1, after.1
    );
    export_grpc_error()
}

/// `-Oz` with the wasm features rustc's wasm32 target emits by default.
fn optimize() -> anyhow::Result<()> {
    if !root().join(WASM_OPT).exists() {
        bail!("{WASM_OPT} is missing: run `cargo xtask setup`");
    }
    exec(&mut command(
        WASM_OPT,
        &[
            "-Oz",
            "--enable-reference-types",
            "--enable-bulk-memory",
            "--enable-nontrapping-float-to-int",
            "--enable-sign-ext",
            "--enable-multivalue",
            "--enable-mutable-globals",
            WASM,
            "-o",
            WASM,
        ],
    ))
}

/// `GrpcError` must be a real `Error` subclass, so it is defined in
/// `src/js/grpc_error.js`; wasm-bindgen imports that snippet but cannot
/// export it, so the entry module re-exports it (its type is declared in
/// `src/js/types.rs`).
fn export_grpc_error() -> anyhow::Result<()> {
    let path = root().join(ENTRY);
    let mut entry = std::fs::read_to_string(&path).with_context(|| format!("reading {ENTRY}"))?;
    if entry.contains("export { GrpcError }") {
        return Ok(());
    }
    let snippet = entry
        .lines()
        .filter_map(|l| l.split(" from '").nth(1))
        .map(|s| s.trim_end_matches(['\'', ';']))
        .find(|s| s.ends_with("/grpc_error.js"))
        .context("the entry module does not import grpc_error.js")?
        .to_string();
    entry.push_str(&format!("export {{ GrpcError }} from '{snippet}';\n"));
    std::fs::write(&path, entry)?;
    Ok(())
}

/// Raw and gzip-compressed sizes in bytes.
fn sizes(path: &Path) -> anyhow::Result<(u64, u64)> {
    let raw = std::fs::metadata(path)?.len();
    let out = command("sh", &["-c", "gzip -9 -c \"$0\" | wc -c"])
        .arg(path)
        .output()
        .context("could not run gzip")?;
    let gz = String::from_utf8_lossy(&out.stdout).trim().parse()?;
    Ok((raw, gz))
}
