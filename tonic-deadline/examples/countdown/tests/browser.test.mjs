// The countdown example server called from Chromium over CORS, from pages on
// another origin, with a client generated for its proto (issue 20):
// an allowed origin's calls work and a server error arrives with its own
// code and message; a refused origin's call fails and the server logs the
// refusal once, naming the origin and the flag; `/metrics` (tonic-deadline's
// MetricsEndpoint) counts what happened, with grpc_type from the descriptor
// set, and a stream left by the page is counted once its task has stopped.
//
// COUNTDOWN_BIN: the example's binary; CLIENT_DIR: the package that
// `cargo xtask package` built for countdown.proto; PAGE_PORT, SERVER_PORT.
import { test, after } from "node:test";
import assert from "node:assert/strict";
import { spawn } from "node:child_process";
import { createServer } from "node:http";
import { readFile } from "node:fs/promises";
import { extname, join, normalize } from "node:path";
import { launch } from "../../../../e2e/browser.mjs";

const { COUNTDOWN_BIN, CLIENT_DIR } = process.env;
const PAGE_PORT = Number(process.env.PAGE_PORT ?? 27300);
const SERVER_PORT = Number(process.env.SERVER_PORT ?? 27301);
const ALLOWED = `http://127.0.0.1:${PAGE_PORT}`;
const REFUSED = `http://localhost:${PAGE_PORT}`; // same pages, another origin
const SERVER = `http://127.0.0.1:${SERVER_PORT}`;

/** Polls `check` (truthy = done) every 50 ms, for at most `ms`. */
async function eventually(what, check, ms = 5000) {
  const end = Date.now() + ms;
  for (;;) {
    const value = await check();
    if (value) return value;
    if (Date.now() > end) assert.fail(`not within ${ms} ms: ${what}`);
    await new Promise((r) => setTimeout(r, 50));
  }
}

// The example server, allowing only ALLOWED; its log kept for the test.
let log = "";
const server = spawn(COUNTDOWN_BIN, [`127.0.0.1:${SERVER_PORT}`, "--allow-origin", ALLOWED], {
  stdio: ["ignore", "pipe", "pipe"],
  env: { ...process.env, NO_COLOR: "1" },
});
server.stdout.on("data", (d) => (log += d));
server.stderr.on("data", (d) => (log += d));
await eventually("the example server listens", () => log.includes("listening on"));

// The pages: the generated package under /pkg/ and an empty page.
const types = { ".js": "text/javascript", ".wasm": "application/wasm", ".json": "application/json" };
const pages = createServer(async (req, res) => {
  const path = new URL(req.url, ALLOWED).pathname;
  try {
    if (!path.startsWith("/pkg/")) {
      res.writeHead(200, { "content-type": "text/html" }).end("<!doctype html><title>app</title>");
      return;
    }
    const file = normalize(join(CLIENT_DIR, path.slice("/pkg/".length)));
    if (!file.startsWith(normalize(CLIENT_DIR))) throw new Error("outside");
    const body = await readFile(file);
    res.writeHead(200, { "content-type": types[extname(file)] ?? "application/octet-stream" });
    res.end(body);
  } catch {
    res.writeHead(404).end();
  }
});
await new Promise((r) => pages.listen(PAGE_PORT, "127.0.0.1", r));
// localhost must reach it too: listen on ::1 where the name resolves there.
const pagesV6 = createServer(pages.listeners("request")[0]);
await new Promise((r) => pagesV6.listen(PAGE_PORT, "::1", r).on("error", () => r()));

const browser = await launch();
after(async () => {
  await browser.close();
  pages.close();
  pagesV6.close();
  server.kill();
});

/** Runs `fn(module, serverUrl)` in a page of `origin`, with the client imported. */
async function inPage(origin, fn) {
  const page = await browser.newPage();
  await page.goto(`${origin}/`);
  const result = await page.evaluate(
    async ([source, server]) => {
      const m = await import("/pkg/index.js");
      return await new Function("return " + source)()(m, server);
    },
    [fn.toString(), SERVER],
  );
  await page.close();
  return result;
}

async function scrape() {
  const response = await fetch(`${SERVER}/metrics`);
  assert.equal(response.status, 200);
  assert.match(response.headers.get("content-type"), /^application\/openmetrics-text/);
  return await response.text();
}

function handled(text, method, type, code) {
  const line = text
    .split("\n")
    .find(
      (l) =>
        l.startsWith("grpc_server_handled_total{") &&
        l.includes(`grpc_method="${method}"`) &&
        l.includes(`grpc_type="${type}"`) &&
        l.includes(`grpc_code="${code}"`),
    );
  return line ? Number(line.split(" ").pop()) : 0;
}

function inFlight(text, method) {
  const line = text
    .split("\n")
    .find((l) => l.startsWith("grpc_server_in_flight{") && l.includes(`grpc_method="${method}"`));
  return line ? Number(line.split(" ").pop()) : 0;
}

test("an allowed origin calls; a server error keeps its code and message", async () => {
  const result = await inPage(ALLOWED, async (m, server) => {
    const client = new m.CountdownClient(server);
    const reply = await client.count({ n: 1000 });
    let error;
    try {
      await client.count({ n: 0 });
    } catch (e) {
      error = { name: e.constructor.name, code: e.code, codeName: e.codeName, message: e.message };
    }
    const ticks = [];
    for await (const t of client.tick({ intervalMs: 5, limit: 3 })) ticks.push(t.seq);
    return { counted: String(reply.counted), error, ticks };
  });
  assert.equal(result.counted, "1000");
  assert.deepEqual(result.error, {
    name: "GrpcError",
    code: 3,
    codeName: "INVALID_ARGUMENT",
    message: "n is required",
  });
  assert.deepEqual(result.ticks, [1, 2, 3]);
  const text = await eventually("the calls are counted", async () => {
    const text = await scrape();
    return handled(text, "Tick", "server_stream", "OK") === 1 ? text : null;
  });
  assert.equal(handled(text, "Count", "unary", "OK"), 1);
  assert.equal(handled(text, "Count", "unary", "InvalidArgument"), 1);
});

test("a stream the page leaves is counted once its task has stopped", async () => {
  const first = await inPage(ALLOWED, async (m, server) => {
    for await (const t of new m.CountdownClient(server).tick({ intervalMs: 20 })) return t.seq;
  });
  assert.equal(first, 1);
  await eventually("the stream counted Canceled, none in flight", async () => {
    const text = await scrape();
    return handled(text, "Tick", "server_stream", "Canceled") === 1 && inFlight(text, "Tick") === 0;
  });
});

test("a refused origin fails, and the server logs it once", async () => {
  const outcomes = [];
  for (let i = 0; i < 2; i++) {
    outcomes.push(
      await inPage(REFUSED, async (m, server) => {
        try {
          await new m.CountdownClient(server).count({ n: 5 });
          return "answered";
        } catch (e) {
          return e.codeName;
        }
      }),
    );
  }
  assert.deepEqual(outcomes, ["UNAVAILABLE", "UNAVAILABLE"]);
  const lines = await eventually("the refusal is logged", () => {
    const lines = log.split("\n").filter((l) => l.includes("refused a browser call"));
    return lines.length > 0 ? lines : null;
  });
  assert.equal(lines.length, 1, lines.join("\n"));
  assert.match(lines[0], new RegExp(`--allow-origin ${REFUSED}`));
  // Neither call reached the handler: only the allowed origin's are counted.
  const text = await scrape();
  assert.equal(handled(text, "Count", "unary", "OK"), 1);
});
