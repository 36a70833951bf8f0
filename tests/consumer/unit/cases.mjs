// Unit tests of app code (greeting.mjs) against the test transport of
// `grpc-web-abort/testing`, as an app writes them: no server, the generated
// clients, the handlers as JS functions. The same cases run under
// `node --test` (unit.test.mjs) and in Chromium (../plain/unit.html).
import { Code, GrpcError } from "grpc-web-abort";
import { createTestTransport } from "grpc-web-abort/testing";

import { GreeterClient } from "../src/gen/demo/v1/greeter_grpcweb.js";
import { UpdatesClient } from "../src/gen/demo/v1/updates_grpcweb.js";
import { firstUpdates, greetAll, greetWithin } from "./greeting.mjs";

function check(condition, message) {
  if (!condition) throw new Error(`check failed: ${message}`);
}

/** Polls `condition` every few ms; fails after `withinMs`. */
async function until(what, condition, withinMs = 2_000) {
  const end = performance.now() + withinMs;
  while (!condition()) {
    if (performance.now() > end) throw new Error(`not within ${withinMs} ms: ${what}`);
    await new Promise((ok) => setTimeout(ok, 5));
  }
}

/** Resolves when `signal` aborts (the handler's view of a cancel). */
const aborted = (signal) => new Promise((ok) => signal.addEventListener("abort", () => ok(signal.reason), { once: true }));

async function failure(call) {
  try {
    await call;
  } catch (error) {
    return error;
  }
  throw new Error("the call succeeded");
}

const BASE = "http://in-memory.test";

export const cases = [
  [
    "app code gets the handlers' replies, through the codec both ways",
    async () => {
      const requests = [];
      const { fetch } = createTestTransport({
        "demo.v1.Greeter": {
          sayHello(request) {
            requests.push(request);
            return { message: `Hello, ${request.name}!` };
          },
        },
      });
      const replies = await greetAll(new GreeterClient(BASE, { fetch }), ["Ada", "Linus"]);
      check(JSON.stringify(replies) === JSON.stringify(["Hello, Ada!", "Hello, Linus!"]), `replies ${replies}`);
      // The handler got the request as the codec decodes it: every field, defaults included.
      check(JSON.stringify(requests) === JSON.stringify([{ name: "Ada", delayMs: 0 }, { name: "Linus", delayMs: 0 }]), JSON.stringify(requests));
    },
  ],
  [
    "a stream's replies, and app code's `break` aborts the handler's signal",
    async () => {
      let signal;
      const { fetch } = createTestTransport({
        "demo.v1.Updates": {
          async *Watch(request, context) {
            signal = context.signal;
            for (let seq = 1n; !context.signal.aborted; seq++) {
              yield { topic: request.topic, seq };
              await new Promise((ok) => setTimeout(ok, request.intervalMs));
            }
          },
        },
      });
      const seen = await firstUpdates(new UpdatesClient(BASE, { fetch }), "news", 3);
      check(seen.map((u) => u.seq).join() === "1,2,3", `seqs ${seen.map((u) => u.seq)}`);
      check(typeof seen[0].seq === "bigint" && seen[0].topic === "news", JSON.stringify(seen[0], (_, v) => (typeof v === "bigint" ? `${v}n` : v)));
      await until("the handler's signal aborted after break", () => signal?.aborted === true, 1_000);
    },
  ],
  [
    "an abort rejects with CANCELLED and reaches the handler",
    async () => {
      let entered;
      const handlerSaw = new Promise((ok) => (entered = ok));
      const { fetch } = createTestTransport({
        "demo.v1.Greeter": {
          async SayHello(_request, context) {
            // (Wrapped: a promise given to resolve() would be waited for.)
            entered({ reason: aborted(context.signal) });
            await aborted(context.signal);
            throw new Error("unreachable: the client is gone");
          },
        },
      });
      const stop = new AbortController();
      const call = failure(greetAll(new GreeterClient(BASE, { fetch }), ["slow"], { signal: stop.signal }));
      const { reason } = await handlerSaw;
      stop.abort(new Error("user left"));
      const error = await call;
      check(error instanceof GrpcError && error.code === Code.CANCELLED, `got ${error}`);
      check((await reason) !== undefined, "the handler's signal did not abort");
    },
  ],
  [
    "a deadline: DEADLINE_EXCEEDED for the app, the deadline and the abort for the handler",
    async () => {
      let context;
      const { fetch } = createTestTransport({
        "demo.v1.Greeter": {
          async sayHello(_request, c) {
            context = c;
            await aborted(c.signal);
            return { message: "too late" };
          },
        },
      });
      const started = Date.now();
      const text = await greetWithin(new GreeterClient(BASE, { fetch }), "slow", 80);
      check(text === "no answer (DEADLINE_EXCEEDED)", text);
      // The time left when the request left, from its arrival: about the
      // client's own deadline (rounded down by a ms; late by the transit, in
      // memory but on a loaded machine).
      const at = context.deadline - started;
      check(at >= 78 && at <= 80 + 50, `the handler's deadline is ${at} ms after the start, the client's 80`);
      check(context.headers.get("grpc-timeout") !== null, "no grpc-timeout reached the handler");
      await until("the handler's signal aborted at the deadline", () => context.signal.aborted, 1_000);
    },
  ],
  [
    "a handler's GrpcError is the app's, with its message and trailers",
    async () => {
      const { fetch } = createTestTransport({
        "demo.v1.Greeter": {
          sayHello(request, context) {
            context.responseTrailers.set("x-retry-hint", "later");
            throw new GrpcError(Code.NOT_FOUND, `no one called ${request.name}`);
          },
        },
      });
      const error = await failure(new GreeterClient(BASE, { fetch }).sayHello({ name: "Nemo" }));
      check(error.code === Code.NOT_FOUND && error.message === "no one called Nemo", `${error.code} ${error.message}`);
      check(error.metadata.get("x-retry-hint") === "later", `metadata ${[...error.metadata]}`);
    },
  ],
  [
    "a bad request is a TypeError naming the field, and no handler runs",
    async () => {
      const names = [];
      const { fetch } = createTestTransport({ "demo.v1.Greeter": { sayHello: (r) => (names.push(r.name), { message: "" }) } });
      const error = await failure(new GreeterClient(BASE, { fetch }).sayHello({ name: 42 }));
      check(error instanceof TypeError && /HelloRequest\.name/.test(error.message), `${error}`);
      // A later call reaching the handler shows the first would have arrived before it.
      await new GreeterClient(BASE, { fetch }).sayHello({ name: "later" });
      check(names.join() === "later", `the handler got ${JSON.stringify(names)}`);
    },
  ],
  [
    "a handler's invalid reply is INTERNAL naming the field; a missing handler UNIMPLEMENTED",
    async () => {
      const { fetch } = createTestTransport({ "demo.v1.Greeter": { sayHello: () => ({ message: 7 }) } });
      const bad = await failure(new GreeterClient(BASE, { fetch }).sayHello({}));
      check(bad.code === Code.INTERNAL && /HelloReply\.message/.test(bad.message), `${bad.code} ${bad.message}`);
      const missing = await failure(new UpdatesClient(BASE, { fetch }).watch({}).next());
      check(missing.code === Code.UNIMPLEMENTED, `${missing.code} ${missing.message}`);
    },
  ],
  [
    "interceptors run with the test transport too: the handler sees their headers",
    async () => {
      let seen;
      const { fetch } = createTestTransport({
        "demo.v1.Greeter": { sayHello: (_request, context) => ((seen = context.headers.get("authorization")), { message: "ok" }) },
      });
      const auth = (next) => async (request) => {
        request.headers.set("authorization", "Bearer t0ken");
        return next(request);
      };
      await new GreeterClient(BASE, { fetch, interceptors: [auth] }).sayHello({});
      check(seen === "Bearer t0ken", `authorization ${seen}`);
    },
  ],
  [
    "interceptors run per attempt: a unary retry and a stream's reconnect each carry a fresh header",
    async () => {
      const seen = [];
      let attempt = 0;
      const { fetch } = createTestTransport({
        "demo.v1.Greeter": {
          sayHello(_request, context) {
            seen.push(context.headers.get("x-attempt"));
            if (seen.length === 1) throw new GrpcError(Code.UNAVAILABLE, "try again");
            return { message: "ok" };
          },
        },
        "demo.v1.Updates": {
          async *watch(request, context) {
            seen.push(context.headers.get("x-attempt"));
            // (This copy of the proto has no after_seq: the topic carries where to go on from.)
            const from = BigInt(request.topic || "0");
            yield { seq: from + 1n };
            // The first connection breaks after one update; the next one ends.
            if (from === 0n) throw new GrpcError(Code.UNAVAILABLE, "connection lost");
          },
        },
      });
      const numbered = (next) => (request) => {
        request.headers.set("x-attempt", String(++attempt));
        return next(request);
      };
      const options = { fetch, interceptors: [numbered] };
      const reply = await new GreeterClient(BASE, options).sayHello({}, { retry: { initialBackoffMs: 1, maxBackoffMs: 5 } });
      check(reply.message === "ok" && seen.join() === "1,2", `retried: ${seen}`);
      const updates = [];
      const resume = { initialBackoffMs: 1, maxBackoffMs: 5, from: (last, request) => ({ ...request, topic: String(last.seq) }) };
      for await (const u of new UpdatesClient(BASE, options).watch({}, { resume })) updates.push(u.seq);
      check(updates.join() === "1,2", `updates ${updates}`);
      check(seen.join() === "1,2,3,4", `attempts the handlers saw: ${seen}`);
    },
  ],
  [
    "a resumable stream the server ends with OK ends the loop, with no second attempt",
    async () => {
      let attempts = 0;
      const { fetch } = createTestTransport({
        "demo.v1.Updates": {
          async *watch() {
            attempts++;
            yield { seq: 1n };
            yield { seq: 2n };
          },
        },
      });
      const states = [];
      const seqs = [];
      const options = { resume: { initialBackoffMs: 1, maxBackoffMs: 5 }, onStateChange: (s) => states.push(s.state) };
      for await (const u of new UpdatesClient(BASE, { fetch }).watch({}, options)) seqs.push(u.seq);
      check(seqs.join() === "1,2", `updates ${seqs}`);
      check(attempts === 1, `${attempts} attempts`);
      check(states.at(-1) === "closed" && !states.includes("reconnecting"), `states ${states}`);
    },
  ],
];
