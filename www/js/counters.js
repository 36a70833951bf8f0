// The always-visible counters: the server's Stats.Watch stream, shown as one
// table with a column per tier (the frontend, then the backend it calls). The
// stream belongs to the page, not to a route, so switching routes keeps it;
// leaving the page ends it.
import { StatsClient } from "./api.js";
import { ConnectionState, describe } from "./connection.js";
import { el, setText } from "./dom.js";
import { formatCount, formatMs } from "./format.js";

/** The table's rows: [field, label, how to format it]. */
const ROWS = [
  ["inFlight", "In flight", formatCount],
  ["cancelled", "Cancelled", formatCount],
  ["deadlineExceeded", "Deadline exceeded", formatCount],
  ["started", "Started", formatCount],
  ["ok", "OK", formatCount],
  ["lastCancelToStopMs", "Cancel → stopped", (ms) => (ms > 0 ? formatMs(ms) : "–")],
];

export class Counters {
  /** @param {HTMLElement} root  where the table goes  @param {HTMLElement} state  connection status */
  constructor(root, state) {
    this.root = root;
    this.state = state;
    this.tiers = null; // the tier names the table has columns for
    this.cells = new Map(); // "tier.field" -> <td>
    this.latest = null;
    this.listeners = new Set();
  }

  /** Keeps the stream open (the runtime reconnects after failures) until the page is hidden. */
  start() {
    let controller = new AbortController();
    addEventListener("pagehide", () => controller.abort(new DOMException("page hidden", "AbortError")));
    addEventListener("pageshow", (event) => {
      if (!event.persisted) return;
      controller = new AbortController();
      this.#run(controller.signal);
    });
    this.#run(controller.signal);
  }

  /**
   * The first snapshot (this one or a later one) for which `predicate` holds,
   * or null after `timeoutMs` or when `signal` aborts.
   */
  when(predicate, { timeoutMs, signal }) {
    if (this.latest && predicate(this.latest)) return Promise.resolve(this.latest);
    return new Promise((resolve) => {
      const done = (snapshot) => {
        this.listeners.delete(listener);
        clearTimeout(timer);
        signal.removeEventListener("abort", onAbort);
        resolve(snapshot);
      };
      const listener = (snapshot) => predicate(snapshot) && done(snapshot);
      const onAbort = () => done(null);
      const timer = setTimeout(() => done(null), timeoutMs);
      signal.addEventListener("abort", onAbort);
      this.listeners.add(listener);
    });
  }

  async #run(signal) {
    const stats = new StatsClient(location.origin);
    const connection = new ConnectionState(this.state, "Live · updated every 250 ms");
    // Each snapshot is whole, so a new attempt simply asks again (no `from`);
    // it reconnects for as long as the page is shown.
    const options = {
      signal,
      idleTimeoutMs: 5000,
      resume: { initialBackoffMs: 500, maxBackoffMs: 5000 },
      onStateChange: connection.listener,
    };
    try {
      for await (const snapshot of stats.watch({ intervalMs: 250 }, options)) this.#show(snapshot);
      setText(this.state, "The server ended the stream.");
    } catch (error) {
      if (signal.aborted) return; // the page is going away: expected
      setText(this.state, `The stream failed: ${describe(error)}`);
    }
  }

  #show(snapshot) {
    this.latest = snapshot;
    const tiers = snapshot.tiers.map((t) => t.tier);
    if (tiers.join() !== this.tiers?.join()) this.#table(tiers);
    for (const tier of snapshot.tiers) {
      for (const [field, , format] of ROWS) {
        const cell = this.cells.get(`${tier.tier}.${field}`);
        const first = cell.textContent === "";
        if (setText(cell, format(tier[field])) && !first) flash(cell);
      }
    }
    for (const listener of [...this.listeners]) listener(snapshot);
  }

  /** One column per tier, one row per counter. */
  #table(tiers) {
    this.tiers = tiers;
    this.cells = new Map();
    const head = el("tr", "", el("th", "", ""));
    for (const tier of tiers) {
      const th = el("th", "num", tier[0].toUpperCase() + tier.slice(1));
      th.scope = "col";
      head.append(th);
    }
    const body = el("tbody");
    for (const [field, label] of ROWS) {
      const th = el("th", "", label);
      th.scope = "row";
      const row = el("tr", field, th);
      for (const tier of tiers) {
        const cell = el("td", "num");
        cell.dataset.tier = tier;
        cell.dataset.field = field;
        this.cells.set(`${tier}.${field}`, cell);
        row.append(cell);
      }
      body.append(row);
    }
    const caption = el("caption", "visually-hidden", "Server counters per tier");
    this.root.replaceChildren(el("table", "stats", caption, el("thead", "", head), body));
  }
}

/** Highlights a value that just changed (restarting the animation). */
function flash(node) {
  node.classList.remove("changed");
  void node.offsetWidth; // forces a reflow so the animation runs again
  node.classList.add("changed");
}
