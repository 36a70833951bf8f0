//! Installs what the build and the tests need and a fresh Debian machine with
//! Rust lacks. Every step checks first, so a second run costs nothing.
use anyhow::{Context, bail};

use crate::cmd::{command, exec, have, root};

/// What building the npm package needs (the demo needs no more).
pub fn build_tools() -> anyhow::Result<()> {
    wasm_target()?;
    nightly()?;
    debian_packages(&[("/usr/bin/node", "nodejs"), ("/usr/bin/npm", "npm")])?;
    cargo_tool("wasm-pack", "wasm-pack")?;
    wasm_bindgen_cli()?;
    npm_packages()
}

/// Everything: the build's tools, the browsers and drivers for the browser
/// tests, Python (with `grpcio`) for the peer check.
pub fn run() -> anyhow::Result<()> {
    build_tools()?;
    debian_packages(&[
        ("/usr/bin/chromium", "chromium"),
        ("/usr/bin/chromedriver", "chromium-driver"),
        ("/usr/bin/firefox-esr", "firefox-esr"),
        ("/usr/bin/python3", "python3"),
        // WebKit, the third engine: WebKitGTK's driver (and MiniBrowser), in Xvfb.
        ("/usr/bin/WebKitWebDriver", "webkit2gtk-driver"),
        ("/usr/bin/Xvfb", "xvfb"),
    ])?;
    python_venv()?;
    cargo_tool("geckodriver", "geckodriver")?;
    nginx()?;
    crate::peers::setup()?;
    // kubernetes-validate and grpcio's health client, in the same venv.
    crate::k8s_check::setup()
}

/// What `cargo xtask cluster` needs besides the build: Debian's nginx
/// (started by the cluster itself, never as the system's service), openssl
/// for its certificate, curl to see it answer over HTTP/2.
pub fn nginx() -> anyhow::Result<()> {
    debian_packages(&[
        ("/usr/sbin/nginx", "nginx"),
        ("/usr/bin/openssl", "openssl"),
        ("/usr/bin/curl", "curl"),
    ])
}

/// The nightly the npm runtime's wasm is built with (`pkg::build_runtime`):
/// pinned, so that the shipped bytes change only on purpose.
pub const NIGHTLY: &str = "nightly-2026-05-20";

/// The pinned nightly with std's sources (for `-Zbuild-std`) and the wasm32 target.
fn nightly() -> anyhow::Result<()> {
    let out = command(
        "rustup",
        &["component", "list", "--installed", "--toolchain", NIGHTLY],
    )
    .output()?;
    if String::from_utf8_lossy(&out.stdout).contains("rust-src") {
        return Ok(());
    }
    exec(&mut command(
        "rustup",
        &[
            "toolchain",
            "install",
            NIGHTLY,
            "--profile",
            "minimal",
            "--component",
            "rust-src",
            "--target",
            "wasm32-unknown-unknown",
        ],
    ))
}

fn wasm_target() -> anyhow::Result<()> {
    let out = command("rustup", &["target", "list", "--installed"]).output()?;
    if String::from_utf8_lossy(&out.stdout).contains("wasm32-unknown-unknown") {
        return Ok(());
    }
    exec(&mut command(
        "rustup",
        &["target", "add", "wasm32-unknown-unknown"],
    ))
}

/// Debian's packages for the `(path, package)` pairs whose path is missing.
fn debian_packages(wanted: &[(&str, &str)]) -> anyhow::Result<()> {
    let missing: Vec<&str> = wanted
        .iter()
        .filter(|(path, _)| !std::path::Path::new(path).exists())
        .map(|(_, pkg)| *pkg)
        .collect();
    if missing.is_empty() {
        return Ok(());
    }
    apt_install(&missing)
}

fn apt_install(packages: &[&str]) -> anyhow::Result<()> {
    exec(&mut command("apt-get", &["update", "-qq"]))?;
    let mut args = vec!["install", "-y", "-qq", "--no-install-recommends"];
    args.extend(packages);
    exec(command("apt-get", &args).env("DEBIAN_FRONTEND", "noninteractive"))
}

/// Debian's python3 makes virtualenvs only with python3-venv.
fn python_venv() -> anyhow::Result<()> {
    let venv = command("python3", &["-c", "import ensurepip, venv"]).output();
    if venv.is_ok_and(|o| o.status.success()) {
        return Ok(());
    }
    apt_install(&["python3-venv"])
}

/// A tool from crates.io, installed if `program` is not on PATH.
fn cargo_tool(program: &str, krate: &str) -> anyhow::Result<()> {
    if have(program) {
        return Ok(());
    }
    cargo_install(&[krate])
}

/// `cargo install`, with the crate's own lock file first: that lock file can
/// pin a dependency the registry no longer serves, so then without it.
fn cargo_install(args: &[&str]) -> anyhow::Result<()> {
    let install = |locked: bool| {
        let mut all = vec!["install"];
        all.extend(args);
        if locked {
            all.push("--locked");
        }
        exec(&mut command("cargo", &all))
    };
    install(true).or_else(|_| install(false))
}

/// wasm-pack cannot download its helpers here, so the `wasm-bindgen` CLI (and
/// its test runner) is installed at exactly the version in Cargo.lock.
fn wasm_bindgen_cli() -> anyhow::Result<()> {
    let version = locked_version("wasm-bindgen")?;
    let out = command("sh", &["-c", "wasm-bindgen --version 2>/dev/null"]).output()?;
    if String::from_utf8_lossy(&out.stdout).trim() == format!("wasm-bindgen {version}") {
        return Ok(());
    }
    cargo_install(&["wasm-bindgen-cli", "--version", &version, "--force"])
}

/// Playwright (driving Debian's Chromium), binaryen's `wasm-opt` and
/// TypeScript, pinned by the lock file in `e2e/`.
fn npm_packages() -> anyhow::Result<()> {
    npm_ci("e2e")
}

/// Connect-ES, protobuf-es, protoc-gen-es, buf and esbuild for `cargo xtask
/// bench`, pinned by the lock file in `bench/`.
pub fn bench_npm_packages() -> anyhow::Result<()> {
    npm_ci("bench")
}

/// `npm ci` in `dir` unless what is installed is what its lock file asks for.
fn npm_ci(dir: &str) -> anyhow::Result<()> {
    let dir = root().join(dir);
    let modified = |f: &str| {
        std::fs::metadata(dir.join(f))
            .and_then(|m| m.modified())
            .ok()
    };
    // npm writes node_modules/.package-lock.json: newer than the lock file
    // means what is installed is what the lock file asks for.
    if modified("node_modules/.package-lock.json") >= modified("package-lock.json") {
        return Ok(());
    }
    exec(command("npm", &["ci", "--no-audit", "--no-fund"]).current_dir(dir))
}

/// The version of `package` that Cargo.lock pins.
pub fn locked_version(package: &str) -> anyhow::Result<String> {
    let lock = std::fs::read_to_string(root().join("Cargo.lock"))
        .context("Cargo.lock is missing: run `cargo generate-lockfile`")?;
    let needle = format!("name = \"{package}\"\nversion = \"");
    let Some(start) = lock.find(&needle).map(|i| i + needle.len()) else {
        bail!("{package} is not in Cargo.lock");
    };
    let end = lock[start..].find('"').context("malformed Cargo.lock")? + start;
    Ok(lock[start..end].to_string())
}
