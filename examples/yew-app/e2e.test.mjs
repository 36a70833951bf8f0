// The Yew example in Chromium against the live two-tier demo server: its
// stream must end at both tiers when the user navigates to another route or
// the feed unmounts, and its unary call must end at the deadline or on
// Cancel, as seen from /metrics alone (deltas: the server is shared).
//
// DEMO_URL: the demo server's origin. APP_PKG: wasm-pack's output for this
// crate (`--target web`). The app is served from a second loopback origin,
// as a separately deployed frontend would be (the server allows loopback
// origins by CORS).
import assert from "node:assert/strict";
import { after, before, describe, it } from "node:test";

import { collectErrors, launch } from "../../e2e/browser.mjs";
import { TIERS, methodStats } from "../../e2e/metrics.mjs";
import { until } from "../../e2e/poll.mjs";
import { serveStatic } from "../../e2e/serve.mjs";

const DEMO = process.env.DEMO_URL ?? "http://127.0.0.1:27080";
const PKG = process.env.APP_PKG;
const INDEX = new URL("index.html", import.meta.url).pathname;

const watchStats = () => methodStats(DEMO, "demo.v1.Updates", "Watch");
const greetStats = () => methodStats(DEMO, "demo.v1.Greeter", "SayHello");

/** Whether `test(stats[tier], tier)` holds at both tiers. */
const atBothTiers = (test) => (stats) => TIERS.every((tier) => test(stats[tier], tier));

/** A wait started now and awaited later: its failure surfaces there. */
function started(promise) {
  promise.catch(() => {});
  return promise;
}

describe("the Yew example", { timeout: 120_000 }, () => {
  let appServer;
  let app;
  let browser;
  let page;
  let errors;
  let idleWatch;

  before(async () => {
    assert.ok(PKG, "APP_PKG names the app's wasm-pack output");
    appServer = await serveStatic(PKG, INDEX);
    app = appServer.origin;
    browser = await launch();
    page = await browser.newPage();
    errors = collectErrors(page);
    idleWatch = await watchStats();
  });

  after(async () => {
    await browser?.close();
    appServer?.close();
  });

  /** Waits until a new Watch stream is in flight at both tiers. */
  function streamOpened(since) {
    return until(
      "a new Updates.Watch stream in flight at both tiers",
      watchStats,
      atBothTiers((s, tier) => s.started > since[tier].started && s.inFlight > idleWatch[tier].inFlight),
      { withinMs: 10_000 },
    );
  }

  /** Starts waiting for the open stream to end at both tiers, counted Canceled. */
  function streamCancelled(what, since) {
    return started(until(
      what,
      watchStats,
      atBothTiers((s, tier) => s.cancelled > since[tier].cancelled && s.inFlight <= idleWatch[tier].inFlight),
      { withinMs: 5_000 },
    ));
  }

  /** Clicks `selector`; the wall-clock time the page got the click. */
  async function click(selector) {
    await page.evaluate(() => {
      window.clickedAt = null;
      addEventListener("click", () => (window.clickedAt = Date.now()), { capture: true, once: true });
    });
    await page.click(selector);
    return page.evaluate(() => window.clickedAt);
  }

  async function within(what, end, since, limitMs) {
    const tookMs = (await end).at - since;
    assert.ok(tookMs <= limitMs, `${what} took ${tookMs} ms (limit ${limitMs} ms)`);
    return `${what}: ${tookMs} ms`;
  }

  /** The app's log line about how the latest call of `method` ended. */
  const logged = (method, expected) =>
    until(
      `the log says how ${method} ended`,
      () => page.locator("#log li").allTextContents(),
      (lines) => lines.some((line) => line.startsWith(method) && line.includes(expected)),
      { withinMs: 2_000 },
    );

  it("/ streams the updates, counted at both tiers", async () => {
    const since = await watchStats();
    await page.goto(`${app}/?server=${encodeURIComponent(DEMO)}`);
    await streamOpened(since);
    await page.locator("#feed li").first().waitFor({ timeout: 5_000 });
  });

  it("navigating to /greet ends the stream at both tiers within 300 ms (Canceled); the reason is the navigation", async (t) => {
    const since = await watchStats();
    const what = "Watch cancelled at both tiers after a route change";
    const ended = streamCancelled(what, since);
    const clickedAt = await click("nav a[href='/greet']");
    t.diagnostic(await within(what, ended, clickedAt, 300));
    await logged("Updates.Watch", "CANCELLED: the page navigated (navigate)");
  });

  it("hiding the feed (it unmounts) ends the stream at both tiers within 300 ms (Canceled)", async (t) => {
    const opened = await watchStats();
    await page.click("nav a[href='/']");
    await streamOpened(opened);
    const since = await watchStats();
    const what = "Watch cancelled at both tiers after the feed unmounted";
    const ended = streamCancelled(what, since);
    const clickedAt = await click("#toggle-feed");
    t.diagnostic(await within(what, ended, clickedAt, 300));
    await logged("Updates.Watch", "CANCELLED: the call's scope was dropped");
  });

  /** On /greet, sends a call the server delays by `delayMs` under a `deadlineMs` deadline. */
  async function send(delayMs, deadlineMs) {
    await page.click("nav a[href='/greet']");
    await page.fill("#delay", String(delayMs));
    await page.fill("#deadline", String(deadlineMs));
    return click("#send");
  }

  const outcome = (withinMs) =>
    until("an outcome on /greet", () => page.textContent("#outcome"), (text) => text && text !== "RUNNING", { withinMs })
      .then(({ value }) => value);

  it("a 300 ms deadline on a slow unary call: DEADLINE_EXCEEDED, counted at both tiers", async () => {
    const since = await greetStats();
    const sentAt = await send(5_000, 300);
    assert.match(await outcome(3_000), /^DEADLINE_EXCEEDED/);
    const tookMs = Date.now() - sentAt;
    assert.ok(tookMs < 1_500, `DEADLINE_EXCEEDED shown ${tookMs} ms after Send`);
    await until(
      "both tiers counted DeadlineExceeded and have nothing in flight",
      greetStats,
      atBothTiers((s, tier) => s.deadlineExceeded > since[tier].deadlineExceeded && s.inFlight <= since[tier].inFlight),
      { withinMs: 3_000 },
    );
  });

  it("Cancel ends the unary call: CANCELLED with the app's reason, Canceled at both tiers within 500 ms", async (t) => {
    const since = await greetStats();
    await send(10_000, 60_000);
    await until(
      "the call in flight at the backend",
      greetStats,
      (s) => s.backend.inFlight > since.backend.inFlight,
      { withinMs: 5_000 },
    );
    const what = "SayHello cancelled at both tiers";
    const stopped = started(until(
      what,
      greetStats,
      atBothTiers((s, tier) => s.cancelled > since[tier].cancelled && s.inFlight <= since[tier].inFlight),
      { withinMs: 5_000 },
    ));
    const clickedAt = await click("#cancel");
    assert.equal(await outcome(2_000), "CANCELLED: the call was cancelled");
    t.diagnostic(await within(what, stopped, clickedAt, 500));
  });

  it("no page errors", () => {
    assert.deepEqual(errors, []);
  });
});
