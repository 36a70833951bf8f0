//! The runtime npm package every generated module imports, the plugin's
//! WebAssembly, and the demo's package in `pkg/`.
//!
//! The runtime is the root crate built by wasm-pack (release, `--target web`,
//! so it loads from a plain `<script type="module">` and from bundlers
//! alike), then binaryen's `wasm-opt` from `e2e/` (wasm-pack cannot download
//! its own here), and esbuild minifies wasm-bindgen's JS glue (generated
//! code nobody reads; 7.4 -> 5.2 KB gzipped), next to the package's own files
//! from `npm/grpc-web-abort/`. The demo's `pkg/` is made by `cargo xtask
//! package`, exactly the path a user takes.
use std::{
    io::{Read, Write},
    path::PathBuf,
    process::Stdio,
};

use anyhow::{Context, bail};

use crate::{
    cmd::{command, exec, root},
    package, setup,
};

/// Where wasm-pack puts the runtime (inside `target/`, so never committed).
const RUNTIME_DIR: &str = "target/runtime-pkg";
const WASM_OPT: &str = "e2e/node_modules/.bin/wasm-opt";
const WASM_DIS: &str = "e2e/node_modules/.bin/wasm-dis";
const ESBUILD: &str = "e2e/node_modules/.bin/esbuild";

/// `pkg/`: the demo's npm package, built from `proto/demo.proto`.
pub fn build() -> anyhow::Result<()> {
    package::run(&package::Args {
        protos: vec![root().join("proto/demo.proto")],
        includes: Vec::new(),
        out: root().join("pkg"),
        name: "grpc-web-abort".to_owned(),
    })
}

/// The runtime npm package's own files (templates, README, the JS half).
const RUNTIME_SOURCE: &str = "npm/grpc-web-abort";
/// Where the plugin's WebAssembly is built.
const PLUGIN_DIR: &str = "target/plugin-wasm";
/// What `/* PROVIDED */` in the runtime's sources stands for.
const PROVIDED_MARK: &str = "/* PROVIDED */";
/// What `/* CODE */` in the runtime's declarations stands for: the `Code`
/// enum as wasm-bindgen declares it from the Rust crate.
const CODE_MARK: &str = "/* CODE */";

/// The wasm-bindgen output a runtime package ships.
pub const RUNTIME_FILES: [&str; 3] = [
    "grpc_web_abort.js",
    "grpc_web_abort_bg.wasm",
    "grpc_web_abort.d.ts",
];
pub const LICENSES: [&str; 2] = ["LICENSE-MIT", "LICENSE-APACHE"];

/// Writes the runtime package's code into `out`: the wasm core and its
/// glue, and `index.js`/`index.d.ts` (minified; the well-known types'
/// registrations written in). With `publish`, also what `npm publish`
/// uploads beside it: `package.json`, the README, the licenses.
pub fn runtime_package(out: &std::path::Path, publish: bool) -> anyhow::Result<()> {
    // One build at a time writes and reads target/runtime-pkg: two xtask
    // runs at once on one machine would otherwise mix their files.
    std::fs::create_dir_all(root().join("target"))?;
    let lock = std::fs::File::create(root().join("target/runtime-pkg.lock"))?;
    lock.lock().context("locking target/runtime-pkg.lock")?;
    let runtime = build_runtime()?;
    std::fs::create_dir_all(out).with_context(|| format!("creating {}", out.display()))?;
    for file in RUNTIME_FILES {
        copy(&runtime.join(file), &out.join(file))?;
    }
    let source = root().join(RUNTIME_SOURCE);
    let provided = grpc_web_abort_build::provided_registrations()
        .map_err(|e| anyhow::anyhow!("the well-known types: {e}"))?;
    let js: String = provided
        .iter()
        .map(|(name, descriptor)| {
            format!("export const {name} = /* @__PURE__ */ registerFile(\"{descriptor}\", []);\n")
        })
        .collect();
    let dts: String = provided
        .iter()
        .map(|(name, _)| {
            format!("/** @internal The runtime's registration of a well-known type's proto. */\nexport declare const {name}: FileRegistration;\n")
        })
        .collect();
    let fill = |file: &str, text: &str| -> anyhow::Result<String> {
        let template = std::fs::read_to_string(source.join(file))
            .with_context(|| format!("reading {RUNTIME_SOURCE}/{file}"))?;
        anyhow::ensure!(
            template.contains(PROVIDED_MARK),
            "{RUNTIME_SOURCE}/{file} lacks {PROVIDED_MARK}"
        );
        Ok(template.replace(PROVIDED_MARK, text))
    };
    let code = std::fs::read_to_string(runtime.join("code.d.ts"))?;
    let index_d_ts = fill("index.d.ts", &dts)?;
    anyhow::ensure!(
        index_d_ts.contains(CODE_MARK),
        "{RUNTIME_SOURCE}/index.d.ts lacks {CODE_MARK}"
    );
    std::fs::write(out.join("index.d.ts"), index_d_ts.replace(CODE_MARK, &code))?;
    // The runtime's JS (one module per concept in src/) is the library's,
    // not the user's: shipped as one minified module beside the glue,
    // keeping `GrpcError`'s and `MessageStream`'s names.
    let build = root().join("target/runtime-js");
    let _ = std::fs::remove_dir_all(&build);
    std::fs::create_dir_all(build.join("src"))?;
    for entry in std::fs::read_dir(source.join("src"))? {
        let path = entry?.path();
        copy(
            &path,
            &build.join("src").join(path.file_name().unwrap_or_default()),
        )?;
    }
    std::fs::write(build.join("src/provided.js"), fill("src/provided.js", &js)?)?;
    bundle(&build.join("src/index.js"), &out.join("index.js"))?;
    // Under Node, the wasm read from disk: the npm package's `node` export,
    // and a self-contained package's (`cargo xtask package`) alike.
    copy(&source.join("node.js"), &out.join("node.js"))?;
    if publish {
        for file in ["package.json", "README.md", "testing.js", "testing.d.ts"] {
            copy(&source.join(file), &out.join(file))?;
        }
        for file in LICENSES {
            copy(&root().join(file), &out.join(file))?;
        }
    }
    Ok(())
}

/// The plugin's package (`npm/protoc-gen-grpc-web-abort/` and the generator
/// compiled to WebAssembly for Node) written into `out`.
pub fn plugin_package(out: &std::path::Path) -> anyhow::Result<()> {
    setup::build_tools()?;
    let dir = root().join(PLUGIN_DIR);
    let out_dir = dir.to_string_lossy().into_owned();
    exec(&mut command(
        "wasm-pack",
        &[
            "build",
            "codegen",
            "--release",
            "--target",
            "nodejs",
            "--out-dir",
            &out_dir,
            "--",
            "--no-default-features",
            "--features",
            "plugin",
        ],
    ))?;
    let wasm = dir.join("grpc_web_abort_build_bg.wasm");
    optimize(&wasm.to_string_lossy())?;
    let source = root().join("npm/protoc-gen-grpc-web-abort");
    std::fs::create_dir_all(out.join("bin"))?;
    std::fs::create_dir_all(out.join("lib"))?;
    for file in [
        "package.json",
        "README.md",
        "bin/protoc-gen-grpc-web-abort.cjs",
    ] {
        copy(&source.join(file), &out.join(file))?;
    }
    for file in ["grpc_web_abort_build.js", "grpc_web_abort_build_bg.wasm"] {
        copy(&dir.join(file), &out.join("lib").join(file))?;
    }
    for file in LICENSES {
        copy(&root().join(file), &out.join(file))?;
    }
    Ok(())
}

pub fn copy(from: &std::path::Path, to: &std::path::Path) -> anyhow::Result<()> {
    std::fs::copy(from, to)
        .with_context(|| format!("copying {} to {}", from.display(), to.display()))?;
    Ok(())
}

/// Builds and optimises the runtime; the directory holding
/// `grpc_web_abort.js`, `grpc_web_abort_bg.wasm`, `grpc_web_abort.d.ts` and
/// any `snippets/`.
pub fn build_runtime() -> anyhow::Result<PathBuf> {
    setup::build_tools()?;
    let dir = root().join(RUNTIME_DIR);

    let out_dir = dir.to_string_lossy().into_owned();
    // The shipped runtime is built once, here, so it can use what no user's
    // build could (issue 17): a pinned nightly rebuilding std for size,
    // panics that abort at once (no unwinding or panic messages: a trap,
    // which the runtime's JS turns into INTERNAL for the calls in flight),
    // no `Debug` formatting and no panic locations. Measured on the same
    // code: 65.3 -> 52.7 KB gzipped. Rust users build the crate on stable
    // as they like; the tests build it on stable too.
    //
    // Set aside (issue 17): `-Ctarget-feature=-reference-types`, with which
    // wasm-bindgen keeps JS values in its glue's array rather than an
    // `externref` table, was 0.55 KB smaller gzipped in all, but the bench's
    // memory test then grew the JS heap by 131 KB over 10,000 aborted calls
    // against 91 KB with the table (158 KB vs 108 KB over 30,000: bounded,
    // not a value kept per call; the table's own growth is outside the JS
    // heap, where the test does not look). A trade, not a clear win.
    //
    // `-Zmir-opt-level=1` (release's default is 2): level 2's further MIR
    // optimisations left LLVM a larger wasm to make (issue 17: -118 B raw,
    // -48 B gzip -9, -11 B brotli -q 11 at level 1; level 0 was -19 B gzip
    // but +2 B brotli). `-Zinline-mir=no` and `-Zshare-generics=y` changed nothing;
    // `-Zcross-crate-inline-threshold=never` and
    // `-Zmerge-functions=trampolines` came out larger.
    //
    // talc's `disable-realloc-in-place` (its README: "intended to reduce
    // size for WebAssembly"): a growing `Vec` or `String` is moved to a new
    // block rather than grown where it lies, which the codec's small
    // buffers barely notice, and talc's grow- and shrink-in-place routines
    // leave the wasm (issue 17: -301 B raw, -135 B gzip -9, -123 B brotli;
    // `disable-grow-in-place` alone was -89 B gzip).
    exec(
        command(
            "rustup",
            &[
                "run",
                setup::NIGHTLY,
                "wasm-pack",
                "build",
                "--release",
                "--target",
                "web",
                "--out-dir",
                &out_dir,
                "--",
                "--features",
                "npm-runtime,talc/disable-realloc-in-place",
                "-Zbuild-std=std,panic_abort",
                "-Zbuild-std-features=optimize_for_size",
            ],
        )
        .env(
            "CARGO_TARGET_WASM32_UNKNOWN_UNKNOWN_RUSTFLAGS",
            "-Zunstable-options -Cpanic=immediate-abort -Zfmt-debug=none -Zlocation-detail=none -Zmir-opt-level=1",
        )
        // Apart from the stable builds' artefacts, which it would evict.
        .env("CARGO_TARGET_DIR", root().join("target/nightly")),
    )?;
    let wasm = dir.join("grpc_web_abort_bg.wasm");
    let before = std::fs::read(&wasm).context("reading the runtime's wasm")?;
    optimize_runtime(&dir)?;
    let after = std::fs::read(&wasm)?;
    eprintln!(
        "xtask: {RUNTIME_DIR}/grpc_web_abort_bg.wasm: {} -> {} bytes raw, {} -> {} bytes gzipped",
        before.len(),
        after.len(),
        gzip_size(&before)?,
        gzip_size(&after)?
    );
    factory(&dir)?;
    Ok(dir)
}

/// The glue and the wasm as the runtime's sources name them (from `src/`),
/// and as the bundled `index.js` beside them must.
const FROM_SOURCE: [(&str, &str); 2] = [
    ("\"../grpc_web_abort.js\"", "\"./grpc_web_abort.js\""),
    (
        "\"../grpc_web_abort_bg.wasm\"",
        "\"./grpc_web_abort_bg.wasm\"",
    ),
];

/// What the runtime's JS (`src/instance.js`, `src/code.js`) takes from a
/// glue instance; wasm-bindgen's other exports are left out of the factory.
const GLUE_EXPORTS: [&str; 9] = [
    "default",
    "Code",
    "setErrorClass",
    "registerSchema",
    "unary",
    "serverStream",
    "decodeRequest",
    "encodeReply",
    "methodStreams",
];

/// wasm-bindgen's glue for `--target web` keeps its instance in module
/// state and will not make a second one, but the runtime must be able to
/// start afresh after a trap (`src/instance.js`): the glue is shipped as a
/// factory, `createCore()`, each call a fresh copy of its state: esbuild
/// minifies it as a module, whose body becomes the factory's and whose
/// exports the object the factory returns. Its declarations become
/// `createCore`'s; the `Code` enum's go into the runtime's `index.d.ts`.
fn factory(dir: &std::path::Path) -> anyhow::Result<()> {
    let glue = dir.join("grpc_web_abort.js");
    let before = std::fs::read(&glue)?;
    let outfile = format!("--outfile={}", glue.display());
    // Only what the runtime's JS uses is re-exported, so esbuild drops the
    // rest (`initSync`: issue 17). A name the glue lacks stops esbuild.
    let entry = dir.join("glue-entry.js");
    std::fs::write(
        &entry,
        format!(
            "export {{ {} }} from \"./grpc_web_abort.js\";\n",
            GLUE_EXPORTS.join(", ")
        ),
    )?;
    let path = entry.to_string_lossy().into_owned();
    exec(&mut command(
        ESBUILD,
        &[
            &path,
            "--bundle",
            "--minify",
            // A module whose closing `export{…}` becomes the factory's
            // returned object: an IIFE's exports went through esbuild's
            // getter helpers, 0.5 KB (issue 17).
            "--format=esm",
            // The wasm's URL is the runtime's to give.
            "--define:import.meta.url=undefined",
            "--log-level=warning",
            "--allow-overwrite",
            &outfile,
        ],
    ))?;
    std::fs::remove_file(&entry)?;
    let text = std::fs::read_to_string(&glue)?;
    let (body, exports) = text
        .trim_end()
        .strip_suffix("};")
        .and_then(|t| t.rsplit_once("export{"))
        .context("esbuild's module does not end in `export{…};`")?;
    let fields: Vec<String> = exports
        .split(',')
        .map(|item| {
            let (local, name) = item.split_once(" as ").unwrap_or((item, item));
            format!("{name}:{local}")
        })
        .collect();
    std::fs::write(
        &glue,
        format!(
            "// wasm-bindgen's glue, one fresh copy per call (see xtask/src/pkg.rs).\nexport function createCore(){{{body};return{{{}}}}}\n",
            fields.join(",")
        ),
    )?;
    let d_ts = std::fs::read_to_string(dir.join("grpc_web_abort.d.ts"))?;
    let start = d_ts
        .find("export enum Code {")
        .context("no Code enum in the glue's declarations")?;
    let end = start
        + d_ts[start..]
            .find("}\n")
            .context("the Code enum does not end")?
        + 2;
    std::fs::write(
        dir.join("code.d.ts"),
        d_ts[start..end].replace("export enum", "export declare enum"),
    )?;
    std::fs::write(
        dir.join("grpc_web_abort.d.ts"),
        "/** @internal wasm-bindgen's glue as a factory: the runtime's, not for applications. */\nexport declare function createCore(): any;\n",
    )?;
    eprintln!(
        "xtask: the glue as a factory: {} -> {} bytes gzipped",
        gzip_size(&before)?,
        gzip_size(std::fs::read(&glue)?.as_slice())?
    );
    Ok(())
}

/// Bundles the runtime's modules from `entry` into one minified ES module
/// at `out`, the wasm-bindgen glue left as an import.
fn bundle(entry: &std::path::Path, out: &std::path::Path) -> anyhow::Result<()> {
    let entry = entry.to_string_lossy().into_owned();
    let outfile = format!("--outfile={}", out.display());
    exec(&mut command(
        ESBUILD,
        &[
            &entry,
            "--bundle",
            // No `--keep-names`: it cost 0.6 KB gzipped for function names
            // in stack traces; the one name that is API, `GrpcError`'s,
            // is set in its class.
            "--minify",
            "--format=esm",
            "--log-level=warning",
            "--external:../grpc_web_abort.js",
            &outfile,
        ],
    ))?;
    let mut text = std::fs::read_to_string(out)?;
    for (from, to) in FROM_SOURCE {
        anyhow::ensure!(
            text.contains(from),
            "the bundled runtime does not name {from}"
        );
        text = text.replace(from, to);
    }
    std::fs::write(out, &text)?;
    eprintln!(
        "xtask: the runtime's JS bundled into {}: {} bytes gzipped",
        out.display(),
        gzip_size(text.as_bytes())?
    );
    Ok(())
}

/// Minifies the ES module `file` in place with esbuild (no bundling).
pub fn minify(file: &std::path::Path) -> anyhow::Result<()> {
    let before = std::fs::read(file).with_context(|| format!("reading {}", file.display()))?;
    let path = file.to_string_lossy().into_owned();
    let outfile = format!("--outfile={path}");
    exec(&mut command(
        ESBUILD,
        &[
            &path,
            "--minify",
            "--format=esm",
            "--log-level=warning",
            "--allow-overwrite",
            &outfile,
        ],
    ))?;
    let after = std::fs::read(file)?;
    eprintln!(
        "xtask: minified {}: {} -> {} bytes gzipped",
        file.file_name().unwrap_or_default().to_string_lossy(),
        gzip_size(&before)?,
        gzip_size(&after)?
    );
    Ok(())
}

/// The wasm features rustc's wasm32 target emits by default.
const FEATURES: [&str; 6] = [
    "--enable-reference-types",
    "--enable-bulk-memory",
    "--enable-nontrapping-float-to-int",
    "--enable-sign-ext",
    "--enable-multivalue",
    "--enable-mutable-globals",
];

/// `-Oz` with the wasm features rustc's wasm32 target emits by default.
pub fn optimize(wasm: &str) -> anyhow::Result<()> {
    let mut args = vec!["-Oz"];
    args.extend(FEATURES);
    args.extend([wasm, "-o", wasm]);
    exec(&mut command(WASM_OPT, &args))
}

/// What the shipped runtime's `wasm-opt` runs beyond `-Oz` (issue 17; each
/// measured on the runtime, gzip -9 of the wasm):
/// - `--generate-global-effects` first: what each function may do (write
///   memory, call out, trap), so that `-Oz` can simplify around calls to
///   those that do little (-6 B gzip, -23 B brotli);
/// - `--converge`: `-Oz` again until nothing shrinks (-50 B);
/// - `--low-memory-unused`: folds `p + C` (C < 1 KiB) into the access's
///   offset (-300 B). The only difference is an address that would wrap
///   past 4 GiB into low memory: it now traps instead, so a bug is more
///   likely to trap, never less (the trap → INTERNAL defence stands). Rust
///   puts its stack first, data above 1 MiB, so nothing lives in low memory
///   bar the stack's last KiB;
/// - `--strip-producers`, `--strip-target-features`: custom sections no
///   engine reads (-200 B);
/// - `--one-caller-inline-max-function-size=25`: a function called from one
///   place is inlined there only if small (`-Oz` inlines any size): 2 KB
///   more raw, 0.7 KB less gzipped (-0.4 KB brotli), as gzip finds more
///   repeats across separate small functions than inside large ones. Any
///   value from 10 to 50 did better than none; 25 did best on this code.
///
/// Set aside: `--traps-never-happen` (-120 B) lets binaryen delete what
/// leads to a trap, bounds and `unreachable` checks included, so a bug
/// would read or write the wrong memory in silence instead of trapping into
/// INTERNAL; `--ignore-implicit-traps` is the same bet on loads (and no
/// smaller); `-O4`/`-O3`/`-Os` before or instead of `-Oz` came out larger,
/// as did `--always-inline-max-function-size` above its default of 2.
const RUNTIME_PASSES: [&str; 7] = [
    "--generate-global-effects",
    "-Oz",
    "--converge",
    "--low-memory-unused",
    "--strip-producers",
    "--strip-target-features",
    "--one-caller-inline-max-function-size=25",
];

/// Optimises the runtime's wasm in `dir` and gives its imports and exports
/// short names, in the wasm and in wasm-bindgen's glue beside it alike
/// (see [`short_names`]): binaryen's own renaming passes only rename
/// Emscripten's `env` imports, or merge every import module into one,
/// which the runtime's `instance.js` tells its glue's instantiation by.
fn optimize_runtime(dir: &std::path::Path) -> anyhow::Result<()> {
    let wasm = dir.join("grpc_web_abort_bg.wasm");
    let glue = dir.join("grpc_web_abort.js");
    let wat = dir.join("grpc_web_abort_bg.wat");
    let [wasm_arg, wat_arg] = [&wasm, &wat].map(|p| p.to_string_lossy().into_owned());
    exec(&mut command(WASM_DIS, &[&wasm_arg, "-o", &wat_arg]))?;
    let (text, js) = short_names(
        &std::fs::read_to_string(&wat)?,
        &std::fs::read_to_string(&glue)?,
    )?;
    std::fs::write(&wat, text)?;
    std::fs::write(&glue, js)?;
    let mut args: Vec<&str> = RUNTIME_PASSES.to_vec();
    args.extend(FEATURES);
    args.extend([wat_arg.as_str(), "-o", &wasm_arg]);
    exec(&mut command(WASM_OPT, &args))?;
    std::fs::remove_file(&wat)?;
    Ok(())
}

/// The module wasm-bindgen's glue hands the wasm its imports under.
const GLUE_MODULE: &str = "./grpc_web_abort_bg.js";

/// `wat` (the runtime's wasm as text) and `glue` (wasm-bindgen's JS for it)
/// with every import from the glue and every export bar `memory` renamed
/// `a`, `b`, …: wasm-bindgen names them after Rust paths and a hash
/// (`__wbg_new_with_str_and_init_d9f6b5611184e16b`, closures' 100-byte
/// shims), 4 KB gzipped between the two files, the hashes incompressible.
/// An export the glue never names (wasm-bindgen's `__abort_handler`, for
/// a glue that does not use it) is dropped. Fails if an import has no
/// function in the glue, so a change in wasm-bindgen's output stops the
/// build rather than shipping a glue that no longer instantiates.
fn short_names(wat: &str, glue: &str) -> anyhow::Result<(String, String)> {
    let mut next = 0usize;
    let mut short = || {
        const LETTERS: &[u8] = b"abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ";
        let (mut i, mut name) = (next, Vec::new());
        next += 1;
        loop {
            name.insert(0, LETTERS[i % LETTERS.len()]);
            if i < LETTERS.len() {
                break;
            }
            i = i / LETTERS.len() - 1;
        }
        String::from_utf8(name).expect("ASCII letters")
    };
    let import_prefix = format!("(import \"{GLUE_MODULE}\" \"");
    let mut glue = glue.to_owned();
    let mut lines = Vec::new();
    for line in wat.lines() {
        let body = line.trim_start();
        let indent = &line[..line.len() - body.len()];
        if let Some(rest) = body.strip_prefix(&import_prefix) {
            let (old, tail) = rest
                .split_once('"')
                .context("an unterminated import name")?;
            let new = short();
            // The glue's import object: `name: function(...)`.
            let renamed = replace_token(&glue, &format!("{old}:"), &format!("{new}:"));
            anyhow::ensure!(
                renamed.1 == 1,
                "the glue names import {old} {} times, not once",
                renamed.1
            );
            glue = renamed.0;
            lines.push(format!("{indent}{import_prefix}{new}\"{tail}"));
        } else if let Some(rest) = body.strip_prefix("(export \"") {
            let (old, tail) = rest
                .split_once('"')
                .context("an unterminated export name")?;
            if old == "memory" {
                // The runtime reads the instance's memory by this name.
                lines.push(line.to_owned());
                continue;
            }
            let new = short();
            let renamed = replace_token(&glue, &format!("wasm.{old}"), &format!("wasm.{new}"));
            if renamed.1 > 0 {
                glue = renamed.0;
                lines.push(format!("{indent}(export \"{new}\"{tail}"));
            }
        } else {
            lines.push(line.to_owned());
        }
    }
    anyhow::ensure!(
        next > 0,
        "no import from {GLUE_MODULE} in the runtime's wasm"
    );
    Ok((lines.join("\n") + "\n", glue))
}

/// `text` with each `from` that is a whole token (no identifier character
/// just before or after it) replaced by `to`, and how many were.
fn replace_token(text: &str, from: &str, to: &str) -> (String, usize) {
    let ident = |c: char| c.is_ascii_alphanumeric() || c == '_' || c == '$';
    let (mut out, mut count, mut rest) = (String::with_capacity(text.len()), 0, text);
    while let Some(at) = rest.find(from) {
        out.push_str(&rest[..at]);
        rest = &rest[at + from.len()..];
        let before = out.chars().next_back().is_some_and(ident);
        let after = from.ends_with(ident) && rest.chars().next().is_some_and(ident);
        let whole = !before && !after;
        out.push_str(if whole { to } else { from });
        count += usize::from(whole);
    }
    out.push_str(rest);
    (out, count)
}

/// The size of `data` compressed by `gzip -9`, in bytes.
pub fn gzip_size(data: &[u8]) -> anyhow::Result<usize> {
    let mut gzip = command("gzip", &["-9", "-c"])
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .spawn()
        .context("could not run gzip")?;
    let mut stdin = gzip.stdin.take().context("gzip's stdin")?;
    let data = data.to_vec();
    let writer = std::thread::spawn(move || stdin.write_all(&data));
    let mut compressed = Vec::new();
    gzip.stdout
        .take()
        .context("gzip's stdout")?
        .read_to_end(&mut compressed)?;
    writer.join().expect("the writer does not panic")?;
    if !gzip.wait()?.success() {
        bail!("gzip failed");
    }
    Ok(compressed.len())
}

#[cfg(test)]
mod tests {
    use super::{replace_token, short_names};

    #[test]
    fn tokens_are_replaced_whole_only() {
        let (text, n) = replace_token("wasm.ab(wasm.abc, xwasm.ab, wasm.ab)", "wasm.ab", "wasm.Z");
        assert_eq!(
            (text.as_str(), n),
            ("wasm.Z(wasm.abc, xwasm.ab, wasm.Z)", 2)
        );
    }

    #[test]
    fn imports_and_exports_get_short_names_in_both_files() {
        let wat = "(module\n \
            (import \"./grpc_web_abort_bg.js\" \"__wbg_keys_105f\" (func $fimport$0 (param externref) (result externref)))\n \
            (import \"./grpc_web_abort_bg.js\" \"__wbg_keys_105f_x\" (func $fimport$1))\n \
            (export \"memory\" (memory $0))\n \
            (export \"unary\" (func $2))\n \
            (export \"__abort_handler\" (global $global$1))\n)";
        let glue = "const i={__wbg_keys_105f: function(a){},__wbg_keys_105f_x: function(){}};\nwasm.unary(wasm.memory);";
        let (wat, glue) = short_names(wat, glue).unwrap();
        assert_eq!(
            glue,
            "const i={a: function(a){},b: function(){}};\nwasm.c(wasm.memory);"
        );
        assert!(wat.contains(" (import \"./grpc_web_abort_bg.js\" \"a\" (func $fimport$0 (param externref) (result externref)))\n"));
        assert!(wat.contains(" (import \"./grpc_web_abort_bg.js\" \"b\" (func $fimport$1))\n"));
        assert!(wat.contains(" (export \"memory\" (memory $0))\n (export \"c\" (func $2))\n)"));
        assert!(
            !wat.contains("__abort_handler"),
            "an export the glue never names is dropped"
        );
    }

    #[test]
    fn an_import_the_glue_lacks_stops_the_build() {
        let wat = " (import \"./grpc_web_abort_bg.js\" \"__wbg_gone_1\" (func $fimport$0))";
        assert!(short_names(wat, "const i={};").is_err());
    }

    #[test]
    fn short_names_run_past_one_letter() {
        let imports: String = (0..60)
            .map(|i| {
                format!(
                    " (import \"./grpc_web_abort_bg.js\" \"__wbg_f{i}_0\" (func $fimport${i}))\n"
                )
            })
            .collect();
        let glue: String = (0..60)
            .map(|i| format!("__wbg_f{i}_0: function(){{}},"))
            .collect();
        let (_, glue) = short_names(&imports, &glue).unwrap();
        assert!(glue.starts_with("a: function(){},b: function(){},"));
        assert!(glue.contains(",Z: function(){},aa: function(){},ab: function(){},"));
        assert!(glue.ends_with("ah: function(){},"));
    }
}
