//! What a Rust app's browser download weighs (issue 18): `examples/minimal-app`
//! (one unary call, one stream, tonic clients for `proto/demo.proto`) on
//! grpc-web-abort, on it with the npm runtime's `js-api` left on, and on
//! tonic-web-wasm-client, each through the pipeline the npm package takes:
//! wasm-pack (release, `--target web`), binaryen's `wasm-opt -Oz`, esbuild
//! on the JS glue, `gzip -9` of the `.wasm` and the `.js` together.
use std::path::Path;

use anyhow::{Context, bail};

use crate::{
    cmd::{command, exec, root},
    pkg,
};

pub const APP: &str = "examples/minimal-app";
/// Shared with the other example: the same dependencies compile once.
pub const TARGET: &str = "target/examples";

/// One build of the app.
pub struct Size {
    pub variant: &'static str,
    pub wasm: usize,
    pub gzip: usize,
    /// Whether the `.wasm` exports the npm runtime's API (`registerSchema`).
    pub js_exports: bool,
}

/// The variants: (name, cargo feature arguments).
const VARIANTS: [(&str, &[&str]); 3] = [
    ("grpc-web-abort", &[]),
    ("grpc-web-abort with `js-api` on", &["--features", "js-api"]),
    (
        "tonic-web-wasm-client 0.9",
        &[
            "--no-default-features",
            "--features",
            "tonic-web-wasm-client",
        ],
    ),
];

/// Builds and measures every variant, checking in Chromium that each works
/// against the demo server at `server_url`.
pub fn measure(server_url: &str) -> anyhow::Result<Vec<Size>> {
    VARIANTS
        .iter()
        .map(|(variant, features)| build(variant, features, server_url))
        .collect()
}

fn build(variant: &'static str, features: &[&str], server_url: &str) -> anyhow::Result<Size> {
    let target = root().join(TARGET);
    let out = target.join("minimal-pkg");
    let _ = std::fs::remove_dir_all(&out);
    let out_dir = out.to_string_lossy().into_owned();
    let mut args = vec![
        "build",
        "--release",
        "--target",
        "web",
        "--no-typescript",
        "--no-pack",
        "--out-dir",
        &out_dir,
        "--",
    ];
    args.extend(features);
    exec(
        command("wasm-pack", &args)
            .current_dir(root().join(APP))
            .env("CARGO_TARGET_DIR", &target),
    )?;
    let wasm = out.join("minimal_app_bg.wasm");
    pkg::optimize(&wasm.to_string_lossy())?;
    pkg::minify(&out.join("minimal_app.js"))?;
    // What is measured must work.
    exec(
        command(
            "node",
            &[
                "--test",
                "--test-reporter=spec",
                &format!("{APP}/run.test.mjs"),
            ],
        )
        .env("DEMO_URL", server_url)
        .env("APP_PKG", &out)
        .env("VARIANT", variant),
    )?;
    let wasm_bytes = std::fs::read(&wasm).context("the app's .wasm")?;
    let mut both = wasm_bytes.clone();
    both.extend(std::fs::read(out.join("minimal_app.js"))?);
    Ok(Size {
        variant,
        wasm: wasm_bytes.len(),
        gzip: pkg::gzip_size(&both)?,
        js_exports: exports_js_api(&out)?,
    })
}

/// Whether wasm-bindgen's glue exposes the npm runtime's entry points.
fn exports_js_api(out: &Path) -> anyhow::Result<bool> {
    let glue = std::fs::read_to_string(out.join("minimal_app.js"))?;
    Ok(glue.contains("registerSchema"))
}

/// The feature's promise, checked: without `js-api` the app exports none of
/// the npm runtime's API and is smaller than with it.
pub fn check(sizes: &[Size]) -> anyhow::Result<()> {
    let (ours, with_js) = (&sizes[0], &sizes[1]);
    if ours.js_exports || !with_js.js_exports {
        bail!(
            "registerSchema exported: {} without js-api, {} with it",
            ours.js_exports,
            with_js.js_exports
        );
    }
    if ours.gzip >= with_js.gzip {
        bail!(
            "without js-api the app is not smaller: {} B vs {} B gzipped",
            ours.gzip,
            with_js.gzip
        );
    }
    Ok(())
}

/// The sizes as a Markdown table.
pub fn table(sizes: &[Size]) -> String {
    let mut text = String::from(
        "| the app on | `.wasm` after wasm-opt | `.wasm` + `.js`, gzip -9 |\n|---|---|---|\n",
    );
    for s in sizes {
        text.push_str(&format!(
            "| {} | {} B | {} B ({:.1} KiB) |\n",
            s.variant,
            s.wasm,
            s.gzip,
            s.gzip as f64 / 1024.0
        ));
    }
    text
}
