// Reads the server's /metrics (Prometheus text) the way an outside check
// would: by series name and labels, nothing else.
import { until } from "./poll.mjs";

/** The series of one scrape, each as { name, labels, value }. */
export async function scrape(baseUrl) {
  const response = await fetch(new URL("/metrics", baseUrl));
  if (!response.ok) throw new Error(`GET /metrics answered ${response.status}`);
  return parse(await response.text());
}

export function parse(text) {
  const series = [];
  for (const line of text.split("\n")) {
    const match = /^([a-zA-Z_:][\w:]*)(?:\{(.*)\})?\s+(\S+)/.exec(line);
    if (!match) continue; // comments, # EOF, blank lines
    const labels = {};
    for (const [, key, value] of (match[2] ?? "").matchAll(/(\w+)="((?:[^"\\]|\\.)*)"/g)) {
      labels[key] = value;
    }
    series.push({ name: match[1], labels, value: Number(match[3]) });
  }
  return series;
}

/** The sum of the series named `name` whose labels include `labels`. */
export function value(series, name, labels) {
  return series
    .filter((s) => s.name === name && Object.entries(labels).every(([k, v]) => s.labels[k] === v))
    .reduce((sum, s) => sum + s.value, 0);
}

export const TIERS = ["frontend", "backend"];

/** One method's counters at each tier: { frontend: {...}, backend: {...} }. */
export async function methodStats(baseUrl, service, method) {
  const series = await scrape(baseUrl);
  const stats = {};
  for (const tier of TIERS) stats[tier] = callStats(series, { tier, grpc_service: service, grpc_method: method });
  return stats;
}

/** Whether `series` has any series named `name` whose labels include `labels`. */
export function present(series, name, labels) {
  return series.some((s) => s.name === name && Object.entries(labels).every(([k, v]) => s.labels[k] === v));
}

/**
 * The counters of the calls whose labels include `call`, in one scrape; a
 * counter with no series reads as 0 (a method not called yet has none) and
 * is named in `missing`, so that a check that needs it can tell.
 */
export function callStats(series, call) {
  const sources = {
    inFlight: ["grpc_server_in_flight", call],
    started: ["grpc_server_started_total", call],
    ok: ["grpc_server_handled_total", { ...call, grpc_code: "OK" }],
    cancelled: ["grpc_server_handled_total", { ...call, grpc_code: "Canceled" }],
    deadlineExceeded: ["grpc_server_handled_total", { ...call, grpc_code: "DeadlineExceeded" }],
    unavailable: ["grpc_server_handled_total", { ...call, grpc_code: "Unavailable" }],
  };
  const stats = { missing: [] };
  for (const [key, [name, labels]] of Object.entries(sources)) {
    stats[key] = value(series, name, labels);
    if (!present(series, name, labels)) stats.missing.push(key);
  }
  return stats;
}

/**
 * Waits until both tiers of `stats()` (e.g. `() => methodStats(...)`) are back
 * to 0 in flight with each counter in `added` grown by as much since `before`;
 * the in-flight series and those of counters that grow must be there (a
 * vanished series is not a 0).
 */
export async function settled(stats, before, added, { withinMs = 2_000 } = {}) {
  const needed = ["inFlight", ...Object.keys(added).filter((key) => added[key] > 0)];
  const done = (now) =>
    TIERS.every(
      (tier) =>
        needed.every((key) => !now[tier].missing.includes(key)) &&
        now[tier].inFlight === 0 &&
        Object.entries(added).every(([key, n]) => now[tier][key] === before[tier][key] + n),
    );
  await until("both tiers settled", stats, done, { withinMs, everyMs: 20 });
}
