// The semantics rows that involve the server, again over HTTP/2 with TLS (as
// browsers speak it to a real deployment), each judged by what both tiers'
// /metrics observed; and 20 watch streams open at once in one page, which
// HTTP/1.1's six connections per origin cannot carry.
//
// DEMO_URL: the frontend's https origin; SPKI: its certificate's SPKI hash;
// METRICS_URL: an http origin whose /metrics has both tiers' series;
// HTTP1_URL (optional): a plain-http demo server, for the control: there the
// same 20 streams never have more than six in flight.
import assert from "node:assert/strict";
import { after, before, describe, it } from "node:test";

import { collectErrors, launch } from "./browser.mjs";
import { abortCalls, outcomes, received, startCalls } from "./calls.mjs";
import { TIERS, methodStats } from "./metrics.mjs";
import { loadPackage } from "./pkg.mjs";
import { until } from "./poll.mjs";

const BASE = process.env.DEMO_URL ?? "https://127.0.0.1:27443";
const METRICS = process.env.METRICS_URL ?? "http://127.0.0.1:27444";
const SPKI = process.env.SPKI;
const HTTP1 = process.env.HTTP1_URL;

const stats = (service, method) => () => methodStats(METRICS, `demo.v1.${service}`, method);
const greeter = stats("Greeter", "SayHello");
const watch = stats("Updates", "Watch");
const compute = stats("Work", "Compute");

/** A wait started now and awaited later: its failure surfaces there. */
function started(promise) {
  promise.catch(() => {});
  return promise;
}

/** At both tiers: `count` more calls started than `since`, and `count` more in flight. */
function inFlight(probe, since, count = 1, withinMs = 5_000) {
  return until(
    `${count} more call(s) in flight at both tiers`,
    probe,
    (s) => TIERS.every((t) => s[t].started >= since[t].started + count && s[t].inFlight >= since[t].inFlight + count),
    { withinMs },
  );
}

/** At both tiers: in flight back to `since`'s level and `count` more calls counted as `field`. */
function ended(probe, since, field, count = 1, withinMs = 5_000) {
  return started(until(
    `both tiers back to idle with ${count} more ${field}`,
    probe,
    (s) => TIERS.every((t) => s[t].inFlight <= since[t].inFlight && s[t][field] >= since[t][field] + count),
    { withinMs },
  ));
}

/** Asserts the end came within `limitMs` of `since` (both wall-clock ms); returns a note. */
async function within(end, since, limitMs) {
  const tookMs = (await end).at - since;
  assert.ok(tookMs <= limitMs, `both tiers stopped ${tookMs} ms after the abort (limit ${limitMs} ms)`);
  return `both tiers stopped ${tookMs} ms after the abort`;
}

describe("over HTTP/2 with TLS", { timeout: 120_000 }, () => {
  let browser;
  let page;
  let errors;

  before(async () => {
    assert.ok(SPKI, "SPKI (the server certificate's SPKI hash) is not set");
    browser = await launch([`--ignore-certificate-errors-spki-list=${SPKI}`]);
    page = await browser.newPage();
    errors = collectErrors(page);
    await loadPackage(page, BASE);
  });

  after(() => browser?.close());

  it("the page and its calls travel over h2", async () => {
    await startCalls(page, "h2-", { method: "sayHello", request: { name: "h2", delayMs: 0 } });
    assert.deepEqual(await outcomes(page, "h2-"), [{ outcome: "OK", causeIsReason: false, received: 0 }]);
    const protocols = await page.evaluate(() => [
      performance.getEntriesByType("navigation")[0].nextHopProtocol,
      ...performance.getEntriesByType("resource").filter((e) => e.name.includes("/demo.v1.")).map((e) => e.nextHopProtocol),
    ]);
    assert.deepEqual(protocols, ["h2", "h2"]);
  });

  /**
   * Starts one call, waits until both tiers run it, aborts it: the page sees
   * CANCELLED with the abort reason, both tiers count Canceled and stop
   * within 300 ms. `ready`: what else to wait for before the abort.
   */
  async function abortWhileRunning(t, probe, id, call, ready = async () => {}) {
    const before = await probe();
    await startCalls(page, id, call);
    await inFlight(probe, before);
    await ready();
    const end = ended(probe, before, "cancelled");
    const abortedAt = await abortCalls(page, id);
    const [{ outcome, causeIsReason }] = await outcomes(page, id);
    assert.deepEqual({ outcome, causeIsReason }, { outcome: "CANCELLED", causeIsReason: true });
    t.diagnostic(await within(end, abortedAt, 300));
  }

  it("abort during a unary call: CANCELLED, Canceled at both tiers within 300 ms", (t) =>
    abortWhileRunning(t, greeter, "unary-", { method: "sayHello", request: { name: "x", delayMs: 10_000 } }));

  it("abort mid-stream: CANCELLED, Canceled at both tiers within 300 ms", (t) =>
    abortWhileRunning(t, watch, "stream-", { method: "watch", request: { topic: "t", intervalMs: 50 } }, () =>
      until("two updates received", () => received(page, "stream-"), (n) => n >= 2, { withinMs: 5_000 })));

  it("break out of for await: no error, Canceled at both tiers", async () => {
    const before = await watch();
    await startCalls(page, "break-", { method: "watch", request: { topic: "t", intervalMs: 20 }, breakAfter: 3 });
    const end = ended(watch, before, "cancelled");
    assert.deepEqual(await outcomes(page, "break-"), [{ outcome: "OK", causeIsReason: false, received: 3 }]);
    await end;
  });

  it("a deadline mid-stream: DEADLINE_EXCEEDED after some updates, DeadlineExceeded at both tiers", async () => {
    const before = await watch();
    await startCalls(page, "deadline-", { method: "watch", request: { topic: "t", intervalMs: 50 }, timeoutMs: 400 });
    const end = ended(watch, before, "deadlineExceeded");
    const [{ outcome, received: n }] = await outcomes(page, "deadline-");
    assert.equal(outcome, "DEADLINE_EXCEEDED");
    assert.ok(n >= 2, `${n} updates before the deadline`);
    await end;
  });

  it("blocking work is stopped: abort a long compute, Canceled at both tiers within 300 ms", (t) =>
    abortWhileRunning(t, compute, "work-", { method: "compute", request: { n: 2_000_000_000 } }));

  it("20 watch streams in one page are all in flight at once; aborting them ends all at both tiers within 300 ms", async (t) => {
    const before = await watch();
    await startCalls(page, "many-", { method: "watch", request: { topic: "t", intervalMs: 1_000 }, count: 20 });
    // Over HTTP/1.1 only six could be open: the rest would wait for a connection.
    const open = await inFlight(watch, before, 20, 10_000);
    t.diagnostic(`in flight at the frontend: ${open.value.frontend.inFlight - before.frontend.inFlight}`);
    const end = ended(watch, before, "cancelled", 20);
    const abortedAt = await abortCalls(page, "many-", 20);
    const results = await outcomes(page, "many-", 20);
    assert.deepEqual(new Set(results.map((r) => r.outcome)), new Set(["CANCELLED"]));
    t.diagnostic(await within(end, abortedAt, 300));
  });

  it("the control: over HTTP/1.1 the same 20 streams never have more than six in flight", { skip: !HTTP1 && "no HTTP1_URL" }, async (t) => {
    const http1 = await browser.newPage();
    try {
      await loadPackage(http1, HTTP1);
      const probe = () => methodStats(HTTP1, "demo.v1.Updates", "Watch");
      const before = await probe();
      await startCalls(http1, "h1-", { method: "watch", request: { topic: "t", intervalMs: 1_000 }, count: 20 });
      await inFlight(probe, before, 6);
      // Watched for a second: the other 14 wait for one of the six connections.
      const most = { frontend: 0 };
      await assert.rejects(
        until("more than six streams in flight", probe, (s) => {
          most.frontend = Math.max(most.frontend, s.frontend.inFlight - before.frontend.inFlight);
          return most.frontend > 6;
        }, { withinMs: 1_000, everyMs: 20 }),
        /not within 1000 ms/,
      );
      t.diagnostic(`at most ${most.frontend} in flight at the frontend over HTTP/1.1`);
      // Over HTTP/1.1 Chromium may keep an aborted response's connection
      // open to drain it (its HttpResponseBodyDrainer: up to 16 KB or 5 s)
      // before it closes, so the server can learn of the abort only then;
      // over HTTP/2 the abort is a RST_STREAM at once (the test above).
      const end = ended(probe, before, "cancelled", 6, 5_000 + 5_000);
      const abortedAt = await abortCalls(http1, "h1-", 20);
      t.diagnostic(`both tiers saw the aborts ${(await end).at - abortedAt} ms after them over HTTP/1.1`);
    } finally {
      await http1.close();
    }
  });

  it("logs no page error and no console error", () => {
    assert.deepEqual(errors, []);
  });
});
