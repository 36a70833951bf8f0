//! `cargo xtask cluster`: on loopback, nginx (https, HTTP/2) → N frontends →
//! nginx (grpc_pass, h2c) → M backends, rendered from
//! `deploy/nginx/nginx.conf.template`; with `--direct`, the frontends call
//! the backends themselves (an `--upstream` each), balancing per call. Once every process answers it writes
//! `target/cluster.json` (the page's URL and every process's own /metrics);
//! Ctrl-C or SIGTERM stops every process it started.
use std::{
    net::TcpListener,
    path::Path,
    process::{Child, Command},
    sync::{
        Arc,
        atomic::{AtomicBool, Ordering},
    },
    time::Duration,
};

use anyhow::{Context, bail};
use serde_json::json;

use crate::{
    cert,
    cmd::root,
    server::{self, wait_for_metrics},
};

const TEMPLATE: &str = "deploy/nginx/nginx.conf.template";
/// Every tier's lameduck: on SIGTERM its health says NOT_SERVING for this
/// long, calls still served, before it stops accepting (as in deploy/k8s).
const LAMEDUCK: &str = "1s";
/// `target/cluster.json` and `target/cluster/` (the rendered nginx.conf, the
/// certificate, nginx's pid): `cluster-<offset>` under XTASK_PORT_OFFSET, so
/// that two runs on one machine neither read nor stop each other's processes.
fn named(base: &str) -> String {
    match std::env::var("XTASK_PORT_OFFSET")
        .ok()
        .filter(|o| o != "0" && !o.is_empty())
    {
        Some(offset) => format!("target/{base}-{offset}"),
        None => format!("target/{base}"),
    }
}

pub fn cluster_json() -> std::path::PathBuf {
    root().join(format!("{}.json", named("cluster")))
}

pub struct Options {
    pub frontends: usize,
    pub backends: usize,
    /// Where nginx serves browsers, e.g. `127.0.0.1:8443`.
    pub addr: String,
    /// The frontends call the backends themselves (`--upstream` for each),
    /// balancing per call, rather than through nginx's `grpc_pass`.
    pub direct: bool,
}

/// One process the cluster started.
pub struct Process {
    pub role: &'static str,
    /// Where it listens (for nginx: towards browsers).
    pub addr: String,
    child: Child,
}

/// The running cluster; dropping it stops every process.
pub struct Cluster {
    pub url: String,
    /// The nginx certificate's SPKI SHA-256 (base64), for Chromium.
    pub spki: String,
    pub processes: Vec<Process>,
}

/// `cargo xtask cluster`: starts it, then runs until Ctrl-C or SIGTERM.
pub fn run(options: &Options, prebuilt: bool) -> anyhow::Result<()> {
    let stop = Arc::new(AtomicBool::new(false));
    for signal in [signal_hook::consts::SIGINT, signal_hook::consts::SIGTERM] {
        signal_hook::flag::register(signal, stop.clone())?;
    }
    if !prebuilt {
        crate::setup::build_tools()?;
        crate::setup::nginx()?;
        crate::pkg::build()?;
    }
    let mut cluster = Cluster::start(options)?;
    eprintln!(
        "xtask: the demo is at {}/ through nginx (Ctrl-C stops it); start Chromium with\n  \
         chromium --ignore-certificate-errors-spki-list={} {}/",
        cluster.url, cluster.spki, cluster.url
    );
    // A supervisor, not a test: a few times a second it checks for the
    // signal, and says when a process has exited (the others keep running).
    let mut exited = vec![false; cluster.processes.len()];
    while !stop.load(Ordering::Relaxed) {
        for (p, seen) in cluster.processes.iter_mut().zip(&mut exited) {
            if let (false, Ok(Some(status))) = (*seen, p.child.try_wait()) {
                eprintln!("xtask: the {} on {} exited: {status}", p.role, p.addr);
                *seen = true;
            }
        }
        std::thread::sleep(Duration::from_millis(100));
    }
    eprintln!("xtask: stopping the cluster");
    Ok(())
}

impl Cluster {
    pub fn start(options: &Options) -> anyhow::Result<Self> {
        if options.frontends == 0 || options.backends == 0 {
            bail!("a cluster needs at least one frontend and one backend");
        }
        let _ = std::fs::remove_file(cluster_json());
        server::build(server::Profile::Debug)?;
        let dir = root().join(named("cluster"));
        std::fs::create_dir_all(dir.join("tmp"))?;
        let spki = cert::self_signed(&dir.join("cert.pem"), &dir.join("key.pem"))?;
        let mut cluster = Cluster {
            url: format!("https://{}", options.addr),
            spki,
            processes: Vec::new(),
        };

        // All in one call: ports chosen by separate calls could repeat (one
        // call's ports are free again once it returns), and a frontend was
        // once given a backend's port (`cannot listen`).
        let mut addrs = free_addrs(options.backends + options.frontends + 1)?;
        let nginx_to_backends = addrs.pop().expect("one address per process and nginx");
        let frontends = addrs.split_off(options.backends);
        let backends = addrs;
        for addr in &backends {
            cluster.spawn_tier(
                "backend",
                addr,
                &[
                    "--role",
                    "backend",
                    "--backend-addr",
                    addr,
                    "--lameduck",
                    LAMEDUCK,
                ],
            )?;
        }
        // Each of them listening before anything can call it through nginx:
        // a frontend's first health check, sent on through nginx to a backend
        // that did not listen yet, had nginx count that backend down
        // (refused) and send it nothing for fail_timeout (10 s), and the
        // tests that expect every backend to serve failed.
        cluster.wait_for_tiers("backend")?;
        // nginx before the frontends, so that their upstream answers at once.
        cluster.spawn_nginx(
            &dir,
            &options.addr,
            &frontends,
            &nginx_to_backends,
            &backends,
        )?;
        let upstreams = match options.direct {
            true => backends.iter().map(|b| format!("http://{b}")).collect(),
            false => vec![format!("http://{nginx_to_backends}")],
        };
        for addr in &frontends {
            let mut args = vec!["--role", "frontend", "--addr", addr, "--lameduck", LAMEDUCK];
            for upstream in &upstreams {
                args.extend(["--upstream", upstream]);
            }
            cluster.spawn_tier("frontend", addr, &args)?;
        }
        // The frontends too, before the URL is given out: nginx, asked
        // before a frontend listens, would count it down in the same way.
        cluster.wait_for_tiers("frontend")?;
        wait_for_https(&cluster.url)?;
        cluster.write_json()?;
        Ok(cluster)
    }

    /// Waits until every tier of `role` answers on its address.
    fn wait_for_tiers(&self, role: &str) -> anyhow::Result<()> {
        for p in self.processes.iter().filter(|p| p.role == role) {
            wait_for_metrics(p.role, &p.addr)?;
        }
        Ok(())
    }

    fn spawn_nginx(
        &mut self,
        dir: &Path,
        addr: &str,
        frontends: &[String],
        nginx_to_backends: &str,
        backends: &[String],
    ) -> anyhow::Result<()> {
        let config = render(&[
            ("LISTEN", addr.to_string()),
            ("CERT", dir.join("cert.pem").display().to_string()),
            ("KEY", dir.join("key.pem").display().to_string()),
            ("FRONTENDS", servers(frontends)),
            ("BACKEND_LISTEN", nginx_to_backends.to_string()),
            ("BACKENDS", servers(backends)),
        ])?;
        std::fs::write(dir.join("nginx.conf"), config)?;
        let child = Command::new("nginx")
            .arg("-p")
            .arg(dir)
            .args(["-c", "nginx.conf", "-g", "daemon off;"])
            .spawn()
            .context("could not start nginx: run `cargo xtask setup`")?;
        self.processes.push(Process {
            role: "nginx",
            addr: addr.to_string(),
            child,
        });
        Ok(())
    }

    fn spawn_tier(&mut self, role: &'static str, addr: &str, args: &[&str]) -> anyhow::Result<()> {
        let child = Command::new(server::binary(server::Profile::Debug))
            .args(args)
            .current_dir(root())
            .spawn()
            .with_context(|| format!("could not start a {role}"))?;
        self.processes.push(Process {
            role,
            addr: addr.to_string(),
            child,
        });
        Ok(())
    }

    /// `target/cluster.json`, written whole (by rename) so a reader never
    /// sees half of it.
    fn write_json(&self) -> anyhow::Result<()> {
        let tiers: Vec<_> = self
            .processes
            .iter()
            .filter(|p| p.role != "nginx")
            .map(|p| {
                json!({
                    "role": p.role,
                    "metrics": format!("http://{}/metrics", p.addr),
                    "pid": p.child.id(),
                })
            })
            .collect();
        let nginx = self.processes.iter().find(|p| p.role == "nginx");
        let doc = json!({
            "url": self.url,
            "spki": self.spki,
            "nginx": { "pid": nginx.map(|p| p.child.id()) },
            "tiers": tiers,
        });
        let path = cluster_json();
        let tmp = path.with_extension("json.tmp");
        std::fs::write(&tmp, serde_json::to_string_pretty(&doc)?)?;
        std::fs::rename(tmp, &path)?;
        eprintln!("xtask: wrote {}", path.display());
        Ok(())
    }
}

impl Drop for Cluster {
    /// SIGTERM first (nginx and the tiers shut down cleanly on it), then,
    /// for what is still running after 5 s, SIGKILL.
    fn drop(&mut self) {
        for p in &mut self.processes {
            // Not one that has exited: its pid may be another process's by now.
            if matches!(p.child.try_wait(), Ok(None)) {
                let _ = Command::new("kill").arg(p.child.id().to_string()).status();
            }
        }
        let deadline = std::time::Instant::now() + Duration::from_secs(5);
        for p in &mut self.processes {
            while matches!(p.child.try_wait(), Ok(None)) && std::time::Instant::now() < deadline {
                std::thread::sleep(Duration::from_millis(20));
            }
            let _ = p.child.kill();
            let _ = p.child.wait();
        }
        let _ = std::fs::remove_file(cluster_json());
    }
}

/// The template with each `${NAME}` replaced; a name left over is an error.
fn render(vars: &[(&str, String)]) -> anyhow::Result<String> {
    let mut text = std::fs::read_to_string(root().join(TEMPLATE)).context(TEMPLATE)?;
    for (name, value) in vars {
        text = text.replace(&format!("${{{name}}}"), value);
    }
    if let Some(at) = text.find("${") {
        bail!(
            "{TEMPLATE}: unknown variable at {}",
            &text[at..at + 20.min(text.len() - at)]
        );
    }
    Ok(text)
}

fn servers(addrs: &[String]) -> String {
    let lines: Vec<_> = addrs.iter().map(|a| format!("server {a};")).collect();
    lines.join("\n        ")
}

/// `n` loopback addresses with ports the kernel says are free now.
fn free_addrs(n: usize) -> anyhow::Result<Vec<String>> {
    // Held together, so the kernel hands out `n` different ports.
    let listeners: Vec<_> = (0..n)
        .map(|_| TcpListener::bind("127.0.0.1:0"))
        .collect::<Result<_, _>>()?;
    listeners
        .iter()
        .map(|l| Ok(l.local_addr()?.to_string()))
        .collect()
}

/// Waits (30 s at most) until nginx answers `/metrics` over https and HTTP/2
/// (from a frontend: so nginx and its way to the frontends are up).
fn wait_for_https(url: &str) -> anyhow::Result<()> {
    let until = std::time::Instant::now() + Duration::from_secs(30);
    let metrics = format!("{url}/metrics");
    while std::time::Instant::now() < until {
        let out = Command::new("curl")
            .args([
                "-sk",
                "--http2",
                "-o",
                "/dev/null",
                "-w",
                "%{http_version} %{http_code}",
                &metrics,
            ])
            .output()
            .context("could not run curl")?;
        if out.stdout == b"2 200" {
            return Ok(());
        }
        std::thread::sleep(Duration::from_millis(50));
    }
    bail!("nginx did not answer {metrics} over HTTP/2 within 30 s")
}
