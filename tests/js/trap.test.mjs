// Defence in depth (issue 16): if the wasm ever traps, the calls in flight
// reject with INTERNAL at once, the page sees no uncaught error, and the
// next call works on a fresh instance. No reply can make the wasm trap any
// more (the response path is fuzzed, and tests/js/hostile.test.mjs tries
// the replies that once did), so the trap is made here: the page's
// WebAssembly.instantiate hands the runtime exports that throw a
// RuntimeError, as a trap does, at the first entry after the test arms them.
// Usage: node tests/js/trap.test.mjs SERVER_URL
import assert from "node:assert/strict";
import { after, before, it } from "node:test";

import { collectErrors, launch } from "../../e2e/browser.mjs";
import { methodStats } from "../../e2e/metrics.mjs";
import { until } from "../../e2e/poll.mjs";

const base = process.argv[2] ?? "http://127.0.0.1:27080";
let browser;
let page;
let errors;

before(async () => {
  browser = await launch();
  page = await browser.newPage();
  errors = collectErrors(page);
  await page.route("**/favicon.ico", (route) => route.fulfill({ status: 204 }));
  await page.addInitScript(() => {
    window.instances = 0;
    window.armed = false;
    for (const name of ["instantiate", "instantiateStreaming"]) {
      const original = WebAssembly[name];
      WebAssembly[name] = async (...args) => {
        const result = await original.apply(WebAssembly, args);
        window.instances++;
        const instance = result instanceof WebAssembly.Instance ? result : result.instance;
        const exports = {};
        for (const [key, value] of Object.entries(instance.exports)) {
          exports[key] =
            typeof value !== "function"
              ? value
              : function (...a) {
                  if (window.armed) {
                    window.armed = false;
                    throw new WebAssembly.RuntimeError("unreachable (made by the test)");
                  }
                  return value.apply(this, a);
                };
        }
        return { instance: { exports }, module: result.module ?? args[0] };
      };
    }
  });
  await page.goto(`${base}/pkg/package.json`);
  await page.evaluate(async (base) => {
    const pkg = await import(`${base}/pkg/index.js`);
    window.greeter = new pkg.GreeterClient(base);
    window.outcome = async (call) => {
      const started = performance.now();
      try {
        const reply = await call;
        return { ok: reply.message };
      } catch (e) {
        return { name: e.name, code: e.code, message: e.message, elapsedMs: performance.now() - started };
      }
    };
    await window.greeter.sayHello({ name: "warm-up" });
  }, base);
});

after(async () => {
  await browser?.close();
});

const greeter = () => methodStats(base, "demo.v1.Greeter", "SayHello");

it("a trap while a reply is awaited rejects the call with INTERNAL, and the next call works on a fresh instance", async () => {
  const instances = await page.evaluate(() => window.instances);
  await page.evaluate(() => {
    window.pending = window.outcome(window.greeter.sayHello({ name: "trapped", delayMs: 300 }));
  });
  // Armed once the call is at the last tier: the trap comes when its reply
  // wakes the wasm, in a task no call awaits.
  await until("the backend has the call", greeter, (s) => s.backend.inFlight === 1, { withinMs: 5_000 });
  await page.evaluate(() => (window.armed = true));
  // A call the defence failed to settle would never settle: bounded here.
  const outcome = await page.evaluate(() =>
    Promise.race([window.pending, new Promise((ok) => setTimeout(() => ok({ unsettled: true }), 5_000))]),
  );
  assert.equal(outcome.name, "GrpcError", JSON.stringify(outcome));
  assert.equal(outcome.code, 13);
  assert.match(outcome.message, /WebAssembly runtime failed \(unreachable \(made by the test\)\)/);
  assert.ok(outcome.elapsedMs < 2_000, `settled after ${outcome.elapsedMs} ms`);
  const next = await page.evaluate(() => window.outcome(window.greeter.sayHello({ name: "after" })));
  assert.match(next.ok ?? JSON.stringify(next), /after/);
  assert.equal(await page.evaluate(() => window.instances), instances + 1, "one fresh instance");
});

it("a trap on the way into the wasm rejects that call with INTERNAL; nothing is sent", async () => {
  const before = await greeter();
  await page.evaluate(() => (window.armed = true));
  const outcome = await page.evaluate(() => window.outcome(window.greeter.sayHello({ name: "never sent" })));
  assert.equal(outcome.code, 13, JSON.stringify(outcome));
  const next = await page.evaluate(() => window.outcome(window.greeter.sayHello({ name: "again" })));
  assert.match(next.ok ?? JSON.stringify(next), /again/);
  // Only the call after it reached the server.
  await until("the second call counted", greeter, (s) => s.frontend.started === before.frontend.started + 1, {
    withinMs: 2_000,
  });
});

it("the page saw no uncaught error", () => {
  assert.deepEqual(errors, []);
});
