//! `cargo xtask demo`: set up, build the npm package, serve the demo page.
use crate::{pkg, server::Server, setup};

pub fn run(addr: &str) -> anyhow::Result<()> {
    setup::build_tools()?;
    pkg::build()?;
    let server = Server::start(addr)?;
    eprintln!("xtask: the demo is at {}/ (Ctrl-C stops it)", server.url);
    server.wait()
}
