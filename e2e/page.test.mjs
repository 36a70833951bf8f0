// The demo page in a real browser against the live two-tier server: the
// page's calls must end at both tiers when the user leaves a route or the
// page, as seen from /metrics alone. The server is shared with other tests,
// so every assertion is on this method's series and on deltas.
//
// DEMO_URL: the frontend tier's origin (default http://127.0.0.1:27080).
import assert from "node:assert/strict";
import { mkdir } from "node:fs/promises";
import { after, before, describe, it } from "node:test";

import { collectErrors, launch } from "./browser.mjs";
import { TIERS, methodStats } from "./metrics.mjs";
import { until } from "./poll.mjs";

const BASE = process.env.DEMO_URL ?? "http://127.0.0.1:27080";
const ARTIFACTS = new URL("../artifacts/", import.meta.url);

const watchStats = () => methodStats(BASE, "demo.v1.Updates", "Watch");
const computeStats = () => methodStats(BASE, "demo.v1.Work", "Compute");

/** A wait started now and awaited later: its failure surfaces there, not as an unhandled rejection. */
function started(promise) {
  promise.catch(() => {});
  return promise;
}

/** Whether `pick(stats[tier])` satisfies `test` at both tiers. */
const atBothTiers = (pick, test) => (stats) => TIERS.every((tier) => test(pick(stats[tier]), tier));

describe("demo page", { timeout: 120_000 }, () => {
  let browser;
  let page;
  let errors;

  before(async () => {
    await mkdir(ARTIFACTS, { recursive: true });
    browser = await launch();
    page = await browser.newPage({ viewport: { width: 1280, height: 800 } });
    errors = collectErrors(page);
    // The precondition of every "back to 0" below: an earlier test's stream
    // may still be ending, so wait for it, within a bound; never judge the
    // page against a level someone else's stream set.
    const idle = atBothTiers((s) => s.inFlight, (inFlight) => inFlight === 0);
    await until("no Watch stream in flight before the page opens", watchStats, idle, { withinMs: 5_000 });
  });

  after(() => browser?.close());

  /** Waits until the route's Watch stream is counted at both tiers, beyond `since`. */
  function streamOpened(since, withinMs = 10_000) {
    return until(
      "a new Updates.Watch stream in flight at both tiers",
      watchStats,
      atBothTiers((s) => s, (s, tier) => s.started > since[tier].started && s.inFlight >= 1),
      { withinMs },
    );
  }

  /** The precondition of the tests that end a stream: #/live has one open. */
  async function assertStreamOpen() {
    const open = await watchStats();
    for (const tier of TIERS) {
      assert.ok(open[tier].inFlight === 1, `${open[tier].inFlight} Watch streams in flight at the ${tier}, not the page's one`);
    }
  }

  /** Starts watching for Watch in-flight to be back to 0 (its series there, not vanished). */
  function streamsEnd(what) {
    return started(until(
      what,
      watchStats,
      atBothTiers((s) => s, (s) => !s.missing.includes("inFlight") && s.inFlight === 0),
      { withinMs: 5_000 },
    ));
  }

  /**
   * Clicks `selector` and returns the wall-clock time at which the page got
   * the click: Playwright's own checks before it clicks (tens of ms, more on
   * a busy machine) are not the page's to answer for.
   */
  async function click(selector) {
    await page.evaluate(() => {
      window.clickedAt = null;
      addEventListener("click", () => (window.clickedAt = Date.now()), { capture: true, once: true });
    });
    await page.click(selector);
    return page.evaluate(() => window.clickedAt);
  }

  /** Asserts that `end` (from `until`) came at most `limitMs` after `since`; returns a note. */
  async function within(what, end, since, limitMs) {
    const tookMs = (await end).at - since;
    assert.ok(tookMs <= limitMs, `${what} took ${tookMs} ms (limit ${limitMs} ms)`);
    return `${what}: ${tookMs} ms`;
  }

  it("#/live streams updates, counted at both tiers", async () => {
    const before = await watchStats();
    await page.goto(`${BASE}/#/live`);
    await streamOpened(before);
    // The page shows the updates and the server's counters for both tiers.
    await page.locator("tbody[data-ref=feed] tr").first().waitFor({ timeout: 5_000 });
    for (const tier of TIERS) {
      await page.locator(`#counters td[data-tier=${tier}][data-field=inFlight]`).waitFor({ timeout: 5_000 });
    }
    const current = await page.getAttribute("nav a[href='#/live']", "aria-current");
    assert.equal(current, "page");
    await page.screenshot({ path: new URL("live.png", ARTIFACTS).pathname });
  });

  it("switching to #/work ends the stream at both tiers within 300 ms; coming back starts a new one", async (t) => {
    await assertStreamOpen();
    // Polling starts before the click, so the end is seen as soon as it comes.
    const what = "Watch in-flight back to idle after switching routes";
    const ended = streamsEnd(what);
    const clickedAt = await click("nav a[href='#/work']");
    t.diagnostic(await within(what, ended, clickedAt, 300));

    const before = await watchStats();
    await page.click("nav a[href='#/live']");
    await streamOpened(before, 5_000);
  });

  it("leaving the page ends the stream at both tiers within 500 ms", async (t) => {
    await assertStreamOpen();
    const what = "Watch in-flight back to idle after leaving the page";
    const ended = streamsEnd(what);
    const left = Date.now();
    await page.goto("about:blank");
    t.diagnostic(await within(what, ended, left, 500));

    // Back again (from the back/forward cache or afresh): a new stream.
    const before = await watchStats();
    await page.goBack();
    await streamOpened(before, 5_000);
  });

  /** Starts a long compute on #/work; returns the counters before it and when Run was clicked. */
  async function startCompute(timeoutMs) {
    await page.goto(`${BASE}/#/work`);
    const before = await computeStats();
    await page.fill("input[name=n]", "2000000000");
    await page.fill("input[name=timeoutMs]", timeoutMs);
    const clickedAt = await click("button[type=submit]");
    return { before, clickedAt };
  }

  /** The outcome's gRPC code badge, once it is no longer RUNNING. */
  const outcomeCode = (withinMs) =>
    until(
      "an outcome on #/work",
      () => page.textContent("[data-ref=outcome] .badge"),
      (text) => text && text !== "RUNNING",
      { withinMs },
    ).then(({ value }) => value);

  it("Cancel on #/work shows CANCELLED and stops the backend", async (t) => {
    const { before } = await startCompute("");
    await until(
      "the compute running at the backend",
      computeStats,
      (s) => s.backend.inFlight > before.backend.inFlight,
      { withinMs: 5_000 },
    );
    const what = "both tiers stopped and counted Canceled";
    const stopped = started(until(
      what,
      computeStats,
      atBothTiers((s) => s, (s, tier) => s.cancelled === before[tier].cancelled + 1 && s.inFlight === 0),
      { withinMs: 5_000 },
    ));
    const clickedAt = await click("button[data-ref=cancel]");
    assert.equal(await outcomeCode(2_000), "CANCELLED");
    t.diagnostic(await within(what, stopped, clickedAt, 500));
    // The page says how long the server took to stop.
    await page.getByText("Time the server took to stop its work after the cancellation:").waitFor({ timeout: 3_000 });
    await page.screenshot({ path: new URL("work-cancelled.png", ARTIFACTS).pathname });
  });

  it("a 200 ms deadline on a long compute shows DEADLINE_EXCEEDED at both tiers", async () => {
    const { before, clickedAt } = await startCompute("200");
    assert.equal(await outcomeCode(3_000), "DEADLINE_EXCEEDED");
    const tookMs = Date.now() - clickedAt;
    // Not asserted to be >= 200 ms: the server's own DEADLINE_EXCEEDED may
    // arrive a little before the local timer fires.
    assert.ok(tookMs < 1_500, `DEADLINE_EXCEEDED shown ${tookMs} ms after Run`);
    await page.getByText("Time the server took to stop its work after the deadline:").waitFor({ timeout: 3_000 });
    await page.screenshot({ path: new URL("work-deadline.png", ARTIFACTS).pathname });
    await until(
      "both tiers counted DeadlineExceeded and the backend stopped",
      computeStats,
      atBothTiers(
        (s) => s,
        (s, tier) => s.deadlineExceeded === before[tier].deadlineExceeded + 1 && s.started === before[tier].started + 1 && s.inFlight === 0,
      ),
      { withinMs: 2_000 },
    );
  });

  it("logs no page error and no console error", () => {
    assert.deepEqual(errors, []);
  });
});
