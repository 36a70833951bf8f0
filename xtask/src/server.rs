//! The live two-tier demo server that the browser tests run against: built
//! once, started once, stopped when the handle is dropped.
use std::{
    io::{BufRead, BufReader, Read, Write},
    net::TcpStream,
    process::{Child, Command, Stdio},
    sync::{
        Arc,
        atomic::{AtomicBool, Ordering},
    },
    time::{Duration, Instant},
};

use anyhow::{Context, bail};

use crate::cmd::{command, exec, root};

pub struct Server {
    child: Child,
    /// The frontend tier's origin, e.g. `http://127.0.0.1:27080`.
    pub url: String,
    /// Both tiers' `/metrics`, over plain HTTP (the backend's port: one
    /// process, one registry), so a check needs no TLS trust.
    pub metrics: String,
    /// With `--tls-self-signed`: the certificate's SPKI SHA-256 (base64).
    pub spki: Option<String>,
}

/// What demo-server prints on stdout before the hash.
const SPKI_LINE: &str = "SPKI SHA-256: ";

/// Which build of `demo-server`: the tests use the debug one (quick to
/// build); the full bench measures the release one.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Profile {
    Debug,
    Release,
}

impl Server {
    /// Builds `demo-server` and starts both tiers on `addr` and the next port.
    pub fn start(addr: &str) -> anyhow::Result<Self> {
        Self::launch(addr, false, Profile::Debug)
    }

    /// The same, the frontend serving https (HTTP/2 by ALPN) with a
    /// certificate made at start-up.
    pub fn start_tls(addr: &str) -> anyhow::Result<Self> {
        Self::launch(addr, true, Profile::Debug)
    }

    /// Builds `profile`'s `demo-server` and starts it on `addr` (and the next
    /// port), its frontend on https with `tls`.
    pub fn launch(addr: &str, tls: bool, profile: Profile) -> anyhow::Result<Self> {
        build(profile)?;
        let flags: &[&str] = if tls { &["--tls-self-signed"] } else { &[] };
        let (host, port) = addr.rsplit_once(':').context("addr is host:port")?;
        let backend = format!("{host}:{}", port.parse::<u16>()? + 1);
        let mut child = Command::new(binary(profile))
            .args(["--addr", addr, "--backend-addr", &backend])
            .args(flags)
            .current_dir(root())
            .stdout(Stdio::piped())
            .spawn()
            .context("could not start demo-server")?;
        let spki = forward_stdout(&mut child, tls)?;
        let scheme = if tls { "https" } else { "http" };
        let mut server = Server {
            child,
            url: format!("{scheme}://{addr}"),
            metrics: format!("http://{backend}/metrics"),
            spki,
        };
        // So that the tests never race the start: the backend answers
        // /metrics, and the frontend (bound after it; over TLS, which a plain
        // request cannot check) accepts connections.
        wait_for_metrics("demo-server", &backend)?;
        let until = Instant::now() + Duration::from_secs(30);
        while TcpStream::connect(addr).is_err() {
            if Instant::now() > until {
                bail!("the frontend did not listen on {addr} within 30 s");
            }
            std::thread::sleep(Duration::from_millis(20));
        }
        // What answered must be ours: a server left on the port by another
        // run would answer too, and vanish mid-test.
        if let Some(status) = server.child.try_wait()? {
            bail!("demo-server exited ({status}): is {addr} or {backend} taken?");
        }
        Ok(server)
    }

    /// Runs the server in the foreground until it exits or `stop` is set
    /// (by [`stop_on_signals`]); then it is stopped gracefully.
    pub fn run_until(mut self, stop: &AtomicBool) -> anyhow::Result<()> {
        while !stop.load(Ordering::Relaxed) {
            if let Some(status) = self.child.try_wait()? {
                if !status.success() {
                    bail!("demo-server exited: {status}");
                }
                return Ok(());
            }
            std::thread::sleep(Duration::from_millis(100));
        }
        eprintln!("xtask: stopping demo-server");
        terminate(&mut self.child, SHUTDOWN_GRACE);
        Ok(())
    }
}

/// How long a server may drain after SIGTERM before it is killed.
pub const SHUTDOWN_GRACE: Duration = Duration::from_secs(5);

/// A flag that SIGINT and SIGTERM set instead of ending xtask, so that it
/// can stop the servers it started rather than leave them orphaned holding
/// their ports. Install it right before starting them: until then the
/// signals' default (exit) is what a build in progress should get.
pub fn stop_on_signals() -> anyhow::Result<Arc<AtomicBool>> {
    let stop = Arc::new(AtomicBool::new(false));
    for signal in [signal_hook::consts::SIGINT, signal_hook::consts::SIGTERM] {
        signal_hook::flag::register(signal, stop.clone())?;
    }
    Ok(stop)
}

/// SIGTERM to `child` (our servers and nginx shut down cleanly on it), then
/// SIGKILL if it is still running after `grace`; reaps it either way.
pub fn terminate(child: &mut Child, grace: Duration) {
    // Not one that has exited: its pid may be another process's by now.
    if matches!(child.try_wait(), Ok(None)) {
        // std has no SIGTERM; `kill` is in every Debian base system.
        let _ = Command::new("kill").arg(child.id().to_string()).status();
    }
    let until = Instant::now() + grace;
    while matches!(child.try_wait(), Ok(None)) && Instant::now() < until {
        std::thread::sleep(Duration::from_millis(20));
    }
    let _ = child.kill();
    let _ = child.wait();
}

/// Waits (30 s at most) until `GET /metrics` answers 200 on `addr` over
/// plain HTTP/1.1.
pub fn wait_for_metrics(what: &str, addr: &str) -> anyhow::Result<()> {
    let until = Instant::now() + Duration::from_secs(30);
    while Instant::now() < until {
        if let Ok(mut s) = TcpStream::connect(addr) {
            let _ = write!(
                s,
                "GET /metrics HTTP/1.1\r\nHost: {addr}\r\nConnection: close\r\n\r\n"
            );
            let mut head = [0u8; 12];
            if s.read_exact(&mut head).is_ok() && head.starts_with(b"HTTP/1.1 200") {
                return Ok(());
            }
        }
        std::thread::sleep(Duration::from_millis(50));
    }
    bail!("{what} did not answer on {addr} within 30 s")
}

/// Builds `profile`'s `demo-server`.
pub fn build(profile: Profile) -> anyhow::Result<()> {
    let mut args = vec!["build", "--quiet", "-p", "demo-server"];
    if profile == Profile::Release {
        args.push("--release");
    }
    exec(&mut command("cargo", &args))
}

/// The built `demo-server`, relative to the checkout.
pub fn binary_path(profile: Profile) -> &'static str {
    match profile {
        Profile::Debug => "target/debug/demo-server",
        Profile::Release => "target/release/demo-server",
    }
}

/// The built `demo-server`.
pub fn binary(profile: Profile) -> std::path::PathBuf {
    root().join(binary_path(profile))
}

/// Passes the child's stdout on to ours; with `spki`, first reads the
/// certificate's hash from it.
pub fn forward_stdout(child: &mut Child, spki: bool) -> anyhow::Result<Option<String>> {
    let mut lines = BufReader::new(child.stdout.take().context("stdout is piped")?).lines();
    let mut hash = None;
    if spki {
        for line in lines.by_ref() {
            let line = line?;
            println!("{line}");
            if let Some((_, h)) = line.split_once(SPKI_LINE) {
                hash = Some(h.trim().to_string());
                break;
            }
        }
        hash.as_ref().context("demo-server printed no SPKI hash")?;
    }
    std::thread::spawn(move || lines.map_while(Result::ok).for_each(|l| println!("{l}")));
    Ok(hash)
}

impl Drop for Server {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}
