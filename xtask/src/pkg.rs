//! The runtime every package shares, and the demo's package in `pkg/`.
//!
//! The runtime is the root crate built by wasm-pack (release, `--target web`,
//! so it loads from a plain `<script type="module">` and from bundlers
//! alike), then binaryen's `wasm-opt` from `e2e/` (wasm-pack cannot download
//! its own here). The demo's `pkg/` is made by `cargo xtask package`, exactly
//! the path a user takes.
use std::{
    io::{Read, Write},
    path::PathBuf,
    process::Stdio,
};

use anyhow::{Context, bail};

use crate::{
    cmd::{command, exec, root},
    package,
};

/// Where wasm-pack puts the runtime (inside `target/`, so never committed).
const RUNTIME_DIR: &str = "target/runtime-pkg";
const WASM_OPT: &str = "e2e/node_modules/.bin/wasm-opt";

/// `pkg/`: the demo's npm package, built from `proto/demo.proto`.
pub fn build() -> anyhow::Result<()> {
    package::run(&package::Args {
        protos: vec![root().join("proto/demo.proto")],
        includes: Vec::new(),
        out: root().join("pkg"),
        name: "grpc-web-abort".to_owned(),
    })
}

/// Builds and optimises the runtime; the directory holding
/// `grpc_web_abort.js`, `grpc_web_abort_bg.wasm`, `grpc_web_abort.d.ts` and
/// any `snippets/`.
pub fn build_runtime() -> anyhow::Result<PathBuf> {
    let dir = root().join(RUNTIME_DIR);
    let out_dir = dir.to_string_lossy().into_owned();
    exec(&mut command(
        "wasm-pack",
        &[
            "build",
            "--release",
            "--target",
            "web",
            "--out-dir",
            &out_dir,
        ],
    ))?;
    let wasm = dir.join("grpc_web_abort_bg.wasm");
    let before = std::fs::read(&wasm).context("reading the runtime's wasm")?;
    optimize(&wasm.to_string_lossy())?;
    let after = std::fs::read(&wasm)?;
    eprintln!(
        "xtask: {RUNTIME_DIR}/grpc_web_abort_bg.wasm: {} -> {} bytes raw, {} -> {} bytes gzipped",
        before.len(),
        after.len(),
        gzip_size(&before)?,
        gzip_size(&after)?
    );
    Ok(dir)
}

/// `-Oz` with the wasm features rustc's wasm32 target emits by default.
fn optimize(wasm: &str) -> anyhow::Result<()> {
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
            wasm,
            "-o",
            wasm,
        ],
    ))
}

/// The size of `data` compressed by `gzip -9`, in bytes.
pub fn gzip_size(data: &[u8]) -> anyhow::Result<usize> {
    let mut gzip = command("gzip", &["-9", "-c"])
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .spawn()
        .context("could not run gzip")?;
    let mut stdin = gzip.stdin.take().context("gzip's stdin")?;
    let data = data.to_vec();
    let writer = std::thread::spawn(move || stdin.write_all(&data));
    let mut compressed = Vec::new();
    gzip.stdout
        .take()
        .context("gzip's stdout")?
        .read_to_end(&mut compressed)?;
    writer.join().expect("the writer does not panic")?;
    if !gzip.wait()?.success() {
        bail!("gzip failed");
    }
    Ok(compressed.len())
}
