//! Live updates that survive the network (issue 15): e2e/resume.test.mjs
//! drives Chromium against a demo server of its own (it restarts it under
//! an open stream, with SIGTERM and with SIGKILL), a fault-injecting proxy
//! in front of it (tests/resume/proxy.mjs: silence, cut, refuse) and a
//! server that fails unary calls on purpose (tests/resume/flaky.mjs, whose
//! package `cargo xtask package` builds from tests/resume/flaky.proto).
//! First, tsc checks the options' declarations (tests/resume/types.check.ts);
//! the suite runs in Chromium (Playwright), then in Firefox (geckodriver)
//! and WebKit (WebKitWebDriver), through e2e/webdriver.mjs.
use std::process::Command;

use crate::{
    cmd::{command, exec, root, which},
    server::{Profile, binary, build},
    webdriver::Driver,
};

/// The first of four ports: the demo's frontend, its backend, the proxy,
/// the flaky server.
const PORT: u16 = 27150;

pub fn run() -> anyhow::Result<()> {
    // The options' declarations, strict, against the demo's package.
    exec(&mut command(
        "e2e/node_modules/.bin/tsc",
        &["-p", "tests/resume"],
    ))?;
    build(Profile::Debug)?;
    let flaky = root().join("target/test-resume/flaky");
    let _ = std::fs::remove_dir_all(&flaky);
    exec(&mut command(
        "cargo",
        &[
            "xtask",
            "package",
            "--include",
            "tests/resume",
            "--proto",
            "tests/resume/flaky.proto",
            "--out",
            &flaky.to_string_lossy(),
            "--name",
            "flaky-test",
        ],
    ))?;
    let addr = crate::ports::addr(PORT);
    let port = addr.rsplit_once(':').map_or("", |(_, p)| p).to_string();
    let suite = || {
        let mut cmd = command(
            "node",
            &["--test", "--test-reporter=spec", "e2e/resume.test.mjs"],
        );
        cmd.env("DEMO_SERVER", binary(Profile::Debug))
            .env("RESUME_PORT", &port)
            .env("FLAKY_PKG", &flaky);
        cmd
    };
    exec(&mut suite())?;
    // The same tests in Firefox, through geckodriver (all but the offline
    // one, which needs Chromium's DevTools protocol).
    let geckodriver = Driver::start("geckodriver", Command::new(which("geckodriver")?))?;
    exec(
        suite()
            .env("BROWSER", "firefox")
            .env("WEBDRIVER_URL", &geckodriver.url),
    )?;
    drop(geckodriver);
    // And in WebKit (WebKitWebDriver and MiniBrowser in an Xvfb display).
    let (_xvfb, webkit) = crate::webkit_tests::start_driver()?;
    exec(
        suite()
            .env("BROWSER", "webkit")
            .env("WEBDRIVER_URL", &webkit.url),
    )
}
