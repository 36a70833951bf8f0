//! The client against a hostile server (issue 16; issue 20's CORS
//! messages): tests/hostile-server answers chosen byte sequences (a
//! 0xFFFFFFFF length, a frame over the limit, a stall mid-frame, unknown
//! groups, truncated frames, bad trailers, hidden or refused CORS), and
//! tests/js/hostile.test.mjs calls it from Chromium through a package built
//! by `cargo xtask package`: every call settles promptly with the right
//! code, the server sees the aborted fetches, the page has no uncaught
//! error and the next call works. tests/wasm/tests/hostile.rs does the same
//! through the Rust API (a tonic client over the `Channel`), in Chromium and
//! Firefox.
use std::{
    net::TcpStream,
    path::Path,
    process::{Child, Command},
    time::{Duration, Instant},
};

use anyhow::{Context, bail};

use crate::cmd::{command, exec, root};

const PORT: u16 = 27097;

pub fn run() -> anyhow::Result<()> {
    let out = root().join("target/test-hostile");
    let _ = std::fs::remove_dir_all(&out);
    let package = out.join("hostile");
    exec(&mut command(
        "cargo",
        &[
            "xtask",
            "package",
            "--include",
            "tests/hostile-server",
            "--proto",
            "tests/hostile-server/hostile.proto",
            "--out",
            &package.to_string_lossy(),
            "--name",
            "hostile-test",
        ],
    ))?;
    exec(&mut command(
        "cargo",
        &["build", "--quiet", "-p", "hostile-server"],
    ))?;
    let addr = crate::ports::addr(PORT);
    let _server = HostileServer::start(&out, &addr)?;
    let url = format!("http://{addr}");
    exec(&mut command("node", &["tests/js/hostile.test.mjs", &url]))?;
    node_app(&out, &package, &url)?;
    // The Rust API too, in both browsers (their fetch errors differ):
    // tests/wasm/tests/hostile.rs, built only when HOSTILE_SERVER_URL is set.
    for browser in crate::client_tests::browsers()? {
        crate::client_tests::wasm_pack_test(
            &browser,
            &["--test", "hostile"],
            ("HOSTILE_SERVER_URL", &url),
        )?;
    }
    Ok(())
}

/// The package under Node, imported by its name from an app beside it
/// (`node_modules/hostile-test`, a link), so Node resolves its `node` export
/// condition as an installed package's: tests/js/hostile.node.mjs.
fn node_app(out: &Path, package: &Path, url: &str) -> anyhow::Result<()> {
    let app = out.join("node-app");
    std::fs::create_dir_all(app.join("node_modules"))?;
    std::os::unix::fs::symlink(package, app.join("node_modules/hostile-test"))?;
    let test = app.join("hostile.node.mjs");
    std::fs::copy(root().join("tests/js/hostile.node.mjs"), &test)?;
    exec(&mut command(
        "node",
        &["--test-reporter=spec", &test.to_string_lossy(), url],
    ))
}

/// tests/hostile-server serving `dir`, stopped when dropped.
struct HostileServer(Child);

impl HostileServer {
    fn start(dir: &Path, addr: &str) -> anyhow::Result<Self> {
        let child = Command::new(root().join("target/debug/hostile-server"))
            .arg(addr)
            .arg(dir)
            .spawn()
            .context("could not start hostile-server")?;
        let server = Self(child);
        let until = Instant::now() + Duration::from_secs(30);
        while TcpStream::connect(addr).is_err() {
            if Instant::now() > until {
                bail!("hostile-server did not listen on {addr} within 30 s");
            }
            std::thread::sleep(Duration::from_millis(20));
        }
        Ok(server)
    }
}

impl Drop for HostileServer {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}
