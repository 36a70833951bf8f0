//! The JS API suite in WebKit, the third engine (issue 9): Debian's
//! `WebKitWebDriver` drives WebKitGTK's MiniBrowser in an Xvfb display of its
//! own.
use std::{
    io::{BufRead, BufReader},
    process::{Child, Command, Stdio},
};

use anyhow::Context;

use crate::webdriver::Driver;

pub fn run(server_url: &str) -> anyhow::Result<()> {
    let (_xvfb, driver) = start_driver()?;
    driver.run_api_suite("webkit", server_url)
}

/// WebKitWebDriver in an Xvfb display of its own; both stop when dropped.
pub fn start_driver() -> anyhow::Result<(Xvfb, Driver)> {
    let xvfb = Xvfb::start()?;
    let mut cmd = Command::new("WebKitWebDriver");
    cmd.env("DISPLAY", &xvfb.display);
    let driver = Driver::start("WebKitWebDriver", cmd)?;
    Ok((xvfb, driver))
}

/// An Xvfb server on a display it picks itself (`-displayfd`); stopped when dropped.
pub struct Xvfb {
    child: Child,
    display: String,
}

impl Xvfb {
    fn start() -> anyhow::Result<Self> {
        let mut child = Command::new("Xvfb")
            .args([
                "-displayfd",
                "1",
                "-screen",
                "0",
                "1280x800x24",
                "-nolisten",
                "tcp",
            ])
            .stdout(Stdio::piped())
            .stderr(Stdio::null())
            .spawn()
            .context("could not start Xvfb: run `cargo xtask setup`")?;
        let mut line = String::new();
        BufReader::new(child.stdout.take().context("stdout is piped")?).read_line(&mut line)?;
        let xvfb = Xvfb {
            child,
            display: format!(":{}", line.trim()),
        };
        line.trim()
            .parse::<u32>()
            .context("Xvfb printed no display number")?;
        Ok(xvfb)
    }
}

impl Drop for Xvfb {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}
