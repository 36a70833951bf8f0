//! Tests through `cargo xtask cluster` (issue 9): the command itself is
//! started as a child, as a user would start it; `e2e/cluster.test.mjs` knows
//! only the `target/cluster.json` it writes and each process's /metrics; then
//! SIGTERM to the command must stop every process it started. Twice: as the
//! nginx recipe has it, then with `--direct` (issue 21).
use std::{
    process::{Child, Command},
    time::{Duration, Instant},
};

use anyhow::{Context, bail};

use crate::{
    cluster::cluster_json,
    cmd::{command, exec, root},
};

/// Where nginx serves browsers in the test.
const CLUSTER_PORT: u16 = 27843;

pub fn run() -> anyhow::Result<()> {
    // Built here, so that the wait below is for the cluster's start alone.
    crate::server::build(crate::server::Profile::Debug)?;
    // As the recipe has it (nginx between the tiers), then with the
    // frontends balancing over the backends themselves (issue 21).
    run_with(&[])?;
    run_with(&["--direct"])
}

fn run_with(options: &[&str]) -> anyhow::Result<()> {
    eprintln!(
        "xtask: the cluster tests with `cargo xtask cluster {}`",
        options.join(" ")
    );
    let json = cluster_json();
    let _ = std::fs::remove_file(&json);
    let addr = crate::ports::addr(CLUSTER_PORT);
    let mut args = vec!["cluster", "--prebuilt", "--addr", &addr];
    args.extend(options);
    // `cargo xtask`, as a user starts it (cargo execs the binary, so the
    // signals below reach it), not this process's own path: `cargo test
    // --workspace` may have relinked target/debug/xtask since it started.
    let child = Command::new("cargo")
        .arg("xtask")
        .args(&args)
        .current_dir(root())
        .spawn()
        .context("could not start `cargo xtask cluster`")?;
    let mut cluster = Stop(child);
    poll(
        "target/cluster.json to be written",
        Duration::from_secs(60),
        || json.exists(),
    )?;
    let pids = pids(&std::fs::read_to_string(&json)?)?;
    let tests = exec(
        command(
            "node",
            &["--test", "--test-reporter=spec", "e2e/cluster.test.mjs"],
        )
        .env("CLUSTER_JSON", &json),
    );

    // Ctrl-C or SIGTERM stops every process the command started.
    signal(cluster.0.id(), "TERM")?;
    poll(
        "`cargo xtask cluster` to exit on SIGTERM",
        Duration::from_secs(10),
        || matches!(cluster.0.try_wait(), Ok(Some(_))),
    )?;
    let left: Vec<_> = pids.iter().filter(|pid| alive(**pid)).collect();
    if !left.is_empty() {
        bail!("processes of the cluster still running after SIGTERM: {left:?}");
    }
    tests
}

/// Every pid in cluster.json (the tiers' and nginx's).
fn pids(json: &str) -> anyhow::Result<Vec<u32>> {
    let doc: serde_json::Value = serde_json::from_str(json)?;
    let mut pids: Vec<u32> = doc["tiers"]
        .as_array()
        .context("cluster.json has no tiers")?
        .iter()
        .filter_map(|t| t["pid"].as_u64())
        .map(|p| p as u32)
        .collect();
    pids.extend(doc["nginx"]["pid"].as_u64().map(|p| p as u32));
    Ok(pids)
}

/// A pid that has exited is gone from /proc, or a zombie its parent has not
/// reaped yet.
fn alive(pid: u32) -> bool {
    std::fs::read_to_string(format!("/proc/{pid}/stat")).is_ok_and(|stat| {
        !stat
            .rsplit(')')
            .next()
            .unwrap_or("")
            .trim_start()
            .starts_with('Z')
    })
}

fn signal(pid: u32, name: &str) -> anyhow::Result<()> {
    exec(Command::new("kill").args([&format!("-{name}"), &pid.to_string()]))
}

/// Checks `done` every 50 ms until it holds; past `within`, an error naming `what`.
fn poll(what: &str, within: Duration, mut done: impl FnMut() -> bool) -> anyhow::Result<()> {
    let until = Instant::now() + within;
    while !done() {
        if Instant::now() > until {
            bail!("waited {within:?} for {what}");
        }
        std::thread::sleep(Duration::from_millis(50));
    }
    Ok(())
}

/// Stops the command however the test ends.
struct Stop(Child);

impl Drop for Stop {
    fn drop(&mut self) {
        if matches!(self.0.try_wait(), Ok(None)) {
            let _ = signal(self.0.id(), "TERM");
            let _ = poll("the cluster to stop", Duration::from_secs(10), || {
                matches!(self.0.try_wait(), Ok(Some(_)))
            });
            let _ = self.0.kill();
        }
        let _ = self.0.wait();
    }
}
