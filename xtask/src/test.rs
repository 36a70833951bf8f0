//! `cargo xtask test`: every test, in the order that fails fastest.
use crate::{
    bench, client_tests, cluster_tests,
    cmd::{command, exec},
    h2_tests, package_tests, page_tests, peers, pkg, ports,
    server::Server,
    setup, webkit_tests,
};

/// The crates published for users: their docs must build without warnings.
const LIBRARIES: [&str; 4] = [
    "grpc-web-abort",
    "grpc-web-abort-build",
    "tonic-deadline",
    "grpc-timeout",
];

/// Where the test server's frontend listens (the backend takes the next port).
const TEST_PORT: u16 = 47080;

/// The steps that start their own servers, runnable alone.
#[derive(Clone, Copy, Debug, clap::ValueEnum)]
pub enum Step {
    /// The browser tests over HTTP/2 with TLS.
    H2,
    /// The tests through `cargo xtask cluster`.
    Cluster,
    /// The JS API suite in WebKit.
    Webkit,
    /// The Rust frontend example in Chromium; SIGTERM to `cargo xtask demo`.
    RustApp,
}

pub fn run_step(step: Step) -> anyhow::Result<()> {
    setup::run()?;
    pkg::build()?;
    match step {
        Step::H2 => {
            let http1 = Server::start(&ports::addr(TEST_PORT))?;
            h2_tests::run(Some(&http1.url))
        }
        Step::Cluster => cluster_tests::run(),
        Step::Webkit => {
            let server = Server::start(&ports::addr(TEST_PORT))?;
            webkit_tests::run(&server.url)
        }
        Step::RustApp => {
            let server = Server::start(&ports::addr(TEST_PORT))?;
            crate::rust_app_tests::run(&server.url)
        }
    }
}

pub fn run() -> anyhow::Result<()> {
    setup::run()?;
    exec(&mut command("cargo", &["fmt", "--all", "--check"]))?;
    // The workspace on the host, then the client crate as the npm package's
    // runtime is built.
    for target in [
        &["--workspace"][..],
        &[
            "--target",
            "wasm32-unknown-unknown",
            "--features",
            "npm-runtime",
        ],
    ] {
        let mut args = vec!["clippy"];
        args.extend(target);
        args.extend(["--all-targets", "--", "-D", "warnings"]);
        exec(&mut command("cargo", &args))?;
    }
    // The library crates' documentation, warnings as errors (broken links,
    // bad code blocks); the client crate as the browser gets it too.
    let libraries: Vec<&str> = LIBRARIES.iter().flat_map(|l| ["-p", *l]).collect();
    for (target, packages) in [
        (&[][..], &libraries[..]),
        (
            &["--target", "wasm32-unknown-unknown"],
            &["-p", "grpc-web-abort"],
        ),
    ] {
        let mut args = vec!["doc", "--no-deps", "--quiet"];
        args.extend(target);
        args.extend(packages);
        exec(command("cargo", &args).env("RUSTDOCFLAGS", "-D warnings"))?;
    }
    crate::publish_check::run()?; // the library crates would publish (issue 20)
    // Native tests: the server's (against live in-process servers) and the
    // client core's pure logic.
    exec(&mut command("cargo", &["test", "--workspace"]))?;
    pkg::build()?;
    let server = Server::start(&ports::addr(TEST_PORT))?;
    peers::run(&server.url)?;
    client_tests::run(&server.url)?;
    package_tests::run()?;
    webkit_tests::run(&server.url)?;
    page_tests::run(&server.url)?;
    crate::rust_app_tests::run(&server.url)?;
    h2_tests::run(Some(&server.url))?;
    // The packed package in a Vite + TypeScript app and a plain page (issue 11).
    let consumer = [
        "--test-reporter=spec",
        "tests/consumer/run.mjs",
        &server.url,
    ];
    exec(&mut command("node", &consumer))?;
    // The benchmark's code paths with tiny counts, so that it cannot rot (issue 10).
    bench::quick(&server.url)?;
    drop(server);
    cluster_tests::run()?;
    eprintln!("xtask: every test passed");
    Ok(())
}
