// `cargo xtask bench`'s browser half: our package and Connect-ES in one
// headless Chromium page against one demo server, every measure alternating
// between the two clients; then the same again over HTTP/2 with TLS against a
// second server (`--h2-base`, its certificate trusted by its SPKI hash).
// Writes <out>/results.json and <out>/BENCHMARKS.md.
//
//   node bench/run.mjs --base http://127.0.0.1:47260 [--h2-base https://127.0.0.1:47262 --spki HASH] \
//     --out target/bench --inputs target/bench/inputs.json [--quick]
//     [--only speed,cancel,deadline,memory,coldstart] [--transports HTTP/2] [--observer node|page]
// --only / --transports run a part (written to <out>/results-part.json, no
// BENCHMARKS.md); --observer page watches the tiers from the page's own
// connection, as the bench did before issue 17 (kept to show the difference).
import { execFileSync } from "node:child_process";
import { cp, mkdir, readdir, readFile, rm, writeFile } from "node:fs/promises";
import os from "node:os";
import path from "node:path";
import { fileURLToPath, pathToFileURL } from "node:url";
import { parseArgs } from "node:util";
import { brotliCompressSync, gzipSync, constants as zlib } from "node:zlib";

import { launch } from "../e2e/browser.mjs";
import { render } from "./report.mjs";
import { Monitor } from "./monitor.mjs";
import * as stops from "./stops.mjs";
import { bundleApp, coldStart } from "./coldstart.mjs";
import { median } from "./quantile.mjs";

const here = path.dirname(fileURLToPath(import.meta.url));

/** brotli -q 11 (Node's zlib): Connect-ES's own size benchmark's measure, beside xtask's gzip -9. */
function brotli(bytes) {
  return brotliCompressSync(bytes, { params: { [zlib.BROTLI_PARAM_QUALITY]: 11, [zlib.BROTLI_PARAM_SIZE_HINT]: bytes.length } }).length;
}

/** `files` (from the repository's root) concatenated, brotli -q 11. */
async function brotliSize(files) {
  return brotli(Buffer.concat(await Promise.all(files.map((file) => readFile(path.resolve(here, "..", file))))));
}

/**
 * Both sides as an app's build ships them: esbuild bundles and minifies an
 * entry that makes the three clients (ours: from the package, as
 * bench/connect.ts does for Connect-ES, whose bundle is `connect.js`), our
 * `.wasm` beside it; each side's files concatenated, gzip -9 (Node's zlib)
 * and brotli -q 11.
 */
async function bundledSizes(pkgDir) {
  const entry = `import { GreeterClient, UpdatesClient, WorkClient } from ${JSON.stringify(path.resolve(pkgDir, "index.js"))};
export const oursClients = (base) => ({ greeter: new GreeterClient(base), updates: new UpdatesClient(base), work: new WorkClient(base) });`;
  const measure = (parts) => {
    const bytes = Buffer.concat(parts);
    return { raw: bytes.length, gzip: gzipSync(bytes, { level: 9 }).length, brotli: brotli(bytes) };
  };
  return {
    ours: measure([await bundleApp(entry, here, "ours"), await readFile(path.join(pkgDir, "runtime/grpc_web_abort_bg.wasm"))]),
    connect: measure([await readFile(path.join(args.out, "connect.js"))]),
  };
}
const { values: args } = parseArgs({
  options: {
    base: { type: "string" },
    "h2-base": { type: "string" },
    spki: { type: "string" },
    out: { type: "string" },
    inputs: { type: "string" },
    quick: { type: "boolean", default: false },
    only: { type: "string" },
    transports: { type: "string" },
    observer: { type: "string", default: "node" },
  },
});
if (!args.base || !args.out || !args.inputs) throw new Error("--base, --out and --inputs are required");
if (!args["h2-base"] !== !args.spki) throw new Error("--h2-base and --spki go together");
const TRANSPORTS = [
  { protocol: "HTTP/1.1", base: args.base },
  ...(args["h2-base"] ? [{ protocol: "HTTP/2", base: args["h2-base"] }] : []),
].filter((t) => !args.transports || args.transports.split(",").includes(t.protocol));
const SECTIONS = ["speed", "cancel", "deadline", "memory", "coldstart"];
const only = args.only ? args.only.split(",") : SECTIONS;
for (const s of only) if (!SECTIONS.includes(s)) throw new Error(`--only: unknown section ${s}`);
const partial = only.length < SECTIONS.length || TRANSPORTS.length < 2;
if (!["node", "page"].includes(args.observer)) throw new Error("--observer is node or page");
// The observer's Stats client (bench/stats.ts, bundled here for Node). Its
// fetch reaches the self-signed TLS frontend on 127.0.0.1 only: this process
// talks to no other https server.
const esbuild = await import(path.join(here, "node_modules/esbuild/lib/main.js"));
await esbuild.build({
  entryPoints: [path.join(here, "stats.ts")],
  bundle: true,
  format: "esm",
  platform: "node",
  logLevel: "warning",
  outfile: path.join(args.out, "stats.js"),
});
const { statsClient } = await import(pathToFileURL(path.join(args.out, "stats.js")).href);
if (args["h2-base"]) process.env.NODE_TLS_REJECT_UNAUTHORIZED = "0";
const quick = args.quick;
const CLIENTS = ["ours", "connect"];

// Full run vs --quick: the same code paths, tiny counts.
const COUNTS = quick
  ? { warmup: 3, rounds: 2, unary: 5, tput: 64, stream: 20, cancel: 3, deadlines: [[50, 1], [200, 1]], memory: [10, 100], listeners: [10, 3], coldLoads: { loopback: 1, "slow 4G": 1 }, bursts: 1 }
  : { warmup: 50, rounds: 5, unary: 200, tput: 1000, stream: 2000, cancel: 200, deadlines: [[50, 50], [200, 50], [1000, 20]], memory: [100, 10_000], listeners: [1000, 100], coldLoads: { loopback: 27, "slow 4G": 9 }, bursts: 4 };

const INDEX = `<!doctype html><meta charset="utf-8"><title>bench</title>
<script type="module">
  import * as bench from "/bench/page.mjs";
  window.__bench = bench;
</script>`;

/** Counts live setTimeout timers (set, not yet fired or cleared), before any module loads. */
function instrumentTimers() {
  const live = new Set();
  let created = 0;
  const set = window.setTimeout;
  const clear = window.clearTimeout;
  window.setTimeout = function (fn, ms, ...rest) {
    const id = set.call(window, (...a) => {
      live.delete(id);
      if (typeof fn === "function") fn(...a);
    }, ms, ...rest);
    live.add(id);
    created++;
    return id;
  };
  window.clearTimeout = function (id) {
    live.delete(id);
    return clear.call(window, id);
  };
  window.__timers = () => ({ live: live.size, created });
}

// The package as it was when the run began, copied to <out>/pkg and served
// to every page (and bundled for the cold start) from there: pkg/ is rebuilt
// by others' builds in a shared checkout, and a page that loaded mid-rebuild
// once found no runtime at all.
const PKG_DIR = path.join(args.out, "pkg");
const PKG = await snapshotPackage(path.join(here, "..", "pkg"), PKG_DIR);

async function snapshotPackage(from, to) {
  for (let attempt = 0; ; attempt++) {
    await rm(to, { recursive: true, force: true });
    await cp(from, to, { recursive: true });
    const files = {};
    for (const entry of await readdir(to, { recursive: true, withFileTypes: true })) {
      if (!entry.isFile()) continue;
      const file = path.join(entry.parentPath ?? entry.path, entry.name);
      files[`/pkg/${path.relative(to, file).split(path.sep).join("/")}`] = await readFile(file);
    }
    if (["/pkg/index.js", "/pkg/runtime/index.js", "/pkg/runtime/grpc_web_abort_bg.wasm"].every((f) => files[f]?.length)) return files;
    if (attempt === 10) throw new Error(`${from} has no complete package`);
    await new Promise((resolve) => setTimeout(resolve, 3000)); // a rebuild in progress
  }
}

const TYPES = { ".js": "text/javascript", ".wasm": "application/wasm", ".json": "application/json" };

async function openPage(browser, base) {
  const page = await browser.newPage();
  const errors = [];
  page.on("pageerror", (e) => errors.push(String(e)));
  await page.addInitScript(instrumentTimers);
  const files = {
    "/bench/index.html": [INDEX, "text/html"],
    "/bench/page.mjs": [await readFile(path.join(here, "page.mjs"), "utf8"), "text/javascript"],
    "/bench/quantile.mjs": [await readFile(path.join(here, "quantile.mjs"), "utf8"), "text/javascript"],
    "/bench/connect.js": [await readFile(path.join(args.out, "connect.js"), "utf8"), "text/javascript"],
  };
  await page.route(`${base}/bench/**`, (route) => {
    const file = files[new URL(route.request().url()).pathname];
    if (!file) return route.fulfill({ status: 404, body: "not found" });
    return route.fulfill({ status: 200, body: file[0], headers: { "content-type": file[1] } });
  });
  await page.route(`${base}/pkg/**`, (route) => {
    const name = new URL(route.request().url()).pathname;
    const body = PKG[name];
    if (!body) return route.fulfill({ status: 404, body: "not found" });
    return route.fulfill({ status: 200, body, headers: { "content-type": TYPES[path.extname(name)] ?? "application/octet-stream" } });
  });
  await page.goto(`${base}/bench/index.html`);
  await page.waitForFunction(() => window.__bench !== undefined, null, { timeout: 30_000 });
  // Everything the page loads is in now (our wasm too), so the routes go:
  // while any route is set, Playwright intercepts every request (Fetch.enable
  // for "*"), and every gRPC call of both clients was paused until Node let
  // it go, through the browser process, with the HTTP cache off. Measured
  // here on 400-call batches at 8 concurrent: the browser process spent
  // 1.8–2.0 ms of CPU per call with the routes, 0.95–1.2 ms without
  // (issue 17).
  await page.evaluate(() => window.__bench.load());
  await page.unrouteAll({ behavior: "wait" });
  const cdp = await page.context().newCDPSession(page);
  await cdp.send("Performance.enable");
  return { page, cdp, errors };
}

const call = (page, name, arg) => page.evaluate(([n, a]) => window.__bench[n](a), [name, arg]);

async function speed(page) {
  const latency = { ours: [], connect: [] };
  const tput = { ours: [], connect: [] };
  const stream = { ours: [], connect: [] };
  const burst = { ours: [], connect: [] };
  for (const client of CLIENTS) await call(page, "unary", { client, n: COUNTS.warmup });
  for (let round = 0; round < COUNTS.rounds; round++) {
    // Alternate which client goes first, so neither always follows the other.
    const order = round % 2 ? [...CLIENTS].reverse() : CLIENTS;
    for (const client of order) latency[client].push(...(await call(page, "unary", { client, n: COUNTS.unary })));
    for (const client of order) tput[client].push(await call(page, "throughput", { client, total: COUNTS.tput, concurrency: 32 }));
    for (const client of order) stream[client].push(await call(page, "stream", { client, limit: COUNTS.stream }));
    for (let i = 0; i < COUNTS.bursts; i++) {
      for (const client of order) burst[client].push(await call(page, "abortBurst", { client, n: 50 }));
    }
  }
  const summarize = (f) => Object.fromEntries(CLIENTS.map((c) => [c, f(c)]));
  return {
    unary: await page.evaluate((l) => ({
      ours: window.__bench.summary(l.ours),
      connect: window.__bench.summary(l.connect),
    }), latency),
    throughput: summarize((c) => ({ rounds: tput[c], median: median(tput[c]) })),
    stream: summarize((c) => ({ rounds: stream[c], median: median(stream[c]) })),
    burst: summarize((c) => ({ n: 50, rounds: burst[c], median: median(burst[c]) })),
  };
}

/**
 * Every call must end with `code`; the full run tolerates up to 5% others
 * (seen once on a machine at load 8: a Connect-ES call past its deadline
 * ended UNAVAILABLE over HTTP/1.1), which the tables then list; `--quick`
 * fails on any.
 */
function checkCodes(codes, code, count, what) {
  const others = count - (codes[code] ?? 0);
  if (others > 0 && (quick || others > count / 20)) throw new Error(`${what}: ${JSON.stringify(codes)}`);
  if (others > 0) console.error(`bench: ${what}: ${JSON.stringify(codes)} (tolerated, reported)`);
}

/**
 * A row's stops from the server's clock (bench/server-clock.mjs): printed
 * with the mapping's error bound. Calls whose stop the log lacks, and stops
 * before their t0 by more than the bound (a wrong mapping), fail `--quick`
 * and are reported by the full run (as the observer's lost calls are).
 */
function checkServerClock(sc, count, what) {
  const m = sc.mapping;
  const check = m.directCheck.map((d) => `${d.difference.toFixed(3)} (≤ ${d.within.toFixed(3)})`).join(", ");
  console.error(
    `bench:   server clock: frontend p50/p99 ${sc.frontend.p50?.toFixed(2)}/${sc.frontend.p99?.toFixed(2)} ms, backend ${sc.backend.p50?.toFixed(2)}/${sc.backend.p99?.toFixed(2)} ms; ` +
      `mapping ±${m.bound.toFixed(3)} ms, drift ${m.drift.toFixed(3)} ms over ${m.seconds.toFixed(1)} s, vs the page's own fetch ${check}${m.consistent ? "" : " INCONSISTENT"}; ` +
      `${sc.negative} negative (min ${sc.min?.toFixed(3)} ms, ${sc.beyondBound} before ${sc.earliest} ms − the bound), ${sc.lost.length} lost, ${sc.stray} stray`,
  );
  const wrong = [];
  if (sc.lost.length) wrong.push(`stops not in the server's log: ${sc.lost.join("; ")}`);
  if (sc.beyondBound) wrong.push(`${sc.beyondBound} stops earlier than they can be (${sc.earliest} ms) by more than the mapping's bound ±${m.bound.toFixed(3)} ms (min ${sc.min.toFixed(3)} ms)`);
  if (!m.consistent) wrong.push(`the two-hop clock mapping and the page's own disagree: ${JSON.stringify(m.directCheck)}`);
  if (!wrong.length) return;
  if (quick || sc.lost.length > count / 20) throw new Error(`${what}: server clock: ${wrong.join("; ")}`);
  console.error(`bench: ${what}: server clock: ${wrong.join("; ")} (reported)`);
}

/**
 * Which client's call comes first in a row (bench/stops.mjs has the clients
 * take turns call by call): alternating from one kind (and one transport)
 * to the next. Rows are then sorted into the tables' order.
 */
function ordered(index, flip) {
  return (index + flip) % 2 ? [...CLIENTS].reverse() : CLIENTS;
}

function tableOrder(rows, key, keys) {
  const at = (r) => keys.indexOf(r[key]) * CLIENTS.length + CLIENTS.indexOf(r.client);
  return rows.sort((a, b) => at(a) - at(b));
}

const KINDS = ["unary", "stream", "compute"];

/** The rows of `clients`: from Node, their calls taking turns in one row; from the page, a row each. */
async function rowsOf(clients, node, page) {
  if (args.observer === "node") return node(clients);
  const rows = [];
  for (const client of clients) rows.push(await page(client));
  return rows;
}

async function cancels(page, stats, base, flip) {
  const out = [];
  for (const [k, kind] of KINDS.entries()) {
    const rows = await rowsOf(
      ordered(k, flip),
      (clients) => stops.cancelToStop(page, stats, { base, clients, kind, count: COUNTS.cancel }),
      (client) => call(page, "cancelToStop", { client, kind, count: COUNTS.cancel }),
    );
    for (const r of rows) {
      const { client } = r;
      if (r.lost.length && (quick || r.lost.length > COUNTS.cancel / 20)) throw new Error(`${client} ${kind}: stops not seen: ${r.lost.join("; ")}`);
      checkCodes(r.codes, 1, COUNTS.cancel, `${client} ${kind}: not every abort ended CANCELLED`);
      console.error(`bench: cancel→stop ${kind} ${client}: frontend p99 ${r.frontend.p99.toFixed(2)} ms, backend p99 ${r.backend.p99.toFixed(2)} ms`);
      // Only Node's observer reads the server's clock (`--observer page` is the old method).
      if (r.serverClock) checkServerClock(r.serverClock, COUNTS.cancel, `cancel→stop ${kind} ${client}`);
      out.push(r);
    }
  }
  return tableOrder(out, "kind", KINDS);
}

async function deadlines(page, stats, base, flip) {
  const out = [];
  for (const [i, [ms, count]] of COUNTS.deadlines.entries()) {
    const rows = await rowsOf(
      ordered(i, flip),
      (clients) => stops.deadline(page, stats, { base, clients, ms, count }),
      (client) => call(page, "deadline", { client, ms, count }),
    );
    for (const r of rows) {
      const { client } = r;
      if (r.lost.length && (quick || r.lost.length > count / 20)) throw new Error(`${client} ${ms} ms: stops not seen: ${r.lost.join("; ")}`);
      checkCodes(r.codes, 4, count, `${client} ${ms} ms: not every call ended DEADLINE_EXCEEDED`);
      console.error(`bench: deadline ${ms} ms ${client}: rejection p99 +${r.rejected.p99.toFixed(2)} ms, backend stop p99 +${r.backend.p99.toFixed(2)} ms`);
      if (r.serverClock) checkServerClock(r.serverClock, count, `deadline ${ms} ms ${client}`);
      out.push(r);
    }
  }
  return tableOrder(out, "ms", COUNTS.deadlines.map(([ms]) => ms));
}

/** JS heap (after a full GC), our wasm memory, live timers. */
async function snapshot({ page, cdp }) {
  await cdp.send("HeapProfiler.collectGarbage");
  const { metrics } = await cdp.send("Performance.getMetrics");
  const metric = (name) => metrics.find((m) => m.name === name)?.value ?? null;
  return {
    jsHeapUsed: metric("JSHeapUsedSize"),
    jsHeapTotal: metric("JSHeapTotalSize"),
    wasmMemory: await page.evaluate(() => window.__bench.wasmMemoryBytes()),
    timers: await page.evaluate(() => window.__timers()),
  };
}

/** Memory and leftovers, each client in a fresh page so that neither's garbage is the other's. */
async function memory(browser, base) {
  const out = {};
  for (const client of CLIENTS) {
    try {
      out[client] = await memoryOf(browser, base, client);
    } catch (e) {
      // Reported in BENCHMARKS.md (and fatal for --quick), not lost with the whole run.
      if (quick) throw e;
      console.error(`bench: memory ${client} failed: ${e.message}`);
      out[client] = { error: String(e.message ?? e).split("\n")[0] };
    }
  }
  return out;
}

async function memoryOf(browser, base, client) {
  const [first, total] = COUNTS.memory;
  {
    const p = await openPage(browser, base);
    await call(p.page, "unary", { client, n: COUNTS.warmup });
    const start = await snapshot(p);
    await call(p.page, "abortMany", { client, count: first });
    const afterFirst = await snapshot(p);
    await call(p.page, "abortMany", { client, count: total - first });
    const afterTotal = await snapshot(p);
    const [ok, expired] = COUNTS.listeners;
    await call(p.page, "listenerPhase", { client, ok, expired });
    const { result } = await p.cdp.send("Runtime.evaluate", { expression: "window.__bench.longLived.signal" });
    const { listeners } = await p.cdp.send("DOMDebugger.getEventListeners", { objectId: result.objectId });
    const afterListeners = await snapshot(p);
    if (p.errors.length) throw new Error(`${client}: page errors: ${p.errors.join("; ")}`);
    const measured = {
      calls: [first, total],
      start,
      afterFirst,
      afterTotal,
      listenerCalls: { ok, expired },
      listenersLeft: listeners.length,
      listenerTypes: listeners.map((l) => l.type),
      timersLeft: afterListeners.timers.live,
      timersCreated: afterListeners.timers.created,
    };
    console.error(`bench: memory ${client}: JS heap ${start.jsHeapUsed} → ${afterFirst.jsHeapUsed} → ${afterTotal.jsHeapUsed} B; wasm ${afterFirst.wasmMemory} → ${afterTotal.wasmMemory} B; listeners left ${listeners.length}; timers left ${afterListeners.timers.live}`);
    await p.page.close();
    return measured;
  }
}

/**
 * Every full-count run's cancel→stop and deadline rows are kept in
 * <out>/tail-runs/ (a run with `--only cancel,deadline` too), so that
 * BENCHMARKS.md can give the median and spread of their p99s over the last
 * runs, each with its commit and the machine's load.
 */
async function tailRuns(results) {
  const dir = path.join(args.out, "tail-runs");
  await mkdir(dir, { recursive: true });
  const run = {
    date: results.date,
    commit: results.commit,
    loadavg: results.machine.loadavg,
    loadavgAfter: results.machine.loadavgAfter,
    transports: results.transports.map(({ protocol, cancel, deadline }) => ({ protocol, cancel, deadline })),
  };
  await writeFile(path.join(dir, `${results.date.replace(/[:.]/g, "-")}.json`), `${JSON.stringify(run)}\n`);
  const runs = [];
  for (const name of (await readdir(dir)).filter((n) => n.endsWith(".json")).sort()) {
    runs.push(JSON.parse(await readFile(path.join(dir, name), "utf8")));
  }
  return runs.slice(-5);
}

async function packageVersion(name) {
  const json = JSON.parse(await readFile(path.join(here, name === "playwright-core" ? "../e2e/node_modules" : "node_modules", name, "package.json"), "utf8"));
  return json.version;
}

const inputs = JSON.parse(await readFile(args.inputs, "utf8"));
const browser = await launch(args.spki ? [`--ignore-certificate-errors-spki-list=${args.spki}`] : []);
try {
  const started = new Date();
  const results = {
    quick,
    date: started.toISOString(),
    machine: {
      cpu: os.cpus()[0]?.model,
      cores: os.cpus().length,
      memoryBytes: os.totalmem(),
      os: `${os.type()} ${os.release()} ${os.arch()}`,
      loadavg: os.loadavg(),
    },
    versions: {
      chromium: browser.version(),
      node: process.version,
      playwright: await packageVersion("playwright-core"),
      "@connectrpc/connect-web": await packageVersion("@connectrpc/connect-web"),
      "@bufbuild/protobuf": await packageVersion("@bufbuild/protobuf"),
      "@bufbuild/protoc-gen-es": await packageVersion("@bufbuild/protoc-gen-es"),
      esbuild: await packageVersion("esbuild"),
      ...inputs.versions,
    },
    counts: COUNTS,
    size: {
      ours: { ...inputs.size.ours, brotli: await brotliSize(inputs.size.ours.files) },
      connect: { ...inputs.size.connect, brotli: await brotliSize(inputs.size.connect.files) },
      bundled: await bundledSizes(PKG_DIR),
    },
    server: inputs.server,
    overhead: inputs.overhead,
  };
  results.transports = [];
  for (const transport of TRANSPORTS) {
    const { protocol, base } = transport;
    const main = await openPage(browser, base);
    // The page itself is served by Playwright's route, so ask a request that
    // went to the server which protocol carried it.
    const seen = await main.page.evaluate(async () => {
      const url = new URL("/metrics", location.origin).href;
      await (await fetch(url, { cache: "no-store" })).text();
      return performance.getEntriesByName(url).at(-1)?.nextHopProtocol;
    });
    const expected = protocol === "HTTP/2" ? "h2" : "http/1.1";
    if (seen !== expected) throw new Error(`${base}: the page came over ${seen}, not ${expected}`);
    const t = { protocol, base };
    // The observer: one Stats stream from Node for all of this transport's rows.
    const stats = args.observer === "node" && (only.includes("cancel") || only.includes("deadline")) ? new Monitor(statsClient(base)) : null;
    if (only.includes("speed")) {
      console.error(`bench: ${protocol}: latency, throughput, streams`);
      t.speed = await speed(main.page);
    }
    if (only.includes("cancel")) {
      console.error(`bench: ${protocol}: cancel→stop (observed from ${args.observer === "node" ? "Node" : "the page"})`);
      t.cancel = await cancels(main.page, stats, base, TRANSPORTS.indexOf(transport));
    }
    if (only.includes("deadline")) {
      console.error(`bench: ${protocol}: deadlines`);
      t.deadline = await deadlines(main.page, stats, base, TRANSPORTS.indexOf(transport));
    }
    await stats?.stop();
    if (main.errors.length) throw new Error(`page errors: ${main.errors.join("; ")}`);
    await main.page.close();
    if (only.includes("memory")) {
      console.error(`bench: ${protocol}: memory`);
      t.memory = await memory(browser, base);
    }
    results.transports.push(t);
  }
  if (only.includes("coldstart")) {
    console.error("bench: cold start");
    results.coldStart = await coldStart(browser, {
      pkg: PKG_DIR,
      bench: here,
      upstream: args.base,
      loads: COUNTS.coldLoads,
    });
  }
  results.machine.loadavgAfter = os.loadavg();
  results.commit = execFileSync("git", ["rev-parse", "--short", "HEAD"], { cwd: path.join(here, "..") }).toString().trim();
  if (!quick && args.observer === "node" && results.transports.some((t) => t.cancel || t.deadline)) results.tailRuns = await tailRuns(results);
  results.seconds = (Date.now() - started.getTime()) / 1000;
  results.observer = args.observer;
  if (partial) {
    await writeFile(path.join(args.out, "results-part.json"), `${JSON.stringify(results, null, 2)}\n`);
    console.error(`bench: wrote ${path.join(args.out, "results-part.json")} in ${results.seconds.toFixed(1)} s`);
  } else {
    await writeFile(path.join(args.out, "results.json"), `${JSON.stringify(results, null, 2)}\n`);
    await writeFile(path.join(args.out, "BENCHMARKS.md"), render(results));
    console.error(`bench: wrote ${path.join(args.out, "results.json")} and BENCHMARKS.md in ${results.seconds.toFixed(1)} s`);
  }
} finally {
  await browser.close();
}
