//! `demo-server` as its own process, for what only a process shows: being
//! killed (SIGKILL: its sockets simply close) and SIGTERM.
use std::{
    net::SocketAddr,
    process::{Child, Command, ExitStatus, Stdio},
    time::{Duration, Instant},
};

use super::{check, eventually};

/// A running `demo-server`; killed when dropped.
pub struct DemoServer(Child);

impl DemoServer {
    /// `--role backend` on `addr`.
    pub async fn backend(addr: SocketAddr) -> DemoServer {
        Self::start(
            &["--role", "backend", "--backend-addr", &addr.to_string()],
            addr,
        )
        .await
    }

    /// Both tiers, the frontend on `addr`, the backend on `backend_addr`.
    pub async fn both(addr: SocketAddr, backend_addr: SocketAddr, drain: &str) -> DemoServer {
        let args = [
            "--addr",
            &addr.to_string(),
            "--backend-addr",
            &backend_addr.to_string(),
            "--drain-timeout",
            drain,
        ];
        Self::start(&args, addr).await
    }

    /// `demo-server ARGS`, once it listens on `listens_on`.
    pub async fn start(args: &[&str], listens_on: SocketAddr) -> DemoServer {
        let child = Command::new(env!("CARGO_BIN_EXE_demo-server"))
            .args(args)
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .expect("demo-server starts");
        let server = DemoServer(child);
        eventually(Duration::from_secs(10), "demo-server listens", || async {
            check(
                tokio::net::TcpStream::connect(listens_on).await.is_ok(),
                listens_on,
            )
        })
        .await;
        server
    }

    /// Sends SIGTERM.
    pub fn terminate(&self) {
        self.signal("TERM");
    }

    /// Sends SIGINT, as Ctrl-C in a terminal does.
    pub fn interrupt(&self) {
        self.signal("INT");
    }

    fn signal(&self, name: &str) {
        let status = Command::new("kill")
            .args([&format!("-{name}"), &self.0.id().to_string()])
            .status()
            .expect("kill runs");
        assert!(status.success());
    }

    /// Polls for the process's exit for at most `within`.
    pub async fn exited_within(&mut self, within: Duration) -> ExitStatus {
        let start = Instant::now();
        loop {
            if let Some(status) = self.0.try_wait().unwrap() {
                return status;
            }
            assert!(start.elapsed() < within, "still running after {within:?}");
            tokio::time::sleep(Duration::from_millis(10)).await;
        }
    }
}

impl Drop for DemoServer {
    fn drop(&mut self) {
        let _ = self.0.kill(); // SIGKILL: no shutdown of its own
        let _ = self.0.wait();
    }
}

/// A loopback port nobody listens on right now.
pub async fn free_port() -> SocketAddr {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    listener.local_addr().unwrap()
}
