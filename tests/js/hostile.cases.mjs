// The client against tests/hostile-server, whose replies are chosen byte
// sequences (the `x-case` header picks one): every call settles promptly
// with the right code, the server sees the fetches the client aborted, the
// next call works, and nothing escapes as an uncaught error in the page.
const tests = [];
const test = (name, fn) => tests.push({ name, fn });

function assert(condition, message) {
  if (!condition) throw new Error(message);
}

export async function run(base) {
  const { HostileClient, GrpcError, Code } = await import(`${base}/hostile/index.js`);
  const uncaught = [];
  addEventListener("error", (event) => uncaught.push(`error: ${event.message}`));
  addEventListener("unhandledrejection", (event) => uncaught.push(`unhandled rejection: ${event.reason}`));
  const client = new HostileClient(base);
  // The same server as another origin: CORS applies.
  const crossOrigin = base.replace("127.0.0.1", "localhost");

  // The outcome of one call answered by `which`, and how long it took; a
  // call that does not settle within 10 s is a failure, not a hung test.
  async function call(which, options = {}, on = client) {
    const started = performance.now();
    const headers = { "x-case": which, ...options.headers };
    let timer;
    const hung = new Promise((_, reject) => {
      timer = setTimeout(() => reject(new Error(`the call (${which}) did not settle within 10 s`)), 10_000);
    });
    try {
      const reply = await Promise.race([on.get({ text: "hi" }, { ...options, headers }), hung]);
      return { reply, ms: performance.now() - started };
    } catch (error) {
      return { error, ms: performance.now() - started };
    } finally {
      clearTimeout(timer);
    }
  }

  function expectError(outcome, code, text, withinMs = 2000) {
    const { error, reply, ms } = outcome;
    assert(error instanceof GrpcError, `expected a GrpcError, got ${error ?? JSON.stringify(reply)}`);
    assert(error.code === code, `expected code ${code}, got ${error.codeName}: ${error.message}`);
    if (text !== undefined) assert(error.message.includes(text), `the message: ${error.message}`);
    assert(ms < withinMs, `settled after ${Math.round(ms)} ms`);
    return error;
  }

  async function expectOk(which, options) {
    const { reply, error } = await call(which, options);
    assert(reply?.text === "ok" && reply.n === 7, `expected the reply, got ${error?.message ?? JSON.stringify(reply)}`);
  }

  // [requests that arrived, replies whose client went away] for a case.
  async function stats(which) {
    const text = await (await fetch(`${base}/stats`)).text();
    const line = text.split("\n").find((l) => l.startsWith(`${which} `));
    return line ? line.split(" ").slice(1).map(Number) : [0, 0];
  }

  async function serverSawDisconnect(which) {
    const until = performance.now() + 5000;
    while ((await stats(which))[1] < 1) {
      if (performance.now() > until) throw new Error(`the server did not see ${which}'s fetch aborted within 5 s`);
      await new Promise((resolve) => setTimeout(resolve, 25));
    }
  }

  test("a 0xFFFFFFFF length prefix: RESOURCE_EXHAUSTED at once, naming the size and the limit", async () => {
    expectError(
      await call("max-length"),
      Code.RESOURCE_EXHAUSTED,
      "a reply message of 4294967295 bytes is over the limit of 4194304 bytes (maxReceiveMessageBytes)",
    );
  });

  test("a 0xFFFFFFFF length prefix with no limit: INTERNAL when the body ends inside the frame", async () => {
    const outcome = await call("max-length", { maxReceiveMessageBytes: Infinity });
    expectError(outcome, Code.INTERNAL, "the response ended inside a frame");
  });

  test("a frame over the limit fails at its header, and the server sees the fetch aborted", async () => {
    // The server would take 1.6 s to send the 5 MiB.
    expectError(await call("over-limit"), Code.RESOURCE_EXHAUSTED, "5242880 bytes is over the limit of 4194304 bytes", 1000);
    await serverSawDisconnect("over-limit");
  });

  test("maxReceiveMessageBytes per call, per client, and the call's over the client's", async () => {
    expectError(
      await call("ok", { maxReceiveMessageBytes: 4 }),
      Code.RESOURCE_EXHAUSTED,
      "a reply message of 6 bytes is over the limit of 4 bytes (maxReceiveMessageBytes)",
    );
    const strict = new HostileClient(base, { maxReceiveMessageBytes: 4 });
    expectError(await call("ok", {}, strict), Code.RESOURCE_EXHAUSTED, "over the limit of 4 bytes");
    const { reply } = await call("ok", { maxReceiveMessageBytes: 6 }, strict);
    assert(reply?.text === "ok", "a call's own limit wins over the client's");
  });

  test("maxSendMessageBytes: an oversize request fails before anything is sent", async () => {
    expectError(
      await call("never-sent", { maxSendMessageBytes: 2 }),
      Code.RESOURCE_EXHAUSTED,
      "the request message of 4 bytes is over the limit of 2 bytes (maxSendMessageBytes)",
    );
    const strict = new HostileClient(base, { maxSendMessageBytes: 3 });
    expectError(await call("never-sent", {}, strict), Code.RESOURCE_EXHAUSTED, "over the limit of 3 bytes");
    await expectOk("ok", { maxSendMessageBytes: 4 });
    // The OK call above was answered after any earlier request would have arrived.
    const [requests] = await stats("never-sent");
    assert(requests === 0, `${requests} oversize requests reached the server`);
  });

  test("invalid limits are TypeErrors naming the option, and nothing is sent", async () => {
    for (const [option, value] of [
      ["maxReceiveMessageBytes", -1],
      ["maxReceiveMessageBytes", 1.5],
      ["maxSendMessageBytes", "10"],
      ["maxSendMessageBytes", NaN],
    ]) {
      const { error } = await call("bad-option", { [option]: value });
      assert(error instanceof TypeError, `${option}: ${value}: ${error}`);
      assert(error.message.startsWith(`CallOptions.${option} must be an integer >= 0`), error.message);
    }
    const { error } = await call("bad-option", {}, new HostileClient(base, { maxReceiveMessageBytes: -1 }));
    assert(error instanceof TypeError && error.message.includes("CallOptions.maxReceiveMessageBytes"), `a client's default: ${error}`);
    const [requests] = await stats("bad-option");
    assert(requests === 0, `${requests} requests with bad options reached the server`);
  });

  test("a stall mid-frame ends at the deadline, and the server sees the fetch aborted", async () => {
    const outcome = await call("stall", { timeoutMs: 300 });
    expectError(outcome, Code.DEADLINE_EXCEEDED, undefined, 2000);
    assert(outcome.ms >= 250, `ended after only ${Math.round(outcome.ms)} ms`);
    await serverSawDisconnect("stall");
  });

  test("a stall mid-frame ends when the signal aborts, and the server sees the fetch aborted", async () => {
    const [requests, gone] = await stats("stall");
    const controller = new AbortController();
    const outcome = call("stall", { signal: controller.signal });
    // Aborted once the server has the call, not after a fixed pause.
    const until = performance.now() + 5000;
    while ((await stats("stall"))[0] === requests) {
      assert(performance.now() < until, "the stalling call did not reach the server within 5 s");
      await new Promise((resolve) => setTimeout(resolve, 5));
    }
    const abortedAt = performance.now();
    controller.abort("enough");
    const { error } = await outcome;
    const afterAbort = { error, ms: performance.now() - abortedAt };
    assert(error?.cause === "enough", `cause ${error?.cause}`);
    expectError(afterAbort, Code.CANCELLED, undefined, 1000);
    const seen = performance.now() + 5000;
    while ((await stats("stall"))[1] === gone) {
      assert(performance.now() < seen, "the server did not see the stalled fetch aborted within 5 s");
      await new Promise((resolve) => setTimeout(resolve, 25));
    }
  });

  test("an unknown group field is skipped", async () => {
    await expectOk("group");
  });

  test("a group ended with another number: INTERNAL", async () => {
    expectError(await call("bad-group"), Code.INTERNAL, "a group ends with another group's number");
  });

  test("a truncated frame: INTERNAL", async () => {
    expectError(await call("truncated"), Code.INTERNAL, "the response ended inside a frame");
  });

  test("trailers that are not text: UNKNOWN (no grpc-status)", async () => {
    expectError(await call("bad-trailers"), Code.UNKNOWN);
  });

  test("an unknown grpc-status and a half-encoded grpc-message: UNKNOWN, the message as sent", async () => {
    const error = expectError(await call("odd-status"), Code.UNKNOWN);
    assert(error.message === "%zz✓", error.message);
  });

  test("a grpc-status-details-bin that is not base64: the status as sent, the details as sent in the metadata", async () => {
    // The JS API does not decode the details (tonic's client panics on
    // these: the Rust API ends such a call INTERNAL, tests/wasm/tests/hostile.rs).
    const error = expectError(await call("bad-details"), Code.NOT_FOUND);
    assert(error.message === "gone", error.message);
    const details = error.metadata.get("grpc-status-details-bin");
    assert(details === "!!!", `grpc-status-details-bin ${details}`);
  });

  test("the trailers end the call: what follows them is not read, and a body left open after them does not hold it", async () => {
    for (const which of ["after-trailers", "two-trailers", "trailers-then-stall"]) {
      const { reply, error, ms } = await call(which);
      assert(reply?.text === "ok" && ms < 1000, `${which}: ${error?.message ?? JSON.stringify(reply)} after ${Math.round(ms)} ms`);
      const seen = [];
      const started = performance.now();
      for await (const pong of client.watch({ text: "hi" }, { headers: { "x-case": which }, timeoutMs: 5000 })) {
        seen.push(pong.text);
      }
      const took = performance.now() - started;
      assert(seen.join() === "ok" && took < 1000, `${which}: stream messages ${seen.join()} after ${Math.round(took)} ms`);
    }
  });

  test("two replies to a unary call: INTERNAL, not the first of them", async () => {
    expectError(await call("two-messages"), Code.INTERNAL, "the server sent more than one reply");
  });

  test("unknown and compressed frames: INTERNAL", async () => {
    expectError(await call("unknown-flags"), Code.INTERNAL, "unknown flags 2");
    expectError(await call("compressed"), Code.INTERNAL, "compressed");
  });

  test("a broken connection mid-frame: UNAVAILABLE", async () => {
    expectError(await call("reset"), Code.UNAVAILABLE);
  });

  test("a stream: a message, then a 0xFFFFFFFF length: RESOURCE_EXHAUSTED", async () => {
    const seen = [];
    try {
      for await (const pong of client.watch({ text: "hi" }, { headers: { "x-case": "stream-then-max-length" } })) {
        seen.push(pong.text);
      }
      throw new Error("the stream ended");
    } catch (error) {
      assert(error instanceof GrpcError && error.code === Code.RESOURCE_EXHAUSTED, String(error));
    }
    assert(seen.join() === "ok", `messages ${seen.join()}`);
  });

  test("same origin, no grpc-status at all: INTERNAL, no CORS hint", async () => {
    const error = expectError(await call("no-status"), Code.INTERNAL, "the response ended without a grpc-status");
    assert(!error.message.includes("CORS"), error.message);
    const gone = expectError(await call("trailers-only"), Code.NOT_FOUND);
    assert(gone.message === "gone", gone.message);
    // Trailers-only: the status is in the headers, counted once in the metadata.
    assert(gone.metadata.get("grpc-status") === "5", `grpc-status ${gone.metadata.get("grpc-status")}`);
  });

  test("cross-origin, grpc-status not exposed: the error names the headers to expose", async () => {
    const hidden = new HostileClient(crossOrigin);
    expectError(
      await call("trailers-only", {}, hidden),
      Code.INTERNAL,
      "Access-Control-Expose-Headers: grpc-status, grpc-message, grpc-status-details-bin",
    );
    const { reply } = await call("ok", {}, hidden);
    assert(reply?.text === "ok", "a reply whose status is in the body still works cross-origin");
  });

  test("cross-origin, CORS refused: UNAVAILABLE, mentioning CORS", async () => {
    const refused = new HostileClient(`${crossOrigin}/refuse`);
    expectError(await call("ok", {}, refused), Code.UNAVAILABLE, "CORS");
  });

  const results = [];
  for (const { name, fn } of tests) {
    try {
      await fn();
      // Whatever the last reply was, the client still works.
      await expectOk("ok");
      results.push({ name });
    } catch (error) {
      results.push({ name, error: String(error?.stack ?? error) });
    }
  }
  // Each test's last call (a network round trip) let any uncaught error of
  // the calls before it surface as an event.
  results.push({ name: "no uncaught error in the page", error: uncaught.length ? uncaught.join("\n") : undefined });
  return results;
}
