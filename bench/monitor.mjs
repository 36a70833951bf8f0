// The tiers' in-flight counts as `cargo xtask bench` observes them for
// cancel→stop and deadline rows: a `Stats.Watch` stream at the server's
// fastest tick (1 ms) opened from Node (bench/stats.ts), on a connection of
// its own. The page's own Stats stream used to share the page's HTTP/2
// connection (and its main thread) with the calls being aborted; its
// snapshots then arrived in bursts and every stop was read late.
//
// One stream serves a whole transport's rows: a fetch aborted by Node's
// undici over HTTP/1.1 was seen to keep its connection, and the server its
// 1 ms stream, for seconds, so a stream per call left dozens of them running.
//
// Node stamps each snapshot on arrival with its clock; the page stamps t0
// with its own. `clockOffset` maps one onto the other the way NTP does: the
// page's clock read inside a round trip from Node, the shortest of several
// round trips kept, its half the uncertainty.

/** Milliseconds since the epoch, high resolution (Node's clock). */
export const now = () => performance.timeOrigin + performance.now();

export const TIERS = ["frontend", "backend"];
const LIMIT_MS = 10_000;

/** page clock − Node clock (ms), and how far off it may be (half the best round trip). */
export async function clockOffset(page, tries = 25) {
  let best = null;
  for (let i = 0; i < tries; i++) {
    const sent = now();
    const there = await page.evaluate(() => performance.timeOrigin + performance.now());
    const back = now();
    if (best === null || back - sent < best.rtt) best = { rtt: back - sent, offset: there - (sent + back) / 2 };
  }
  return { offset: best.offset, uncertainty: best.rtt / 2 };
}

export class Monitor {
  /** `client`: bench/stats.ts's `statsClient(base)`. */
  constructor(client) {
    this.ctl = new AbortController();
    // The snapshots of this stream, in order: { at (Node clock), g: { tier: in flight } }
    // (those older than a second before the last `idle()` dropped).
    this.history = [];
    // Every gap between two snapshots' arrivals (ms).
    this.gaps = [];
    this.waiters = new Set();
    this.error = null;
    this.ended = false;
    const stream = client.watch({ intervalMs: 1 }, { signal: this.ctl.signal });
    this.done = (async () => {
      try {
        for await (const snapshot of stream) {
          const at = now();
          const g = {};
          for (const t of snapshot.tiers) g[t.tier] = Number(t.inFlight);
          const entry = { at, g };
          const last = this.history.at(-1);
          if (last && this.gaps.length < 1_000_000) this.gaps.push(at - last.at);
          this.history.push(entry);
          for (const waiter of [...this.waiters]) waiter(entry);
        }
      } catch (e) {
        if (!this.ctl.signal.aborted) this.error = e;
      }
      this.ended = true;
    })();
  }

  /**
   * The first snapshot that arrived at or after `from` (Node clock) for
   * which `done(snapshot)` holds, fed in order (those already here first).
   */
  until(what, from, done) {
    for (const entry of this.history) if (entry.at >= from && done(entry)) return Promise.resolve(entry);
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => {
        this.waiters.delete(waiter);
        const state = `last snapshot ${JSON.stringify(this.history.at(-1)?.g)}, stream ${this.ended ? "ended" : "open"}`;
        reject(new Error(`timed out waiting for ${what} (${state})${this.error ? `: ${this.error}` : ""}`));
      }, LIMIT_MS);
      const waiter = (entry) => {
        if (!done(entry)) return;
        clearTimeout(timer);
        this.waiters.delete(waiter);
        resolve(entry);
      };
      this.waiters.add(waiter);
    });
  }

  idle() {
    const from = now();
    const keep = this.history.findIndex((e) => e.at >= from - 1000);
    this.history.splice(0, keep < 0 ? this.history.length : keep);
    return this.until("both tiers idle", from, ({ g }) => TIERS.every((t) => g[t] === 0));
  }

  busy() {
    return this.until("both tiers busy", now(), ({ g }) => TIERS.every((t) => g[t] >= 1));
  }

  /**
   * When each tier was first seen back at zero, in ms after `t0` (Node
   * clock; arrival of the snapshot, an upper bound). With `mustStart`, a tier
   * counts only once a snapshot after t0 has shown it busy.
   */
  async stops(t0, mustStart) {
    const started = { frontend: !mustStart, backend: !mustStart };
    const seen = {};
    await this.until("both tiers to stop", t0, ({ at, g }) => {
      for (const tier of TIERS) {
        if (!started[tier]) started[tier] = g[tier] >= 1;
        else if (seen[tier] === undefined && g[tier] === 0) seen[tier] = at - t0;
      }
      return TIERS.every((t) => seen[t] !== undefined);
    });
    return seen;
  }

  /** Ends the stream. */
  async stop() {
    this.ctl.abort();
    await this.done;
  }
}
