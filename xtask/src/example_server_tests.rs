//! tonic-deadline's example server (`tonic-deadline/examples/countdown`),
//! outside the demo, called from Chromium over CORS from another origin with
//! a client generated for its proto by `cargo xtask package` (issue 20):
//! allowed and refused origins, errors as sent, `/metrics`, streams.
use crate::{
    cmd::{command, exec, root},
    ports,
};

/// Where the pages are served and where the example listens.
const PAGE_PORT: u16 = 27300;
const SERVER_PORT: u16 = 27301;

pub fn run() -> anyhow::Result<()> {
    exec(&mut command("cargo", &["build", "-p", "countdown"]))?;
    let client = root().join("target/countdown-client");
    let client = client.to_string_lossy();
    exec(&mut command(
        "cargo",
        &[
            "xtask",
            "package",
            "--proto",
            "tonic-deadline/examples/countdown/proto/countdown.proto",
            "--out",
            &client,
            "--name",
            "countdown-client",
        ],
    ))?;
    let port = |p| ports::addr(p).rsplit(':').next().unwrap().to_string();
    exec(
        command(
            "node",
            &[
                "--test-reporter=spec",
                "tonic-deadline/examples/countdown/tests/browser.test.mjs",
            ],
        )
        .env("COUNTDOWN_BIN", root().join("target/debug/countdown"))
        .env("CLIENT_DIR", &*client)
        .env("PAGE_PORT", port(PAGE_PORT))
        .env("SERVER_PORT", port(SERVER_PORT)),
    )
}
