// Interceptors (issue 16) from Node, with the installed tarball and the
// clients `buf generate` wrote, against real servers: tests/echo-server
// (it reports the metadata it received and can demand a token) and the
// demo server (its /metrics say what each tier counted).
// Usage: SERVER_URL=… ECHO_URL=… REPO_ROOT=… node --test interceptors.test.mjs
import assert from "node:assert/strict";
import { it } from "node:test";
import { pathToFileURL } from "node:url";

import { Code, GrpcError } from "grpc-web-abort";

import { GreeterClient } from "./src/gen/demo/v1/greeter_grpcweb.js";
// The README's interceptor, compiled by tsc from the README's text.
import { bearer } from "./src/readme-interceptors.js";
import { UpdatesClient } from "./src/gen/demo/v1/updates_grpcweb.js";

const { SERVER_URL: server, ECHO_URL: echo, REPO_ROOT: root } = process.env;
const { methodStats, settled } = await import(pathToFileURL(`${root}/e2e/metrics.mjs`).href);
const { until } = await import(pathToFileURL(`${root}/e2e/poll.mjs`).href);

const greeter = () => methodStats(server, "demo.v1.Greeter", "SayHello");
const watch = () => methodStats(server, "demo.v1.Updates", "Watch");

/** The metadata the echo server received, from its response headers. */
const received = (headers) => JSON.parse(headers.get("x-echo-metadata"));

/** Records the response headers an interceptor chain ends with. */
const keepHeaders = (into) => (next) => async (request) => {
  const response = await next(request);
  into.headers = response.headers;
  return response;
};

it("headers an interceptor sets reach the server, unary and streaming", async () => {
  const id = crypto.randomUUID();
  const tag = (next) => async (request) => {
    request.headers.set("x-request-id", id);
    return next(request);
  };
  const seen = {};
  // The echo server answers with the request's bytes: HelloRequest.name is HelloReply.message.
  const { message } = await new GreeterClient(echo, { interceptors: [tag] }).sayHello({ name: "tagged" }, { interceptors: [keepHeaders(seen)] });
  assert.equal(message, "tagged");
  assert.equal(received(seen.headers)["x-request-id"], id);
  const streamed = {};
  const updates = new UpdatesClient(echo, { interceptors: [tag], headers: { "x-echo-count": "2" } });
  let count = 0;
  for await (const _ of updates.watch({}, { interceptors: [keepHeaders(streamed)] })) count++;
  assert.equal(count, 2);
  assert.equal(received(streamed.headers)["x-request-id"], id);
  assert.equal(received(streamed.headers)["x-echo-count"], "2");
});

it("the README's bearer(): refreshed once on UNAUTHENTICATED, the call retried, the new token at the server", async () => {
  let refreshes = 0;
  const getToken = async (refresh) => {
    await new Promise((ok) => setTimeout(ok, 10)); // the token endpoint's round trip
    if (!refresh) return "stale";
    refreshes++;
    return "fresh";
  };
  let attempts = 0;
  const count = (next) => (request) => {
    attempts++;
    return next(request);
  };
  const seen = {};
  const client = new GreeterClient(echo, {
    interceptors: [bearer(getToken), count, keepHeaders(seen)],
    headers: { "x-echo-require-authorization": "Bearer fresh" },
  });
  // Two calls at once with the stale token: one refresh between them.
  const replies = await Promise.all([client.sayHello({ name: "one" }), client.sayHello({ name: "two" })]);
  assert.deepEqual(replies.map((r) => r.message), ["one", "two"]);
  assert.deepEqual({ refreshes, attempts }, { refreshes: 1, attempts: 4 });
  assert.equal(received(seen.headers).authorization, "Bearer fresh");
  // Once fresh: no refresh, one attempt.
  await client.sayHello({ name: "again" });
  assert.deepEqual({ refreshes, attempts }, { refreshes: 1, attempts: 5 });
});

it("an interceptor observes and replaces a unary outcome: message, headers, trailers, duration, errors", async () => {
  const outcomes = [];
  const observe = (next) => async (request) => {
    const started = performance.now();
    try {
      const response = await next(request);
      outcomes.push({ method: request.method, status: response.trailers.get("grpc-status"), ms: performance.now() - started, stream: response.stream });
      return { ...response, message: { message: response.message.message.toUpperCase() } };
    } catch (error) {
      outcomes.push({ method: request.method, code: error.code, ms: performance.now() - started });
      throw error;
    }
  };
  let trailers;
  const client = new GreeterClient(server, { interceptors: [observe] });
  const before = await greeter();
  const reply = await client.sayHello({ name: "observed" }, { onTrailer: (t) => (trailers = t) });
  assert.equal(reply.message, "HELLO, OBSERVED!");
  assert.equal(trailers.get("grpc-status"), "0");
  const failed = await client.sayHello({ name: "late", delayMs: 30_000 }, { timeoutMs: 200 }).catch((e) => e);
  assert.equal(failed.code, Code.DEADLINE_EXCEEDED);
  const [ok, late] = outcomes;
  assert.deepEqual(ok.method, { service: "demo.v1.Greeter", name: "SayHello", kind: "unary", path: "/demo.v1.Greeter/SayHello" });
  assert.equal(ok.status, "0");
  assert.equal(ok.stream, false);
  assert.equal(late.code, Code.DEADLINE_EXCEEDED);
  assert.ok(late.ms >= 195 && late.ms < 3_000, `the interceptor measured ${late.ms} ms`);
  await settled(greeter, before, { started: 2, deadlineExceeded: 1 });
});

it("an interceptor wraps each message of a stream; a break still cancels at both tiers", async () => {
  const wrap = (next) => async (request) => {
    const response = await next(request);
    assert.equal(response.stream, true);
    assert.ok(response.headers instanceof Headers);
    return {
      ...response,
      messages: (async function* () {
        for await (const update of response.messages) yield { ...update, wrapped: true };
      })(),
    };
  };
  const before = await watch();
  const seen = [];
  for await (const update of new UpdatesClient(server, { interceptors: [wrap] }).watch({ topic: "wrapped", intervalMs: 20 })) {
    seen.push(update);
    if (seen.length === 3) break;
  }
  assert.ok(seen.every((u) => u.wrapped === true && typeof u.seq === "bigint"));
  await settled(watch, before, { started: 1, cancelled: 1 });
});

it("an interceptor that throws rejects the call with its error, and nothing is sent", async () => {
  const problem = new Error("no token: signed out");
  const refuse = () => async () => {
    throw problem;
  };
  const before = await greeter();
  const error = await new GreeterClient(server, { interceptors: [refuse] }).sayHello({ name: "never" }).catch((e) => e);
  assert.equal(error, problem);
  // A later call's arrival: the first, had it been sent, would have been counted before it.
  await new GreeterClient(server).sayHello({ name: "after" });
  await settled(greeter, before, { started: 1 });
});

it("several interceptors: the client's outside the call's, the first outermost, and the server gets every one's header", async () => {
  const order = [];
  const step = (name) => (next) => async (request) => {
    order.push(`${name}>`);
    request.headers.append("x-chain", name);
    const response = await next(request);
    order.push(`<${name}`);
    return response;
  };
  const seen = {};
  await new GreeterClient(echo, { interceptors: [step("a"), step("b")] }).sayHello({ name: "x" }, { interceptors: [step("c"), keepHeaders(seen)] });
  assert.deepEqual(order, ["a>", "b>", "c>", "<c", "<b", "<a"]);
  assert.equal(received(seen.headers)["x-chain"], "a, b, c");
});

it("an interceptor sees the call's signal and deadline; an abort while it awaits sends nothing", async () => {
  let seen;
  let release;
  const gate = new Promise((ok) => (release = ok));
  const slow = (next) => async (request) => {
    seen = request;
    await gate; // e.g. a token being fetched
    return next(request);
  };
  const stop = new AbortController();
  const before = await greeter();
  const started = Date.now();
  const call = new GreeterClient(server, { interceptors: [slow] }).sayHello({ name: "gated" }, { signal: stop.signal, timeoutMs: 5_000 }).catch((e) => e);
  await until("the interceptor has the request", () => seen, (s) => s !== undefined, { withinMs: 2_000 });
  assert.ok(seen.deadline >= started + 5_000 && seen.deadline <= Date.now() + 5_000, `deadline ${seen.deadline - started} ms after the start`);
  assert.equal(seen.signal.aborted, false);
  stop.abort(new Error("user left"));
  assert.equal(seen.signal.aborted, true);
  release();
  const error = await call;
  assert.equal(error.code, Code.CANCELLED);
  await new GreeterClient(server).sayHello({ name: "after" });
  await settled(greeter, before, { started: 1 });
});

it("a bad interceptor is a TypeError naming it", async () => {
  const error = await new GreeterClient(server).sayHello({}, { interceptors: [42] }).catch((e) => e);
  assert.ok(error instanceof TypeError);
  assert.match(error.message, /CallOptions\.interceptors\[0\] must be a function/);
});
