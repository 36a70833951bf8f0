// #/work: one Work.Compute call at a time, with an optional deadline and a
// Cancel button. The outcome shows the result, or the gRPC code and how long
// each tier took to stop its work after the cancellation (from the counters).
import { Code, WorkClient } from "../api.js";
import { el, fromTemplate, setText } from "../dom.js";
import { formatCount, formatMs } from "../format.js";

/** How long to wait for the counters to report that the server stopped. */
const STOP_REPORT_TIMEOUT_MS = 3000;

/** @param {import("../counters.js").Counters} counters */
export function mountWork(outlet, routeSignal, counters) {
  const { fragment, refs } = fromTemplate("work-template");
  outlet.append(fragment);
  const work = new WorkClient(location.origin);
  let call = null; // the running call's controller

  async function run(event) {
    event.preventDefault();
    const n = Number(refs.n.value);
    call = new AbortController();
    const options = { signal: AbortSignal.any([routeSignal, call.signal]) };
    // Left empty: no deadline. Anything else goes to the client as is, so an
    // invalid value shows the client's own TypeError.
    if (refs.timeout.value.trim() !== "") options.timeoutMs = Number(refs.timeout.value);
    const before = stoppedCounts(counters.latest);
    const started = performance.now();
    running(true);
    const elapsed = showRunning();
    const ticker = setInterval(() => setText(elapsed, formatMs(performance.now() - started)), 100);
    try {
      const { result } = await work.compute({ n }, options);
      showOutcome("ok", "OK", `${formatCount(result)} primes below ${formatCount(n)}`, started);
    } catch (error) {
      if (routeSignal.aborted) return; // the route is gone: nobody to tell
      showOutcome("error", error.codeName ?? error.name, error.message, started);
      if (error.code === Code.CANCELLED) showStopTimes(before, "the cancellation");
      if (error.code === Code.DEADLINE_EXCEEDED) showStopTimes(before, "the deadline");
    } finally {
      clearInterval(ticker);
      call = null;
      running(false);
    }
  }

  function running(on) {
    refs.run.disabled = on;
    refs.cancel.disabled = !on;
    refs.n.readOnly = on;
    refs.timeout.readOnly = on;
  }

  /** Shows that the call runs; returns the element for the elapsed time. */
  function showRunning() {
    // The ticking time stays out of the live region, which announces the rest once.
    const elapsed = el("span", "muted", "");
    elapsed.setAttribute("aria-hidden", "true");
    refs.outcome.replaceChildren(
      el("p", "badge running", "RUNNING"),
      el("p", "", "Computing on the backend… ", elapsed),
    );
    return elapsed;
  }

  function showOutcome(kind, code, detail, started) {
    const elapsed = performance.now() - started;
    refs.outcome.replaceChildren(
      el("p", `badge ${kind}`, code),
      el("p", "detail", detail),
      el("p", "muted small", `The call took ${formatMs(elapsed)}, as the browser saw it.`),
    );
  }

  /** Waits until the counters show this call's end at each tier, then says how long each took to stop. */
  async function showStopTimes(before, cause) {
    if (!before) return; // no counters yet: nothing to compare with
    const line = el("p", "stop-times", "Waiting for the server to report that it stopped…");
    refs.outcome.append(line);
    const snapshot = await counters.when(
      (s) => s.tiers.every((t) => stopped(t) > (before.get(t.tier) ?? 0)),
      { timeoutMs: STOP_REPORT_TIMEOUT_MS, signal: routeSignal },
    );
    if (!snapshot) {
      line.textContent = "The counters did not report the stop within 3 s (other calls may still be running).";
      return;
    }
    const parts = snapshot.tiers.map((t) => `${t.tier} ${formatMs(t.lastCancelToStopMs)}`);
    line.textContent = `Time the server took to stop its work after ${cause}: ${parts.join(", ")}.`;
  }

  refs.form.addEventListener("submit", run);
  refs.cancel.addEventListener("click", () =>
    call?.abort(new DOMException("Cancelled by the user", "AbortError")),
  );
}

/** Calls each tier has ended by cancellation or deadline. */
const stopped = (tier) => Number(tier.cancelled) + Number(tier.deadlineExceeded);

function stoppedCounts(snapshot) {
  return snapshot && new Map(snapshot.tiers.map((t) => [t.tier, stopped(t)]));
}
