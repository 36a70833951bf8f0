//! The live two-tier demo server that the browser tests run against: built
//! once, started once, stopped when the handle is dropped.
use std::{
    io::{Read, Write},
    net::TcpStream,
    process::{Child, Command},
    time::{Duration, Instant},
};

use anyhow::{Context, bail};

use crate::cmd::{command, exec, root};

pub struct Server {
    child: Child,
    /// The frontend tier's origin, e.g. `http://127.0.0.1:47080`.
    pub url: String,
}

impl Server {
    /// Builds `demo-server` and starts both tiers on `addr` and the next port.
    pub fn start(addr: &str) -> anyhow::Result<Self> {
        exec(&mut command(
            "cargo",
            &["build", "--quiet", "-p", "demo-server"],
        ))?;
        let (host, port) = addr.rsplit_once(':').context("addr is host:port")?;
        let backend = format!("{host}:{}", port.parse::<u16>()? + 1);
        let child = Command::new(root().join("target/debug/demo-server"))
            .args(["--addr", addr, "--backend-addr", &backend])
            .current_dir(root())
            .spawn()
            .context("could not start demo-server")?;
        let server = Server {
            child,
            url: format!("http://{addr}"),
        };
        server.wait_ready(addr)?;
        Ok(server)
    }

    /// Waits until `/metrics` answers, so the tests never race the start.
    fn wait_ready(&self, addr: &str) -> anyhow::Result<()> {
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
        bail!("demo-server did not answer on {addr} within 30 s")
    }

    /// Runs the server in the foreground until it exits (the demo).
    pub fn wait(mut self) -> anyhow::Result<()> {
        let status = self.child.wait()?;
        if !status.success() {
            bail!("demo-server exited: {status}");
        }
        Ok(())
    }
}

impl Drop for Server {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}
