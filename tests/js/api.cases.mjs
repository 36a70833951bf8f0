// The JS API as npm users touch it, run in a real page by api.test.mjs:
// `run(base)` imports the built package from `${base}/pkg/` and returns one
// `{ name, error }` per case.

const tests = [];
const test = (name, fn) => tests.push({ name, fn });

function assert(condition, message) {
  if (!condition) throw new Error(message);
}

async function rejects(promise) {
  try {
    await promise;
  } catch (error) {
    return error;
  }
  throw new Error("expected a rejection");
}

const TIERS = ["frontend", "backend"];

const tick = (ms) => new Promise((resolve) => setTimeout(resolve, ms));

// Every series of one scrape of the demo server's /metrics (both tiers are
// in it): [{ name, labels, value }].
async function scrape(base) {
  const response = await fetch(`${base}/metrics`, { cache: "no-store" });
  assert(response.ok, `GET /metrics: HTTP ${response.status}`);
  const series = [];
  for (const line of (await response.text()).split("\n")) {
    const match = /^([a-zA-Z_:][\w:]*)(?:\{(.*)\})?\s+(\S+)/.exec(line);
    if (!match) continue; // comments, # EOF, blank lines
    const labels = {};
    for (const [, key, value] of (match[2] ?? "").matchAll(/(\w+)="((?:[^"\\]|\\.)*)"/g)) labels[key] = value;
    series.push({ name: match[1], labels, value: Number(match[3]) });
  }
  return series;
}

// One method's ("demo.v1.Greeter/SayHello") counters per tier in a scrape:
// { started, inFlight, codes: { OK: n, Canceled: n, ... } }. A series that
// is not there is undefined, never 0: a renamed or vanished series must not
// read as "nothing happened".
function counts(series, method) {
  const [service, name] = method.split("/");
  const out = {};
  for (const tier of TIERS) {
    const mine = series.filter((s) => s.labels.tier === tier && s.labels.grpc_service === service && s.labels.grpc_method === name);
    const sum = (metric) => {
      const found = mine.filter((s) => s.name === metric);
      return found.length ? found.reduce((total, s) => total + s.value, 0) : undefined;
    };
    const codes = {};
    for (const s of mine.filter((s) => s.name === "grpc_server_handled_total")) {
      codes[s.labels.grpc_code] = (codes[s.labels.grpc_code] ?? 0) + s.value;
    }
    out[tier] = { started: sum("grpc_server_started_total"), inFlight: sum("grpc_server_in_flight"), codes };
  }
  return out;
}

// How one method's counters at each tier differ from `before` plus
// `expected` ({ started: n, <code>: n, ... }; every code not named must not
// have grown): a list of problems, empty when they match.
function mismatches(before, now, { started = 0, ...codes }) {
  const problems = [];
  for (const tier of TIERS) {
    const [was, is] = [before[tier], now[tier]];
    const grown = (a, b) => a - (b ?? 0);
    if (started > 0 || was.started !== undefined) {
      if (is.started === undefined) problems.push(`${tier}: no grpc_server_started_total series`);
      else if (grown(is.started, was.started) !== started) problems.push(`${tier}: started +${grown(is.started, was.started)}, expected +${started}`);
      if (is.inFlight === undefined) problems.push(`${tier}: no grpc_server_in_flight series`);
      else if (is.inFlight !== 0) problems.push(`${tier}: ${is.inFlight} in flight`);
    }
    for (const code of new Set([...Object.keys(codes), ...Object.keys(was.codes), ...Object.keys(is.codes)])) {
      const want = codes[code] ?? 0;
      if (is.codes[code] === undefined) {
        if (want > 0 || was.codes[code] !== undefined) problems.push(`${tier}: no grpc_server_handled_total{grpc_code="${code}"} series`);
      } else if (grown(is.codes[code], was.codes[code]) !== want) {
        problems.push(`${tier}: ${code} +${grown(is.codes[code], was.codes[code])}, expected +${want}`);
      }
    }
  }
  return problems;
}

// Waits until, since the scrape `before`, each method in `expected`
// ({ "demo.v1.Greeter/SayHello": { started: 1, Canceled: 1 } }) has counted
// exactly that at both tiers (calls started, calls ended per code) and has
// nothing in flight; polling, for at most 250 ms from the client's outcome
// (the server must stop work that fast).
async function settled(base, before, expected, withinMs = 250) {
  const start = performance.now();
  for (;;) {
    const now = await scrape(base);
    const problems = Object.entries(expected).flatMap(([method, want]) =>
      mismatches(counts(before, method), counts(now, method), want).map((p) => `${method} ${p}`),
    );
    if (problems.length === 0) return;
    assert(performance.now() - start < withinMs, `the server, ${withinMs} ms after the client's outcome: ${problems.join("; ")}`);
    await tick(10);
  }
}

// Waits until the backend has `n` calls of `method` begun since `before`
// and still in flight: what a test that aborts a call in flight waits for
// instead of a fixed pause.
async function arrived(base, before, method, n = 1, withinMs = 5000) {
  const start = performance.now();
  for (;;) {
    const [was, is] = [counts(before, method).backend, counts(await scrape(base), method).backend];
    if (is.started - (was.started ?? 0) >= n && is.inFlight >= n) return;
    assert(performance.now() - start < withinMs, `${method}: the backend did not have ${n} call(s) within ${withinMs} ms`);
    await tick(5);
  }
}

// `promise`, or an error naming `what` if it has not settled within `ms`.
function within(ms, what, promise) {
  let timer;
  const late = new Promise((_, reject) => {
    timer = setTimeout(() => reject(new Error(`${what}: not within ${ms} ms`)), ms);
  });
  return Promise.race([promise, late]).finally(() => clearTimeout(timer));
}

// A grpc-timeout header's value in milliseconds (the gRPC spec's units).
function timeoutMs(header) {
  const match = /^(\d{1,8})([HMSmun])$/.exec(header ?? "");
  assert(match, `grpc-timeout ${JSON.stringify(header)}`);
  const perUnit = { H: 3_600_000, M: 60_000, S: 1000, m: 1, u: 1e-3, n: 1e-6 };
  return Number(match[1]) * perUnit[match[2]];
}

// `peer`: tests/js/peer.mjs's address, another origin (its runner starts it).
export async function run(base, peer) {
  const pkg = await import(`${base}/pkg/index.js`);
  const { GreeterClient, UpdatesClient, WorkClient, StatsClient, GrpcError, Code, navigationSignal } = pkg;
  const HELLO = "demo.v1.Greeter/SayHello";
  const WATCH = "demo.v1.Updates/Watch";
  const COMPUTE = "demo.v1.Work/Compute";

  // First, before anything loads the wasm: calls need no init().
  test("the first call loads the package by itself; init() stays harmless", async () => {
    const before = await scrape(base);
    const reply = await new GreeterClient(base).sayHello({ name: "first" });
    assert(reply.message.includes("first"), reply.message);
    await pkg.default();
    await pkg.default();
    await settled(base, before, { [HELLO]: { started: 1, OK: 1 } });
  });

  test("exports the public names", () => {
    for (const [name, value] of Object.entries({ GreeterClient, UpdatesClient, WorkClient, StatsClient, GrpcError, navigationSignal })) {
      assert(typeof value === "function", `${name} is ${typeof value}`);
    }
    assert(Code.OK === 0 && Code.CANCELLED === 1 && Code.DEADLINE_EXCEEDED === 4 && Code.UNAUTHENTICATED === 16, "Code numbers");
  });

  test("sayHello resolves with a plain camelCase object", async () => {
    const before = await scrape(base);
    const reply = await new GreeterClient(base).sayHello({ name: "Ada", delayMs: 1 });
    assert(Object.getPrototypeOf(reply) === Object.prototype, "a plain object");
    assert(reply.message.includes("Ada"), reply.message);
    await settled(base, before, { [HELLO]: { started: 1, OK: 1 } });
  });

  test("GrpcError is a real Error subclass with code, codeName, metadata and cause; both tiers count Canceled", async () => {
    const before = await scrape(base);
    const controller = new AbortController();
    const reason = new Error("user left");
    const call = rejects(new GreeterClient(base).sayHello({ name: "x", delayMs: 5000 }, { signal: controller.signal }));
    await arrived(base, before, HELLO);
    controller.abort(reason);
    const error = await call;
    assert(error instanceof GrpcError && error instanceof Error, "instanceof GrpcError and Error");
    assert(GrpcError.name === "GrpcError" && error.constructor === GrpcError, `the class is named ${GrpcError.name}`);
    assert(error.name === "GrpcError" && error.code === Code.CANCELLED && error.codeName === "CANCELLED", `${error.name} ${error.code} ${error.codeName}`);
    assert(error.cause === reason, "cause is the abort reason");
    assert(error.metadata instanceof Headers, "metadata is Headers");
    assert(typeof error.stack === "string" && typeof error.message === "string", "stack and message");
    await settled(base, before, { [HELLO]: { started: 1, Canceled: 1 } });
  });

  test("for await + break cancels the stream without an error", async () => {
    const before = await scrape(base);
    const seen = [];
    for await (const update of new UpdatesClient(base).watch({ topic: "t", intervalMs: 20 })) {
      seen.push(update.seq);
      if (seen.length === 3) break;
    }
    assert(seen.join() === "1,2,3", `seq ${seen}`);
    await settled(base, before, { [WATCH]: { started: 1, Canceled: 1 } });
  });

  test("return() during a pending next() ends both quietly and aborts the fetch", async () => {
    const before = await scrape(base);
    const stream = new UpdatesClient(base).watch({ intervalMs: 60_000 });
    assert(!(await stream.next()).done, "the first update comes at once");
    const first = stream.next(); // the second is a minute away
    // Still pending once the timers had their turn: return() meets a next() in wait.
    const state = await Promise.race([first.then(() => "settled"), tick(0).then(() => "pending")]);
    assert(state === "pending", "the second next() settled before the second update");
    const done = await stream.return();
    const pending = await first;
    assert(done.done && pending.done && pending.value === undefined, JSON.stringify({ done, pending }));
    await settled(base, before, { [WATCH]: { started: 1, Canceled: 1 } });
  });

  test("a finite stream ends the loop; 64-bit fields are BigInts", async () => {
    const before = await scrape(base);
    const updates = [];
    for await (const u of new UpdatesClient(base).watch({ topic: "news", intervalMs: 1, limit: 2 })) updates.push(u);
    assert(updates.length === 2, `${updates.length} updates`);
    assert(typeof updates[0].seq === "bigint" && typeof updates[0].sentAtMs === "bigint", "BigInts");
    assert(updates[0].seq === 1n && updates[1].seq >= 2n, `seq ${updates.map((u) => u.seq)}`);
    assert(updates[0].topic === "news", updates[0].topic);
    await settled(base, before, { [WATCH]: { started: 1, OK: 1 } });
  });

  test("a stream's signal aborting makes the loop throw CANCELLED", async () => {
    const before = await scrape(base);
    const controller = new AbortController();
    const error = await rejects((async () => {
      for await (const _ of new UpdatesClient(base).watch({ intervalMs: 20 }, { signal: controller.signal })) controller.abort("stop");
    })());
    assert(error instanceof GrpcError && error.code === Code.CANCELLED && error.cause === "stop", String(error));
    await settled(base, before, { [WATCH]: { started: 1, Canceled: 1 } });
  });

  test("64-bit inputs take a number, a BigInt or a decimal string", async () => {
    const before = await scrape(base);
    const work = new WorkClient(base);
    for (const n of [100, 100n, "100"]) {
      const { result } = await work.compute({ n });
      assert(result === 25n, `primes below ${n}: ${result}`);
    }
    await settled(base, before, { [COMPUTE]: { started: 3, OK: 3 } });
  });

  test("bad 64-bit inputs are TypeErrors naming the field, and nothing is sent", async () => {
    const before = await scrape(base);
    const work = new WorkClient(base);
    for (const n of [-1, 1.5, 2 ** 53, "12abc", -1n, {}]) {
      const error = await rejects(work.compute({ n }));
      assert(error instanceof TypeError && error.message.startsWith("ComputeRequest.n: expected "), `${String(n)}: ${error}`);
    }
    // A good call after them: had any of them been sent, it would have arrived first.
    await work.compute({ n: 10 });
    await settled(base, before, { [COMPUTE]: { started: 1, OK: 1 } });
  });

  test("a server's status reaches GrpcError: the code and grpc-message, counted at both tiers", async () => {
    const before = await scrape(base);
    const error = await rejects(new WorkClient(base).compute({ n: 10n ** 13n }));
    assert(error instanceof GrpcError && error.code === Code.INVALID_ARGUMENT, `${error.codeName}: ${error.message}`);
    assert(error.message === "n must be at most 1000000000000, got 10000000000000", error.message);
    await settled(base, before, { [COMPUTE]: { started: 1, InvalidArgument: 1 } });
  });

  test("invalid options are TypeErrors naming the option, for calls and streams, and nothing is sent", async () => {
    const before = await scrape(base);
    const greeter = new GreeterClient(base);
    for (const [options, name] of [[{ timeoutMs: -1 }, "timeoutMs"], [{ timeoutMs: NaN }, "timeoutMs"],
      [{ signal: {} }, "signal"], [{ headers: { "bad name": "x" } }, "headers"], [{ deadline: new Date(NaN) }, "deadline"]]) {
      const error = await rejects(greeter.sayHello({}, options));
      assert(error instanceof TypeError && error.message.includes(name), `${name}: ${error}`);
    }
    const error = await rejects((async () => {
      for await (const _ of new UpdatesClient(base).watch({}, { timeoutMs: -1 }));
    })());
    assert(error instanceof TypeError && error.message.includes("timeoutMs"), String(error));
    // A client's bad defaults fail each of its calls the same way.
    const thrown = await rejects(new GreeterClient(base, { signal: "nope" }).sayHello({}));
    assert(thrown instanceof TypeError && thrown.message.includes("signal"), String(thrown));
    // Good calls after them: had any bad one been sent, it would have arrived first.
    await greeter.sayHello({});
    for await (const _ of new UpdatesClient(base).watch({ intervalMs: 1, limit: 1 }));
    await settled(base, before, { [HELLO]: { started: 1, OK: 1 }, [WATCH]: { started: 1, OK: 1 } });
  });

  test("an already-aborted signal and a passed deadline: nothing is sent", async () => {
    const before = await scrape(base);
    const greeter = new GreeterClient(base);
    const cancelled = await rejects(greeter.sayHello({}, { signal: AbortSignal.abort("gone") }));
    assert(cancelled.code === Code.CANCELLED && cancelled.cause === "gone", `${cancelled.codeName} ${cancelled.cause}`);
    const late = await rejects(greeter.sayHello({}, { timeoutMs: 0 }));
    assert(late.code === Code.DEADLINE_EXCEEDED, late.codeName);
    await greeter.sayHello({}); // would have arrived after them
    await settled(base, before, { [HELLO]: { started: 1, OK: 1 } });
  });

  test("client defaults merge with call options: the earlier deadline wins, both signals apply", async () => {
    const before = await scrape(base);
    const start = performance.now();
    const short = new GreeterClient(base, { timeoutMs: 200 });
    const error = await rejects(short.sayHello({ delayMs: 5000 }, { timeoutMs: 5000 }));
    const took = performance.now() - start;
    assert(error.code === Code.DEADLINE_EXCEEDED && took < 500, `${error.codeName} after ${took} ms`);
    await settled(base, before, { [HELLO]: { started: 1, DeadlineExceeded: 1 } });
    const between = await scrape(base);
    const clientWide = new AbortController();
    const greeter = new GreeterClient(base, { signal: clientWide.signal, headers: { "x-demo": "1" } });
    const call = rejects(greeter.sayHello({ delayMs: 5000 }, { signal: new AbortController().signal, headers: new Headers({ "x-call": "2" }) }));
    await arrived(base, between, HELLO);
    clientWide.abort("shutdown");
    const cancelled = await call;
    assert(cancelled.code === Code.CANCELLED && cancelled.cause === "shutdown", `${cancelled.codeName} ${cancelled.cause}`);
    await settled(base, between, { [HELLO]: { started: 1, Canceled: 1 } });
  });

  test("timeoutMs ends a stream midway with DEADLINE_EXCEEDED, counted at both tiers", async () => {
    const before = await scrape(base);
    const seen = [];
    const start = performance.now();
    const error = await rejects((async () => {
      for await (const u of new UpdatesClient(base).watch({ intervalMs: 50 }, { timeoutMs: 400 })) seen.push(u.seq);
    })());
    const took = performance.now() - start;
    assert(error instanceof GrpcError && error.code === Code.DEADLINE_EXCEEDED, `${error.codeName}: ${error.message}`);
    assert(seen.length >= 2, `${seen.length} updates before the deadline`);
    assert(took >= 390 && took < 1000, `ended after ${took} ms`);
    await settled(base, before, { [WATCH]: { started: 1, DeadlineExceeded: 1 } });
  });

  test("AbortSignal.timeout() is a deadline (no grpc-timeout: the server sees a disconnect)", async () => {
    const before = await scrape(base);
    const error = await rejects(new GreeterClient(base).sayHello({ delayMs: 5000 }, { signal: AbortSignal.timeout(100) }));
    assert(error.code === Code.DEADLINE_EXCEEDED && error.cause?.name === "TimeoutError", `${error.codeName}`);
    await settled(base, before, { [HELLO]: { started: 1, Canceled: 1 } });
  });

  // WebKit holds a signal that follows another one weakly: the fetch's
  // signal follows the call's `Request`'s, so the runtime keeps the
  // `Request` for as long as the call. Without that, a collection soon
  // after the fetch started lost the abort, and the server served the call
  // to its end (WebKitGTK 2.50: 76 of 100 unary calls through a caller's
  // `fetch`; 20 of 20 in this test's first version, both ways; this one
  // timed out, the lost streams holding every connection). Unary calls and
  // streams, through the global `fetch` and a caller's own.
  test("an abort reaches the server when garbage is collected while the call is pending", async () => {
    const garbage = () => {
      let junk = [];
      for (let k = 0; k < 300; k++) junk.push(new Array(10_000).fill(k));
      junk = null;
    };
    // The garbage in the task that starts the fetch, right after it.
    const fetchThenGarbage = (request) => {
      const response = fetch(request);
      garbage();
      return response;
    };
    const rounds = 6;
    const before = await scrape(base);
    for (let i = 0; i < rounds; i++) {
      for (const [kind, own] of [["unary", false], ["unary", true], ["stream", false], ["stream", true]]) {
        const controller = new AbortController();
        const beforeThis = await scrape(base);
        const options = { signal: controller.signal, ...(own && { fetch: fetchThenGarbage }) };
        let ended;
        if (kind === "unary") {
          const call = rejects(new GreeterClient(base).sayHello({ delayMs: 5000 }, options));
          if (!own) {
            await tick(0); // the runtime has made its fetch
            garbage();
          }
          await arrived(base, beforeThis, HELLO);
          ended = () => call;
        } else {
          const stream = new UpdatesClient(base).watch({ intervalMs: 60_000 }, options);
          assert(!(await stream.next()).done, "the first update comes at once");
          if (!own) garbage();
          ended = () => rejects(stream.next());
        }
        await tick(100); // time for the collection
        controller.abort();
        const error = await ended();
        assert(error.code === Code.CANCELLED, `${kind} ${i}: ${error.codeName}`);
      }
    }
    const each = { started: rounds * 2, Canceled: rounds * 2 };
    await settled(base, before, { [HELLO]: each, [WATCH]: each });
  });

  // The fetch must be aborted inside the signal's abort event: aborted a
  // microtask later, Chromium sent the cancel only after the long task the
  // page had queued right after abort() (as a framework's scheduler would).
  // The frontend's stop is read from the demo server's stop log (its wall
  // clock; the page's is the same machine's) once the page is free again.
  const LONG_TASK_MS = 400;
  const busy = (ms) => {
    const end = performance.now() + ms;
    while (performance.now() < end);
  };
  async function stopsSeq() {
    const response = await fetch(`${base}/stops?after=${Number.MAX_SAFE_INTEGER}`, { cache: "no-store" });
    assert(response.ok, `GET /stops: HTTP ${response.status}`);
    return (await response.json()).last_seq;
  }
  async function frontendStop(after, method) {
    const { entries } = await (await fetch(`${base}/stops?after=${after}`, { cache: "no-store" })).json();
    const mine = entries.filter((e) => e.tier === "frontend" && e.method === method);
    assert(mine.length === 1, `${mine.length} frontend stops of ${method} logged`);
    return mine[0].stop_us / 1000;
  }

  // `begin(signal)` starts a call and resolves with `end()`, which makes
  // the call end (by `signal` unless it says otherwise) and resolves once
  // the client has its outcome.
  async function stopsBeforeLongTask(method, begin) {
    const after = await stopsSeq(); // also arms the log
    const before = await scrape(base);
    const controller = new AbortController();
    const end = await begin(controller.signal);
    await arrived(base, before, method);
    const abortedAt = Date.now();
    const outcome = end(controller);
    setTimeout(() => busy(LONG_TASK_MS), 0);
    await outcome;
    await tick(0); // past the long task
    const late = (await frontendStop(after, method)) - abortedAt;
    assert(late < LONG_TASK_MS / 2, `the frontend stopped ${late.toFixed(1)} ms after the abort, behind a ${LONG_TASK_MS} ms task`);
    await settled(base, before, { [method]: { started: 1, Canceled: 1 } });
  }

  test("an abort reaches the server before a long task queued behind it: unary, stream, return()", async () => {
    await stopsBeforeLongTask(HELLO, (signal) => {
      const call = rejects(new GreeterClient(base).sayHello({ delayMs: 5000 }, { signal }));
      return (controller) => {
        controller.abort();
        return call.then((error) => assert(error.code === Code.CANCELLED, `unary: ${error.codeName}`));
      };
    });
    for (const how of ["signal", "return()"]) {
      await stopsBeforeLongTask(WATCH, async (signal) => {
        const stream = new UpdatesClient(base).watch({ intervalMs: 60_000 }, { signal });
        assert(!(await stream.next()).done, "the first update comes at once");
        const next = stream.next(); // the second is a minute away
        return (controller) => {
          if (how === "return()") return stream.return().then(() => next);
          controller.abort();
          return rejects(next).then((error) => assert(error.code === Code.CANCELLED, `stream: ${error.codeName}`));
        };
      });
    }
  });

  test("StatsClient.watch yields both tiers' counters; break cancels it at both tiers", async () => {
    const before = await scrape(base);
    for await (const snapshot of new StatsClient(base).watch({ intervalMs: 50 })) {
      const tiers = snapshot.tiers.map((t) => t.tier).join();
      assert(tiers === "frontend,backend", tiers);
      const t = snapshot.tiers[0];
      for (const key of ["inFlight", "started", "ok", "cancelled", "deadlineExceeded"]) {
        assert(typeof t[key] === "bigint", `${key}: ${typeof t[key]}`);
      }
      assert(typeof t.lastCancelToStopMs === "number", `lastCancelToStopMs: ${typeof t.lastCancelToStopMs}`);
      break;
    }
    await settled(base, before, { "demo.v1.Stats/Watch": { started: 1, Canceled: 1 } });
  });

  test("onHeader and onTrailer see a successful call's metadata, for calls and streams", async () => {
    const before = await scrape(base);
    const seen = [];
    const options = { onHeader: (h) => seen.push(["header", h]), onTrailer: (t) => seen.push(["trailer", t]) };
    await new GreeterClient(base).sayHello({ name: "m" }, options);
    for await (const _ of new UpdatesClient(base).watch({ intervalMs: 1, limit: 2 }, options));
    assert(seen.map(([k]) => k).join() === "header,trailer,header,trailer", seen.map(([k]) => k).join());
    assert(seen.every(([, h]) => h instanceof Headers), "Headers");
    assert(seen[0][1].get("content-type").startsWith("application/grpc-web"), seen[0][1].get("content-type"));
    await settled(base, before, { [HELLO]: { started: 1, OK: 1 }, [WATCH]: { started: 1, OK: 1 } });
  });

  test("navigationSignal() aborts at the next navigation", async () => {
    const signal = navigationSignal();
    assert(signal instanceof AbortSignal && !signal.aborted, "a fresh, live signal");
    const aborted = new Promise((resolve) => signal.addEventListener("abort", resolve, { once: true }));
    location.hash = `#nav-${Date.now()}`;
    await within(1000, "the abort after the hash change", aborted);
    assert(signal.aborted && signal.reason instanceof DOMException && signal.reason.name === "AbortError", "aborted by the hash change");
    assert(!navigationSignal().aborted, "each call gives a new signal");
  });

  // The peer (tests/js/peer.mjs) on another origin: what it received, and
  // what it answers that the demo server does not.
  async function peerLog() {
    assert(peer, "no peer server: run through api.test.mjs or api.webdriver.mjs");
    return (await fetch(`${peer}/log`, { cache: "no-store" })).json();
  }

  test("timeoutMs goes out as grpc-timeout: the time remaining, rounded down", async () => {
    const greeter = new GreeterClient(peer);
    const seen = (await peerLog()).length;
    const start = performance.now();
    await greeter.sayHello({}, { timeoutMs: 1500 });
    // 150 000 900 ms has 9 digits: it goes in whole seconds, 150000.9 - the
    // time to send it, rounded down (up or to the nearest would be 150001).
    await greeter.sayHello({}, { timeoutMs: 150_000_900 });
    const took = performance.now() - start;
    await greeter.sayHello({}, { deadline: new Date(Date.now() + 60_000) });
    await greeter.sayHello({});
    const calls = (await peerLog()).slice(seen);
    assert(calls.length === 4 && calls.every((c) => c.path === "/demo.v1.Greeter/SayHello"), JSON.stringify(calls.map((c) => c.path)));
    const [short, long, deadline, none] = calls.map((c) => c.headers["grpc-timeout"]);
    const ms = timeoutMs(short);
    assert(ms <= 1500 && ms >= 1500 - took, `timeoutMs 1500 went out as ${short} (${ms} ms; the call took ${took} ms)`);
    const seconds = timeoutMs(long);
    assert(long.endsWith("S") && seconds <= 150_000_900 && seconds >= 150_000_900 - took - 1000, `timeoutMs 150000900 went out as ${long} (the calls took ${took} ms)`);
    const left = timeoutMs(deadline);
    assert(left <= 60_000 && left > 50_000, `a deadline 60 s away went out as ${deadline}`);
    assert(none === undefined, `no deadline, yet grpc-timeout ${none}`);
  });

  test("a server's grpc-message, headers and trailers reach GrpcError.message and .metadata", async () => {
    for (const where of ["status", "status-only"]) {
      const error = await rejects(new GreeterClient(`${peer}/${where}`).sayHello({}));
      assert(error instanceof GrpcError && error.code === Code.FAILED_PRECONDITION, `${where}: ${error.codeName}: ${error.message}`);
      assert(error.message === "not yet: 50% done ✓", `${where}: the message ${JSON.stringify(error.message)}`);
      const metadata = error.metadata;
      assert(metadata.get("x-peer-header") === "h-1", `${where}: x-peer-header ${metadata.get("x-peer-header")}`);
      assert(metadata.get("x-peer-trailer") === "t-1" && metadata.get("x-peer-other") === "t-2", `${where}: trailers ${[...metadata]}`);
      assert(metadata.get("grpc-status") === "9", `${where}: grpc-status ${metadata.get("grpc-status")}`);
    }
    const paths = (await peerLog()).map((c) => c.path);
    assert(paths.includes("/status/demo.v1.Greeter/SayHello") && paths.includes("/status-only/demo.v1.Greeter/SayHello"), paths.join());
  });

  test("a CORS failure (another origin without CORS headers) is UNAVAILABLE", async () => {
    const error = await rejects(new GreeterClient(`${peer}/refuse`).sayHello({}));
    assert(error instanceof GrpcError && error.code === Code.UNAVAILABLE, `${error.codeName}: ${error.message}`);
    // The same server with CORS answers, so it was CORS, not the network.
    await new GreeterClient(peer).sayHello({});
    const paths = (await peerLog()).map((c) => c.path);
    assert(!paths.some((p) => p.startsWith("/refuse/")), `the refused call was sent: ${paths}`);
  });

  const results = [];
  for (const { name, fn } of tests) {
    try {
      await fn();
      results.push({ name });
    } catch (error) {
      // The message too: WebKit's stack does not repeat it.
      results.push({ name, error: error instanceof Error ? `${error.name}: ${error.message}\n${error.stack}` : String(error) });
    }
  }
  return results;
}
