//! The runtime every package shares, and the demo's package in `pkg/`.
//!
//! The runtime is the root crate built by wasm-pack (release, `--target web`,
//! so it loads from a plain `<script type="module">` and from bundlers
//! alike), then binaryen's `wasm-opt` from `e2e/` (wasm-pack cannot download
//! its own here), and esbuild minifies wasm-bindgen's JS glue (generated
//! code nobody reads; 7.4 -> 5.2 KB gzipped). The demo's `pkg/` is made by
//! `cargo xtask package`, exactly the path a user takes.
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
const ESBUILD: &str = "e2e/node_modules/.bin/esbuild";

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
            "--",
            "--features",
            "npm-runtime",
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
    minify(&dir.join("grpc_web_abort.js"), false)?;
    Ok(dir)
}

/// Minifies the ES module `file` in place with esbuild (no bundling);
/// `keep_names` keeps functions' and classes' `name` (for public classes
/// such as `GrpcError`, whose `constructor.name` users may print).
pub fn minify(file: &std::path::Path, keep_names: bool) -> anyhow::Result<()> {
    if !root().join(ESBUILD).exists() {
        bail!("{ESBUILD} is missing: run `cargo xtask setup`");
    }
    let before = std::fs::read(file).with_context(|| format!("reading {}", file.display()))?;
    let path = file.to_string_lossy().into_owned();
    let outfile = format!("--outfile={path}");
    let mut args = vec![
        path.as_str(),
        "--minify",
        "--format=esm",
        "--log-level=warning",
        "--allow-overwrite",
        &outfile,
    ];
    if keep_names {
        args.push("--keep-names");
    }
    exec(&mut command(ESBUILD, &args))?;
    let after = std::fs::read(file)?;
    eprintln!(
        "xtask: minified {}: {} -> {} bytes gzipped",
        file.file_name().unwrap_or_default().to_string_lossy(),
        gzip_size(&before)?,
        gzip_size(&after)?
    );
    Ok(())
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
