//! The server as clients this project did not write see it: gRPC C-core
//! (Python's `grpcio`) and raw gRPC-Web over HTTP/1.1 (`peers/peer_check.py`).
use std::path::PathBuf;

use crate::cmd::{command, exec, root};

fn venv() -> PathBuf {
    root().join("target/peers-venv")
}

/// A virtualenv with the pinned `grpcio`, made once.
pub fn setup() -> anyhow::Result<()> {
    let python = venv().join("bin/python");
    if python.exists() {
        let check = command(python.to_str().unwrap(), &["-c", "import grpc"]).output()?;
        if check.status.success() {
            return Ok(());
        }
    }
    let dir = venv();
    exec(&mut command(
        "python3",
        &["-m", "venv", dir.to_str().unwrap()],
    ))?;
    exec(&mut command(
        dir.join("bin/pip").to_str().unwrap(),
        &["install", "--quiet", "-r", "peers/requirements.txt"],
    ))
}

pub fn run(server_url: &str) -> anyhow::Result<()> {
    let python = venv().join("bin/python");
    exec(&mut command(
        python.to_str().unwrap(),
        &["peers/peer_check.py", server_url],
    ))
}
