// The package as a JS developer meets it (issue 11): `npm pack`ed, installed
// into a fresh Vite + TypeScript app from the tarball, type-checked (with the
// README's JavaScript example), built, and run in Chromium against the live
// server under `vite preview`, from a plain page without a bundler, and under
// the Vite dev server with the package linked (`npm install <dir>`), as the
// README's "Install" says.
// Usage: node --test-reporter=spec tests/consumer/run.mjs SERVER_URL [PKG_DIR]
import assert from "node:assert/strict";
import { execFileSync } from "node:child_process";
import { lstatSync, readFileSync, readdirSync, writeFileSync, mkdtempSync, rmSync } from "node:fs";
import { createServer as createHttpServer } from "node:http";
import { tmpdir } from "node:os";
import { extname, join, normalize, resolve } from "node:path";
import { after, before, describe, it } from "node:test";
import { fileURLToPath } from "node:url";

import { collectErrors, launch } from "../../e2e/browser.mjs";
import { methodStats } from "../../e2e/metrics.mjs";
import { until } from "../../e2e/poll.mjs";

const app = fileURLToPath(new URL(".", import.meta.url));
const root = resolve(app, "../..");
const server = process.argv[2] ?? "http://127.0.0.1:47080";
const pkgDir = resolve(process.argv[3] ?? join(root, "pkg"));

function sh(command, args) {
  console.log(`consumer: $ ${command} ${args.join(" ")}`);
  return execFileSync(command, args, { cwd: app, encoding: "utf8", stdio: ["ignore", "pipe", "inherit"] });
}

// `--include=dev`: under NODE_ENV=production npm would leave out, or remove,
// the app's devDependencies (vite and typescript themselves).
const NPM_INSTALL = ["--include=dev", "--no-audit", "--no-fund"];

/** `spec` (a tarball, or a directory to link) beside the app's locked packages. */
function install(spec) {
  sh("npm", ["install", "--no-save", ...NPM_INSTALL, spec]);
}

/** The fenced ```js block under the README's "### JavaScript" heading. */
function readmeExample() {
  const readme = readFileSync(join(root, "README.md"), "utf8");
  const section = readme.split(/^### JavaScript$/m)[1]?.split(/^#{1,3} /m)[0];
  const block = section?.match(/^```js\n([\s\S]*?)^```$/m)?.[1];
  assert.ok(block, 'README.md has no ```js block under "### JavaScript"');
  return block;
}

const PRELUDE = `// Written by tests/consumer/run.mjs from README.md ("### JavaScript") so
// that tsc checks the example as a user pastes it. Compiled, never run.
declare const cancelButton: HTMLButtonElement;
declare function render(text: string): void;
`;

let browser;
let packedFiles;
let lock;
let vite;
const scratch = mkdtempSync(join(tmpdir(), "grpc-web-abort-consumer-"));

before(async () => {
  const [packed] = JSON.parse(sh("npm", ["pack", pkgDir, "--json", "--pack-destination", scratch]));
  packedFiles = packed.files.map((f) => f.path);
  lock = readFileSync(join(app, "package-lock.json"), "utf8");
  sh("npm", ["ci", ...NPM_INSTALL]);
  install(join(scratch, packed.filename));
  vite = await import("vite");
  browser = await launch();
});

after(async () => {
  await browser?.close();
  rmSync(scratch, { recursive: true, force: true });
});

describe("the packed package", () => {
  it("holds the entry, the declarations, the wasm and both licenses", () => {
    const wanted = ["package.json", "index.js", "index.d.ts", "runtime.js", "runtime.d.ts"];
    wanted.push("grpc_web_abort.js", "grpc_web_abort_bg.wasm", "LICENSE-MIT", "LICENSE-APACHE");
    for (const file of wanted) assert.ok(packedFiles.includes(file), `${file} is not in the tarball`);
  });

  it("has a package.json ready to publish", () => {
    const manifest = JSON.parse(readFileSync(join(pkgDir, "package.json"), "utf8"));
    assert.equal(manifest.name, "grpc-web-abort");
    assert.equal(manifest.type, "module");
    assert.equal(manifest.types, "index.d.ts");
    assert.equal(manifest.sideEffects, false);
    assert.doesNotMatch(JSON.stringify(manifest), /example\.(invalid|com)/, "a placeholder URL");
  });

  it("installs from the tarball without touching the app's lock file", () => {
    assert.ok(lstatSync(join(app, "node_modules/grpc-web-abort")).isDirectory(), "not a copy");
    assert.equal(readFileSync(join(app, "package-lock.json"), "utf8"), lock);
  });

  it("type-checks strictly with the README's example (tsc, skipLibCheck off)", () => {
    writeFileSync(join(app, "src/readme-example.ts"), PRELUDE + readmeExample());
    sh(join(app, "node_modules/.bin/tsc"), ["-p", app]);
    // And TypeScript 5 (e2e's), whose "DOM" lib has no iterables (DOM.Iterable).
    sh(join(root, "e2e/node_modules/.bin/tsc"), ["-p", app]);
  });

  it("builds with vite, the wasm as an asset", async () => {
    const nodeEnv = process.env.NODE_ENV;
    try {
      await vite.build({ root: app, logLevel: "warn" });
    } finally {
      // build() sets NODE_ENV=production for the process: not for the dev server.
      if (nodeEnv === undefined) delete process.env.NODE_ENV;
      else process.env.NODE_ENV = nodeEnv;
    }
    const assets = readdirSync(join(app, "dist/assets"));
    assert.ok(assets.some((f) => f.endsWith(".wasm")), `no .wasm among ${assets}`);
  });
});

describe("vite build + vite preview", () => {
  let site;
  before(async () => {
    site = await vite.preview({ root: app, logLevel: "warn", preview: { host: "127.0.0.1", port: 0 } });
  });
  after(() => site?.close());
  calls(() => site.resolvedUrls.local[0]);
});

describe("a plain <script type=module> page, no bundler", () => {
  let site;
  before(async () => {
    site = await serveStatic(app);
  });
  after(() => site?.close());
  calls(() => `http://127.0.0.1:${site.address().port}/plain/index.html`);
});

describe("the Vite dev server, the package from the tarball", () => devServer());

describe("the Vite dev server, the package linked (npm install <dir>)", () => {
  // Served from outside the app: vite.config.js's server.fs.allow (README).
  before(() => install(pkgDir));
  devServer();
});

function devServer() {
  let site;
  before(async () => {
    // `force`: no pre-bundled copy of the package from the previous install.
    const optimizeDeps = { force: true };
    site = await vite.createServer({ root: app, logLevel: "warn", optimizeDeps, server: { host: "127.0.0.1", port: 0 } });
    await site.listen();
  });
  after(() => site?.close());
  calls(() => site.resolvedUrls.local[0]);
}

/** The four calls in a page at `pageUrl()`, each checked at both tiers too. */
function calls(pageUrl) {
  let page;
  let errors;
  before(async () => {
    page = await browser.newPage();
    errors = collectErrors(page);
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

/** Both tiers back to 0 in flight, each counter in `added` grown by as much. */
async function settled(stats, before, added) {
  const done = (now) =>
    ["frontend", "backend"].every(
      (tier) =>
        now[tier].inFlight === 0 &&
        Object.entries(added).every(([key, n]) => now[tier][key] === before[tier][key] + n),
    );
  await until("both tiers settled", stats, done, { withinMs: 2_000, everyMs: 20 });
}

const TYPES = { ".html": "text/html", ".js": "text/javascript", ".wasm": "application/wasm", ".json": "application/json" };

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
