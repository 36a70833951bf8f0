//! Browser tests of the client against the live server (issue 3): the
//! wasm-bindgen tests in `tests/` (the semantics table and the Rust API) in
//! headless Chromium and Firefox, then
//! the JS API exactly as npm users get it, from the built `pkg/`, and its
//! TypeScript declarations.
use crate::cmd::{command, exec, root, which};

const TSC: &str = "e2e/node_modules/.bin/tsc";

pub fn run(server_url: &str) -> anyhow::Result<()> {
    for browser in browsers()? {
        // The tests read the server's address at compile time.
        wasm_pack_test(&browser, &[], ("DEMO_SERVER_URL", server_url))?;
    }
    exec(&mut command("node", &["tests/js/api.test.mjs", server_url]))?;
    // A trap in the wasm settles the calls in flight and is survived (issue 16).
    exec(&mut command(
        "node",
        &["--test-reporter=spec", "tests/js/trap.test.mjs", server_url],
    ))?;
    exec(&mut command(TSC, &["-p", "tests/js"]))
}

/// `wasm-pack test`'s flags for headless Chromium and Firefox, each with its driver.
pub fn browsers() -> anyhow::Result<[[String; 3]; 2]> {
    let flags =
        |browser: &str, driver: &str, path: String| [browser.to_owned(), driver.to_owned(), path];
    Ok([
        flags("--chrome", "--chromedriver", "/usr/bin/chromedriver".into()),
        flags("--firefox", "--geckodriver", which("geckodriver")?),
    ])
}

/// `wasm-pack test --headless` of tests/wasm in `browser` (its flag and its
/// driver's), with `args` after them and `env` set.
pub fn wasm_pack_test(
    browser: &[String; 3],
    args: &[&str],
    env: (&str, &str),
) -> anyhow::Result<()> {
    // wasm-bindgen-test-runner kills its WebDriver instead of ending the
    // session, so Chromium's profile (about 20 MB) stayed in /tmp after
    // every run; the runs get a TMPDIR of their own, removed after them.
    let tmp = root().join("target/tmp/wasm-test");
    let _ = std::fs::remove_dir_all(&tmp);
    std::fs::create_dir_all(&tmp)?;
    let mut all = vec!["test", "--headless"];
    all.extend(browser.iter().map(String::as_str));
    all.extend(args);
    let run = exec(
        command("wasm-pack", &all)
            .current_dir(root().join("tests/wasm"))
            .env(env.0, env.1)
            .env("TMPDIR", &tmp),
    );
    let _ = std::fs::remove_dir_all(&tmp);
    run
}
