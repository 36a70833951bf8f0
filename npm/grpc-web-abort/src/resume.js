// A server stream as one sequence across attempts: what `MessageStream`
// reads when a stream is resumable, has an idle timeout or reports its
// state. After a retryable failure it waits (backoff with full jitter; while
// the browser is offline, until it is online; with `pauseWhenHidden`, until
// the page is visible) and opens the next attempt with the request `from`
// builds out of the last message received. Each message is yielded once, as
// it arrives. The call's signals, its deadline (which spans all attempts)
// and `return()` end it at any point, a wait included.
import { backoffDelay } from "./backoff.js";
import { GrpcError } from "./error.js";
import { deadlineFailure, failureKind, idleFailure } from "./failure.js";
import { CANCELLED_BY_RETURN, wait } from "./wait.js";

/** Why an attempt was cut by us rather than failing on its own. */
const PAUSED = Symbol("paused");

export class ResumableCall {
  #open;
  #request;
  #policy;
  #signals;
  #deadlineAt;
  #own = new AbortController();
  #attempt = null; // { call, interrupt(reason), index }
  #index = 0; // attempts opened
  #failures = 0; // failed attempts in a row (one that got a message starts the count again)
  #lastError;
  #last; // the last message received
  #received = false;
  #state;
  #done = false;
  #hidden;

  /**
   * `open(request, index, onHeader)`: the core's call object ({ next, cancel })
   * for attempt `index` (0 first). `policy`: streamPolicy's result.
   */
  constructor({ open, request, policy, signals, deadlineAt }) {
    this.#open = open;
    this.#request = request;
    this.#policy = policy;
    this.#signals = signals;
    this.#deadlineAt = deadlineAt;
    if (policy.resume?.pauseWhenHidden && typeof document !== "undefined") {
      this.#hidden = () => {
        if (document.hidden) this.#attempt?.interrupt(PAUSED);
      };
      document.addEventListener("visibilitychange", this.#hidden);
    }
  }

  async next() {
    while (!this.#done) {
      try {
        this.#attempt ??= await this.#connect();
        const value = await this.#read(this.#attempt);
        if (value === undefined) {
          this.#close();
          return undefined;
        }
        this.#last = value;
        this.#received = true;
        this.#failures = 0;
        this.#emit({ state: "open", attempt: this.#index });
        return value;
      } catch (error) {
        if (this.#done || error === CANCELLED_BY_RETURN) return undefined;
        this.#attempt?.call.cancel();
        this.#attempt = null;
        if (error === PAUSED) continue; // the page went hidden: wait for it
        if (!this.#retryable(error)) {
          // A failure that would have been retried but for the deadline is
          // the deadline's: the stream ends DEADLINE_EXCEEDED there, as the
          // user asked, whatever the last attempt was cut short with.
          const final = this.#pastDeadline() && this.#retriedOn(error) ? deadlineFailure() : error;
          this.#close(final);
          throw final;
        }
        this.#failures++;
        this.#lastError = error;
      }
    }
    return undefined;
  }

  cancel() {
    if (this.#done) return;
    this.#own.abort();
    this.#attempt?.call.cancel();
    this.#attempt = null;
    this.#close();
  }

  /** Waits as the policy says, then opens the next attempt. */
  async #connect() {
    const resume = this.#policy.resume;
    const guard = { signals: this.#signals, own: this.#own.signal, deadlineAt: this.#deadlineAt };
    const offline = () => typeof navigator !== "undefined" && navigator.onLine === false;
    const hidden = () => resume?.pauseWhenHidden && typeof document !== "undefined" && document.hidden;
    if (this.#failures > 0 && !offline() && !hidden()) {
      const delayMs = backoffDelay(resume, this.#failures);
      this.#emit({ state: "reconnecting", attempt: this.#index + 1, delayMs, lastError: this.#lastError });
      // Going offline or hidden cuts the wait short: the checks below take over.
      const events = [];
      if (typeof window !== "undefined") events.push([window, "offline"]);
      if (resume.pauseWhenHidden && typeof document !== "undefined") events.push([document, "visibilitychange"]);
      await wait({ ...guard, ms: delayMs, events });
    }
    // Back online, or visible again, it goes at once: the wait was the outage.
    for (;;) {
      if (this.#index > 0 && offline()) {
        this.#emit({ state: "paused", reason: "offline", lastError: this.#lastError });
        await wait({ ...guard, events: [[window, "online"]] });
      } else if (hidden()) {
        this.#emit({ state: "paused", reason: "hidden", lastError: this.#lastError });
        await wait({ ...guard, events: [[document, "visibilitychange"]] });
      } else {
        break;
      }
    }
    const index = this.#index++;
    let request = this.#request;
    if (this.#received && resume?.from) request = resume.from(this.#last, this.#request);
    this.#emit({ state: "connecting", attempt: index + 1 });
    const call = this.#open(request, index, () => this.#emit({ state: "open", attempt: index + 1 }));
    let interrupt;
    const interrupted = new Promise((_, reject) => (interrupt = reject));
    interrupted.catch(() => {});
    return { call, interrupt, interrupted };
  }

  /** The attempt's next message, unless it goes idle or is interrupted first. */
  async #read(attempt) {
    const reading = attempt.call.next();
    const racers = [reading, attempt.interrupted];
    let timer;
    const ms = this.#policy.idleTimeoutMs;
    if (ms !== undefined) {
      racers.push(new Promise((_, reject) => (timer = setTimeout(() => reject(idleFailure(ms)), ms))));
    }
    try {
      return await Promise.race(racers);
    } finally {
      clearTimeout(timer);
      // A read we stopped waiting for ends with the cancel; nobody awaits it.
      reading.catch(() => {});
    }
  }

  #retryable(error) {
    const resume = this.#policy.resume;
    if (!resume || !(error instanceof GrpcError)) return false;
    if (this.#failures + 1 >= resume.maxAttempts) return false;
    // Never past the user's abort or the deadline, whatever the list says.
    if (this.#signals.some((s) => s.aborted)) return false;
    if (this.#pastDeadline()) return false;
    return this.#retriedOn(error);
  }

  /** Whether `retryOn` names what `error` is. */
  #retriedOn(error) {
    const resume = this.#policy.resume;
    if (!resume || !(error instanceof GrpcError)) return false;
    const kind = failureKind(error);
    return kind === undefined ? resume.retryOn.includes(error.code) : resume.retryOn.includes(kind);
  }

  #pastDeadline() {
    return this.#deadlineAt !== undefined && Date.now() >= this.#deadlineAt;
  }

  #close(error) {
    if (this.#done) return;
    this.#done = true;
    if (this.#hidden) document.removeEventListener("visibilitychange", this.#hidden);
    this.#emit(error === undefined ? { state: "closed" } : { state: "closed", error });
  }

  #emit(state) {
    if (this.#state?.state === state.state && state.state === "open") return;
    this.#state = state;
    const listener = this.#policy.onStateChange;
    if (!listener) return;
    try {
      listener(Object.freeze(state));
    } catch (error) {
      // A throwing listener must not break the stream; the page still hears of it.
      if (typeof reportError === "function") reportError(error);
      else console.error(error);
    }
  }
}
