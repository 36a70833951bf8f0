// Through `cargo xtask cluster` (nginx → frontends → nginx → backends): what
// an outside check that knows only target/cluster.json and each process's
// /metrics sees of the page's calls, their cancellation and their deadlines,
// and of a backend dying and a frontend being stopped.
//
// CLUSTER_JSON: the cluster's description (default target/cluster.json).
import assert from "node:assert/strict";
import { readFile } from "node:fs/promises";
import { after, before, describe, it } from "node:test";

import { collectErrors, launch } from "./browser.mjs";
import { abortCalls, outcomes, received, startCalls } from "./calls.mjs";
import { callStats, scrape } from "./metrics.mjs";
import { loadPackage } from "./pkg.mjs";
import { until } from "./poll.mjs";

const CLUSTER_JSON = process.env.CLUSTER_JSON ?? new URL("../target/cluster.json", import.meta.url).pathname;
const cluster = JSON.parse(await readFile(CLUSTER_JSON, "utf8"));
const frontends = cluster.tiers.filter((t) => t.role === "frontend");
const backends = cluster.tiers.filter((t) => t.role === "backend");

/** One method's counters at each process of `tiers` (null for one that no longer answers). */
const stats = (tiers, service, method) => () =>
  Promise.all(tiers.map(async ({ role, metrics }) => {
    try {
      return callStats(await scrape(metrics), { tier: role, grpc_service: `demo.v1.${service}`, grpc_method: method });
    } catch {
      return null;
    }
  }));

const greeterAt = (tiers) => stats(tiers, "Greeter", "SayHello");
const watchAt = (tiers) => stats(tiers, "Updates", "Watch");
const computeAt = (tiers) => stats(tiers, "Work", "Compute");

/** Per process, `field` now less `field` before. */
const delta = (now, before, field) => now.map((s, i) => (s?.[field] ?? 0) - (before[i]?.[field] ?? 0));
const sum = (xs) => xs.reduce((a, b) => a + b, 0);

/** A wait started now and awaited later: its failure surfaces there. */
function started(promise) {
  promise.catch(() => {});
  return promise;
}

/** Waits until exactly one of `tiers` runs one more call than `before`; returns its index. */
async function whoServes(probe, before, what) {
  const { value } = await until(
    `one ${what} running the call`,
    probe,
    (now) => sum(delta(now, before, "started")) === 1 && sum(delta(now, before, "inFlight")) === 1,
    { withinMs: 5_000 },
  );
  return delta(value, before, "inFlight").indexOf(1);
}

describe("through cargo xtask cluster", { timeout: 120_000 }, () => {
  let browser;
  let page;
  let errors;

  before(async () => {
    assert.ok(frontends.length >= 2 && backends.length >= 2, "the cluster needs two frontends and two backends");
    browser = await launch([`--ignore-certificate-errors-spki-list=${cluster.spki}`]);
    page = await browser.newPage();
    errors = collectErrors(page);
  });

  after(() => browser?.close());

  it("the demo page loads over https and HTTP/2 through nginx and streams updates", async () => {
    await page.goto(`${cluster.url}/#/live`);
    await page.locator("tbody[data-ref=feed] tr").first().waitFor({ timeout: 10_000 });
    const protocol = await page.evaluate(() => performance.getEntriesByType("navigation")[0].nextHopProtocol);
    assert.equal(protocol, "h2");
    // From here on, a page of the origin that makes no calls of its own.
    await loadPackage(page, cluster.url);
  });

  it("every frontend and every backend serves some calls", async () => {
    const probes = [greeterAt(frontends), greeterAt(backends)];
    const [fBefore, bBefore] = await Promise.all(probes.map((p) => p()));
    await startCalls(page, "spread-", { method: "sayHello", request: { name: "n", delayMs: 0 }, count: 20 });
    const results = await outcomes(page, "spread-", 20);
    assert.deepEqual(new Set(results.map((r) => r.outcome)), new Set(["OK"]));
    const [fNow, bNow] = await Promise.all(probes.map((p) => p()));
    for (const [what, now, before] of [["frontend", fNow, fBefore], ["backend", bNow, bBefore]]) {
      const served = delta(now, before, "ok");
      assert.equal(sum(served), 20, `${what}s answered ${served}`);
      assert.ok(served.every((n) => n > 0), `calls per ${what}: ${served}`);
    }
  });

  it("an abort in the page ends the call at the backend that served it within 300 ms, counted Canceled", async (t) => {
    const probe = greeterAt(backends);
    const before = await probe();
    await startCalls(page, "abort-", { method: "sayHello", request: { name: "x", delayMs: 10_000 } });
    const i = await whoServes(probe, before, "backend");
    const end = started(until(
      "the serving backend idle with one more Canceled",
      probe,
      (now) => now[i].inFlight === before[i].inFlight && now[i].cancelled === before[i].cancelled + 1,
      { withinMs: 5_000 },
    ));
    const abortedAt = await abortCalls(page, "abort-");
    const [{ outcome, causeIsReason }] = await outcomes(page, "abort-");
    assert.deepEqual({ outcome, causeIsReason }, { outcome: "CANCELLED", causeIsReason: true });
    const tookMs = (await end).at - abortedAt;
    assert.ok(tookMs <= 300, `the backend stopped ${tookMs} ms after the abort`);
    t.diagnostic(`backend ${i} stopped ${tookMs} ms after the abort`);
  });

  it("a deadline reaches the backend with no more than the time remaining", async (t) => {
    const probe = computeAt(backends);
    const before = await probe();
    const startedAt = Date.now();
    await startCalls(page, "deadline-", { method: "compute", request: { n: 2_000_000_000 }, timeoutMs: 500 });
    const i = await whoServes(probe, before, "backend");
    // Its own deadline fired (DeadlineExceeded), not the frontend's reset of
    // the call at the frontend's deadline (that would count Canceled).
    const end = await until(
      "the serving backend idle with one more DeadlineExceeded",
      probe,
      (now) => now[i].inFlight === before[i].inFlight && now[i].deadlineExceeded === before[i].deadlineExceeded + 1,
      { withinMs: 5_000 },
    );
    assert.equal(end.value[i].cancelled, before[i].cancelled, "the backend counted Canceled");
    const [{ outcome }] = await outcomes(page, "deadline-");
    assert.equal(outcome, "DEADLINE_EXCEEDED");
    const tookMs = end.at - startedAt;
    // The count above is what shows the backend got no more than the time
    // remaining (a longer deadline would have let the frontend's reset reach
    // it first: Canceled). This bound shows it stopped then, not later; past
    // the 500 ms is the page's start, transit, and scraping two backends on
    // a loaded machine.
    assert.ok(tookMs <= 800, `the backend stopped ${tookMs} ms after the call started (deadline 500 ms)`);
    t.diagnostic(`backend ${i} stopped its work ${tookMs} ms after the call started (deadline 500 ms)`);
  });

  /** Opens `count` watch streams until every process in `tiers` runs at least one; returns the counts before. */
  async function streamsOnEach(id, tiers, count) {
    const probe = watchAt(tiers);
    // The streams of the tests before may still be ending there (their
    // cancel on its way, or a lameduck's end): counted from idle.
    await until(`every ${tiers[0].role} idle`, probe, (now) => now.every((s) => (s?.inFlight ?? 0) === 0), {
      withinMs: 5_000,
    });
    const before = await probe();
    await startCalls(page, id, { method: "watch", request: { topic: id, intervalMs: 100 }, count });
    const { value } = await until(
      `${count} streams in flight, some at each ${tiers[0].role}`,
      probe,
      (now) => sum(delta(now, before, "inFlight")) === count && delta(now, before, "inFlight").every((n) => n > 0),
      { withinMs: 10_000 },
    );
    return { probe, before, open: value };
  }

  /** The streams still open in the page (no outcome yet), and those that ended with each outcome. */
  const streamStates = (id, count) =>
    page.evaluate(({ id, count }) => {
      const calls = Array.from({ length: count }, (_, i) => window.calls[`${id}${i}`]);
      return calls.map((c) => ({ outcome: c.outcome, message: c.message, received: c.received }));
    }, { id, count });

  /** New calls succeed: `count` unary calls through the cluster, all OK. */
  async function newCallsSucceed(id, count = 10) {
    await startCalls(page, id, { method: "sayHello", request: { name: id, delayMs: 0 }, count });
    const results = await outcomes(page, id, count);
    assert.deepEqual(results.map((r) => r.outcome), Array(count).fill("OK"));
  }

  /** Every stream still open receives at least two more updates. */
  async function openStreamsFlow(id, states) {
    const open = states.map((s, i) => [s, i]).filter(([s]) => s.outcome === null);
    for (const [s, i] of open) {
      await until(`stream ${i} still receiving`, () => received(page, id, i), (n) => n >= s.received + 2, { withinMs: 3_000 });
    }
    return open.length;
  }

  /**
   * Opens 8 streams spread over `tiers` and sends `signal` to the first of
   * them: its streams end with UNAVAILABLE, all the others go on receiving,
   * and new calls succeed.
   */
  async function stopOneWhileStreaming(t, id, tiers, signal) {
    const n = 8;
    const { probe, before, open } = await streamsOnEach(id, tiers, n);
    const onStopped = open[0].inFlight - before[0].inFlight;
    process.kill(tiers[0].pid, signal);
    const { value: states } = await until(
      `the streams of the ${tiers[0].role} sent ${signal} ended`,
      () => streamStates(id, n),
      (s) => s.filter((x) => x.outcome !== null).length >= onStopped,
      { withinMs: 10_000 },
    );
    const ended = states.filter((s) => s.outcome !== null);
    const why = ended.map((s) => `${s.outcome}: ${s.message}`).join("; ");
    assert.deepEqual(ended.map((s) => s.outcome), Array(onStopped).fill("UNAVAILABLE"), `the streams that ended: ${why}`);
    assert.equal(await openStreamsFlow(id, states), n - onStopped);
    await newCallsSucceed(`after-${id}`);
    t.diagnostic(`${onStopped} streams on the ${tiers[0].role} sent ${signal}, ${n - onStopped} on the others`);
    return { probe, before, n, onStopped };
  }

  it("SIGTERM to one frontend drains it while the other keeps serving", async (t) => {
    const { probe, before, n, onStopped } = await stopOneWhileStreaming(t, "drain-", frontends, "SIGTERM");
    await until("the stopped frontend gone", probe, (now) => now[0] === null, { withinMs: 10_000 });
    // Nothing at the survivor failed: its streams end now, by the page's abort, as Canceled.
    const survivorBefore = await probe();
    await abortCalls(page, "drain-", n);
    const { value: now } = await until(
      "the survivor's streams ended",
      probe,
      (now) => now[1].inFlight === before[1].inFlight,
      { withinMs: 3_000 },
    );
    const failed = now[1].started - before[1].started - (now[1].cancelled - before[1].cancelled);
    assert.equal(failed, 0, `the survivor ended ${failed} streams otherwise than Canceled`);
    assert.equal(now[1].cancelled - survivorBefore[1].cancelled, n - onStopped);
  });

  it("killing one backend ends its in-flight calls with UNAVAILABLE; new calls succeed on the others", async (t) => {
    const { probe, before, n } = await stopOneWhileStreaming(t, "kill-", backends, "SIGKILL");
    await abortCalls(page, "kill-", n);
    await until("the surviving backends idle", probe, (now) =>
      now.every((s, i) => i === 0 || s.inFlight === before[i].inFlight), { withinMs: 3_000 });
  });

  it("logs no page error", () => {
    assert.deepEqual(errors.filter((e) => e.startsWith("pageerror")), []);
  });
});
