// A self-contained package (`cargo xtask package`) under Node, imported by
// its name as an app imports it, so that its `node` export condition (the
// wasm read from disk) is what Node picks: calls work, and a frame over the
// limit, a deadline and an abort each end the call and reach the server
// (tests/hostile-server's /stats counts the fetches whose client went away).
// xtask/src/hostile_tests.rs links the package as node_modules/hostile-test
// beside a copy of this file and runs it: node hostile.node.mjs SERVER_URL
import assert from "node:assert/strict";
import test from "node:test";

import { Code, GrpcError, HostileClient } from "hostile-test";

const base = process.argv[2];
const client = new HostileClient(base);

/** [requests that arrived, replies whose client went away] for a case. */
async function stats(which) {
  const text = await (await fetch(`${base}/stats`)).text();
  const line = text.split("\n").find((l) => l.startsWith(`${which} `));
  return line ? line.split(" ").slice(1).map(Number) : [0, 0];
}

/** Polls until the server has seen one more of `which`'s replies lose their client. */
async function serverSawAbort(which, before) {
  const until = performance.now() + 5000;
  while ((await stats(which))[1] <= before[1]) {
    assert.ok(performance.now() < until, `the server did not see ${which}'s fetch aborted within 5 s`);
    await new Promise((resolve) => setTimeout(resolve, 10));
  }
}

async function rejection(promise) {
  try {
    await promise;
  } catch (error) {
    assert.ok(error instanceof GrpcError, String(error));
    return error;
  }
  assert.fail("the call succeeded");
}

const get = (which, options = {}) => client.get({ text: "hi" }, { ...options, headers: { "x-case": which } });

test("a call succeeds", async () => {
  assert.deepEqual(await get("ok"), { text: "ok", n: 7 });
});

test("a frame over the limit: RESOURCE_EXHAUSTED, and the server sees the fetch aborted", async () => {
  const before = await stats("over-limit");
  const error = await rejection(get("over-limit"));
  assert.equal(error.code, Code.RESOURCE_EXHAUSTED, error.message);
  await serverSawAbort("over-limit", before);
});

test("a stalled reply: DEADLINE_EXCEEDED at the deadline, and the server sees the fetch aborted", async () => {
  const before = await stats("stall");
  const started = performance.now();
  const error = await rejection(get("stall", { timeoutMs: 300 }));
  assert.equal(error.code, Code.DEADLINE_EXCEEDED, error.message);
  assert.ok(performance.now() - started >= 299, "not before the deadline");
  await serverSawAbort("stall", before);
});

test("an abort: CANCELLED with the reason, and the server sees the fetch aborted", async () => {
  const before = await stats("stall");
  const controller = new AbortController();
  const call = get("stall", { signal: controller.signal });
  // Once the request has arrived, so that it is the server's reply that is cut.
  while ((await stats("stall"))[0] === before[0]) await new Promise((resolve) => setTimeout(resolve, 10));
  const reason = new Error("the user left");
  controller.abort(reason);
  const error = await rejection(call);
  assert.equal(error.code, Code.CANCELLED, error.message);
  assert.equal(error.cause, reason);
  await serverSawAbort("stall", before);
});
