//! The project's task runner: `cargo xtask demo` and `cargo xtask test` are the
//! README's two commands; each installs what a fresh Debian machine with Rust
//! lacks before it starts. `cargo xtask package` is the users' own: an npm
//! package for their protos.
mod bench;
mod cert;
mod client_tests;
mod cluster;
mod cluster_tests;
mod cmd;
mod demo;
mod dist;
mod example_server_tests;
mod h2_tests;
mod hostile_tests;
mod k8s_check;
mod package;
mod package_tests;
mod page_tests;
mod peers;
mod pkg;
mod ports;
mod publish_check;
mod resume_tests;
mod rust_app_tests;
mod rust_size;
mod server;
mod setup;
mod test;
mod tested_check;
mod webdriver;
mod webkit_tests;

use std::path::PathBuf;

use clap::{Parser, Subcommand};

#[derive(Parser)]
#[command(about = "Set up, run the demo, run every test")]
struct Cli {
    #[command(subcommand)]
    task: Task,
}

#[derive(Subcommand)]
enum Task {
    /// Install the tools the build and the tests need (idempotent).
    Setup,
    /// Build the npm package and run the two-tier demo server with the page.
    Demo {
        /// Where the frontend tier listens (default 127.0.0.1:8080, with
        /// --tls 127.0.0.1:8443).
        #[arg(long)]
        addr: Option<String>,
        /// Serve https (HTTP/2 by ALPN) with a self-signed certificate.
        #[arg(long)]
        tls: bool,
    },
    /// Run every test: lints, server tests, browser tests of the client and the page.
    Test {
        /// Only this step (which builds what it needs first).
        #[arg(long, value_enum)]
        only: Option<test::Step>,
    },
    /// Run nginx → frontends → nginx → backends on loopback, serving the demo
    /// over https; writes target/cluster.json once everything answers.
    Cluster {
        #[arg(long, default_value_t = 2)]
        frontends: usize,
        #[arg(long, default_value_t = 2)]
        backends: usize,
        /// Where nginx serves browsers.
        #[arg(long, default_value = "127.0.0.1:8443")]
        addr: String,
        /// Skip setup and the package's build (the tests have done both).
        #[arg(long, hide = true)]
        prebuilt: bool,
        /// The frontends call the backends themselves, balancing per call,
        /// rather than through nginx.
        #[arg(long)]
        direct: bool,
    },
    /// Our package vs Connect-ES in Chromium (size, speed, cancel, deadlines,
    /// memory) and the server layers' cost; writes BENCHMARKS.md.
    Bench {
        /// The same code paths with tiny counts, in seconds (CI); writes only
        /// under target/bench/.
        #[arg(long)]
        quick: bool,
    },
    /// Build the two npm packages a JS developer installs (the runtime and the
    /// protoc/buf plugin) into target/dist/, as `npm pack` writes them.
    Dist,
    /// Build one self-contained npm package (ESM, typed) with a client class
    /// per service of the protos and the runtime inside it.
    Package {
        /// A .proto to generate clients for (repeatable).
        #[arg(long = "proto", required = true, value_name = "FILE")]
        protos: Vec<PathBuf>,
        /// Where imports are found (repeatable); default: each proto's directory.
        #[arg(long = "include", value_name = "DIR")]
        includes: Vec<PathBuf>,
        /// The package's directory (created if missing).
        #[arg(long, value_name = "DIR")]
        out: PathBuf,
        /// The npm package name.
        #[arg(long, value_name = "NPM_NAME", default_value = "grpc-web-abort-client")]
        name: String,
    },
}

fn main() -> anyhow::Result<()> {
    match Cli::parse().task {
        Task::Setup => setup::run(),
        Task::Demo { addr, tls } => {
            let default = if tls {
                "127.0.0.1:8443"
            } else {
                "127.0.0.1:8080"
            };
            demo::run(addr.as_deref().unwrap_or(default), tls)
        }
        Task::Test { only: None } => test::run(),
        Task::Test { only: Some(step) } => test::run_step(step),
        Task::Cluster {
            frontends,
            backends,
            addr,
            prebuilt,
            direct,
        } => cluster::run(
            &cluster::Options {
                frontends,
                backends,
                addr,
                direct,
            },
            prebuilt,
        ),
        Task::Package {
            protos,
            includes,
            out,
            name,
        } => package::run(&package::Args {
            protos,
            includes,
            out,
            name,
        }),
        Task::Bench { quick } => bench::run(quick),
        Task::Dist => dist::run().map(|_| ()),
    }
}
