//! `deploy/k8s/` checked offline, twice: against the Kubernetes API schemas
//! (PyPI's `kubernetes-validate`, strict, at a pinned Kubernetes version), and
//! against `demo-server` itself: each Deployment's flags are ones it accepts,
//! its ports and probes are where it listens, its probes name services whose
//! health it reports SERVING (each Deployment's server is started as its
//! manifest says, on loopback, and asked with grpcio's health client), its
//! grace period covers lameduck + drain + 1 s, and the Services, the Ingress
//! and the PodDisruptionBudgets point at what exists.
use std::{
    net::TcpListener,
    path::PathBuf,
    process::{Command, Stdio},
    time::{Duration, Instant},
};

use anyhow::{Context, bail};
use serde_json::Value;

use crate::{
    cmd::{command, exec, root},
    server,
};

/// The Kubernetes version the manifests are validated against.
const KUBERNETES_VERSION: &str = "1.34.0";
/// Pinned: the schemas it bundles are what the check means.
const PIP_PACKAGES: [&str; 2] = [
    "kubernetes-validate==1.37.0",
    // grpcio's own health client (the venv has grpcio for the peer check).
    "grpcio-health-checking==1.85.1",
];
const DIR: &str = "deploy/k8s";

/// The virtualenv `peers` makes for grpcio; these packages go there too.
fn python() -> PathBuf {
    root().join("target/peers-venv/bin/python")
}

/// Installs the pinned packages into the venv, unless they are there.
pub fn setup() -> anyhow::Result<()> {
    let have = command(
        python().to_str().unwrap(),
        &[
            "-c",
            "import kubernetes_validate, grpc_health.v1.health_pb2",
        ],
    )
    .stderr(Stdio::null())
    .status();
    if have.is_ok_and(|s| s.success()) {
        return Ok(());
    }
    let mut args = vec!["-m", "pip", "install", "--quiet"];
    args.extend(PIP_PACKAGES);
    exec(&mut command(python().to_str().unwrap(), &args))
}

pub fn run() -> anyhow::Result<()> {
    let files = manifests()?;
    let mut args = vec!["-m", "kubernetes_validate", "--strict", "--quiet", "-k"];
    args.push(KUBERNETES_VERSION);
    args.extend(files.iter().map(String::as_str));
    exec(command(python().to_str().unwrap(), &args).current_dir(root()))
        .context("the manifests do not validate against the Kubernetes schemas")?;

    let docs = parse(&files)?;
    server::build(server::Profile::Debug)?;
    let problems = Manifests::new(&docs).problems();
    if !problems.is_empty() {
        bail!(
            "{DIR} does not match demo-server:\n  {}",
            problems.join("\n  ")
        );
    }
    for deployment in kinds(&docs, "Deployment") {
        probe(deployment)?;
    }
    eprintln!(
        "xtask: {DIR} validates against Kubernetes {KUBERNETES_VERSION} and matches demo-server"
    );
    Ok(())
}

/// `deploy/k8s/*.yaml`, sorted.
fn manifests() -> anyhow::Result<Vec<String>> {
    let mut files: Vec<String> = std::fs::read_dir(root().join(DIR))
        .with_context(|| format!("cannot read {DIR}"))?
        .filter_map(|e| e.ok())
        .map(|e| e.path())
        .filter(|p| p.extension().is_some_and(|x| x == "yaml" || x == "yml"))
        .map(|p| format!("{DIR}/{}", p.file_name().unwrap().to_string_lossy()))
        .collect();
    files.sort();
    if files.is_empty() {
        bail!("no manifests in {DIR}");
    }
    Ok(files)
}

/// Every document of `files` as JSON (PyYAML, which kubernetes-validate brings).
fn parse(files: &[String]) -> anyhow::Result<Vec<Value>> {
    const TO_JSON: &str = "import json, sys, yaml\n\
        docs = [d for f in sys.argv[1:] for d in yaml.safe_load_all(open(f)) if d]\n\
        json.dump(docs, sys.stdout)";
    let mut args = vec!["-c", TO_JSON];
    args.extend(files.iter().map(String::as_str));
    let out = command(python().to_str().unwrap(), &args)
        .current_dir(root())
        .output()?;
    if !out.status.success() {
        bail!(
            "cannot parse {DIR}: {}",
            String::from_utf8_lossy(&out.stderr)
        );
    }
    Ok(serde_json::from_slice(&out.stdout)?)
}

fn kinds<'a>(docs: &'a [Value], kind: &'a str) -> impl Iterator<Item = &'a Value> {
    docs.iter().filter(move |d| d["kind"] == kind)
}

fn name(doc: &Value) -> &str {
    doc["metadata"]["name"].as_str().unwrap_or("?")
}

/// The value after `flag` in `args` (`--flag value`).
fn flag<'a>(args: &'a [String], flag: &str) -> Option<&'a str> {
    let at = args.iter().position(|a| a == flag)?;
    args.get(at + 1).map(String::as_str)
}

/// `250ms`, `5s` or plain seconds, as demo-server reads them.
fn seconds(value: &str) -> Option<f64> {
    match value.strip_suffix("ms") {
        Some(ms) => ms.parse::<f64>().ok().map(|ms| ms / 1000.0),
        None => value.strip_suffix('s').unwrap_or(value).parse().ok(),
    }
}

fn port_of(addr: &str) -> Option<u64> {
    addr.rsplit_once(':')?.1.parse().ok()
}

/// The one container of a Deployment (the manifests have one each).
fn container(deployment: &Value) -> &Value {
    &deployment["spec"]["template"]["spec"]["containers"][0]
}

fn args_of(deployment: &Value) -> Vec<String> {
    container(deployment)["args"]
        .as_array()
        .map(|a| {
            a.iter()
                .filter_map(|v| v.as_str().map(String::from))
                .collect()
        })
        .unwrap_or_default()
}

/// Where the Deployment's server listens: `--addr` for a frontend,
/// `--backend-addr` for a backend (demo-server's defaults otherwise).
fn listen_flag(args: &[String]) -> &'static str {
    match flag(args, "--role") {
        Some("backend") => "--backend-addr",
        _ => "--addr",
    }
}

/// Whether `selector` (matchLabels or a Service's plain map) selects `labels`.
fn selects(selector: &Value, labels: &Value) -> bool {
    let Some(selector) = selector.as_object().filter(|s| !s.is_empty()) else {
        return false;
    };
    selector.iter().all(|(k, v)| &labels[k] == v)
}

struct Manifests<'a> {
    docs: &'a [Value],
    problems: Vec<String>,
}

impl<'a> Manifests<'a> {
    fn new(docs: &'a [Value]) -> Self {
        Manifests {
            docs,
            problems: Vec::new(),
        }
    }

    fn problem(&mut self, text: String) {
        self.problems.push(text);
    }

    fn problems(mut self) -> Vec<String> {
        let docs = self.docs;
        for d in kinds(docs, "Deployment") {
            self.deployment(d);
        }
        for s in kinds(docs, "Service") {
            self.service(s);
        }
        for i in kinds(docs, "Ingress") {
            self.ingress(i);
        }
        for p in kinds(docs, "PodDisruptionBudget") {
            let selector = &p["spec"]["selector"]["matchLabels"];
            if !kinds(docs, "Deployment").any(|d| selects(selector, pod_labels(d))) {
                self.problem(format!(
                    "PodDisruptionBudget {}: selects no Deployment's pods",
                    name(p)
                ));
            }
        }
        self.problems
    }

    fn deployment(&mut self, d: &Value) {
        let n = name(d);
        let args = args_of(d);
        // demo-server parses (and checks) every flag and value before --help.
        let mut help = args.clone();
        help.push("--help".into());
        match Command::new(server::binary(server::Profile::Debug))
            .args(&help)
            .output()
        {
            Ok(out) if out.status.success() => {}
            Ok(out) => self.problem(format!(
                "Deployment {n}: demo-server does not accept its args: {}",
                String::from_utf8_lossy(&out.stderr).trim()
            )),
            Err(e) => self.problem(format!("Deployment {n}: cannot run demo-server: {e}")),
        }
        let listen = listen_flag(&args);
        let Some(port) = flag(&args, listen).and_then(port_of) else {
            return self.problem(format!("Deployment {n}: no {listen} HOST:PORT in its args"));
        };
        if !flag(&args, listen).is_some_and(|a| a.starts_with("0.0.0.0:") || a.starts_with("[::]:"))
        {
            self.problem(format!(
                "Deployment {n}: {listen} must listen on all interfaces, not loopback"
            ));
        }
        let c = container(d);
        let ports: Vec<u64> = c["ports"]
            .as_array()
            .into_iter()
            .flatten()
            .filter_map(|p| p["containerPort"].as_u64())
            .collect();
        if ports != [port] {
            self.problem(format!(
                "Deployment {n}: containerPorts {ports:?}, but it listens on {port}"
            ));
        }
        let probe = &c["readinessProbe"]["grpc"];
        if probe["port"].as_u64() != Some(port) {
            self.problem(format!(
                "Deployment {n}: the readiness probe is not a gRPC probe of port {port}"
            ));
        }
        if c["resources"]["requests"]["cpu"].is_null()
            || c["resources"]["requests"]["memory"].is_null()
        {
            self.problem(format!("Deployment {n}: no cpu and memory requests"));
        }
        let lameduck = flag(&args, "--lameduck").map_or(Some(0.0), seconds);
        let drain = flag(&args, "--drain-timeout").map_or(Some(5.0), seconds);
        let grace = d["spec"]["template"]["spec"]["terminationGracePeriodSeconds"]
            .as_f64()
            .unwrap_or(30.0);
        match (lameduck, drain) {
            (Some(l), Some(dr)) if grace > l + dr + 1.0 => {}
            _ => self.problem(format!(
                "Deployment {n}: terminationGracePeriodSeconds {grace} is not above lameduck {lameduck:?} + drain {drain:?} + 1 s"
            )),
        }
        if flag(&args, "--role") == Some("frontend") {
            self.upstream(n, &args);
        }
    }

    /// A frontend's `--upstream`s name headless Services of backends, at their port.
    fn upstream(&mut self, n: &str, args: &[String]) {
        let docs = self.docs;
        let upstreams: Vec<&str> = args
            .windows(2)
            .filter(|w| w[0] == "--upstream")
            .map(|w| w[1].as_str())
            .collect();
        if upstreams.is_empty() {
            return self.problem(format!("Deployment {n}: a frontend without --upstream"));
        }
        for url in upstreams {
            let authority = url.strip_prefix("http://").unwrap_or("");
            let (host, port) = authority.rsplit_once(':').unwrap_or((authority, ""));
            let service_name = host.split('.').next().unwrap_or("");
            let Some(s) = kinds(docs, "Service").find(|s| name(s) == service_name) else {
                self.problem(format!(
                    "Deployment {n}: --upstream {url}: no Service {service_name:?}"
                ));
                continue;
            };
            if s["spec"]["clusterIP"] != "None" {
                self.problem(format!("Service {service_name}: not headless (clusterIP: None), so calls would be balanced per connection"));
            }
            let ports: Vec<String> = s["spec"]["ports"]
                .as_array()
                .into_iter()
                .flatten()
                .filter_map(|p| p["port"].as_u64().map(|p| p.to_string()))
                .collect();
            if !ports.iter().any(|p| p == port) {
                self.problem(format!(
                    "Deployment {n}: --upstream {url}: Service {service_name} has ports {ports:?}"
                ));
            }
            let backends = kinds(docs, "Deployment")
                .filter(|d| selects(&s["spec"]["selector"], pod_labels(d)))
                .all(|d| flag(&args_of(d), "--role") == Some("backend"));
            if !backends {
                self.problem(format!(
                    "Service {service_name}: selects pods that are no backends"
                ));
            }
        }
    }

    /// A Service selects a Deployment's pods, and its targetPort is one of
    /// their container ports (by name or number).
    fn service(&mut self, s: &Value) {
        let docs = self.docs;
        let n = name(s);
        let selected: Vec<&Value> = kinds(docs, "Deployment")
            .filter(|d| selects(&s["spec"]["selector"], pod_labels(d)))
            .collect();
        if selected.is_empty() {
            return self.problem(format!("Service {n}: selects no Deployment's pods"));
        }
        for port in s["spec"]["ports"].as_array().into_iter().flatten() {
            let target = &port["targetPort"];
            for d in &selected {
                let found = container(d)["ports"]
                    .as_array()
                    .into_iter()
                    .flatten()
                    .any(|p| p["name"] == *target || p["containerPort"] == *target);
                if !found {
                    self.problem(format!(
                        "Service {n}: targetPort {target} is no port of Deployment {}",
                        name(d)
                    ));
                }
            }
        }
    }

    /// Every Ingress backend is a Service port that exists.
    fn ingress(&mut self, i: &Value) {
        let docs = self.docs;
        let rules = i["spec"]["rules"].as_array().into_iter().flatten();
        let paths = rules.flat_map(|r| r["http"]["paths"].as_array().into_iter().flatten());
        for path in paths {
            let backend = &path["backend"]["service"];
            let service = kinds(docs, "Service").find(|s| s["metadata"]["name"] == backend["name"]);
            let port = &backend["port"];
            let ok = service.is_some_and(|s| {
                s["spec"]["ports"]
                    .as_array()
                    .into_iter()
                    .flatten()
                    .any(|p| {
                        (!port["name"].is_null() && p["name"] == port["name"])
                            || (!port["number"].is_null() && p["port"] == port["number"])
                    })
            });
            if !ok {
                self.problem(format!(
                    "Ingress {}: backend {backend} is no Service port",
                    name(i)
                ));
            }
        }
    }
}

fn pod_labels(d: &Value) -> &Value {
    &d["spec"]["template"]["metadata"]["labels"]
}

/// Starts the Deployment's server as its manifest says, but on a loopback
/// port, and asks its health for each service its probes name: SERVING.
fn probe(deployment: &Value) -> anyhow::Result<()> {
    let n = name(deployment);
    let mut args = args_of(deployment);
    let listen = listen_flag(&args);
    let local = TcpListener::bind("127.0.0.1:0")?.local_addr()?;
    let (frontend, backend) = (free_addr()?, free_addr()?);
    // Both addresses moved to loopback (the unused one too: no clash with
    // anything else on this machine).
    for (name, addr) in [("--addr", &frontend), ("--backend-addr", &backend)] {
        let addr = if name == listen {
            local.to_string()
        } else {
            addr.clone()
        };
        match args.iter().position(|a| a == name) {
            Some(at) => args[at + 1] = addr,
            None => args.extend([name.to_string(), addr]),
        }
    }
    let mut child = Command::new(server::binary(server::Profile::Debug))
        .args(&args)
        .stdout(Stdio::null())
        .spawn()
        .with_context(|| format!("Deployment {n}: cannot start demo-server"))?;
    let result = (|| {
        let until = Instant::now() + Duration::from_secs(15);
        while std::net::TcpStream::connect(local).is_err() {
            if let Ok(Some(status)) = child.try_wait() {
                bail!("Deployment {n}: demo-server {args:?} exited: {status}");
            }
            if Instant::now() > until {
                bail!("Deployment {n}: demo-server did not listen on {local}");
            }
            std::thread::sleep(Duration::from_millis(50));
        }
        let c = container(deployment);
        for kind in ["readinessProbe", "livenessProbe", "startupProbe"] {
            let grpc = &c[kind]["grpc"];
            if grpc.is_null() {
                continue;
            }
            let service = grpc["service"].as_str().unwrap_or("");
            health_check(&local.to_string(), service)
                .with_context(|| format!("Deployment {n}: its {kind} of service {service:?}"))?;
        }
        Ok(())
    })();
    // Not SIGTERM: its lameduck and drain are the manifest's, not this check's.
    let _ = child.kill();
    let _ = child.wait();
    result
}

fn free_addr() -> anyhow::Result<String> {
    Ok(TcpListener::bind("127.0.0.1:0")?.local_addr()?.to_string())
}

/// grpcio's health client: `Check(service)` is SERVING, as the kubelet's
/// gRPC probe asks it.
fn health_check(addr: &str, service: &str) -> anyhow::Result<()> {
    const CHECK: &str = concat!(
        "import sys, grpc\n",
        "from grpc_health.v1 import health_pb2, health_pb2_grpc\n",
        "stub = health_pb2_grpc.HealthStub(grpc.insecure_channel(sys.argv[1]))\n",
        "try:\n",
        "    reply = stub.Check(health_pb2.HealthCheckRequest(service=sys.argv[2]), timeout=5)\n",
        "except grpc.RpcError as e:\n",
        "    sys.exit(f'{e.code().name}: {e.details()}')\n",
        "name = health_pb2.HealthCheckResponse.ServingStatus.Name(reply.status)\n",
        "sys.exit(0 if name == 'SERVING' else name)\n",
    );
    let out = command(python().to_str().unwrap(), &["-c", CHECK, addr, service]).output()?;
    if !out.status.success() {
        bail!("health: {}", String::from_utf8_lossy(&out.stderr).trim());
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn durations_as_demo_server_reads_them() {
        assert_eq!(seconds("250ms"), Some(0.25));
        assert_eq!(seconds("5s"), Some(5.0));
        assert_eq!(seconds("2"), Some(2.0));
        assert_eq!(seconds("x"), None);
    }

    #[test]
    fn mismatches_are_found() {
        let docs: Vec<Value> = serde_json::from_str(
            r#"[
              {"kind": "Service", "metadata": {"name": "s"},
               "spec": {"selector": {"app": "nothing"}, "ports": [{"port": 1, "targetPort": "x"}]}},
              {"kind": "Ingress", "metadata": {"name": "i"},
               "spec": {"rules": [{"http": {"paths": [{"backend": {"service": {"name": "t", "port": {"number": 2}}}}]}}]}},
              {"kind": "PodDisruptionBudget", "metadata": {"name": "p"},
               "spec": {"selector": {"matchLabels": {"app": "nothing"}}}}
            ]"#,
        )
        .unwrap();
        let problems = Manifests::new(&docs).problems();
        assert_eq!(problems.len(), 3, "{problems:#?}");
    }
}
