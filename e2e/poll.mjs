// Waiting for a condition without sleeping blindly: check, and check again
// soon, until it holds or the time is up.

/**
 * Calls `probe` until `accept(value)` holds; returns { value, at } where `at`
 * is the wall-clock time (Date.now()) at which it was seen to hold. Past
 * `withinMs` it throws, naming `what` and the last value seen.
 */
export async function until(what, probe, accept, { withinMs, everyMs = 5 }) {
  const start = Date.now();
  let last;
  for (;;) {
    last = await probe();
    const at = Date.now();
    if (accept(last)) return { value: last, at };
    if (at - start > withinMs) {
      throw new Error(`${what}: not within ${withinMs} ms; last seen ${JSON.stringify(last)}`);
    }
    await new Promise((resolve) => setTimeout(resolve, everyMs));
  }
}
