// cancel→stop and deadline stops per call from the server's own clock
// (issue 17): the demo server logs when each call's work stopped at each
// tier, on its wall clock (server/src/stop_log.rs, `GET /stops`), and the
// bench maps the page's t0 onto that clock. No observer's latency is in
// these figures, unlike the Stats snapshots' (bench/monitor.mjs), which
// stay beside them as the view from outside.
//
// Clocks: page → Node (monitor.mjs's clockOffset, through CDP) and Node →
// server (here: `/stops`' `now_us` read inside a round trip from Node, the
// shortest of several kept), both NTP-style, so the mapping's error is at
// most the sum of the two half round trips. Calibrated before and after each
// row and interpolated in between, so a drift of one clock against the other
// during the row is followed; the row reports the bound and the drift, and
// cross-checks the two-hop mapping against one the page makes itself
// (page → server over its own fetch): the two must agree within the sum of
// their bounds.
//
// Matching: calls run one at a time, each begun once both tiers are idle;
// a tier's entry for the row's method belongs to call i when it started
// (server clock) in [begin_i − bound, begin_{i+1} − bound). None there is a
// lost call, more than one an ambiguous one: both reported, never a 0.
import { clockOffset, now } from "./monitor.mjs";

const TIERS = ["frontend", "backend"];
const NONE_AFTER = "9007199254740991"; // a sequence number past any: no entries, just the clock

async function get(base, after) {
  const response = await fetch(`${base}/stops?after=${after}`, { cache: "no-store" });
  if (!response.ok) throw new Error(`GET ${base}/stops answered ${response.status}: ${await response.text()}`);
  return response.json();
}

/** server clock − Node clock (ms), its uncertainty (half the best round trip), and the log's last sequence number. */
export async function serverOffset(base, tries = 25) {
  let best = null;
  let lastSeq = 0;
  for (let i = 0; i < tries; i++) {
    const sent = now();
    const body = await get(base, NONE_AFTER);
    const back = now();
    lastSeq = body.last_seq;
    if (best === null || back - sent < best.rtt) best = { rtt: back - sent, offset: body.now_us / 1000 - (sent + back) / 2 };
  }
  return { offset: best.offset, uncertainty: best.rtt / 2, lastSeq };
}

/** One calibration: server − page (ms), its bound, when (page clock), and its page → Node hop. */
async function calibrate(page, base) {
  const pageToNode = await clockOffset(page); // page − Node
  const nodeToServer = await serverOffset(base); // server − Node
  // The page's own view (page → server), as a cross-check of the two hops.
  const direct = await page.evaluate(() => window.__bench.serverClockOffset());
  return {
    at: now() + pageToNode.offset,
    offset: nodeToServer.offset - pageToNode.offset,
    bound: pageToNode.uncertainty + nodeToServer.uncertainty,
    direct,
    lastSeq: nodeToServer.lastSeq,
    pageToNode,
  };
}

/** Starts a row: the first calibration and where the log stands. */
export async function beginRow(page, base) {
  return { base, before: await calibrate(page, base) };
}

/**
 * Ends a row: calibrates again, reads the log's entries since the row
 * began and matches them to `calls` (`{ begin, t0, offsetMs }`, page clock,
 * in order; t0 + offsetMs is the moment the work should stop from: the
 * abort, or the deadline). Per tier: `t0 + offsetMs → stopped` per call
 * (server clock), and `→ the server saw it` (its stop less its own
 * cancel-to-stop). `earliestMs`: the earliest a stop can be, causally,
 * relative to t0 + offsetMs (0 after an abort); a stop mapped earlier than
 * that by more than the mapping's bound means the mapping is wrong.
 */
export async function endRow(page, row, calls, method, earliestMs = 0) {
  const after = await calibrate(page, row.base);
  const { before } = row;
  // The observer saw the last call stop an instant before the log had it,
  // at worst (the tiers' counters and the log are hooks of one drop).
  let body = await get(row.base, before.lastSeq);
  for (const waitUntil = now() + 1000; now() < waitUntil; body = await get(row.base, before.lastSeq)) {
    if (TIERS.every((tier) => body.entries.filter((e) => e.tier === tier && e.method === method).length >= calls.length)) break;
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
  const problems = [];
  if (body.entries.length && body.entries[0].seq !== before.lastSeq + 1) {
    problems.push(`the log overwrote entries ${before.lastSeq + 1}..${body.entries[0].seq - 1} (more than its capacity during the row)`);
  }
  // Linear between the two calibrations (the clocks' drift over the row).
  const slope = after.at > before.at ? (after.offset - before.offset) / (after.at - before.at) : 0;
  const toServer = (t) => t + before.offset + slope * (t - before.at);
  const bound = Math.max(before.bound, after.bound);
  const mapping = {
    bound,
    drift: after.offset - before.offset,
    seconds: (after.at - before.at) / 1000,
    // Two hops vs the page's own fetch: agree within their bounds, or the mapping is wrong.
    directCheck: [before, after].map((c) => ({
      twoHop: c.offset,
      direct: c.direct.offset,
      difference: c.direct.offset - c.offset,
      within: c.bound + c.direct.uncertainty,
    })),
  };
  mapping.consistent = mapping.directCheck.every((d) => Math.abs(d.difference) <= d.within);
  // Every call's figures by tier (null: lost), to look into a row's tail.
  const perCall = calls.map(() => ({}));
  // Lost calls by index, so that `ofCalls` can give each client its own.
  const lostCalls = [];
  const out = { mapping, stray: 0, perCall };
  for (const tier of TIERS) {
    const entries = body.entries.filter((e) => e.tier === tier && e.method === method).sort((a, b) => a.start_us - b.start_us);
    const used = new Set();
    const stopped = [];
    const seen = [];
    calls.forEach((call, i) => {
      const from = toServer(call.begin) - bound;
      const to = i + 1 < calls.length ? toServer(calls[i + 1].begin) - bound : Infinity;
      const mine = entries.filter((e) => e.start_us / 1000 >= from && e.start_us / 1000 < to);
      if (mine.length !== 1) {
        perCall[i][tier] = null;
        const why = mine.length ? "ambiguous" : "it never reached the tier, or its stop was not logged";
        lostCalls.push({ index: i, why: `${tier} call ${i}: ${mine.length} entries of ${method} started in its window (${why})` });
        return;
      }
      const [e] = mine;
      used.add(e);
      const t0 = toServer(call.t0 + call.offsetMs);
      const stop = e.stop_us / 1000 - t0;
      const sawIt = e.cancel_to_stop_us === null ? null : (e.stop_us - e.cancel_to_stop_us) / 1000 - t0;
      stopped.push(stop);
      if (sawIt !== null) seen.push(sawIt);
      const us = (x) => (x === null ? null : Math.round(x * 1000) / 1000);
      perCall[i][tier] = { stop: us(stop), sawIt: us(sawIt), code: e.code };
    });
    out.stray += entries.length - used.size;
    out[tier] = stopped;
    out[`${tier}Seen`] = seen;
  }
  Object.assign(out, early(out, earliestMs, bound), lostOf(lostCalls, problems));
  return out;
}

/** A result's lost calls and the log's own problems, kept apart and as one list of texts. */
function lostOf(lostCalls, problems) {
  return { lostCalls, problems, lost: [...lostCalls.map((l) => l.why), ...problems] };
}

/**
 * The stops before their t0 (as measured, never clamped), and those before
 * the earliest they could be by more than the bound: then the mapping is
 * wrong.
 */
function early(stops, earliestMs, bound) {
  const all = [...stops.frontend, ...stops.backend];
  return {
    negative: all.filter((x) => x < 0).length,
    min: all.length ? Math.min(...all) : null,
    earliest: earliestMs,
    beyondBound: all.filter((x) => x < earliestMs - bound).length,
  };
}

/**
 * The part of a row's result (`endRow`'s) that belongs to the calls at
 * `indices` (one client's, in a row whose clients took turns): their stops
 * and lost calls; the mapping, the strays and the log's own problems are
 * the row's.
 */
export function ofCalls(row, indices) {
  const mine = new Set(indices);
  const perCall = indices.map((i) => row.perCall[i]);
  const out = {
    mapping: row.mapping,
    stray: row.stray,
    perCall,
    ...lostOf(row.lostCalls.filter((l) => mine.has(l.index)), row.problems),
  };
  for (const tier of TIERS) {
    const seen = perCall.map((c) => c[tier]).filter(Boolean);
    out[tier] = seen.map((t) => t.stop);
    out[`${tier}Seen`] = seen.filter((t) => t.sawIt !== null).map((t) => t.sawIt);
  }
  return { ...out, ...early(out, row.earliest, row.mapping.bound) };
}
