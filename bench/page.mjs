// The page side of `cargo xtask bench`: our package (/pkg/, served by the
// demo server) and the Connect-ES bundle (/bench/connect.js) in one page,
// against the same server. Every time is the page's own clock
// (performance.now()). cancel→stop and deadline rows are driven from Node
// (begin/abort/beginDeadline/settled below), which watches the tiers on a
// connection of its own (bench/monitor.mjs); cancelToStop and deadline, with
// the in-page Monitor (a Stats.Watch stream on the page's own connection),
// are the method before issue 17, kept for `--observer page`. The servers'
// own cancel-to-stop histogram comes from /metrics, scraped before and after.
import * as ours from "/pkg/index.js";
import { connectClients } from "/bench/connect.js";
import { quantile } from "/bench/quantile.mjs";

export { quantile };

const base = location.origin;

export const clients = {
  ours: {
    greeter: new ours.GreeterClient(base),
    updates: new ours.UpdatesClient(base),
    work: new ours.WorkClient(base),
  },
  connect: connectClients(base),
};

/** Loads our runtime's wasm now, while bench/run.mjs still serves /pkg/ (it then stops intercepting). */
export async function load() {
  await ours.default();
}

/** Passed to every call of the listener phase and never aborted. */
export const longLived = new AbortController();

const METHOD = { unary: "demo.v1.Greeter/SayHello", stream: "demo.v1.Updates/Watch", compute: "demo.v1.Work/Compute" };
const BIG_N = 1_000_000_000_000n; // the server's MAX_N: minutes of work
const POLL_LIMIT_MS = 10_000;

export function summary(values) {
  return {
    n: values.length,
    p50: quantile(values, 0.5),
    p95: quantile(values, 0.95),
    p99: quantile(values, 0.99),
    max: quantile(values, 1),
  };
}

async function metricsText() {
  const response = await fetch("/metrics", { cache: "no-store" });
  if (!response.ok) throw new Error(`GET /metrics answered ${response.status}`);
  return response.text();
}

function label(labels, key) {
  return new RegExp(`${key}="([^"]*)"`).exec(labels)?.[1];
}

/** Cancel-to-stop histogram buckets by "tier/service/method": { le: cumulative count }. */
export async function histograms() {
  const out = {};
  const text = await metricsText();
  for (const m of text.matchAll(/^grpc_server_cancel_to_stop_seconds_bucket\{([^}]*)\} (\S+)/gm)) {
    // By service too: Stats.Watch (the monitor's own streams) is also "Watch".
    const key = `${label(m[1], "tier")}/${label(m[1], "grpc_service")}/${label(m[1], "grpc_method")}`;
    (out[key] ??= {})[label(m[1], "le")] = Number(m[2]);
  }
  return out;
}

const TIERS = ["frontend", "backend"];

/**
 * The servers' own live counters, pushed: a `Stats.Watch` stream (through our
 * client) at the server's fastest tick, 1 ms. The backend samples its tier
 * every tick and the frontend adds its own as it relays each snapshot, so one
 * snapshot holds both tiers' in-flight counts at nearly one instant; the page
 * stamps it on arrival. `Stats` calls are not counted in the snapshot.
 */
class Monitor {
  constructor() {
    this.ctl = new AbortController();
    this.waiters = new Set();
    this.gaps = [];
    this.error = null;
    this.ended = false;
    this.latest = null;
    let last = null;
    const stats = new ours.StatsClient(base).watch({ intervalMs: 1 }, { signal: this.ctl.signal });
    this.done = (async () => {
      try {
        for await (const snapshot of stats) {
          const at = performance.now();
          if (last !== null && this.gaps.length < 1_000_000) this.gaps.push(at - last);
          last = at;
          const g = {};
          for (const t of snapshot.tiers) g[t.tier] = Number(t.inFlight);
          this.latest = g;
          for (const waiter of [...this.waiters]) waiter({ at, g });
        }
      } catch (e) {
        if (!this.ctl.signal.aborted) this.error = e;
      }
      this.ended = true;
    })();
  }

  /** The first snapshot from now on for which `done(snapshot)` holds; bounded by POLL_LIMIT_MS. */
  until(what, done) {
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => {
        this.waiters.delete(waiter);
        const state = `last snapshot ${JSON.stringify(this.latest)}, stream ${this.ended ? "ended" : "open"}`;
        reject(new Error(`timed out waiting for ${what} (${state})${this.error ? `: ${this.error}` : ""}`));
      }, POLL_LIMIT_MS);
      const waiter = (snapshot) => {
        if (!done(snapshot)) return;
        clearTimeout(timer);
        this.waiters.delete(waiter);
        resolve(snapshot);
      };
      this.waiters.add(waiter);
    });
  }

  idle() {
    return this.until("both tiers idle", ({ g }) => TIERS.every((t) => g[t] === 0));
  }

  busy() {
    return this.until("both tiers busy", ({ g }) => TIERS.every((t) => g[t] >= 1));
  }

  /**
   * When each tier was first seen back at zero, in ms after `t0` (arrival of
   * the snapshot: an upper bound). With `mustStart`, a tier counts only once
   * a snapshot after t0 has shown it busy.
   */
  async stops(t0, mustStart) {
    const started = { frontend: !mustStart, backend: !mustStart };
    const seen = {};
    await this.until("both tiers to stop", ({ at, g }) => {
      for (const tier of TIERS) {
        if (!started[tier]) started[tier] = g[tier] >= 1;
        else if (seen[tier] === undefined && g[tier] === 0) seen[tier] = at - t0;
      }
      return TIERS.every((t) => seen[t] !== undefined);
    });
    return seen;
  }

  /** Ends the stream; the gaps between snapshots' arrivals (ms). */
  async stop() {
    this.ctl.abort();
    await this.done;
    return this.gaps;
  }
}

/** Starts a call of `kind` on `signal`; resolves `started` once the call is mid-way. */
function startCall(c, kind, signal, extra = {}) {
  const opts = { signal, ...extra };
  if (kind === "unary") {
    return { done: c.greeter.sayHello({ name: "bench", delayMs: 600_000 }, opts), first: null };
  }
  if (kind === "compute") {
    return { done: c.work.compute({ n: BIG_N }, opts), first: null };
  }
  let gotFirst;
  const first = new Promise((resolve) => (gotFirst = resolve));
  const done = (async () => {
    let count = 0;
    for await (const _ of c.updates.watch({ topic: "bench", intervalMs: 5, limit: 0 }, opts)) {
      if (++count === 1) gotFirst();
    }
    throw new Error("the endless stream ended");
  })();
  return { done, first };
}

/** The error's gRPC code as a number, whichever client threw it. */
function codeOf(error) {
  return typeof error?.code === "number" ? error.code : null;
}

/**
 * `count` calls, one at a time, each watched by a fresh `Stats` monitor from
 * both tiers idle: `start(monitor, track)` starts one (handing its promise to
 * `track`, which stamps the rejection) and returns `{ t0, settled }`; then
 * the time from t0 to the rejection and to each tier's stop, less `offsetMs`.
 * `mustStart`: as in `Monitor.stops`. With the servers' own histogram for
 * `method` over the same calls.
 */
async function stopsPerCall({ count, method, mustStart, offsetMs = 0, start }) {
  const before = await histograms();
  const rejected = [];
  const frontend = [];
  const backend = [];
  const codes = {};
  const gaps = [];
  // Calls whose stop no snapshot showed within the bound (reported, not hidden).
  const lost = [];
  for (let i = 0; i < count; i++) {
    // A fresh Stats stream per call: no one stream has to last the whole run.
    const monitor = new Monitor();
    await monitor.idle();
    let rejectedAt;
    const track = (done, ifResolved) =>
      done.then(
        () => {
          throw new Error(ifResolved);
        },
        (e) => {
          rejectedAt = performance.now();
          codes[codeOf(e)] = (codes[codeOf(e)] ?? 0) + 1;
        },
      );
    const { t0, settled } = await start(monitor, track);
    const stops = await monitor.stops(t0, mustStart).catch((e) => e);
    await settled;
    gaps.push(...(await monitor.stop()));
    rejected.push(rejectedAt - t0 - offsetMs);
    if (stops instanceof Error) {
      lost.push(String(stops.message));
      continue;
    }
    frontend.push(stops.frontend - offsetMs);
    backend.push(stops.backend - offsetMs);
  }
  return {
    codes,
    rejected: summary(rejected),
    frontend: summary(frontend),
    backend: summary(backend),
    snapshotGaps: summary(gaps),
    lost,
    serverHistogram: histogramDelta(before, await histograms(), method),
  };
}

/**
 * cancel→stop: `count` calls of `kind`, each aborted once a snapshot shows
 * both tiers busy (streams: after the first message too); per call,
 * abort→rejection in the page and abort→each tier back at zero.
 */
export async function cancelToStop({ client, kind, count }) {
  const c = clients[client];
  const measured = await stopsPerCall({
    count,
    method: METHOD[kind],
    mustStart: false,
    start: async (monitor, track) => {
      const ctl = new AbortController();
      const call = startCall(c, kind, ctl.signal);
      const settled = track(call.done, `${kind} call ended without error`);
      if (call.first) await call.first;
      await monitor.busy();
      const t0 = performance.now();
      ctl.abort();
      return { t0, settled };
    },
  });
  return { client, kind, ...measured };
}

/** Per tier, the quantiles of what the server itself measured (bucket upper bounds, ms). */
export function histogramDelta(before, after, method) {
  const out = {};
  for (const tier of ["frontend", "backend"]) {
    const key = `${tier}/${method}`;
    const a = after[key] ?? {};
    const b = before[key] ?? {};
    const bound = (le) => (le === "+Inf" ? Infinity : Number(le));
    const les = Object.keys(a).sort((x, y) => bound(x) - bound(y));
    const cum = les.map((le) => [le, a[le] - (b[le] ?? 0)]);
    const total = cum.length ? cum[cum.length - 1][1] : 0;
    const at = (p) => {
      if (total === 0) return null;
      const hit = cum.find(([, n]) => n >= p * total) ?? cum[cum.length - 1];
      return bound(hit[0]) * 1000;
    };
    out[tier] = { n: total, p50: at(0.5), p95: at(0.95), p99: at(0.99) };
  }
  return out;
}
/**
 * Deadline precision: SayHello that would take `ms` + 5 s, with `timeoutMs`
 * = `ms`. Rejection minus deadline (page clock), and each tier's stop minus
 * the deadline as the page set it (the first snapshot, after one that showed
 * the call, with the tier back at zero).
 */
export async function deadline({ client, ms, count }) {
  const c = clients[client];
  const measured = await stopsPerCall({
    count,
    method: METHOD.unary,
    mustStart: true,
    offsetMs: ms,
    start: async (_monitor, track) => {
      const t0 = performance.now();
      const call = c.greeter.sayHello({ name: "bench", delayMs: ms + 5000 }, { timeoutMs: ms });
      return { t0, settled: track(call, "the call outlived its deadline") };
    },
  });
  return { client, ms, ...measured };
}

// Calls driven one step at a time from Node (bench/run.mjs), which watches
// the tiers itself (bench/monitor.mjs). Times are the page's clock as epoch
// milliseconds (timeOrigin + now()), which run.mjs maps onto Node's.
const epoch = () => performance.timeOrigin + performance.now();
const calls = new Map();
let lastId = 0;

function keep(done, begin, extra = {}) {
  const id = ++lastId;
  const settled = done.then(
    () => ({ resolved: true, begin }),
    (e) => ({ rejectedAt: epoch(), code: codeOf(e), begin }),
  );
  calls.set(id, { settled, ...extra });
  return id;
}

/** Starts a call of `kind` with its own AbortController; resolves once it is mid-way (a stream: its first message). */
export async function begin({ client, kind }) {
  const ctl = new AbortController();
  const begin = epoch();
  const call = startCall(clients[client], kind, ctl.signal);
  const id = keep(call.done, begin, { ctl });
  if (call.first) await call.first;
  return id;
}

/** Aborts call `id`; t0, stamped just before `abort()`. */
export function abort(id) {
  const { ctl } = calls.get(id);
  const t0 = epoch();
  ctl.abort();
  return t0;
}

/** SayHello that would take `ms` + 5 s, with `timeoutMs` = `ms`; t0 just before the call. */
export function beginDeadline({ client, ms }) {
  const t0 = epoch();
  const call = clients[client].greeter.sayHello({ name: "bench", delayMs: ms + 5000 }, { timeoutMs: ms });
  return { id: keep(call, t0), t0 };
}

/** How call `id` ended: `{ rejectedAt, code }` (page clock) or `{ resolved: true }`; with `begin`, when it was started. */
export async function settled(id) {
  const result = await calls.get(id).settled;
  calls.delete(id);
  return result;
}

/**
 * The server's wall clock (its stop log's `now_us`, bench/server-clock.mjs)
 * − this page's epoch clock, in ms, read inside this page's own fetch round
 * trip, the shortest of `tries` kept; its uncertainty is half that trip.
 */
export async function serverClockOffset(tries = 10) {
  let best = null;
  for (let i = 0; i < tries; i++) {
    const sent = epoch();
    const response = await fetch("/stops?after=9007199254740991", { cache: "no-store" });
    if (!response.ok) throw new Error(`GET /stops answered ${response.status}`);
    const { now_us } = await response.json();
    const back = epoch();
    if (best === null || back - sent < best.rtt) best = { rtt: back - sent, offset: now_us / 1000 - (sent + back) / 2 };
  }
  return { offset: best.offset, uncertainty: best.rtt / 2 };
}

/** `n` sequential unary calls; each call's time (ms). */
export async function unary({ client, n }) {
  const c = clients[client];
  const times = [];
  for (let i = 0; i < n; i++) {
    const t = performance.now();
    await c.greeter.sayHello({ name: "bench", delayMs: 0 });
    times.push(performance.now() - t);
  }
  return times;
}

/** `total` unary calls, `concurrency` at a time; calls per second. */
export async function throughput({ client, total, concurrency }) {
  const c = clients[client];
  let next = 0;
  const t = performance.now();
  await Promise.all(
    Array.from({ length: concurrency }, async () => {
      while (next < total) {
        next++;
        await c.greeter.sayHello({ name: "bench", delayMs: 0 });
      }
    }),
  );
  return (total / (performance.now() - t)) * 1000;
}

/** One stream of `limit` updates at the server's fastest tick (1 ms); messages per second. */
export async function stream({ client, limit }) {
  const c = clients[client];
  let count = 0;
  const t = performance.now();
  for await (const _ of c.updates.watch({ topic: "bench", intervalMs: 1, limit })) count++;
  if (count !== limit) throw new Error(`got ${count} of ${limit} updates`);
  return (count / (performance.now() - t)) * 1000;
}

/**
 * `n` unary calls of `c` that the server would hold for minutes, all
 * aborted in one task `waitMs` after they start; ms from the first
 * `abort()` to the last rejection (every one CANCELLED).
 */
async function abortTogether(c, n, waitMs) {
  const ctls = Array.from({ length: n }, () => new AbortController());
  const calls = ctls.map((ctl) =>
    c.greeter.sayHello({ name: "bench", delayMs: 600_000 }, { signal: ctl.signal }).then(
      () => "ok",
      (e) => codeOf(e),
    ),
  );
  await new Promise((resolve) => setTimeout(resolve, waitMs));
  const t = performance.now();
  for (const ctl of ctls) ctl.abort();
  const codes = await Promise.all(calls);
  const ms = performance.now() - t;
  if (codes.some((code) => code !== 1)) throw new Error(`an aborted call ended ${codes.find((x) => x !== 1)}`);
  return ms;
}

/**
 * The page's own work per abort: `n` calls aborted together once sent (or
 * queued behind the connection limit). Mostly each client's abort and
 * rejection path, as the network's part is only the fetch's own abort.
 */
export function abortBurst({ client, n }) {
  return abortTogether(clients[client], n, 100);
}

/** `count` unary calls aborted mid-flight, `batch` at a time (one task after they start). */
export async function abortMany({ client, count, batch = 32 }) {
  for (let done = 0; done < count; ) {
    const n = Math.min(batch, count - done);
    await abortTogether(clients[client], n, 0);
    done += n;
  }
}

/**
 * `ok` calls that succeed and `expired` calls that miss a 1 ms deadline, all
 * given `longLived.signal`; the listeners left on it are then counted by CDP.
 */
export async function listenerPhase({ client, ok, expired }) {
  const c = clients[client];
  const signal = longLived.signal;
  for (let i = 0; i < ok; i++) await c.greeter.sayHello({ name: "bench", delayMs: 0 }, { signal });
  for (let i = 0; i < expired; i++) {
    const code = await c.greeter.sayHello({ name: "bench", delayMs: 1000 }, { signal, timeoutMs: 1 }).then(
      () => "ok",
      (e) => codeOf(e),
    );
    if (code !== 4) throw new Error(`a call past its deadline ended ${code}`);
  }
}

/** Our runtime's wasm linear memory, in bytes (the runtime's internal view of it). */
export async function wasmMemoryBytes() {
  const runtime = await import("/pkg/runtime/index.js");
  await runtime.default();
  return runtime.wasmMemoryBytes();
}
