//! The project's task runner: `cargo xtask demo` and `cargo xtask test` are the
//! README's two commands; each installs what a fresh Debian machine with Rust
//! lacks before it starts.
mod client_tests;
mod cmd;
mod demo;
mod page_tests;
mod peers;
mod pkg;
mod server;
mod setup;
mod test;

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
        /// Where the frontend tier listens.
        #[arg(long, default_value = "127.0.0.1:8080")]
        addr: String,
    },
    /// Run every test: lints, server tests, browser tests of the client and the page.
    Test,
    /// Measure what the deadline layer and a second tier cost per call.
    Bench,
}

fn main() -> anyhow::Result<()> {
    match Cli::parse().task {
        Task::Setup => setup::run(),
        Task::Demo { addr } => demo::run(&addr),
        Task::Test => test::run(),
        Task::Bench => cmd::exec(&mut cmd::command(
            "cargo",
            &["bench", "-p", "demo-server", "--bench", "overhead"],
        )),
    }
}
