//! A W3C WebDriver server (WebKitWebDriver, geckodriver) on a free loopback
//! port, stopped when dropped, and the JS API suite run through it
//! (`tests/js/api.webdriver.mjs`).
use std::{
    net::{TcpListener, TcpStream},
    process::{Child, Command},
    time::{Duration, Instant},
};

use anyhow::{Context, bail};

use crate::cmd::{command, exec};

pub struct Driver {
    child: Child,
    /// e.g. `http://127.0.0.1:40123`.
    pub url: String,
}

impl Driver {
    /// Starts `program` with `--port=PORT` (and `--host=127.0.0.1`) added to
    /// `cmd`'s, and waits until it listens.
    pub fn start(program: &str, mut cmd: Command) -> anyhow::Result<Self> {
        let port = TcpListener::bind("127.0.0.1:0")?.local_addr()?.port();
        let child = cmd
            .args([format!("--port={port}"), "--host=127.0.0.1".into()])
            .spawn()
            .with_context(|| format!("could not start {program}: run `cargo xtask setup`"))?;
        let driver = Driver {
            child,
            url: format!("http://127.0.0.1:{port}"),
        };
        let until = Instant::now() + Duration::from_secs(10);
        while TcpStream::connect(("127.0.0.1", port)).is_err() {
            if Instant::now() > until {
                bail!("{program} did not listen on port {port} within 10 s");
            }
            std::thread::sleep(Duration::from_millis(50));
        }
        Ok(driver)
    }

    /// `tests/js/api.cases.mjs` in `browser` (`webkit` or `firefox`) against `base`.
    pub fn run_api_suite(&self, browser: &str, base: &str) -> anyhow::Result<()> {
        exec(&mut command(
            "node",
            &["tests/js/api.webdriver.mjs", browser, base, &self.url],
        ))
    }
}

impl Drop for Driver {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}
