//! Playwright tests of the demo page against the live server (issue 4):
//! Node's test runner drives Debian's Chromium through `playwright-core`
//! (`e2e/page.test.mjs`); screenshots of each route go to `artifacts/`.
use crate::cmd::{command, exec};

pub fn run(server_url: &str) -> anyhow::Result<()> {
    let args = ["--test", "--test-reporter=spec", "e2e/page.test.mjs"];
    exec(command("node", &args).env("DEMO_URL", server_url))
}
