// The runtime under Node (issue 16): run by run.mjs inside the JS app, so
// `grpc-web-abort` is the installed tarball (its `node` export condition
// reads the wasm from disk) and the clients are the ones `buf generate`
// wrote. The same calls as in the browser, asserted at both tiers' /metrics.
// Usage: SERVER_URL=… REPO_ROOT=… node --test node-calls.test.mjs
import assert from "node:assert/strict";
import { it } from "node:test";
import { pathToFileURL } from "node:url";

import { Code, GrpcError } from "grpc-web-abort";

import { GreeterClient } from "./src/gen/demo/v1/greeter_grpcweb.js";
import { UpdatesClient } from "./src/gen/demo/v1/updates_grpcweb.js";

// (node --test takes its arguments as test files: these come by environment.)
const { SERVER_URL: server, REPO_ROOT: root } = process.env;
const { methodStats, settled } = await import(pathToFileURL(`${root}/e2e/metrics.mjs`).href);
const { until } = await import(pathToFileURL(`${root}/e2e/poll.mjs`).href);

const greeter = () => methodStats(server, "demo.v1.Greeter", "SayHello");
const watch = () => methodStats(server, "demo.v1.Updates", "Watch");


async function failure(call) {
  const started = performance.now();
  try {
    await call;
  } catch (error) {
    assert.ok(error instanceof GrpcError, `not a GrpcError: ${error}`);
    return { error, elapsedMs: performance.now() - started };
  }
  throw new Error("the call succeeded");
}

it("a unary call from Node", async () => {
  const before = await greeter();
  const { message } = await new GreeterClient(server).sayHello({ name: "node" });
  assert.match(message, /node/);
  await settled(greeter, before, { started: 1 });
});

it("a stream broken after 3 messages is cancelled at both tiers", async () => {
  const before = await watch();
  const seqs = [];
  for await (const u of new UpdatesClient(server).watch({ topic: "node", intervalMs: 20 })) {
    seqs.push(u.seq);
    if (seqs.length === 3) break;
  }
  assert.equal(typeof seqs[0], "bigint");
  await settled(watch, before, { started: 1, cancelled: 1 });
});

it("an abort rejects with CANCELLED, and the server sees it", async () => {
  const before = await greeter();
  const stop = new AbortController();
  const call = failure(new GreeterClient(server).sayHello({ name: "abort", delayMs: 30_000 }, { signal: stop.signal }));
  await until("the backend has the call", greeter, (s) => s.backend.inFlight === 1, { withinMs: 5_000 });
  stop.abort(new Error("user cancelled"));
  const { error } = await call;
  assert.equal(error.code, Code.CANCELLED);
  assert.equal(error.cause?.message, "user cancelled");
  await settled(greeter, before, { started: 1, cancelled: 1 });
});

it("a deadline rejects with DEADLINE_EXCEEDED, counted at both tiers", async () => {
  const before = await greeter();
  const { error, elapsedMs } = await failure(
    new GreeterClient(server).sayHello({ name: "deadline", delayMs: 30_000 }, { timeoutMs: 300 }),
  );
  assert.equal(error.code, Code.DEADLINE_EXCEEDED);
  assert.ok(elapsedMs >= 290 && elapsedMs < 3_000, `after ${elapsedMs} ms`);
  await settled(greeter, before, { started: 1, deadlineExceeded: 1 });
});
