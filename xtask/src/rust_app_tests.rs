//! The Rust frontend example (`examples/yew-app`, issue 18), built with
//! wasm-pack as an outside app would be and driven in Chromium against the
//! live server (`examples/yew-app/e2e.test.mjs`: navigation and unmounting
//! end its stream at both tiers, its unary call's deadline and Cancel);
//! a minimal app without the `js-api` feature must carry none of the npm
//! runtime's exports (the sizes, printed, are BENCHMARKS.md's "Rust apps");
//! then SIGTERM to `cargo xtask demo` must stop the server it started.
use std::{
    net::TcpStream,
    process::{Command, Stdio},
    time::{Duration, Instant},
};

use anyhow::{Context, bail};

use crate::{
    cmd::{command, exec, root},
    ports, rust_size,
    server::{SHUTDOWN_GRACE, wait_for_metrics},
};

const APP: &str = "examples/yew-app";
/// The examples' target directory: each is a workspace of its own, whose
/// wasm-only dependencies the host workspace never builds.
const TARGET: &str = rust_size::TARGET;
/// Where the SIGTERM check's `cargo xtask demo` listens (and the next port).
const DEMO_PORT: u16 = 27380;

pub fn run(server_url: &str) -> anyhow::Result<()> {
    for app in [APP, rust_size::APP] {
        same_wasm_bindgen(app)?;
    }
    let pkg = build()?;
    exec(
        command(
            "node",
            &[
                "--test",
                "--test-reporter=spec",
                &format!("{APP}/e2e.test.mjs"),
            ],
        )
        .env("DEMO_URL", server_url)
        .env("APP_PKG", &pkg),
    )?;
    let sizes = rust_size::measure(server_url)?;
    eprintln!(
        "xtask: a minimal Rust app's size:\n{}",
        rust_size::table(&sizes)
    );
    rust_size::check(&sizes)?;
    sigterm_stops_the_demo()
}

/// wasm-pack's release build of the app (`--target web`); its output directory.
pub fn build() -> anyhow::Result<String> {
    let target = root().join(TARGET);
    let pkg = target.join("yew-pkg").to_string_lossy().into_owned();
    let started = Instant::now();
    exec(
        command(
            "wasm-pack",
            &[
                "build",
                "--release",
                "--target",
                "web",
                "--no-typescript",
                "--no-pack",
            ],
        )
        .args(["--out-dir", &pkg])
        .current_dir(root().join(APP))
        .env("CARGO_TARGET_DIR", &target),
    )?;
    eprintln!(
        "xtask: {APP} built in {:.0} s",
        started.elapsed().as_secs_f64()
    );
    Ok(pkg)
}

/// wasm-pack runs the installed wasm-bindgen CLI, which must be the version
/// `app`'s lock file pins (the workspace's, which `cargo xtask setup`
/// installs): say so plainly rather than let wasm-pack fail on it.
fn same_wasm_bindgen(app: &str) -> anyhow::Result<()> {
    let workspace = crate::setup::locked_version("wasm-bindgen")?;
    let lock = std::fs::read_to_string(root().join(app).join("Cargo.lock"))
        .with_context(|| format!("{app}/Cargo.lock"))?;
    let pinned = lock
        .split("name = \"wasm-bindgen\"\nversion = \"")
        .nth(1)
        .and_then(|rest| rest.split('"').next())
        .context("wasm-bindgen is not in the app's Cargo.lock")?;
    if pinned != workspace {
        bail!(
            "{app}/Cargo.lock pins wasm-bindgen {pinned}, the workspace {workspace}: \
             run `cargo update -p wasm-bindgen --precise {workspace}` in {app}"
        );
    }
    Ok(())
}

/// Starts `cargo xtask demo`, waits until it serves, SIGTERMs it, and checks
/// that both of its server's ports are free again and it has exited, within
/// the server's shutdown grace and a margin.
fn sigterm_stops_the_demo() -> anyhow::Result<()> {
    let frontend = ports::addr(DEMO_PORT);
    let backend = ports::addr(DEMO_PORT + 1);
    for addr in [&frontend, &backend] {
        if TcpStream::connect(addr).is_ok() {
            bail!("{addr} is taken before the demo starts");
        }
    }
    // `cargo xtask demo` as a user types it: cargo execs xtask (Unix), so
    // the signal reaches xtask itself.
    let mut demo = command("cargo", &["xtask", "demo", "--addr", &frontend])
        .stdout(Stdio::null())
        .spawn()
        .context("could not start `xtask demo`")?;
    let served = serving(&mut demo, &backend);
    let _ = Command::new("kill").arg(demo.id().to_string()).status();
    let signalled = Instant::now();
    served?;
    let bound = SHUTDOWN_GRACE + Duration::from_secs(5);
    loop {
        let exited = demo.try_wait()?.is_some();
        let listening: Vec<&String> = [&frontend, &backend]
            .into_iter()
            .filter(|addr| TcpStream::connect(addr.as_str()).is_ok())
            .collect();
        if exited && listening.is_empty() {
            eprintln!(
                "xtask: SIGTERM stopped `cargo xtask demo` and its server in {} ms",
                signalled.elapsed().as_millis()
            );
            return Ok(());
        }
        if signalled.elapsed() > bound {
            let _ = demo.kill();
            bail!(
                "{bound:?} after SIGTERM to `cargo xtask demo`: exited {exited}, still listening on {listening:?}"
            );
        }
        std::thread::sleep(Duration::from_millis(50));
    }
}

/// Waits until the demo's server answers on `backend`: it sets up and builds
/// the package first (up to date by now, so seconds, but bounded loosely).
fn serving(demo: &mut std::process::Child, backend: &str) -> anyhow::Result<()> {
    let until = Instant::now() + Duration::from_secs(180);
    loop {
        if let Some(status) = demo.try_wait()? {
            bail!("`cargo xtask demo` exited before it served: {status}");
        }
        // At most 30 s per try.
        if wait_for_metrics("cargo xtask demo", backend).is_ok() {
            return Ok(());
        }
        if Instant::now() > until {
            bail!("`cargo xtask demo` did not serve on {backend} within 180 s");
        }
    }
}
