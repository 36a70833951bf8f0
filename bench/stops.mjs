// cancel→stop and deadline rows, observed from Node (bench/monitor.mjs): the
// page starts, aborts and settles each call (bench/page.mjs's begin, abort,
// beginDeadline, settled), Node watches both tiers on a Stats stream of its
// own (one for all the rows of a transport) and reads each tier's stop on
// its clock, t0 mapped from the page's. Beside those, each row's stops as
// the server's own clock has them (bench/server-clock.mjs): `serverClock`.
import * as serverClock from "./server-clock.mjs";

const METHOD = { unary: "demo.v1.Greeter/SayHello", stream: "demo.v1.Updates/Watch", compute: "demo.v1.Work/Compute" };

const inPage = (page, name, arg) => page.evaluate(([n, a]) => window.__bench[n](a), [name, arg]);

/**
 * `count` calls per client, one at a time, the clients taking turns call by
 * call (so that neither's calls meet a different machine than the
 * other's: with a row per client, the section's first row was the slower
 * one whichever client ran it, issue 17), each started once `monitor`
 * shows both tiers idle: `start(monitor, client)` starts one and returns
 * `{ id, t0 }` (page clock); then the times from t0 to the rejection (page
 * clock) and to each tier's stop (Node clock, t0 mapped onto it), less
 * `offsetMs`; with the servers' own histogram for `method` over the row
 * (both clients' calls: it is the server's part, the same for both), and
 * the stops per call from the server's clock (`base`'s `/stops`). One
 * result per client, in `clients`' order.
 */
async function stopsPerCall(page, monitor, { base, clients, count, method, mustStart, offsetMs = 0, earliestMs = 0, start }) {
  const before = await inPage(page, "histograms");
  const row = await serverClock.beginRow(page, base);
  const calls = [];
  // Calibrated per row (by the server clock's first calibration): the two
  // clocks may drift apart over a run, not over a row.
  const clock = row.before.pageToNode;
  const per = new Map(clients.map((client) => [client, { calls: [], rejected: [], frontend: [], backend: [], codes: {}, lost: [] }]));
  const firstGap = monitor.gaps.length;
  for (let i = 0; i < count * clients.length; i++) {
    const client = clients[i % clients.length];
    const mine = per.get(client);
    await monitor.idle();
    const { id, t0 } = await start(monitor, client);
    const stops = await monitor.stops(t0 - clock.offset, mustStart).catch((e) => e);
    const end = await inPage(page, "settled", id);
    if (end.resolved) throw new Error(`${client} call ${mine.calls.length} ended without error`);
    mine.calls.push(calls.length);
    calls.push({ begin: end.begin, t0, offsetMs });
    mine.codes[end.code] = (mine.codes[end.code] ?? 0) + 1;
    mine.rejected.push(end.rejectedAt - t0 - offsetMs);
    if (stops instanceof Error) {
      mine.lost.push(String(stops.message));
      continue;
    }
    mine.frontend.push(stops.frontend - offsetMs);
    mine.backend.push(stops.backend - offsetMs);
  }
  const summary = (values) => inPage(page, "summary", values);
  const server = await serverClock.endRow(page, row, calls, method, earliestMs);
  const serverHistogram = await page.evaluate(
    ([b, m]) => window.__bench.histograms().then((after) => window.__bench.histogramDelta(b, after, m)),
    [before, method],
  );
  const snapshotGaps = await summary(monitor.gaps.slice(firstGap));
  const out = [];
  for (const [client, mine] of per) {
    const sc = serverClock.ofCalls(server, mine.calls);
    sc.perCall.forEach((c, i) => (c.rejected = Math.round(mine.rejected[i] * 1000) / 1000));
    out.push({
      client,
      observer: "node",
      clock,
      codes: mine.codes,
      rejected: await summary(mine.rejected),
      frontend: await summary(mine.frontend),
      backend: await summary(mine.backend),
      snapshotGaps,
      lost: mine.lost,
      serverHistogram,
      serverClock: {
        ...sc,
        frontend: await summary(sc.frontend),
        backend: await summary(sc.backend),
        frontendSeen: await summary(sc.frontendSeen),
        backendSeen: await summary(sc.backendSeen),
      },
    });
  }
  return out;
}

/** cancel→stop: each call aborted once a snapshot shows both tiers busy (a stream: after its first message too). */
export async function cancelToStop(page, monitor, { base, clients, kind, count }) {
  const measured = await stopsPerCall(page, monitor, {
    base,
    clients,
    count,
    method: METHOD[kind],
    mustStart: false,
    start: async (monitor, client) => {
      const id = await inPage(page, "begin", { client, kind });
      await monitor.busy();
      return { id, t0: await inPage(page, "abort", id) };
    },
  });
  return measured.map((r) => ({ kind, ...r }));
}

/** Deadline precision: SayHello that would take `ms` + 5 s, with `timeoutMs` = `ms`. */
export async function deadline(page, monitor, { base, clients, ms, count }) {
  const measured = await stopsPerCall(page, monitor, {
    base,
    clients,
    count,
    method: METHOD.unary,
    mustStart: true,
    offsetMs: ms,
    // How early a stop may causally be: the frontend gives its backend the
    // deadline less tonic-deadline's TRANSIT_ALLOWANCE (5 ms), so that the
    // backend ends the call with its own DEADLINE_EXCEEDED (which the
    // frontend relays) before the caller's deadline; and deadlines are whole
    // ms on the clients' side (grpc-timeout's "…m", browsers' timers; ours
    // ends a call with less than 1 ms left).
    earliestMs: -(5 + 1),
    start: (monitor, client) => inPage(page, "beginDeadline", { client, ms }),
  });
  return measured.map((r) => ({ ms, ...r }));
}
