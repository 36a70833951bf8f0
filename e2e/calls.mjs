// Calls made in a page (with the package loaded by pkg.mjs) and steered from
// the test: each has its own AbortController, and its outcome (a gRPC code
// name, or "OK") is kept in the page for the test to read.

/**
 * Starts `count` calls of `method` ("sayHello", "compute" or "watch") named
 * `${id}0`, `${id}1`, ...; a watch counts its updates and `break`s after
 * `breakAfter` of them.
 */
export function startCalls(page, id, { method, request, timeoutMs, breakAfter, count = 1 }) {
  return page.evaluate(({ id, method, request, timeoutMs, breakAfter, count }) => {
    const { GreeterClient, UpdatesClient, WorkClient } = window.pkg;
    const base = location.origin;
    window.calls ??= {};
    for (let i = 0; i < count; i++) {
      const controller = new AbortController();
      const options = { signal: controller.signal, ...(timeoutMs === undefined ? {} : { timeoutMs }) };
      const call = (window.calls[`${id}${i}`] = { controller, received: 0, outcome: null, causeIsReason: false });
      call.done = (async () => {
        try {
          if (method === "sayHello") await new GreeterClient(base).sayHello(request, options);
          else if (method === "compute") await new WorkClient(base).compute(request, options);
          else {
            for await (const _ of new UpdatesClient(base).watch(request, options)) {
              if (++call.received === breakAfter) break;
            }
          }
          call.outcome = "OK";
        } catch (error) {
          call.outcome = error?.codeName ?? String(error);
          call.message = error?.message; // for a failing test's report
          call.causeIsReason = error?.cause === controller.signal.reason;
        }
        return call.outcome;
      })();
    }
  }, { id, method, request, timeoutMs, breakAfter, count });
}

/** Aborts the calls named `${id}0`.. `${id}${count-1}`; returns the page's clock at the abort. */
export function abortCalls(page, id, count = 1) {
  return page.evaluate(({ id, count }) => {
    for (let i = 0; i < count; i++) window.calls[`${id}${i}`].controller.abort(new Error("test abort"));
    return Date.now();
  }, { id, count });
}

/** The outcomes of the calls, once all have ended: [{ outcome, causeIsReason, received }]. */
export function outcomes(page, id, count = 1) {
  return page.evaluate(async ({ id, count }) => {
    const calls = Array.from({ length: count }, (_, i) => window.calls[`${id}${i}`]);
    await Promise.all(calls.map((c) => c.done));
    return calls.map(({ outcome, causeIsReason, received }) => ({ outcome, causeIsReason, received }));
  }, { id, count });
}

/** How many updates the watch call `${id}${i}` has received so far. */
export function received(page, id, i = 0) {
  return page.evaluate((name) => window.calls[name].received, `${id}${i}`);
}
