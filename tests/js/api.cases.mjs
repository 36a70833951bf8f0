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

async function metrics(base) {
  const text = await (await fetch(`${base}/metrics`)).text();
  return (name, labels) =>
    text
      .split("\n")
      .filter((l) => l.startsWith(`${name}{`) && Object.entries(labels).every(([k, v]) => l.includes(`${k}="${v}"`)))
      .reduce((sum, l) => sum + Number(l.slice(l.lastIndexOf(" ") + 1)), 0);
}

// Both tiers idle for `service` within 250 ms, polling.
async function settled(base, service) {
  const start = performance.now();
  for (;;) {
    const m = await metrics(base);
    if (m("grpc_server_in_flight", { grpc_service: service }) === 0) return;
    assert(performance.now() - start < 250, `${service} still in flight 250 ms later`);
    await new Promise((r) => setTimeout(r, 10));
  }
}

export async function run(base) {
  const pkg = await import(`${base}/pkg/index.js`);
  const { GreeterClient, UpdatesClient, WorkClient, StatsClient, GrpcError, Code, navigationSignal } = pkg;

  // First, before anything loads the wasm: calls need no init().
  test("the first call loads the package by itself; init() stays harmless", async () => {
    const reply = await new GreeterClient(base).sayHello({ name: "first" });
    assert(reply.message.includes("first"), reply.message);
    await pkg.default();
    await pkg.default();
  });

  test("exports the public names", () => {
    for (const [name, value] of Object.entries({ GreeterClient, UpdatesClient, WorkClient, StatsClient, GrpcError, navigationSignal })) {
      assert(typeof value === "function", `${name} is ${typeof value}`);
    }
    assert(Code.OK === 0 && Code.CANCELLED === 1 && Code.DEADLINE_EXCEEDED === 4 && Code.UNAUTHENTICATED === 16, "Code numbers");
  });

  test("sayHello resolves with a plain camelCase object", async () => {
    const reply = await new GreeterClient(base).sayHello({ name: "Ada", delayMs: 1 });
    assert(Object.getPrototypeOf(reply) === Object.prototype, "a plain object");
    assert(reply.message.includes("Ada"), reply.message);
  });

  test("GrpcError is a real Error subclass with code, codeName, metadata and cause", async () => {
    const controller = new AbortController();
    const reason = new Error("user left");
    setTimeout(() => controller.abort(reason), 100);
    const error = await rejects(new GreeterClient(base).sayHello({ name: "x", delayMs: 5000 }, { signal: controller.signal }));
    assert(error instanceof GrpcError && error instanceof Error, "instanceof GrpcError and Error");
    assert(error.name === "GrpcError" && error.code === Code.CANCELLED && error.codeName === "CANCELLED", `${error.name} ${error.code} ${error.codeName}`);
    assert(error.cause === reason, "cause is the abort reason");
    assert(error.metadata instanceof Headers, "metadata is Headers");
    assert(typeof error.stack === "string" && typeof error.message === "string", "stack and message");
    await settled(base, "demo.v1.Greeter");
  });

  test("for await + break cancels the stream without an error", async () => {
    const seen = [];
    for await (const update of new UpdatesClient(base).watch({ topic: "t", intervalMs: 20 })) {
      seen.push(update.seq);
      if (seen.length === 3) break;
    }
    assert(seen.join() === "1,2,3", `seq ${seen}`);
    await settled(base, "demo.v1.Updates");
  });

  test("return() during a pending next() ends both quietly and aborts the fetch", async () => {
    const stream = new UpdatesClient(base).watch({ intervalMs: 60_000 });
    assert(!(await stream.next()).done, "the first update comes at once");
    const first = stream.next(); // the second is a minute away
    await new Promise((r) => setTimeout(r, 100));
    const done = await stream.return();
    const pending = await first;
    assert(done.done && pending.done && pending.value === undefined, JSON.stringify({ done, pending }));
    await settled(base, "demo.v1.Updates");
  });

  test("a finite stream ends the loop; 64-bit fields are BigInts", async () => {
    const updates = [];
    for await (const u of new UpdatesClient(base).watch({ topic: "news", intervalMs: 1, limit: 2 })) updates.push(u);
    assert(updates.length === 2, `${updates.length} updates`);
    assert(typeof updates[0].seq === "bigint" && typeof updates[0].sentAtMs === "bigint", "BigInts");
    assert(updates[0].seq === 1n && updates[1].seq >= 2n, `seq ${updates.map((u) => u.seq)}`);
    assert(updates[0].topic === "news", updates[0].topic);
  });

  test("a stream's signal aborting makes the loop throw CANCELLED", async () => {
    const controller = new AbortController();
    const error = await rejects((async () => {
      for await (const _ of new UpdatesClient(base).watch({ intervalMs: 20 }, { signal: controller.signal })) controller.abort("stop");
    })());
    assert(error instanceof GrpcError && error.code === Code.CANCELLED && error.cause === "stop", String(error));
  });

  test("64-bit inputs take a number, a BigInt or a decimal string", async () => {
    const work = new WorkClient(base);
    for (const n of [100, 100n, "100"]) {
      const { result } = await work.compute({ n });
      assert(result === 25n, `primes below ${n}: ${result}`);
    }
  });

  test("bad 64-bit inputs are TypeErrors naming the field", async () => {
    const work = new WorkClient(base);
    for (const n of [-1, 1.5, 2 ** 53, "12abc", -1n, {}]) {
      const error = await rejects(work.compute({ n }));
      assert(error instanceof TypeError && error.message.startsWith("ComputeRequest.n: expected "), `${String(n)}: ${error}`);
    }
  });

  test("invalid options are TypeErrors naming the option, for calls and streams", async () => {
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
  });

  test("client defaults merge with call options: the earlier deadline wins, both signals apply", async () => {
    const start = performance.now();
    const short = new GreeterClient(base, { timeoutMs: 200 });
    const error = await rejects(short.sayHello({ delayMs: 5000 }, { timeoutMs: 5000 }));
    const took = performance.now() - start;
    assert(error.code === Code.DEADLINE_EXCEEDED && took < 500, `${error.codeName} after ${took} ms`);
    const clientWide = new AbortController();
    const greeter = new GreeterClient(base, { signal: clientWide.signal, headers: { "x-demo": "1" } });
    setTimeout(() => clientWide.abort("shutdown"), 100);
    const cancelled = await rejects(greeter.sayHello({ delayMs: 5000 }, { signal: new AbortController().signal, headers: new Headers({ "x-call": "2" }) }));
    assert(cancelled.code === Code.CANCELLED && cancelled.cause === "shutdown", `${cancelled.codeName} ${cancelled.cause}`);
  });

  test("AbortSignal.timeout() is a deadline", async () => {
    const error = await rejects(new GreeterClient(base).sayHello({ delayMs: 5000 }, { signal: AbortSignal.timeout(100) }));
    assert(error.code === Code.DEADLINE_EXCEEDED && error.cause?.name === "TimeoutError", `${error.codeName}`);
  });

  test("StatsClient.watch yields both tiers' counters", async () => {
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
  });

  test("onHeader and onTrailer see a successful call's metadata, for calls and streams", async () => {
    const seen = [];
    const options = { onHeader: (h) => seen.push(["header", h]), onTrailer: (t) => seen.push(["trailer", t]) };
    await new GreeterClient(base).sayHello({ name: "m" }, options);
    for await (const _ of new UpdatesClient(base).watch({ intervalMs: 1, limit: 2 }, options));
    assert(seen.map(([k]) => k).join() === "header,trailer,header,trailer", seen.map(([k]) => k).join());
    assert(seen.every(([, h]) => h instanceof Headers), "Headers");
    assert(seen[0][1].get("content-type").startsWith("application/grpc-web"), seen[0][1].get("content-type"));
  });

  test("navigationSignal() aborts at the next navigation", async () => {
    const signal = navigationSignal();
    assert(signal instanceof AbortSignal && !signal.aborted, "a fresh, live signal");
    location.hash = `#nav-${Date.now()}`;
    await new Promise((r) => setTimeout(r, 50));
    assert(signal.aborted && signal.reason instanceof DOMException && signal.reason.name === "AbortError", "aborted by the hash change");
    assert(!navigationSignal().aborted, "each call gives a new signal");
  });

  const results = [];
  for (const { name, fn } of tests) {
    try {
      await fn();
      results.push({ name });
    } catch (error) {
      results.push({ name, error: `${error?.stack ?? error}` });
    }
  }
  return results;
}
