// Cold start (issue 17): navigation → the first unary call's reply, ours vs
// Connect-ES, each page a tiny app bundled by esbuild as an app's build would
// (ours: the JS bundle plus the `.wasm` beside it, fetched by the runtime;
// Connect-ES: one JS bundle), served gzip -9 by one static server (this
// file's), which passes gRPC-Web calls on to the demo server, so the calls
// are same-origin (no CORS preflight) for both. Cold: a fresh browser context
// per load (empty HTTP cache); warm: a reload in that context. On loopback and
// on an emulated slow-4G link (CDP Network.emulateNetworkConditions: 150 ms
// latency, 1.6 Mbit/s down, 750 kbit/s up, Lighthouse's slow 4G).
import { createHash } from "node:crypto";
import http from "node:http";
import path from "node:path";
import { gzipSync } from "node:zlib";

import { median, quantile } from "./quantile.mjs";

const SLOW_4G = { offline: false, latency: 150, downloadThroughput: 1_600_000 / 8, uploadThroughput: 750_000 / 8 };
const WASM = "grpc_web_abort_bg.wasm";

// Each page's app: one call, its reply's time on the page's clock (ms since navigation start).
const ENTRIES = {
  ours: (pkg) => `import { GreeterClient } from ${JSON.stringify(path.join(pkg, "index.js"))};
const reply = await new GreeterClient(location.origin).sayHello({ name: "cold" });
window.__coldStart = { at: performance.now(), message: reply.message };`,
  connect: () => `import { connectClients } from "./connect.ts";
const reply = await connectClients(location.origin).greeter.sayHello({ name: "cold" });
window.__coldStart = { at: performance.now(), message: reply.message };`,
};

// What each page variant's <head> holds besides its script.
const VARIANTS = {
  ours: { app: "ours", head: "" },
  "ours+preload": { app: "ours", head: `<link rel="preload" href="/assets/${WASM}" as="fetch" crossorigin>` },
  connect: { app: "connect", head: "" },
};

const html = (variant) => `<!doctype html><meta charset="utf-8"><title>cold start</title>
${VARIANTS[variant].head}<script type="module" src="/assets/${VARIANTS[variant].app}.js"></script>`;

/** Runs in every new document first: stamps the wasm's instantiation (the runtime's glue calls these). */
function instrumentWasm() {
  const marks = [];
  window.__wasm = marks;
  for (const name of ["instantiateStreaming", "instantiate"]) {
    const original = WebAssembly[name];
    WebAssembly[name] = async function (source, ...rest) {
      const start = performance.now();
      const result = await original.call(WebAssembly, source, ...rest);
      // instantiate(module) is the Instance alone; the glue's calls pass bytes or a Response.
      if (!(source instanceof WebAssembly.Module)) marks.push({ api: name, start, end: performance.now() });
      return result;
    };
  }
}

/** `entry` (TypeScript or JS, imports resolved from `bench`) bundled and minified by esbuild as an app's build would. */
export async function bundleApp(entry, bench, name) {
  const esbuild = await import(path.join(bench, "node_modules/esbuild/lib/main.js"));
  const out = await esbuild.build({
    stdin: { contents: entry, resolveDir: bench, loader: "ts", sourcefile: `${name}-entry.ts` },
    bundle: true,
    minify: true,
    format: "esm",
    write: false,
    logLevel: "warning",
  });
  return Buffer.from(out.outputFiles[0].contents);
}

/** Bundles the two apps (esbuild, minified); `{ file: { body, type } }` for the static server. */
async function bundles(pkg, bench) {
  const files = {};
  for (const [app, entry] of Object.entries(ENTRIES)) {
    files[`/assets/${app}.js`] = { body: await bundleApp(entry(pkg), bench, app), type: "text/javascript" };
  }
  files[`/assets/${WASM}`] = {
    body: await import("node:fs/promises").then((fs) => fs.readFile(path.join(pkg, "runtime", WASM))),
    type: "application/wasm",
  };
  for (const variant of Object.keys(VARIANTS)) files[`/${variant}.html`] = { body: Buffer.from(html(variant)), type: "text/html" };
  for (const f of Object.values(files)) {
    f.gzip = gzipSync(f.body, { level: 9 });
    f.etag = `"${createHash("sha256").update(f.body).digest("base64url").slice(0, 16)}"`;
  }
  return files;
}

/**
 * The static server: the files above (gzip -9 when asked; pages `no-cache`
 * with an ETag, assets cacheable for an hour, as a deployment with hashed
 * names would), and every gRPC-Web call passed on to `upstream`.
 */
function serve(files, upstream) {
  const agent = new http.Agent({ keepAlive: true });
  const target = new URL(upstream);
  const server = http.createServer((req, res) => {
    if ((req.headers["content-type"] ?? "").startsWith("application/grpc")) {
      const out = http.request(
        { host: target.hostname, port: target.port, method: req.method, path: req.url, headers: req.headers, agent },
        (answer) => {
          res.writeHead(answer.statusCode, answer.headers);
          answer.pipe(res);
        },
      );
      out.on("error", (e) => res.destroy(e));
      req.pipe(out);
      return;
    }
    const file = files[new URL(req.url, "http://x").pathname];
    if (!file) {
      res.writeHead(404).end("not found");
      return;
    }
    const headers = {
      "content-type": file.type,
      etag: file.etag,
      "cache-control": file.type === "text/html" ? "no-cache" : "public, max-age=3600",
      vary: "accept-encoding",
    };
    if (req.headers["if-none-match"] === file.etag) {
      res.writeHead(304, headers).end();
      return;
    }
    const gzip = /\bgzip\b/.test(req.headers["accept-encoding"] ?? "");
    if (gzip) headers["content-encoding"] = "gzip";
    res.writeHead(200, headers).end(gzip ? file.gzip : file.body);
  });
  return new Promise((resolve) => server.listen(0, "127.0.0.1", () => resolve(server)));
}

/** One load of `url` in `page`: the reply's time, the wasm's instantiation, the bytes that came over the network. */
async function load(page, navigate) {
  await navigate();
  await page.waitForFunction(() => window.__coldStart !== undefined, null, { timeout: 60_000 });
  return page.evaluate(() => {
    const wasm = performance.getEntriesByType("resource").find((e) => e.name.endsWith(".wasm"));
    const mark = window.__wasm[0];
    return {
      reply: window.__coldStart.at,
      message: window.__coldStart.message,
      wasm: mark && {
        api: mark.api,
        // Call → instance; and the part of it after the module's last byte arrived.
        instantiate: mark.end - mark.start,
        afterLastByte: mark.end - Math.max(mark.start, wasm?.responseEnd ?? 0),
        fetchStart: wasm?.fetchStart,
        responseEnd: wasm?.responseEnd,
      },
      transferred: performance
        .getEntriesByType("resource")
        .concat(performance.getEntriesByType("navigation"))
        .reduce((sum, e) => sum + (e.transferSize ?? 0), 0),
    };
  });
}

/**
 * `loads[link]` cold loads (and a reload after each) per variant, the
 * variants taking turns (rotated each round, so none always goes first).
 */
export async function coldStart(browser, { pkg, bench, upstream, loads }) {
  const files = await bundles(pkg, bench);
  const server = await serve(files, upstream);
  const origin = `http://127.0.0.1:${server.address().port}`;
  const links = { loopback: null, "slow 4G": SLOW_4G };
  const raw = {};
  try {
    for (const [link, conditions] of Object.entries(links)) {
      const names = Object.keys(VARIANTS);
      for (let round = 0; round < loads[link]; round++) {
        const order = names.map((_, i) => names[(i + round) % names.length]);
        for (const variant of order) {
          const context = await browser.newContext();
          const page = await context.newPage();
          await page.addInitScript(instrumentWasm);
          const cdp = await context.newCDPSession(page);
          await cdp.send("Network.enable");
          if (conditions) await cdp.send("Network.emulateNetworkConditions", conditions);
          const url = `${origin}/${variant}.html`;
          const cold = await load(page, () => page.goto(url, { waitUntil: "commit" }));
          const warm = await load(page, () => page.reload({ waitUntil: "commit" }));
          await context.close();
          for (const [kind, r] of [["cold", cold], ["warm", warm]]) {
            if (r.message !== "Hello, cold!") throw new Error(`${variant}: unexpected reply ${JSON.stringify(r.message)}`);
            ((raw[link] ??= {})[variant] ??= { cold: [], warm: [] })[kind].push(r);
          }
        }
      }
      console.error(`bench: cold start, ${link}: ${Object.entries(raw[link]).map(([v, r]) => `${v} ${median(r.cold.map((x) => x.reply)).toFixed(0)} ms cold, ${median(r.warm.map((x) => x.reply)).toFixed(0)} ms warm`).join("; ")}`);
    }
  } finally {
    server.close();
    server.closeAllConnections();
  }
  const summary = {};
  for (const [link, byVariant] of Object.entries(raw)) {
    for (const [variant, { cold, warm }] of Object.entries(byVariant)) {
      const of = (list) => ({
        reply: median(list.map((x) => x.reply)),
        quartiles: [0.25, 0.75].map((p) => quantile(list.map((x) => x.reply), p)),
        replies: list.map((x) => x.reply),
        transferred: median(list.map((x) => x.transferred)),
        instantiate: list[0].wasm ? median(list.map((x) => x.wasm.instantiate)) : null,
        afterLastByte: list[0].wasm ? median(list.map((x) => x.wasm.afterLastByte)) : null,
        apis: [...new Set(list.filter((x) => x.wasm).map((x) => x.wasm.api))],
      });
      (summary[link] ??= {})[variant] = { cold: of(cold), warm: of(warm) };
    }
  }
  const sizes = Object.fromEntries(Object.entries(files).map(([name, f]) => [name, { raw: f.body.length, gzip: f.gzip.length }]));
  return { loads, conditions: SLOW_4G, sizes, links: summary };
}
