//! `cargo xtask dist`: the two npm packages a JS developer installs, as
//! `npm pack` writes them, into `target/dist/`: the runtime
//! (`grpc-web-abort-<version>.tgz`: the prebuilt wasm, its JS and
//! declarations, the same for every proto) and the plugin
//! (`protoc-gen-grpc-web-abort-<version>.tgz`: the generator compiled to
//! WebAssembly behind a Node bin script). Nothing in either needs Rust.
use std::path::PathBuf;

use anyhow::Context;

use crate::{
    cmd::{command, root},
    pkg,
};

pub const DIST: &str = "target/dist";

/// The two tarballs' paths (runtime, plugin).
pub fn run() -> anyhow::Result<(PathBuf, PathBuf)> {
    let dist = root().join(DIST);
    let _ = std::fs::remove_dir_all(&dist);
    let runtime = dist.join("grpc-web-abort");
    let plugin = dist.join("protoc-gen-grpc-web-abort");
    pkg::runtime_package(&runtime, true)?;
    pkg::plugin_package(&plugin)?;
    let mut tarballs = Vec::new();
    for dir in [&runtime, &plugin] {
        let output = command(
            "npm",
            &["pack", "--pack-destination", &dist.to_string_lossy()],
        )
        .current_dir(dir)
        .output()
        .context("could not run npm pack")?;
        anyhow::ensure!(
            output.status.success(),
            "npm pack in {} failed: {}",
            dir.display(),
            String::from_utf8_lossy(&output.stderr)
        );
        let name = String::from_utf8_lossy(&output.stdout)
            .trim()
            .lines()
            .last()
            .unwrap_or_default()
            .to_owned();
        let tarball = dist.join(&name);
        anyhow::ensure!(tarball.is_file(), "npm pack wrote no {}", tarball.display());
        eprintln!("xtask: {}", tarball.display());
        tarballs.push(tarball);
    }
    let size = pkg::gzip_size(&crate::package::concatenated(&crate::package::code_files(
        &runtime,
    )?)?)?;
    eprintln!("xtask: the runtime's code (.wasm and every .js): {size} bytes gzipped (-9)");
    let plugin_tarball = tarballs.pop().expect("two tarballs");
    let runtime_tarball = tarballs.pop().expect("two tarballs");
    Ok((runtime_tarball, plugin_tarball))
}
