// Live updates that survive the network (issue 15), in Chromium against live
// servers: a resumable Updates.Watch across a restart of the whole demo
// server (SIGTERM and SIGKILL), a connection gone silent (idleTimeoutMs),
// the browser offline, an abort / return() / navigation during a backoff
// wait, a deadline across reconnects; unary retries (gRFC A6) against a
// server that fails on purpose. What the servers saw is asserted from their
// /metrics and logs, never only the page's view; waits poll.
//
// DEMO_SERVER: the demo-server binary; RESUME_PORT: the first of four ports
// (demo frontend, its backend, the proxy, the flaky server); FLAKY_PKG: the
// package `cargo xtask package` built for tests/resume/flaky.proto.
import assert from "node:assert/strict";
import { spawn } from "node:child_process";
import net from "node:net";
import { after, before, describe, it } from "node:test";

import { startFlaky } from "../tests/resume/flaky.mjs";
import { startProxy } from "../tests/resume/proxy.mjs";
import { collectErrors, launch } from "./browser.mjs";
import { launchWebDriver } from "./webdriver.mjs";
import { callStats, scrape } from "./metrics.mjs";
import { loadPackage } from "./pkg.mjs";
import { until } from "./poll.mjs";
import { installWatch } from "./resume.watch.mjs";

const ROOT = new URL("..", import.meta.url).pathname;
const DEMO_SERVER = process.env.DEMO_SERVER ?? `${ROOT}target/debug/demo-server`;
const PORT = Number(process.env.RESUME_PORT ?? 27650);
const FLAKY_PKG = process.env.FLAKY_PKG ?? `${ROOT}target/test-resume/flaky`;
const DEMO = `http://127.0.0.1:${PORT}`;
const METRICS = `http://127.0.0.1:${PORT + 1}`;
const WATCH = "/demo.v1.Updates/Watch";
// BROWSER=firefox (geckodriver) or webkit (WebKitWebDriver) runs the same
// tests through the WebDriver server at WEBDRIVER_URL (the DevTools
// protocol's offline switch is Chromium's own).
const BROWSER = process.env.BROWSER ?? "chromium";
const WEBDRIVER = BROWSER !== "chromium";
const CHROMIUM_ONLY = WEBDRIVER && "Chromium's DevTools protocol only";

/** The demo server (both tiers), started and stopped by the test. */
class Demo {
  async start() {
    this.child = spawn(DEMO_SERVER, ["--addr", `127.0.0.1:${PORT}`, "--backend-addr", `127.0.0.1:${PORT + 1}`], {
      cwd: ROOT,
      stdio: ["ignore", "ignore", "inherit"],
    });
    this.exit = new Promise((resolve) => this.child.once("exit", (code, signal) => resolve({ code, signal })));
    await until("demo-server answering /metrics", () => scrape(METRICS).then(() => true, () => false), Boolean, { withinMs: 30_000, everyMs: 20 });
    await until("demo-server's frontend listening", () => listening(PORT), Boolean, { withinMs: 30_000, everyMs: 20 });
    // What answered must be this process: one left on the ports would answer too.
    if (this.child.exitCode !== null) throw new Error(`demo-server exited (${this.child.exitCode}): are ports ${PORT} and ${PORT + 1} taken?`);
  }

  /** Sends `signal` and waits for the process to exit. */
  async stop(signal) {
    this.child.kill(signal);
    return this.exit;
  }
}

function listening(port) {
  return new Promise((resolve) => {
    const socket = net.connect(port, "127.0.0.1");
    socket.once("connect", () => resolve(socket.end() && true));
    socket.once("error", () => resolve(false));
  });
}

/** Updates.Watch's counters at both tiers of the running demo server. */
async function watchStats() {
  const series = await scrape(METRICS);
  const at = (tier) => callStats(series, { tier, grpc_service: "demo.v1.Updates", grpc_method: "Watch" });
  return { frontend: at("frontend"), backend: at("backend") };
}
const bothTiers = (accept) => (s) => accept(s.frontend) && accept(s.backend);

/**
 * The page's errors, less the console's "Failed to load resource" lines: the
 * failed attempts these tests cause on purpose (the browser logs each).
 */
function pageErrors(page) {
  if (WEBDRIVER) return { list: () => page.errors() };
  const errors = collectErrors(page);
  return { list: async () => errors.filter((e) => !e.includes("Failed to load resource")) };
}

/** Milliseconds in a grpc-timeout header. */
function timeoutMs(header) {
  const units = { H: 3_600_000, M: 60_000, S: 1000, m: 1, u: 1e-3, n: 1e-6 };
  return Number(header.slice(0, -1)) * units[header.at(-1)];
}

/** The seqs are consecutive from `first`: no gap, no duplicate. */
function assertGapless(seqs, first = seqs[0]) {
  assert.deepEqual(seqs, seqs.map((_, i) => first + i), `seqs ${seqs.join(",")}`);
}

describe(`live updates that survive the network (${BROWSER})`, { timeout: 240_000 }, () => {
  const demo = new Demo();
  let proxy;
  let flaky;
  let browser;

  before(async () => {
    await demo.start();
    proxy = await startProxy({ target: DEMO, port: PORT + 2 });
    flaky = await startFlaky({ port: PORT + 3, packageDir: FLAKY_PKG });
    browser = WEBDRIVER ? await launchWebDriver(BROWSER, process.env.WEBDRIVER_URL) : await launch();
  });

  after(async () => {
    await browser?.close();
    await proxy?.close();
    await flaky?.close();
    if (demo.child?.exitCode === null) await demo.stop("SIGKILL");
  });

  /**
   * A fresh page of `base`'s origin with the demo package and
   * `window.watch`, closed (and the proxy's faults reset) when test `t` ends.
   */
  async function pageAt(base, t) {
    const page = await browser.newPage();
    t.after(async () => {
      proxy.failNext(0);
      await page.close();
    });
    const errors = pageErrors(page);
    await loadPackage(page, base);
    await installWatch(page);
    return { page, errors };
  }
  const report = (page, run) => page.evaluate((i) => window.report(i), run);
  const poll = (page, run, what, accept, withinMs = 10_000) =>
    until(what, () => report(page, run), accept, { withinMs }).then((r) => r.value);

  for (const signal of ["SIGTERM", "SIGKILL"]) {
    it(`a resumable stream goes on across a restart of the whole server (${signal}), gapless`, async (t) => {
      const { page, errors } = await pageAt(DEMO, t);
      const run = await page.evaluate(() =>
        window.watch({ topic: "restart", intervalMs: 100, resume: { initialBackoffMs: 50, maxBackoffMs: 250 } }),
      );
      await poll(page, run, "three updates", (r) => r.seqs.length >= 3);
      // Counted from the process's start (an earlier test may have run calls on it).
      const old = await watchStats();
      assert.ok(old.frontend.inFlight === 1 && old.backend.inFlight === 1, JSON.stringify(old));
      const exited = await demo.stop(signal);
      if (signal === "SIGTERM") assert.equal(exited.code, 0, "a graceful exit");
      else assert.equal(exited.signal, "SIGKILL");
      const before = (await report(page, run)).seqs.length;
      await demo.start();
      const r = await poll(page, run, "updates from the restarted server", (r) => r.seqs.length >= before + 3);
      assert.equal(r.error, null);
      assertGapless(r.seqs, 1);
      // The new process runs exactly one call: the resumed stream.
      await until("the new call open at both tiers", watchStats, bothTiers((t) => t.started === 1 && t.inFlight === 1), { withinMs: 5000 });
      const reconnecting = r.states.find((s) => s.state === "reconnecting");
      assert.ok(reconnecting, JSON.stringify(r.states));
      const lastError = JSON.stringify(reconnecting.lastError);
      if (signal === "SIGTERM") {
        // The old call ended with the server's own status...
        assert.equal(reconnecting.lastError.code, 14, lastError);
        assert.equal(reconnecting.lastError.hasGrpcStatus, true, lastError);
      } else {
        // ...or, killed, with no status at all: a network error (Chromium,
        // Firefox), or a body that just ends (WebKit reads the reset so).
        assert.equal(reconnecting.lastError.hasGrpcStatus, false, lastError);
        const { code, message } = reconnecting.lastError;
        assert.ok(code === 14 || (code === 13 && message.startsWith("the response ended")), lastError);
      }
      const open = r.states.filter((s) => s.state === "open").map((s) => s.attempt);
      assert.ok(open.length >= 2 && open.at(-1) > open[0], JSON.stringify(r.states));
      // Leaving ends it at both tiers of the new process.
      await page.close();
      await until("the resumed call cancelled at both tiers", watchStats, bothTiers((t) => t.cancelled === 1 && t.inFlight === 0), { withinMs: 5000 });
      assert.deepEqual(await errors.list(), []);
    });
  }

  it("the demo page's #/live goes on across a restart: a gapless sequence on screen, the state line says what happens", async (t) => {
    const page = await browser.newPage();
    t.after(() => page.close());
    const errors = pageErrors(page);
    await page.goto(`${DEMO}/#/live`);
    await until("the route rendered", () => page.evaluate(() => document.querySelector("select[data-ref=interval]") !== null), Boolean, { withinMs: 10_000, everyMs: 50 });
    await page.evaluate(() => {
      const interval = document.querySelector("select[data-ref=interval]");
      interval.value = "250";
      interval.dispatchEvent(new Event("change"));
      window.stateTexts = [];
      const node = document.querySelector("[data-ref=state]");
      new MutationObserver(() => window.stateTexts.push(node.textContent)).observe(node, { childList: true, characterData: true, subtree: true });
    });
    // Every sequence number the feed has shown (it keeps the newest 12).
    const shown = new Set();
    const feed = async () => {
      const cells = await page.evaluate(() =>
        [...document.querySelectorAll("tbody[data-ref=feed] tr td:first-child")].map((td) => Number(td.textContent.replace(/,/g, ""))),
      );
      // Newest first, one apart: a duplicate or a restart from 1 breaks it.
      assert.deepEqual(cells, cells.map((_, i) => cells[0] - i), `rows ${cells.join(",")}`);
      for (const seq of cells) shown.add(seq);
      return Math.max(0, ...shown);
    };
    const first = (await until("updates on screen", feed, (max) => max >= 3, { withinMs: 10_000, everyMs: 50 })).value;
    await demo.stop("SIGTERM");
    await until("the state line reconnecting", () => page.evaluate(() => window.stateTexts), (texts) => texts.some((x) => /^Reconnecting/.test(x)), { withinMs: 10_000 });
    await demo.start();
    await until("updates from the restarted server", feed, (max) => max >= first + 12, { withinMs: 15_000, everyMs: 50 });
    const seqs = [...shown].sort((a, b) => a - b);
    assertGapless(seqs, 1);
    assert.match(await page.evaluate(() => document.querySelector("[data-ref=state]").textContent), /^Streaming/);
    assert.deepEqual(await errors.list(), []);
  });

  it("a connection gone silent: after idleTimeoutMs the attempt is aborted (the server counts it cancelled) and a new one opens", async (t) => {
    const { page, errors } = await pageAt(proxy.url, t);
    const start = await watchStats();
    const run = await page.evaluate(() =>
      window.watch({ topic: "idle", intervalMs: 100, idleTimeoutMs: 600, resume: { initialBackoffMs: 20, maxBackoffMs: 50 } }),
    );
    await poll(page, run, "three updates", (r) => r.seqs.length >= 3);
    assert.equal(proxy.silence(), 1, "one open response to silence");
    const silencedAt = Date.now();
    const r = await poll(page, run, "updates on a new attempt", (r) => r.states.some((s) => s.state === "open" && s.attempt === 2) && r.at.at(-1) > silencedAt);
    const reconnecting = r.states.find((s) => s.state === "reconnecting");
    assert.match(reconnecting.lastError.message, /idleTimeoutMs \(600 ms\)/);
    // Idle means no message for 600 ms since the page asked for one.
    const lastBefore = Math.max(...r.at.filter((t) => t <= silencedAt));
    const quiet = reconnecting.at - lastBefore;
    assert.ok(quiet >= 600 - 5 && quiet < 600 + 300, `reconnecting ${quiet} ms after the last message`);
    assertGapless(r.seqs, 1);
    // The stale attempt ended as a cancel at both tiers; the new one runs.
    await until(
      "the stale call cancelled, the new one running",
      watchStats,
      (s) => ["frontend", "backend"].every((t) => s[t].cancelled - start[t].cancelled === 1 && s[t].started - start[t].started === 2 && s[t].inFlight - start[t].inFlight === 1),
      { withinMs: 5000 },
    );
    await page.close();
    await until("nothing left in flight", watchStats, bothTiers((t) => t.inFlight === 0), { withinMs: 5000 });
    assert.deepEqual(await errors.list(), []);
  });

  it("idleTimeoutMs without resume: the stream fails with UNAVAILABLE saying it was idle, and the server counts it cancelled", async (t) => {
    const { page, errors } = await pageAt(proxy.url, t);
    const start = await watchStats();
    const run = await page.evaluate(() => window.watch({ topic: "idle-once", intervalMs: 100, idleTimeoutMs: 500 }));
    await poll(page, run, "two updates", (r) => r.seqs.length >= 2);
    assert.equal(proxy.silence(), 1);
    const r = await poll(page, run, "the loop over", (r) => r.done);
    assert.equal(r.error?.codeName, "UNAVAILABLE", JSON.stringify(r.error));
    assert.match(r.error.message, /no message within idleTimeoutMs \(500 ms\)/);
    const quiet = r.doneAt - r.at.at(-1);
    assert.ok(quiet >= 500 - 5 && quiet < 500 + 300, `failed ${quiet} ms after the last message`);
    await until(
      "the idle call cancelled at both tiers",
      watchStats,
      (s) => ["frontend", "backend"].every((tier) => s[tier].cancelled - start[tier].cancelled === 1 && s[tier].inFlight === start[tier].inFlight),
      { withinMs: 5000 },
    );
    assert.deepEqual(await errors.list(), []);
  });

  it("offline: no attempt while the browser is offline, one at once when it is back online", { skip: CHROMIUM_ONLY }, async (t) => {
    const { page, errors } = await pageAt(proxy.url, t);
    const cdp = await page.context().newCDPSession(page);
    await cdp.send("Network.enable");
    const network = (offline) =>
      cdp.send("Network.emulateNetworkConditions", { offline, latency: 0, downloadThroughput: -1, uploadThroughput: -1 });
    await page.evaluate(() => {
      window.onlineAt = null;
      addEventListener("online", () => (window.onlineAt = Date.now()));
    });
    const run = await page.evaluate(() =>
      window.watch({ topic: "offline", intervalMs: 100, resume: { initialBackoffMs: 20, maxBackoffMs: 40 } }),
    );
    await poll(page, run, "two updates", (r) => r.seqs.length >= 2);
    await network(true);
    // Emulated offline keeps a response already streaming; the network
    // going away is what breaks it.
    assert.equal(proxy.cut(), 1);
    const r1 = await poll(page, run, "paused while offline", (r) => r.states.some((s) => s.state === "paused" && s.reason === "offline"));
    const pausedAt = r1.states.find((s) => s.state === "paused").at;
    const calls = proxy.calls(WATCH).length;
    // With a 40 ms backoff cap, a client that ignored "offline" would try
    // about 25 times in this second.
    await until("a second offline", () => Date.now(), (now) => now - pausedAt >= 1000, { withinMs: 3000, everyMs: 50 });
    const r2 = await report(page, run);
    assert.equal(r2.states.filter((s) => s.state === "connecting" && s.at > pausedAt).length, 0, JSON.stringify(r2.states));
    assert.equal(proxy.calls(WATCH).length, calls, "no request reached the server while offline");
    await network(false);
    const r3 = await poll(page, run, "updates again", (r) => r.at.at(-1) > pausedAt && r.states.at(-1).state === "open");
    const onlineAt = await page.evaluate(() => window.onlineAt);
    const connecting = r3.states.find((s) => s.state === "connecting" && s.at > pausedAt);
    assert.ok(onlineAt !== null && connecting.at - onlineAt < 50, `connecting ${connecting.at - onlineAt} ms after online`);
    assert.equal(r3.states.filter((s) => s.state === "reconnecting" && s.at > pausedAt).length, 0, "no backoff wait after online");
    assertGapless(r3.seqs, 1);
    await page.close();
    assert.deepEqual(await errors.list(), []);
  });

  for (const [stopOn, outcome] of [
    ["abort", "throws CANCELLED with the reason"],
    ["return", "ends quietly"],
    ["navigate", "throws CANCELLED (navigationSignal)"],
  ]) {
    it(`${stopOn} during a backoff wait: no further request reaches the server, the loop ${outcome}`, async (t) => {
      const { page, errors } = await pageAt(proxy.url, t);
      const run = await page.evaluate(
        (stopOn) => window.watch({ topic: "stop", intervalMs: 100, stopOn, stopAttempt: 3, resume: { initialBackoffMs: 300, maxBackoffMs: 300, backoffMultiplier: 1 } }),
        stopOn,
      );
      await poll(page, run, "two updates", (r) => r.seqs.length >= 2);
      const before = proxy.calls(WATCH).length;
      proxy.failNext(1000); // every reconnect fails: it keeps waiting
      assert.equal(proxy.cut(), 1);
      const r = await poll(page, run, "the loop over", (r) => r.done);
      proxy.failNext(0);
      const stoppedAt = r.stoppedAt;
      assert.ok(stoppedAt !== null, JSON.stringify(r.states));
      if (stopOn === "return") {
        assert.equal(r.error, null);
      } else {
        assert.equal(r.error?.codeName, "CANCELLED", JSON.stringify(r.error));
        assert.match(r.error.cause, stopOn === "abort" ? /stopped while waiting to reconnect/ : /navigated/);
      }
      assert.ok(r.doneAt - stoppedAt < 100, `the loop ended ${r.doneAt - stoppedAt} ms after the stop`);
      assert.equal(r.states.at(-1).state, "closed");
      // The wait was up to 300 ms: past twice that, a timer left behind
      // would have sent its request.
      const sent = proxy.calls(WATCH).slice(before);
      await until("600 ms after the stop", () => Date.now(), (now) => now - stoppedAt >= 600, { withinMs: 2000, everyMs: 50 });
      assert.equal(proxy.calls(WATCH).length, before + sent.length);
      assert.ok(sent.every((c) => c.at <= stoppedAt), "no request after the stop");
      assert.equal(sent.length, 1, "one failed reconnect before the stop");
      await until("nothing in flight", watchStats, bothTiers((t) => t.inFlight === 0), { withinMs: 5000 });
      await page.close();
      assert.deepEqual(await errors.list(), []);
    });
  }

  it("pauseWhenHidden: a hidden page's stream is closed (the server counts it cancelled) and comes back at once when visible", async (t) => {
    const { page, errors } = await pageAt(proxy.url, t);
    // Headless Chromium's page is always visible: the visibility the
    // runtime reads (document.hidden, visibilitychange) is played here.
    await page.evaluate(() => {
      let hidden = false;
      Object.defineProperty(document, "hidden", { get: () => hidden, configurable: true });
      window.setHidden = (value) => {
        hidden = value;
        window.visibleAt = Date.now();
        document.dispatchEvent(new Event("visibilitychange"));
      };
    });
    const start = await watchStats();
    const run = await page.evaluate(() =>
      window.watch({ topic: "hidden", intervalMs: 100, resume: { pauseWhenHidden: true, initialBackoffMs: 20, maxBackoffMs: 40 } }),
    );
    await poll(page, run, "two updates", (r) => r.seqs.length >= 2);
    await page.evaluate(() => window.setHidden(true));
    const r1 = await poll(page, run, "paused while hidden", (r) => r.states.at(-1).state === "paused" && r.states.at(-1).reason === "hidden");
    await until("the hidden page's call cancelled at both tiers", watchStats, (s) => ["frontend", "backend"].every((tier) => s[tier].cancelled - start[tier].cancelled === 1 && s[tier].inFlight === start[tier].inFlight), { withinMs: 5000 });
    const calls = proxy.calls(WATCH).length;
    const pausedAt = r1.states.at(-1).at;
    await until("half a second hidden", () => Date.now(), (now) => now - pausedAt >= 500, { withinMs: 2000, everyMs: 50 });
    assert.equal(proxy.calls(WATCH).length, calls, "no request while hidden");
    await page.evaluate(() => window.setHidden(false));
    const r2 = await poll(page, run, "updates again", (r) => r.at.at(-1) > pausedAt + 500);
    const visibleAt = await page.evaluate(() => window.visibleAt);
    const connecting = r2.states.find((s) => s.state === "connecting" && s.at > pausedAt);
    assert.ok(connecting.at - visibleAt < 50, `connecting ${connecting.at - visibleAt} ms after visible`);
    assertGapless(r2.seqs, 1);
    assert.deepEqual(await errors.list(), []);
  });

  it("invalid live-update options are TypeErrors naming the option; no request is sent", async (t) => {
    const { page, errors } = await pageAt(proxy.url, t);
    const before = proxy.calls(WATCH).length;
    const cases = [
      [{ resume: { initialBackoffMs: -1 } }, /^CallOptions\.resume\.initialBackoffMs must be a finite number > 0, got -1$/],
      [{ resume: { initialBackoffMs: 100, maxBackoffMs: 50 } }, /^CallOptions\.resume\.maxBackoffMs must be a finite number >= initialBackoffMs, got 50$/],
      [{ resume: { backoffMultiplier: 0.5 } }, /^CallOptions\.resume\.backoffMultiplier must be a finite number >= 1/],
      [{ resume: { maxAttempts: 0 } }, /^CallOptions\.resume\.maxAttempts must be an integer >= 1 or Infinity, got 0$/],
      [{ resume: { retryOn: ["sometimes"] } }, /^CallOptions\.resume\.retryOn must be an array/],
      [{ resume: { from: 1 } }, /^CallOptions\.resume\.from must be a function/],
      [{ resume: { pauseWhenHidden: "yes" } }, /^CallOptions\.resume\.pauseWhenHidden must be a boolean/],
      [{ resume: { bogus: 1 } }, /^CallOptions\.resume: unknown option "bogus"$/],
      [{ resume: "always" }, /^CallOptions\.resume must be a boolean or an object, got "always"$/],
      [{ idleTimeoutMs: 0 }, /^CallOptions\.idleTimeoutMs must be a finite number > 0, got 0$/],
      [{ onStateChange: "log" }, /^CallOptions\.onStateChange must be a function$/],
      [{ retry: true }, /^CallOptions\.retry is for unary calls/],
    ];
    for (const [options, message] of cases) {
      const run = await page.evaluate((options) => window.watch({ topic: "bad", options }), options);
      const r = await poll(page, run, "the TypeError", (r) => r.done);
      assert.equal(r.error?.name, "TypeError", JSON.stringify([options, r.error]));
      assert.match(r.error.message, message);
    }
    const defaults = await page.evaluate(() => window.watch({ topic: "bad", options: {}, defaults: { idleTimeoutMs: -5 } }));
    const r = await poll(page, defaults, "the TypeError", (r) => r.done);
    assert.match(r.error.message, /^the client's defaults: CallOptions\.idleTimeoutMs must be a finite number > 0, got -5$/);
    assert.equal(proxy.calls(WATCH).length, before, "no request");
    assert.deepEqual(await errors.list(), []);
  });

  it("a response that ends without a grpc-status reconnects too (no-status), gapless", async (t) => {
    const { page, errors } = await pageAt(proxy.url, t);
    const run = await page.evaluate(() => window.watch({ topic: "no-status", intervalMs: 100, resume: { initialBackoffMs: 20, maxBackoffMs: 40 } }));
    await poll(page, run, "two updates", (r) => r.seqs.length >= 2);
    assert.equal(proxy.end(), 1);
    const r = await poll(page, run, "updates on a new attempt", (r) => r.states.some((s) => s.state === "open" && s.attempt === 2) && r.seqs.length >= 4);
    const reconnecting = r.states.find((s) => s.state === "reconnecting");
    assert.equal(reconnecting.lastError.code, 13, JSON.stringify(reconnecting.lastError));
    assert.match(reconnecting.lastError.message, /^the response ended/);
    assertGapless(r.seqs, 1);
    assert.deepEqual(await errors.list(), []);
  });

  it("a code not in retryOn ends the stream with it; maxAttempts ends it with the last error", async (t) => {
    const { page, errors } = await pageAt(proxy.url, t);
    const resume = { initialBackoffMs: 20, maxBackoffMs: 40 };
    const denied = await page.evaluate((resume) => window.watch({ topic: "denied", intervalMs: 100, resume }), resume);
    await poll(page, denied, "two updates", (r) => r.seqs.length >= 2);
    let before = proxy.calls(WATCH).length;
    proxy.failNext(5, 7); // PERMISSION_DENIED
    proxy.cut();
    const r1 = await poll(page, denied, "the loop over", (r) => r.done);
    assert.equal(r1.error?.codeName, "PERMISSION_DENIED", JSON.stringify(r1.error));
    assert.equal(proxy.calls(WATCH).length - before, 1, "one reconnect, refused, and no other");
    assert.equal(r1.states.at(-1).state, "closed");

    proxy.failNext(0);
    const limited = await page.evaluate((resume) => window.watch({ topic: "limited", intervalMs: 100, resume: { ...resume, maxAttempts: 3 } }), resume);
    await poll(page, limited, "two updates", (r) => r.seqs.length >= 2);
    before = proxy.calls(WATCH).length;
    proxy.failNext(10);
    proxy.cut(); // the broken attempt is the first of three in a row
    const r2 = await poll(page, limited, "the loop over", (r) => r.done);
    assert.equal(r2.error?.codeName, "UNAVAILABLE", JSON.stringify(r2.error));
    assert.equal(r2.error.message, "the test proxy refused this call");
    assert.equal(proxy.calls(WATCH).length - before, 2, "two reconnects");
    assert.deepEqual(await errors.list(), []);
  });

  it("backoff waits stay within the configured caps, and the attempts come when the state said", async (t) => {
    const { page, errors } = await pageAt(proxy.url, t);
    const config = { initialBackoffMs: 100, maxBackoffMs: 400, backoffMultiplier: 2 };
    const run = await page.evaluate((resume) => window.watch({ topic: "backoff", intervalMs: 100, resume }), config);
    await poll(page, run, "an update", (r) => r.seqs.length >= 1);
    const before = proxy.calls(WATCH).length;
    proxy.failNext(5);
    proxy.cut();
    const r = await poll(page, run, "updates after five failed reconnects", (r) => r.states.filter((s) => s.state === "reconnecting").length >= 6 && r.states.at(-1).state === "open");
    const waits = r.states.filter((s) => s.state === "reconnecting");
    const attempts = proxy.calls(WATCH).slice(before);
    assert.equal(attempts.length, 6);
    waits.forEach((wait, i) => {
      // After the cut, failures 1..6 in a row: caps 100, 200, 400, 400, 400, 400.
      const cap = Math.min(config.initialBackoffMs * config.backoffMultiplier ** i, config.maxBackoffMs);
      assert.ok(wait.delayMs >= 0 && wait.delayMs <= cap, `wait ${i + 1}: ${wait.delayMs} ms, cap ${cap}`);
      const gap = attempts[i].at - wait.at;
      assert.ok(gap >= wait.delayMs - 2 && gap <= wait.delayMs + 150, `wait ${i + 1}: the attempt came ${gap} ms after a ${wait.delayMs} ms delay`);
    });
    assertGapless(r.seqs, 1);
    await page.close();
    assert.deepEqual(await errors.list(), []);
  });

  it("a deadline spans every attempt: DEADLINE_EXCEEDED at the deadline, no attempt carries more than the time remaining", async (t) => {
    const { page, errors } = await pageAt(proxy.url, t);
    const before = proxy.calls(WATCH).length;
    const run = await page.evaluate(() =>
      window.watch({ topic: "deadline", intervalMs: 100, deadlineInMs: 1500, resume: { initialBackoffMs: 50, maxBackoffMs: 100 } }),
    );
    await poll(page, run, "five updates", (r) => r.seqs.length >= 5);
    proxy.failNext(1000);
    proxy.cut();
    const r = await poll(page, run, "the loop over", (r) => r.done, 5000);
    proxy.failNext(0);
    assert.equal(r.error?.codeName, "DEADLINE_EXCEEDED", JSON.stringify(r.error));
    const deadlineAt = r.deadline;
    assert.ok(r.doneAt >= deadlineAt - 5 && r.doneAt <= deadlineAt + 150, `ended ${r.doneAt - deadlineAt} ms after the deadline`);
    const attempts = proxy.calls(WATCH).slice(before);
    assert.ok(attempts.length >= 3, `${attempts.length} attempts`);
    for (const attempt of attempts) {
      assert.ok(attempt.grpcTimeout, "every attempt carries grpc-timeout");
      const carried = timeoutMs(attempt.grpcTimeout);
      // Set when the request left; logged when it arrived (a new
      // connection's set-up in between: 28 ms once in Firefox, 120 ms in
      // Chromium with the 2-core machine at a load of 10): 250 ms of slack,
      // below what an attempt carrying the first one's timeout again would
      // be over (every reconnect here comes after five updates 100 ms
      // apart: 400 ms or more).
      assert.ok(carried <= deadlineAt - attempt.at + 250, `an attempt at ${attempt.at - deadlineAt} ms from the deadline carried ${carried} ms`);
    }
    await until("nothing in flight", watchStats, bothTiers((t) => t.inFlight === 0), { withinMs: 5000 });
    await page.close();
    assert.deepEqual(await errors.list(), []);
  });

  it("the demo server's CORS lets a retry through from another origin: grpc-previous-rpc-attempts allowed, grpc-retry-pushback-ms exposed", async () => {
    const origin = `http://localhost:${PORT + 3}`;
    const preflight = await fetch(`${DEMO}/demo.v1.Greeter/SayHello`, {
      method: "OPTIONS",
      headers: {
        origin,
        "access-control-request-method": "POST",
        "access-control-request-headers": "content-type,x-grpc-web,grpc-timeout,grpc-previous-rpc-attempts",
      },
    });
    assert.ok(preflight.ok, `preflight answered ${preflight.status}`);
    assert.match(preflight.headers.get("access-control-allow-headers") ?? "", /grpc-previous-rpc-attempts/);
    const call = await fetch(`${DEMO}/demo.v1.Greeter/SayHello`, {
      method: "POST",
      headers: { origin, "content-type": "application/grpc-web+proto", "x-grpc-web": "1" },
      body: new Uint8Array([0, 0, 0, 0, 0]),
    });
    assert.match(call.headers.get("access-control-expose-headers") ?? "", /grpc-retry-pushback-ms/);
    await call.arrayBuffer();
  });

  describe("unary retries (gRFC A6)", () => {
    let page;
    let errors;
    before(async () => {
      page = await browser.newPage();
      errors = pageErrors(page);
      await page.route("**/favicon.ico", (route) => route.fulfill({ status: 204 }));
      await page.goto(`${flaky.url}/flaky/package.json`);
      await page.evaluate(async () => {
        window.flaky = await import("/flaky/index.js");
      });
    });
    after(() => page?.close());

    /**
     * Starts `method` with `x-plan` in the page (returning at once: a
     * WebDriver session runs one script at a time); `window.outcome` gets
     * { ok, attempt, code, message, cause, startedAt, at }.
     */
    const start = (method, key, plan, options = {}) =>
      page.evaluate(
        ({ method, key, plan, options }) => {
          const client = new window.flaky.FlakyClient(location.origin);
          const controller = new AbortController();
          window.abortCall = (reason) => controller.abort(new DOMException(reason, "AbortError"));
          window.outcome = null;
          const startedAt = Date.now();
          client[method]({ key }, { ...options, signal: controller.signal, headers: { "x-key": key, "x-plan": plan } }).then(
            (answer) => (window.outcome = { ok: true, attempt: answer.attempt, startedAt, at: Date.now() }),
            (e) => (window.outcome = { ok: false, code: e.codeName, message: e.message, cause: e.cause?.message, startedAt, at: Date.now() }),
          );
        },
        { method, key, plan, options },
      );
    const outcome = () =>
      until("the call's outcome", () => page.evaluate(() => window.outcome), Boolean, { withinMs: 10_000 }).then((r) => r.value);
    /** Calls `method` with `x-plan`; resolves with its outcome. */
    const call = async (...args) => {
      await start(...args);
      return outcome();
    };

    it("an idempotent method is retried on UNAVAILABLE, saying grpc-previous-rpc-attempts, within the backoff caps", async () => {
      const retry = { initialBackoffMs: 200, maxBackoffMs: 1000, backoffMultiplier: 2 };
      for (const method of ["read", "put"]) {
        const result = await call(method, `ok-${method}`, "14,14,ok", { retry });
        assert.deepEqual([result.ok, result.attempt], [true, 3], JSON.stringify(result));
        const attempts = flaky.attempts(`ok-${method}`);
        assert.deepEqual(attempts.map((a) => a.previous), [null, "1", "2"]);
        for (const [i, cap] of [[1, 200], [2, 400]]) {
          // Arrival to arrival: the wait plus a failed answer's way back and
          // the retry's way out (138 ms of it seen on the 2-core machine at
          // a load of 10), below the 1000 ms a wait past its cap could take.
          const gap = attempts[i].at - attempts[i - 1].at;
          assert.ok(gap >= 0 && gap <= cap + 250, `retry ${i}: ${gap} ms, cap ${cap}`);
        }
      }
      // The defaults (3 attempts) apply without any option.
      const byDefault = await call("read", "default", "14,14,ok");
      assert.equal(byDefault.attempt, 3);
      const exhausted = await call("read", "exhausted", "14,14,14,ok");
      assert.equal(exhausted.code, "UNAVAILABLE");
      assert.equal(flaky.attempts("exhausted").length, 3);
    });

    it("a method not marked idempotent is not retried, unless the call asks", async () => {
      const result = await call("write", "write", "14,ok");
      assert.equal(result.code, "UNAVAILABLE");
      assert.equal(flaky.attempts("write").length, 1);
      const asked = await call("write", "write-asked", "14,ok", { retry: true });
      assert.equal(asked.attempt, 2);
      const off = await call("read", "read-off", "14,ok", { retry: false });
      assert.equal(off.code, "UNAVAILABLE");
      assert.equal(flaky.attempts("read-off").length, 1);
      // Other codes are not retried.
      const invalid = await call("read", "invalid", "3,ok");
      assert.equal(invalid.code, "INVALID_ARGUMENT");
      assert.equal(flaky.attempts("invalid").length, 1);
    });

    it("server pushback sets the wait; a negative or malformed one stops the retries", async () => {
      const result = await call("read", "pushback", "14/pushback=400,ok", { retry: { initialBackoffMs: 10, maxBackoffMs: 10 } });
      assert.equal(result.attempt, 2);
      const [first, second] = flaky.attempts("pushback");
      const gap = second.at - first.at;
      assert.ok(gap >= 400 - 2 && gap <= 400 + 100, `the retry came ${gap} ms after a 400 ms pushback`);
      for (const value of ["-1", "soon"]) {
        const refused = await call("read", `pushback${value}`, `14/pushback=${value},ok`);
        assert.equal(refused.code, "UNAVAILABLE");
        assert.equal(flaky.attempts(`pushback${value}`).length, 1, `pushback ${value}`);
      }
    });

    it("an abort during the backoff wait stops the retries: CANCELLED with the reason, no further attempt", async () => {
      await start("read", "abort", "14/pushback=800,ok");
      await until("the first attempt", () => flaky.attempts("abort").length, (n) => n === 1, { withinMs: 5000 });
      const abortedAt = await page.evaluate(() => {
        window.abortCall("the user left");
        return Date.now();
      });
      const result = await outcome();
      assert.equal(result.code, "CANCELLED");
      assert.equal(result.cause, "the user left");
      assert.ok(result.at - abortedAt < 100, `rejected ${result.at - abortedAt} ms after the abort`);
      await until("past the pushback", () => Date.now(), (now) => now - abortedAt >= 1000, { withinMs: 3000, everyMs: 50 });
      assert.equal(flaky.attempts("abort").length, 1);
    });

    it("invalid retry options are TypeErrors naming the option; no request is sent", async () => {
      for (const [options, message] of [
        [{ retry: { maxAttempts: 0 } }, /^CallOptions\.retry\.maxAttempts must be an integer >= 1, got 0$/],
        [{ retry: { retryableStatusCodes: ["UNAVAILABLE"] } }, /^CallOptions\.retry\.retryableStatusCodes must be an array of status codes/],
        [{ retry: { initialBackoffMs: 0 } }, /^CallOptions\.retry\.initialBackoffMs must be a finite number > 0, got 0$/],
        [{ resume: true }, /^CallOptions\.resume is for server streams, not unary calls$/],
        [{ idleTimeoutMs: 100 }, /^CallOptions\.idleTimeoutMs is for server streams/],
      ]) {
        const result = await page.evaluate(async (options) => {
          try {
            await new window.flaky.FlakyClient(location.origin).read({ key: "bad-options" }, { ...options, headers: { "x-key": "bad-options" } });
            return null;
          } catch (e) {
            return { name: e.name, message: e.message };
          }
        }, options);
        assert.equal(result?.name, "TypeError", JSON.stringify([options, result]));
        assert.match(result.message, message);
      }
      assert.equal(flaky.attempts("bad-options").length, 0);
    });

    it("never past the deadline: DEADLINE_EXCEEDED at the deadline, not after the wait", async () => {
      const result = await call("read", "deadline", "14/pushback=1000,ok", { timeoutMs: 300 });
      assert.equal(result.code, "DEADLINE_EXCEEDED");
      const took = result.at - result.startedAt;
      assert.ok(took >= 295 && took < 450, `${took} ms`);
      assert.equal(flaky.attempts("deadline").length, 1);
      assert.deepEqual(await errors.list(), []);
    });
  });
});
