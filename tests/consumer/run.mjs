// The JavaScript developer's path, with no Rust (issue 14): in a fresh
// directory, with a PATH that holds no cargo or rustc and HOME elsewhere,
// install the two tarballs `cargo xtask dist` wrote (the runtime and the
// protoc/buf plugin) beside @bufbuild/buf, TypeScript and Vite from npm;
// `buf generate` clients for protos with imports across files, well-known
// types, colliding names and an edition; strict tsc (with the README's
// example); `vite build`; then calls in Chromium against the live server
// (under `vite preview`, a plain page with an import map, and the Vite dev
// server), each checked at both tiers' /metrics, and one wasm for the
// clients of two protos. Then Google's API protos, vendored as their users
// vendor them: generated, strict-tsc clean, every unary and
// server-streaming method that protobuf-es lists callable from Node, and
// our codec against protobuf-es on seeded messages of their types
// (google-codec.differential.mjs). And
// issue 16's: interceptors against real servers (tests/echo-server, built
// by xtask, reports what metadata reached it), and the app's unit tests
// against the test transport in Node and in Chromium.
// Usage: node --test-reporter=spec tests/consumer/run.mjs SERVER_URL DIST_DIR
import assert from "node:assert/strict";
import { execFileSync, spawn } from "node:child_process";
import { cpSync, mkdirSync, mkdtempSync, readFileSync, readdirSync, rmSync, writeFileSync } from "node:fs";
import { createServer as createHttpServer } from "node:http";
import { homedir, tmpdir } from "node:os";
import { delimiter, extname, join, normalize, resolve } from "node:path";
import { after, before, describe, it } from "node:test";
import { fileURLToPath } from "node:url";

import { collectErrors, launch } from "../../e2e/browser.mjs";
import { methodStats, settled } from "../../e2e/metrics.mjs";
import { until } from "../../e2e/poll.mjs";

const here = fileURLToPath(new URL(".", import.meta.url));
const root = resolve(here, "../..");
const server = process.argv[2] ?? "http://127.0.0.1:27080";
const dist = resolve(process.argv[3] ?? join(root, "target/dist"));

const scratch = mkdtempSync(join(tmpdir(), "grpc-web-abort-js-"));
const app = join(scratch, "app");
// What the developer's shell has: Node and npm, no Rust toolchain, a home
// of its own. npm's download cache is shared to spare the registry.
const env = {
  ...process.env,
  PATH: process.env.PATH.split(delimiter)
    .filter((dir) => !/\.cargo|rustup/.test(dir))
    .join(delimiter),
  HOME: join(scratch, "home"),
  npm_config_cache: process.env.npm_config_cache ?? join(homedir(), ".npm"),
  CARGO_HOME: join(scratch, "no-cargo"),
  RUSTUP_HOME: join(scratch, "no-rustup"),
};

function sh(command, args, cwd = app) {
  console.log(`consumer: $ ${command} ${args.join(" ")}`);
  return execFileSync(command, args, { cwd, env, encoding: "utf8", stdio: ["ignore", "pipe", "inherit"] });
}

// `--include=dev`: under NODE_ENV=production npm would leave out the app's
// devDependencies (buf, vite and typescript themselves).
const NPM = ["--include=dev", "--no-audit", "--no-fund"];

function tarball(prefix) {
  const name = readdirSync(dist).find((f) => f.startsWith(`${prefix}-`) && f.endsWith(".tgz"));
  assert.ok(name, `no ${prefix}-<version>.tgz in ${dist}: run cargo xtask dist`);
  return join(dist, name);
}

/** The fenced ```lang block under the README's heading (a whole line, e.g. "### JavaScript"). */
function readmeBlock(heading, lang) {
  const readme = readFileSync(join(root, "README.md"), "utf8");
  const escaped = heading.replace(/[.*+?^${}()|[\]\\]/g, "\\$&");
  const section = readme.split(new RegExp(`^${escaped}$`, "m"))[1]?.split(/^#{1,3} /m)[0];
  const block = section?.match(new RegExp(`^\`\`\`${lang}\n([\\s\\S]*?)^\`\`\`$`, "m"))?.[1];
  assert.ok(block, `README.md has no \`\`\`${lang} block under "${heading}"`);
  return block;
}

const readmeExample = () => readmeBlock("### JavaScript", "js");

/** Where the README's runnable examples go in the app (compiled by tsconfig.test.json). */
const README_RUNNABLE = [
  ["### Interceptors", "src/readme-interceptors.ts"],
  ["### Tests without a server", "src/readme-testing.test.ts"],
];

const PRELUDE = `// Written by tests/consumer/run.mjs from README.md ("### JavaScript") so
// that tsc checks the example as a user pastes it. Compiled, never run.
declare const cancelButton: HTMLButtonElement;
declare function render(text: string): void;
`;

let browser;
let runtimeFiles;
let generated;

before(async () => {
  mkdirSync(env.HOME, { recursive: true });
  for (const entry of ["package.json", "package-lock.json", "tsconfig.json", "tsconfig.test.json", "index.html", "buf.gen.yaml", "src", "plain", "proto", "unit"]) {
    cpSync(join(here, entry), join(app, entry), { recursive: true });
  }
  const runtime = tarball("grpc-web-abort");
  const plugin = tarball("protoc-gen-grpc-web-abort");
  runtimeFiles = JSON.parse(sh("npm", ["pack", "--dry-run", "--json", runtime], scratch))[0].files.map((f) => f.path);
  sh("npm", ["ci", ...NPM]);
  sh("npm", ["install", "--no-save", ...NPM, runtime, plugin]);
  sh("npx", ["buf", "generate"]);
  generated = listFiles(join(app, "src/gen"));
  browser = await launch();
});

after(async () => {
  await browser?.close();
  rmSync(scratch, { recursive: true, force: true });
});

function listFiles(dir, prefix = "") {
  return readdirSync(dir, { withFileTypes: true }).flatMap((e) =>
    e.isDirectory() ? listFiles(join(dir, e.name), `${prefix}${e.name}/`) : [`${prefix}${e.name}`],
  );
}

describe("the npm packages, with no Rust", () => {
  it("the developer's PATH has no cargo or rustc", () => {
    for (const tool of ["cargo", "rustc", "wasm-pack"]) {
      assert.throws(() => execFileSync("sh", ["-c", `command -v ${tool}`], { env }), `${tool} is reachable`);
    }
  });

  it("the runtime tarball holds what npm publish uploads", () => {
    const wanted = ["package.json", "README.md", "LICENSE-MIT", "LICENSE-APACHE", "index.js", "index.d.ts", "node.js", "testing.js", "testing.d.ts"];
    wanted.push("grpc_web_abort.js", "grpc_web_abort.d.ts", "grpc_web_abort_bg.wasm");
    assert.deepEqual([...runtimeFiles].sort(), wanted.sort());
    const manifest = JSON.parse(readFileSync(join(app, "node_modules/grpc-web-abort/package.json"), "utf8"));
    assert.equal(manifest.type, "module");
    assert.equal(manifest.types, "index.d.ts");
    assert.equal(manifest.exports["."].default, "./index.js");
    assert.equal(manifest.exports["."].node, "./node.js");
    assert.deepEqual(manifest.sideEffects, ["./node.js"]);
  });

  it("buf generate wrote a module per proto, none for the runtime's well-known types", () => {
    for (const proto of ["demo/v1/greeter", "demo/v1/updates", "acme/common/v1/money", "acme/shop/v1/shop", "acme/edition/v1/thing"]) {
      for (const ext of [".js", ".d.ts"]) assert.ok(generated.includes(`${proto}_grpcweb${ext}`), `${proto}${ext} in ${generated}`);
    }
    assert.ok(!generated.some((f) => f.startsWith("google/")), `${generated}`);
    // target=ts: one .ts per proto instead (tsc checks them with the app).
    const ts = listFiles(join(app, "src/gen-ts"));
    assert.deepEqual(ts.sort(), generated.filter((f) => f.endsWith(".js")).map((f) => f.replace(/\.js$/, ".ts")).sort());
    const shop = readFileSync(join(app, "src/gen/acme/shop/v1/shop_grpcweb.d.ts"), "utf8");
    // Never refused over naming: Intent's input type beside a message IntentInput.
    assert.match(shop, /^export interface IntentInput\$ \{$/m);
    assert.match(shop, /^export declare class CartClient\$ \{$/m);
    assert.match(shop, /addItem\(request: IntentInput\$, options\?: \$rt\.CallOptions\): Promise<IntentInput>;/);
  });

  it("type-checks strictly with the README's example (tsc, skipLibCheck off)", () => {
    writeFileSync(join(app, "src/readme-example.ts"), PRELUDE + readmeExample());
    for (const [heading, file] of README_RUNNABLE) writeFileSync(join(app, file), readmeBlock(heading, "ts"));
    sh("npx", ["tsc", "-p", "."]);
  });

  it("builds with vite, one wasm among the assets", () => {
    sh("npx", ["vite", "build", "--logLevel", "warn"]);
    const wasm = readdirSync(join(app, "dist/assets")).filter((f) => f.endsWith(".wasm"));
    assert.equal(wasm.length, 1, `${wasm}`);
  });
});

describe("Node 20+, the same generated clients", () => {
  it("calls the demo server from node --test: unary, a broken stream, an abort, a deadline, at both tiers' /metrics", () => {
    cpSync(join(here, "node-calls.test.mjs"), join(app, "node-calls.test.mjs"));
    execFileSync("node", ["--test", "--test-reporter=spec", "node-calls.test.mjs"], {
      cwd: app,
      env: { ...env, SERVER_URL: server, REPO_ROOT: root },
      stdio: "inherit",
    });
  });
});

describe("interceptors and the test transport (issue 16)", () => {
  let echo;
  before(async () => {
    const port = await freePort();
    echo = spawn(join(root, "target/debug/echo-server"), [`127.0.0.1:${port}`, app], { stdio: ["ignore", "ignore", "inherit"] });
    echo.url = `http://127.0.0.1:${port}`;
    await until("the echo server answering", () => fetch(echo.url).then(() => true, () => false), (up) => up, { withinMs: 10_000, everyMs: 50 });
    // The README's examples as JS (the interceptor test uses its `bearer`).
    for (const [heading, file] of README_RUNNABLE) writeFileSync(join(app, file), readmeBlock(heading, "ts"));
    sh("npx", ["tsc", "-p", "tsconfig.test.json"]);
  });

  it("the README's test-transport example runs under node --test", () => {
    execFileSync("node", ["--test", "--test-reporter=spec", "src/readme-testing.test.js"], { cwd: app, env, stdio: "inherit" });
  });
  after(() => echo?.kill());

  it("interceptors from node --test: headers at the server, a token refresh, outcomes, a throw, order, at /metrics", () => {
    cpSync(join(here, "interceptors.test.mjs"), join(app, "interceptors.test.mjs"));
    execFileSync("node", ["--test", "--test-reporter=spec", "interceptors.test.mjs"], {
      cwd: app,
      env: { ...env, SERVER_URL: server, ECHO_URL: echo.url, REPO_ROOT: root },
      stdio: "inherit",
    });
  });

  it("the app's unit tests against the test transport, under node --test", () => {
    execFileSync("node", ["--test", "--test-reporter=spec", "unit/unit.test.mjs"], { cwd: app, env, stdio: "inherit" });
  });

  it("the same unit tests under Vitest", () => {
    execFileSync("npx", ["vitest", "run", "vitest.spec"], { cwd: app, env: { ...env, CI: "true" }, stdio: "inherit" });
  });

  it("the same unit tests in Chromium, with the test transport and no server", async () => {
    const site = await serveStatic(app);
    const page = await browser.newPage();
    const errors = collectErrors(page);
    try {
      await page.goto(`http://127.0.0.1:${site.address().port}/plain/unit.html`);
      await page.waitForFunction(() => window.unitResults !== undefined, null, { timeout: 30_000 }).catch((error) => {
        throw new Error(`the page ran no tests; its errors: ${JSON.stringify(errors)}`, { cause: error });
      });
      const results = await page.evaluate(() => window.unitResults);
      assert.ok(results.length >= 9, `only ${results.length} cases ran`);
      assert.deepEqual(results.filter((r) => !r.ok), []);
      assert.deepEqual(errors, []);
    } finally {
      await page.close();
      site.close();
    }
  });
});

describe("vite build + vite preview", () => {
  let site;
  before(async () => {
    site = await serveWith(["vite", "preview", "--host", "127.0.0.1", "--strictPort", "--port"]);
  });
  after(() => site?.stop());
  calls(() => site.url);
});

describe("a plain <script type=module> page with an import map, no bundler", () => {
  let site;
  before(async () => {
    site = await serveStatic(app);
  });
  after(() => site?.close());
  calls(() => `http://127.0.0.1:${site.address().port}/plain/index.html`);
});

describe("the Vite dev server", () => {
  let site;
  before(async () => {
    site = await serveWith(["vite", "--host", "127.0.0.1", "--strictPort", "--force", "--port"]);
  });
  after(() => site?.stop());
  calls(() => site.url);
});

describe("Google's API protos, vendored with their current descriptor.proto", () => {
  const files = [
    "google/cloud/dialogflow/cx/v3/session.proto",
    "google/pubsub/v1/pubsub.proto",
    "google/firestore/v1/firestore.proto",
    "google/cloud/speech/v1/cloud_speech.proto",
    "google/cloud/translate/v3/translation_service.proto",
    "google/storage/v2/storage.proto",
    "google/spanner/v1/spanner.proto",
    "google/cloud/vision/v1/image_annotator.proto",
    "google/cloud/compute/v1/compute.proto",
  ];
  const vendor = () => join(app, "vendor");
  before(() => {
    // googleapis as its users vendor it, google/protobuf/*.proto included.
    cpSync(join(app, "node_modules/google-proto-files/google"), join(vendor(), "google"), { recursive: true });
    const template = {
      version: "v2",
      inputs: [{ directory: "vendor", paths: files.map((f) => `vendor/${f}`) }],
      plugins: [{ local: "protoc-gen-grpc-web-abort", out: "gen-google", include_imports: true }],
    };
    writeFileSync(join(app, "buf.google.yaml"), JSON.stringify(template));
    sh("npx", ["buf", "generate", "--template", "buf.google.yaml"]);
    // buf's image: protobuf-es reads the protos from it.
    sh("npx", ["buf", "build", "vendor", ...files.flatMap((f) => ["--path", `vendor/${f}`]), "-o", "google.binpb"]);
    for (const script of ["google-clients.mjs", "google-calls.mjs", "google-codec.differential.mjs"]) cpSync(join(here, script), join(app, script));
    // tests/js's shared modules, where the differential imports them from (../js/).
    for (const shared of ["proto3-json.mjs", "seeded.mjs"]) cpSync(join(root, "tests/js", shared), join(scratch, "js", shared));
  });

  it("generates declarations that strict tsc accepts", () => {
    const tsconfig = JSON.parse(readFileSync(join(app, "tsconfig.json"), "utf8"));
    tsconfig.include = ["gen-google"];
    writeFileSync(join(app, "tsconfig.google.json"), JSON.stringify(tsconfig));
    sh("npx", ["tsc", "-p", "tsconfig.google.json"]);
  });

  it("every unary and server-streaming method protobuf-es lists is callable (UNAVAILABLE from a closed port)", () => {
    const result = JSON.parse(sh("node", ["google-calls.mjs", "google.binpb", "gen-google", ...files]));
    console.log(`consumer: ${result.called} methods called in ${result.services} services; ${result.skipped} client/bidi streaming skipped`);
    assert.deepEqual(result.failures, []);
    assert.ok(result.called > 500, `only ${result.called} methods`);
  });

  it("our codec and protobuf-es agree on seeded, populated messages of every method's types, both ways", () => {
    const result = JSON.parse(sh("node", ["google-codec.differential.mjs", "google.binpb", "gen-google", ...files]));
    const { failures, failed, ...summary } = result;
    console.log(`consumer: codec vs protobuf-es: ${JSON.stringify(summary)}`);
    assert.deepEqual(failures, [], `${failed} divergences (re-run: node google-codec.differential.mjs google.binpb gen-google --seed=${result.seed} --count=${result.count} FILE...)`);
    assert.ok(result.types > 1000 && result.reached > 2000, `only ${result.types} types, ${result.reached} reached`);
    assert.ok(result.checks >= 2 * result.cases && result.cases >= result.types * result.count, `${result.cases} cases, ${result.checks} checks`);
  });
});

/** `npx <args> <port>` serving the app; resolves once it answers. */
async function serveWith(args) {
  const port = await freePort();
  // A process group of its own: npx runs vite as its child, and both must go.
  const child = spawn("npx", [...args, String(port)], { cwd: app, env, stdio: ["ignore", "inherit", "inherit"], detached: true });
  const url = `http://127.0.0.1:${port}/`;
  await until(`${args[1] ?? "vite"} answering at ${url}`, () => fetch(url).then((r) => r.ok, () => false), (ok) => ok, {
    withinMs: 30_000,
    everyMs: 100,
  });
  return { url, stop: () => process.kill(-child.pid) };
}

function freePort() {
  return new Promise((ok) => {
    const probe = createHttpServer().listen(0, "127.0.0.1", () => {
      const { port } = probe.address();
      probe.close(() => ok(port));
    });
  });
}

/** The calls in a page at `pageUrl()`, each checked at both tiers too. */
function calls(pageUrl) {
  let page;
  let errors;
  before(async () => {
    page = await browser.newPage();
    errors = collectErrors(page);
    // Counts the wasm modules the page instantiates.
    await page.addInitScript(() => {
      window.wasmInstances = 0;
      for (const name of ["instantiate", "instantiateStreaming"]) {
        const original = WebAssembly[name];
        WebAssembly[name] = (...args) => {
          window.wasmInstances++;
          return original.apply(WebAssembly, args);
        };
      }
    });
    await page.goto(pageUrl());
    await page.waitForFunction(() => window.calls !== undefined, null, { timeout: 10_000 });
  });
  after(async () => {
    await page?.close();
    assert.deepEqual(errors, []);
  });

  const greeter = () => methodStats(server, "demo.v1.Greeter", "SayHello");
  const watch = () => methodStats(server, "demo.v1.Updates", "Watch");

  it("a unary call answers, with its trailers", async () => {
    const before = await greeter();
    const reply = await page.evaluate((base) => window.calls.unary(base), server);
    assert.match(reply.message, /consumer/);
    assert.equal(reply.status, "0");
    await settled(greeter, before, { started: 1 });
  });

  it("a stream broken after 3 messages is cancelled at both tiers", async () => {
    const before = await watch();
    const result = await page.evaluate((base) => window.calls.stream(base), server);
    assert.equal(result.seqs.length, 3);
    assert.ok(result.bigints, `seq is not a bigint: ${result.seqs}`);
    assert.ok(result.ascending, `seq does not ascend: ${result.seqs}`);
    await settled(watch, before, { started: 1, cancelled: 1 });
  });

  it("the clients of two protos share one wasm instance", async () => {
    assert.equal(await page.evaluate(() => window.wasmInstances), 1);
  });

  it("an abort rejects with CANCELLED and cancels both tiers", async () => {
    const before = await greeter();
    await page.evaluate((base) => window.calls.startAbortable(base), server);
    // Abort only once the call is being worked on at the last tier.
    await until("the backend has the call", greeter, (s) => s.backend.inFlight === 1, { withinMs: 5_000 });
    const failure = await page.evaluate(() => window.calls.abort());
    assert.equal(failure.codeName, "CANCELLED");
    assert.equal(failure.code, 1);
    assert.equal(failure.cause, "user cancelled");
    await settled(greeter, before, { started: 1, cancelled: 1 });
  });

  it("a deadline rejects with DEADLINE_EXCEEDED, counted at both tiers", async () => {
    const before = await greeter();
    const failure = await page.evaluate((base) => window.calls.deadline(base), server);
    assert.equal(failure.codeName, "DEADLINE_EXCEEDED");
    assert.equal(failure.code, 4);
    // timeoutMs is 300 and the server would answer after 30 s.
    assert.ok(failure.elapsedMs >= 290 && failure.elapsedMs < 3_000, `after ${failure.elapsedMs} ms`);
    await settled(greeter, before, { started: 1, deadlineExceeded: 1 });
  });
}


const TYPES = { ".html": "text/html", ".js": "text/javascript", ".mjs": "text/javascript", ".wasm": "application/wasm", ".json": "application/json" };

/** Files under `dir` as any static web server would serve them. */
function serveStatic(dir) {
  const site = createHttpServer((req, res) => {
    const path = normalize(join(dir, decodeURIComponent(new URL(req.url, "http://x").pathname)));
    let body;
    try {
      if (!path.startsWith(dir)) throw new Error("outside");
      body = readFileSync(path);
    } catch {
      res.writeHead(404).end();
      return;
    }
    res.writeHead(200, { "content-type": TYPES[extname(path)] ?? "application/octet-stream" }).end(body);
  });
  return new Promise((ok) => site.listen(0, "127.0.0.1", () => ok(site)));
}
