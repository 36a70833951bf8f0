//! `cargo xtask test`: every test, in the order that fails fastest.
use crate::{
    client_tests,
    cmd::{command, exec},
    page_tests, peers, pkg,
    server::Server,
    setup,
};

/// Where the test server's frontend listens (the backend takes the next port).
const TEST_ADDR: &str = "127.0.0.1:47080";

pub fn run() -> anyhow::Result<()> {
    setup::run()?;
    exec(&mut command("cargo", &["fmt", "--all", "--check"]))?;
    // The workspace on the host, then the client crate as the browser gets it.
    for target in [
        &["--workspace"][..],
        &["--target", "wasm32-unknown-unknown"],
    ] {
        let mut args = vec!["clippy"];
        args.extend(target);
        args.extend(["--all-targets", "--", "-D", "warnings"]);
        exec(&mut command("cargo", &args))?;
    }
    // Native tests: the server's (against live in-process servers) and the
    // client core's pure logic.
    exec(&mut command("cargo", &["test", "--workspace"]))?;
    pkg::build()?;
    let server = Server::start(TEST_ADDR)?;
    peers::run(&server.url)?;
    client_tests::run(&server.url)?;
    page_tests::run(&server.url)?;
    eprintln!("xtask: every test passed");
    Ok(())
}
