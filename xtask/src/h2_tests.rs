//! Browser tests over HTTP/2 with TLS (issue 9): a second demo-server whose
//! frontend serves https with a certificate made at start-up; Chromium trusts
//! it by its SPKI hash (`e2e/h2.test.mjs`), Firefox by geckodriver's
//! `acceptInsecureCerts` (the JS API suite, which checks /metrics itself).
use std::process::Command;

use crate::{
    cmd::{command, exec, which},
    server::Server,
    webdriver::Driver,
};

/// Where the TLS frontend listens (the backend takes the next port).
const TLS_PORT: u16 = 27443;

/// `http1`: a plain-http demo server's origin, for the control (at most six
/// streams in flight over HTTP/1.1), where one runs.
pub fn run(http1: Option<&str>) -> anyhow::Result<()> {
    let server = Server::start_tls(&crate::ports::addr(TLS_PORT))?;
    let spki = server.spki.clone().unwrap_or_default();
    let metrics = server.metrics.trim_end_matches("/metrics");
    let args = ["--test", "--test-reporter=spec", "e2e/h2.test.mjs"];
    let mut node = command("node", &args);
    if let Some(url) = http1 {
        node.env("HTTP1_URL", url);
    }
    exec(
        node.env("DEMO_URL", &server.url)
            .env("METRICS_URL", metrics)
            .env("SPKI", spki),
    )?;
    let geckodriver = which("geckodriver")?;
    Driver::start("geckodriver", Command::new(geckodriver))?.run_api_suite("firefox", &server.url)
}
