//! `cargo xtask bench`: our package and Connect-ES head to head, in one
//! headless Chromium page against one demo server over HTTP/1.1 and then
//! against a second one over HTTP/2 with TLS (`bench/run.mjs` drives the
//! page, `bench/page.mjs` runs in it; cancel→stop and deadlines are observed
//! from Node, `bench/monitor.mjs`, and timed per call from the server's own
//! clock, `bench/server-clock.mjs`), the cold start of a bundled app
//! (`bench/coldstart.mjs`, loopback and emulated slow 4G), plus the server's
//! own layer overhead (`server/benches/overhead.rs`). Writes
//! `target/bench/results.json` and `BENCHMARKS.md`. `--quick` runs the same
//! code paths with tiny counts and writes only under `target/bench/`. A part
//! can be run by hand against running servers: `bench/run.mjs`'s `--only` and
//! `--transports` (its head says how).
use std::path::{Path, PathBuf};

use anyhow::Context;

use crate::{
    cmd::{command, exec, root},
    package, pkg,
    server::{self, Profile, Server},
    setup,
};

const OUT_DIR: &str = "target/bench";

pub fn run(quick: bool) -> anyhow::Result<()> {
    setup::build_tools()?;
    setup::bench_npm_packages()?;
    pkg::build()?;
    let overhead = if quick { None } else { Some(overhead()?) };
    // The full run measures the release server (what a deployment runs);
    // `--quick` only keeps the code paths alive.
    let profile = if quick {
        Profile::Debug
    } else {
        Profile::Release
    };
    let [plain, tls] = free_addrs()?;
    let server = Server::launch(&plain, false, profile)?;
    let out = measure(&server.url, &tls, profile, quick, overhead.as_deref())?;
    if !quick {
        let mut text = std::fs::read_to_string(out.join("BENCHMARKS.md"))
            .context("reading the rendered BENCHMARKS.md")?;
        text.push_str(&sizes_per_proto(&out)?);
        text.push_str(&rust_apps(&server.url)?);
        std::fs::write(root().join("BENCHMARKS.md"), text)?;
        eprintln!("xtask: wrote BENCHMARKS.md and {OUT_DIR}/results.json");
    }
    drop(server);
    Ok(())
}

/// Two frontend addresses (plain, TLS) whose ports and the next are free on
/// 127.0.0.1 now, chosen by the kernel (a fixed range once failed with other
/// servers running), so that the bench never measures some other process's
/// server; demo-server refuses to start on a port taken since.
fn free_addrs() -> anyhow::Result<[String; 2]> {
    let free = |port: u16| std::net::TcpListener::bind(("127.0.0.1", port)).is_ok();
    let mut found = Vec::new();
    // Held until both are chosen, so the kernel hands out different ports.
    let mut held = Vec::new();
    for _ in 0..64 {
        let listener = std::net::TcpListener::bind("127.0.0.1:0")?;
        let port = listener.local_addr()?.port();
        if port < u16::MAX && free(port + 1) {
            found.push(format!("127.0.0.1:{port}"));
        }
        held.push(listener);
        if found.len() == 2 {
            return Ok([found[0].clone(), found[1].clone()]);
        }
    }
    anyhow::bail!("the kernel gave no two free pairs of ports (port, port + 1) in 64 tries")
}

/// Section 6: the size of an app per Google API proto, ours beside
/// protoc-gen-es + Connect-ES (`bench/sizes.mjs` on `cargo xtask dist`'s
/// packages); the plot goes to docs/bench-sizes.svg.
fn sizes_per_proto(out: &Path) -> anyhow::Result<String> {
    crate::dist::run()?;
    let dist = root().join(crate::dist::DIST);
    exec(&mut command(
        "node",
        &[
            "bench/sizes.mjs",
            &dist.to_string_lossy(),
            &out.to_string_lossy(),
        ],
    ))?;
    std::fs::copy(out.join("sizes.svg"), root().join("docs/bench-sizes.svg"))
        .context("copying the sizes plot")?;
    let table = std::fs::read_to_string(out.join("sizes.md"))?;
    Ok(format!(
        "\n## 6. Size as protos grow (issues 14 and 17)\n\n\
         An app that calls every unary and server-streaming method of one of Google's API protos \
         (the npm package `google-proto-files`), bundled and minified by esbuild as an app's build \
         would: ours is the runtime package (its wasm counted) and the modules our plugin generates; \
         Connect-ES's is connect-web + protobuf-es and what protoc-gen-es generates. The marginal cost \
         of a proto is its app minus an app with the client machinery alone. `bench/sizes.mjs`; raw \
         figures in `target/bench/sizes.json`.\n\n{table}\n![Marginal size per proto](docs/bench-sizes.svg)\n"
    ))
}

/// Section 7: a minimal Rust app's size (issue 18), `xtask/src/rust_size.rs`.
fn rust_apps(server_url: &str) -> anyhow::Result<String> {
    let sizes = crate::rust_size::measure(server_url)?;
    crate::rust_size::check(&sizes)?;
    Ok(format!(
        "\n## 7. Rust apps: what a Rust frontend downloads (issue 18)\n\n\
         One unary call and one stream through tonic-generated clients for proto/demo.proto, built \
         by the same pipeline three ways (`examples/minimal-app`, `xtask/src/rust_size.rs`), each \
         run in Chromium before it is measured. The `js-api` feature (the npm runtime's exports) \
         is off for Rust apps.\n\n{}",
        crate::rust_size::table(&sizes)
    ))
}

/// `--quick` against a plain-http server that is already running with `pkg/`
/// built (the last step of `cargo xtask test`), and a TLS one of its own.
pub fn quick(url: &str) -> anyhow::Result<()> {
    setup::bench_npm_packages()?;
    let [_, tls] = free_addrs()?;
    measure(url, &tls, Profile::Debug, true, None).map(drop)
}

/// Runs the browser half against `url` (HTTP/1.1; `profile`'s server) and
/// against a TLS server of `profile` it starts on `tls_addr` (HTTP/2).
fn measure(
    url: &str,
    tls_addr: &str,
    profile: Profile,
    quick: bool,
    overhead: Option<&str>,
) -> anyhow::Result<PathBuf> {
    let tls = Server::launch(tls_addr, true, profile)?;
    let spki = tls
        .spki
        .clone()
        .context("the TLS server printed no SPKI hash")?;
    let out = root().join(OUT_DIR);
    std::fs::create_dir_all(&out)?;
    connect_bundle(&out)?;
    let ours = size(&package::code_files(&root().join("pkg"))?)?;
    let theirs = size(&[out.join("connect.js")])?;
    eprintln!(
        "xtask: size, gzip -9: pkg/ {} B, Connect-ES {} B: {:.2}x",
        ours.gzip,
        theirs.gzip,
        ours.gzip as f64 / theirs.gzip as f64
    );
    let rustc = command("rustc", &["--version"]).output()?;
    let inputs = format!(
        "{{\n  \"size\": {{\"ours\": {}, \"connect\": {}}},\n  \"versions\": {{\"rustc\": {}, \"wasm-bindgen\": {}, \"tonic\": {}}},\n  \"server\": {},\n  \"overhead\": {}\n}}\n",
        ours.json(),
        theirs.json(),
        json_string(String::from_utf8_lossy(&rustc.stdout).trim()),
        json_string(&setup::locked_version("wasm-bindgen")?),
        json_string(&setup::locked_version("tonic")?),
        json_string(server::binary_path(profile)),
        overhead.map_or_else(|| "null".to_owned(), json_string),
    );
    let inputs_path = out.join("inputs.json");
    std::fs::write(&inputs_path, inputs)?;
    let out_arg = out.to_string_lossy().into_owned();
    let inputs_arg = inputs_path.to_string_lossy().into_owned();
    let mut args = vec![
        "bench/run.mjs",
        "--base",
        url,
        "--h2-base",
        &tls.url,
        "--spki",
        &spki,
        "--out",
        &out_arg,
        "--inputs",
        &inputs_arg,
    ];
    if quick {
        args.push("--quick");
    }
    exec(&mut command("node", &args))?;
    Ok(out)
}

/// Connect-ES's side: protobuf-es code for `proto/demo.proto` (buf with the
/// local protoc-gen-es), bundled and minified by esbuild into `connect.js`.
fn connect_bundle(out: &Path) -> anyhow::Result<()> {
    let bench = root().join("bench");
    exec(command("node_modules/.bin/buf", &["generate"]).current_dir(&bench))?;
    let outfile = format!("--outfile={}", out.join("connect.js").display());
    exec(
        command(
            "node_modules/.bin/esbuild",
            &[
                "connect.ts",
                "--bundle",
                "--minify",
                "--format=esm",
                "--log-level=warning",
                &outfile,
            ],
        )
        .current_dir(&bench),
    )
}

struct Size {
    files: Vec<String>,
    raw: usize,
    gzip: usize,
}

impl Size {
    fn json(&self) -> String {
        let files: Vec<String> = self.files.iter().map(|f| json_string(f)).collect();
        format!(
            "{{\"files\": [{}], \"raw\": {}, \"gzip\": {}}}",
            files.join(", "),
            self.raw,
            self.gzip
        )
    }
}

/// `files` concatenated: raw and `gzip -9` sizes.
fn size(files: &[PathBuf]) -> anyhow::Result<Size> {
    let data = package::concatenated(files)?;
    let root = root();
    Ok(Size {
        files: files
            .iter()
            .map(|f| f.strip_prefix(&root).unwrap_or(f).display().to_string())
            .collect(),
        raw: data.len(),
        gzip: pkg::gzip_size(&data)?,
    })
}

/// `server/benches/overhead.rs`'s report (what `cargo xtask bench` ran before).
fn overhead() -> anyhow::Result<String> {
    let output = command(
        "cargo",
        &["bench", "-q", "-p", "demo-server", "--bench", "overhead"],
    )
    .stderr(std::process::Stdio::inherit())
    .output()
    .context("could not run cargo bench")?;
    anyhow::ensure!(
        output.status.success(),
        "cargo bench failed: {}",
        output.status
    );
    let text = String::from_utf8_lossy(&output.stdout).into_owned();
    eprint!("{text}");
    Ok(text)
}

/// `s` as a JSON string literal.
fn json_string(s: &str) -> String {
    let mut out = String::with_capacity(s.len() + 2);
    out.push('"');
    for c in s.chars() {
        match c {
            '"' => out.push_str("\\\""),
            '\\' => out.push_str("\\\\"),
            '\n' => out.push_str("\\n"),
            c if u32::from(c) < 0x20 => out.push_str(&format!("\\u{:04x}", u32::from(c))),
            c => out.push(c),
        }
    }
    out.push('"');
    out
}

#[cfg(test)]
mod tests {
    use super::json_string;

    #[test]
    fn json_strings_are_escaped() {
        assert_eq!(json_string("a\"b\\c\nd\u{1}"), "\"a\\\"b\\\\c\\nd\\u0001\"");
        assert_eq!(json_string("µs ×"), "\"µs ×\"");
    }
}
