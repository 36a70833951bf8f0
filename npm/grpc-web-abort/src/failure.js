// The failures the runtime's JS makes itself (an abort or the deadline
// during a backoff wait, an idle stream), worded as the wasm core words its
// own, and what kind of failure a `GrpcError` is, for deciding on a retry.
import { GrpcError } from "./error.js";

export const CANCELLED = 1;
export const DEADLINE_EXCEEDED = 4;
export const INTERNAL = 13;
export const UNAVAILABLE = 14;

// The failures made here that the retry rules tell apart from a server's status.
const idle = new WeakSet();

function failure(code, codeName, message, cause) {
  return new GrpcError(code, codeName, message, new Headers(), cause);
}

/** What a call ended by `reason` (its signal's) fails with: as the core's guard says it. */
export function abortFailure(reason) {
  const detail = typeof reason?.message === "string" ? reason.message : typeof reason === "string" ? reason : "";
  const message = detail ? `the call was aborted by its signal: ${detail}` : "the call was aborted by its signal";
  return reason?.name === "TimeoutError"
    ? failure(DEADLINE_EXCEEDED, "DEADLINE_EXCEEDED", message, reason)
    : failure(CANCELLED, "CANCELLED", message, reason);
}

export function deadlineFailure() {
  return failure(DEADLINE_EXCEEDED, "DEADLINE_EXCEEDED", "the call's deadline passed");
}

/** A stream attempt that received no message within `ms`. */
export function idleFailure(ms) {
  const error = failure(
    UNAVAILABLE,
    "UNAVAILABLE",
    `no message within idleTimeoutMs (${ms} ms): the connection was idle, so its fetch was aborted`,
  );
  idle.add(error);
  return error;
}

/**
 * How `error` came about, beyond its code: "idle" (idleTimeoutMs),
 * "network" (UNAVAILABLE with no grpc-status from a server: the fetch failed,
 * the connection broke, or a proxy answered 502/503/504), "no-status" (the
 * response ended, or was cut inside a frame, without a grpc-status), or
 * undefined: a status the server sent, or anything else.
 */
export function failureKind(error) {
  if (!(error instanceof GrpcError)) return undefined;
  if (idle.has(error)) return "idle";
  if (error.metadata?.has?.("grpc-status")) return undefined;
  if (error.code === UNAVAILABLE) return "network";
  // A cross-origin response whose status CORS hides is a configuration
  // error, not a broken connection: retrying would not help.
  if (error.code === INTERNAL && error.message.startsWith("the response ended") && !error.message.includes("cross-origin")) {
    return "no-status";
  }
  return undefined;
}
