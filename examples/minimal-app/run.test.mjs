// The measured app must work, on each transport it is built for: in
// Chromium, its `run()` greets and reads a three-update stream from the live
// demo server; on grpc-web-abort an aborted signal ends it with CANCELLED
// and no request (tonic-web-wasm-client takes no signal).
//
// DEMO_URL: the demo server's origin. APP_PKG: this variant's wasm-pack
// output. VARIANT: which one (the table row's name).
import assert from "node:assert/strict";
import { after, before, describe, it } from "node:test";

import { collectErrors, launch } from "../../e2e/browser.mjs";
import { serveStatic } from "../../e2e/serve.mjs";

const DEMO = process.env.DEMO_URL ?? "http://127.0.0.1:27080";
const VARIANT = process.env.VARIANT ?? "grpc-web-abort";
const INDEX = new URL("index.html", import.meta.url).pathname;

describe(`the minimal app on ${VARIANT}`, { timeout: 60_000 }, () => {
  let server;
  let browser;
  let page;
  let errors;

  before(async () => {
    server = await serveStatic(process.env.APP_PKG, INDEX);
    browser = await launch();
    page = await browser.newPage();
    errors = collectErrors(page);
    await page.goto(`${server.origin}/`);
  });

  after(async () => {
    await browser?.close();
    server?.close();
  });

  /** `run(DEMO, signal)` in the page; `aborted` passes an already-aborted signal. */
  const run = (aborted) =>
    page.evaluate(
      async ({ demo, aborted }) => {
        const app = await import("/pkg/minimal_app.js");
        await app.default();
        const signal = aborted ? AbortSignal.abort() : new AbortController().signal;
        try {
          return { ok: await app.run(demo, signal) };
        } catch (error) {
          return { error: String(error?.message ?? error) };
        }
      },
      { demo: DEMO, aborted },
    );

  it("greets, then reads the stream to its end", async () => {
    const outcome = await run(false);
    assert.match(outcome.ok ?? outcome.error, /minimal.*; 3 updates$/);
  });

  if (VARIANT.startsWith("grpc-web-abort")) {
    it("an aborted signal fails the call with CANCELLED", async () => {
      const outcome = await run(true);
      // tonic::Status's Display, through JsError.
      assert.match(outcome.error ?? outcome.ok, /^code: 'The operation was cancelled', message: "the call was aborted by its signal/);
    });
  }

  it("no page errors", () => assert.deepEqual(errors, []));
});
