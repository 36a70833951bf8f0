//! Tests of the user path (issue 7): `cargo xtask package` run as a user
//! runs it, on the test protos (tests/protos/: every field kind, and a second
//! package with two services, a stream and imports) and on bad input; the
//! packages are then served by tests/echo-server and called from Chromium
//! (tests/js/kinds.test.mjs with @bufbuild/protobuf as the oracle,
//! tests/js/shop.test.mjs), and their declarations type-checked; the kinds
//! package's codec is also run against protobuf-es on generated values
//! (tests/js/text-forms.differential.mjs).
use std::{
    net::TcpStream,
    path::Path,
    process::{Child, Command},
    time::{Duration, Instant},
};

use anyhow::{Context, bail};

use crate::cmd::{command, exec, root};

const ECHO_PORT: u16 = 27090;
const TSC: &str = "e2e/node_modules/.bin/tsc";

pub fn run() -> anyhow::Result<()> {
    let out = root().join("target/test-packages");
    let _ = std::fs::remove_dir_all(&out);
    let kinds = package(
        &["tests/protos/kinds.proto"],
        &out.join("kinds"),
        "kinds-test",
    )?;
    if !kinds.contains("test.kinds.v1.Echo.Chat") {
        bail!("no warning named the bidi method test.kinds.v1.Echo.Chat:\n{kinds}");
    }
    package(
        &["tests/protos/shop/v1/shop.proto"],
        &out.join("shop"),
        "@acme/shop",
    )?;
    bad_input(&out)?;
    exec(&mut command(
        "cargo",
        &["build", "--quiet", "-p", "echo-server"],
    ))?;
    let echo_addr = crate::ports::addr(ECHO_PORT);
    let _echo = EchoServer::start(&out, &echo_addr)?;
    let base = format!("http://{echo_addr}");
    let packages = out.to_string_lossy();
    exec(&mut command(
        "node",
        &["tests/js/kinds.test.mjs", &base, &packages],
    ))?;
    // In Node, no server: the kinds package's codec against protobuf-es.
    exec(&mut command(
        "node",
        &["tests/js/text-forms.differential.mjs", &packages],
    ))?;
    exec(&mut command("node", &["tests/js/shop.test.mjs", &base]))?;
    exec(&mut command(
        TSC,
        &["-p", "tests/js/tsconfig.generated.json"],
    ))
}

/// `cargo xtask package` for `protos` (includes: tests/protos); its output.
fn package(protos: &[&str], out: &Path, name: &str) -> anyhow::Result<String> {
    let mut args = vec!["xtask", "package", "--include", "tests/protos"];
    for proto in protos {
        args.extend(["--proto", proto]);
    }
    let out = out.to_string_lossy();
    args.extend(["--out", &out, "--name", name]);
    let (ok, output) = run_capturing(&args)?;
    if !ok {
        bail!("cargo {} failed:\n{output}", args.join(" "));
    }
    Ok(output)
}

/// A missing file, a syntax error and a missing import: each one error
/// naming the file (and the line), and no package.
fn bad_input(out: &Path) -> anyhow::Result<()> {
    let dir = out.join("bad");
    std::fs::create_dir_all(&dir)?;
    std::fs::write(
        dir.join("syntax.proto"),
        "syntax = \"proto3\";\npackage bad;\nmessage A {\n  string a = 1\n}\n",
    )?;
    std::fs::write(
        dir.join("import.proto"),
        "syntax = \"proto3\";\npackage bad;\nimport \"nowhere/missing.proto\";\n",
    )?;
    let dir = dir.to_string_lossy().into_owned();
    let cases = [
        ("missing.proto", "missing.proto"),
        ("syntax.proto", "syntax.proto:4"),
        ("import.proto", "nowhere/missing.proto"),
    ];
    for (proto, expected) in cases {
        let target = format!("{dir}/out-{proto}");
        let args = [
            "xtask",
            "package",
            "--proto",
            proto,
            "--include",
            &dir,
            "--out",
            &target,
        ];
        let (ok, output) = run_capturing(&args)?;
        if ok || !output.contains(expected) || Path::new(&target).join("index.js").exists() {
            bail!(
                "`cargo {}` should fail naming {expected}:\n{output}",
                args.join(" ")
            );
        }
        eprintln!("xtask: bad input {proto}: refused, naming {expected}");
    }
    Ok(())
}

fn run_capturing(args: &[&str]) -> anyhow::Result<(bool, String)> {
    eprintln!("xtask: $ cargo {}", args.join(" "));
    let output = command("cargo", args)
        .output()
        .context("could not run cargo")?;
    let text = format!(
        "{}{}",
        String::from_utf8_lossy(&output.stdout),
        String::from_utf8_lossy(&output.stderr)
    );
    Ok((output.status.success(), text))
}

/// tests/echo-server serving `dir`, stopped when dropped.
struct EchoServer(Child);

impl EchoServer {
    fn start(dir: &Path, addr: &str) -> anyhow::Result<Self> {
        let child = Command::new(root().join("target/debug/echo-server"))
            .arg(addr)
            .arg(dir)
            .spawn()
            .context("could not start echo-server")?;
        let server = Self(child);
        let until = Instant::now() + Duration::from_secs(30);
        while TcpStream::connect(addr).is_err() {
            if Instant::now() > until {
                bail!("echo-server did not listen on {addr} within 30 s");
            }
            std::thread::sleep(Duration::from_millis(20));
        }
        Ok(server)
    }
}

impl Drop for EchoServer {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}
