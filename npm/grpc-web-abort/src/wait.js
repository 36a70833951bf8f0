// The waits between attempts, which the user stays in charge of: each ends
// early when one of the call's signals aborts (rejecting as the core would:
// CANCELLED, or DEADLINE_EXCEEDED for a TimeoutError) or at the call's
// deadline (DEADLINE_EXCEEDED), and removes its timers and listeners however
// it ends, so nothing fires after an abort.
import { abortFailure, deadlineFailure } from "./failure.js";

/** A reason a wait ended because `cancel()` (break / `return()`) was called. */
const MAX_TIMER = 2 ** 31 - 1;

export const CANCELLED_BY_RETURN = Symbol("returned");

/**
 * Resolves with "time" after `ms` (when given), or with the type of the first
 * of `events` ([target, type] pairs) to fire; rejects with the failure of the
 * first `signals` to abort, or at `deadlineAt` (epoch ms). `own`, a signal
 * that `return()` aborts, rejects with CANCELLED_BY_RETURN.
 */
export function wait({ ms, events = [], signals = [], own, deadlineAt }) {
  return new Promise((resolve, reject) => {
    const undo = [];
    const settle = (fn, value) => {
      for (const u of undo) u();
      fn(value);
    };
    // setTimeout fires at once past 2^31-1 ms: a longer delay is waited in parts.
    const later = (delay, fn) => {
      let timer;
      const arm = (left) => {
        timer = setTimeout(() => (left > MAX_TIMER ? arm(left - MAX_TIMER) : fn()), Math.min(Math.max(0, left), MAX_TIMER));
      };
      arm(delay);
      undo.push(() => clearTimeout(timer));
    };
    const on = (target, type, fn) => {
      target.addEventListener(type, fn);
      undo.push(() => target.removeEventListener(type, fn));
    };
    if (own?.aborted) return settle(reject, CANCELLED_BY_RETURN);
    for (const signal of signals) {
      if (signal.aborted) return settle(reject, abortFailure(signal.reason));
    }
    if (deadlineAt !== undefined && deadlineAt <= Date.now()) return settle(reject, deadlineFailure());
    if (own) on(own, "abort", () => settle(reject, CANCELLED_BY_RETURN));
    for (const signal of signals) on(signal, "abort", () => settle(reject, abortFailure(signal.reason)));
    if (deadlineAt !== undefined) later(deadlineAt - Date.now(), () => settle(reject, deadlineFailure()));
    if (ms !== undefined) later(ms, () => settle(resolve, "time"));
    for (const [target, type] of events) on(target, type, () => settle(resolve, type));
  });
}
