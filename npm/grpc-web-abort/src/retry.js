// Unary retries as gRFC A6 has them: up to `maxAttempts` attempts (the first
// included), on the `retryableStatusCodes` only, after a backoff with full
// jitter or the server's pushback (`grpc-retry-pushback-ms`: that many ms; a
// negative or malformed one means "do not retry"), each retry saying how
// many went before it in `grpc-previous-rpc-attempts`. Never after the
// user's abort and never past the deadline: the wait ends with them.
import { backoffDelay } from "./backoff.js";
import { GrpcError } from "./error.js";
import { laterAttempt } from "./policy.js";
import { wait } from "./wait.js";

/**
 * `attempt(defaults, options)` makes one call (the core's unary). The first
 * gets the caller's options as they are, so the core validates them.
 */
export async function withRetries(attempt, policy, { defaults, options, signals, deadlineAt }) {
  let retry = 0; // retries made so far
  let backoffRetry = 0; // where the backoff stands (a pushback starts it again)
  for (;;) {
    let error;
    try {
      if (retry === 0) return await attempt(defaults, options);
      const headers = new Headers(options?.headers ?? undefined);
      headers.set("grpc-previous-rpc-attempts", String(retry));
      const later = laterAttempt(defaults, options, deadlineAt, { headers });
      return await attempt(later.defaults, later.options);
    } catch (e) {
      error = e;
    }
    const delay = retryDelay(error, policy, retry + 1, ++backoffRetry, signals, deadlineAt);
    if (delay === null) throw error;
    if (delay.pushback) backoffRetry = 0;
    await wait({ ms: delay.ms, signals, deadlineAt });
    retry++;
  }
}

/** How long to wait before attempt `next` + 1, or null: no retry. */
function retryDelay(error, policy, next, backoffRetry, signals, deadlineAt) {
  if (!(error instanceof GrpcError) || !policy.retryableStatusCodes.includes(error.code)) return null;
  if (next >= policy.maxAttempts) return null;
  if (signals.some((s) => s.aborted)) return null;
  if (deadlineAt !== undefined && Date.now() >= deadlineAt) return null;
  const pushback = error.metadata?.get?.("grpc-retry-pushback-ms");
  if (pushback !== null && pushback !== undefined) {
    const ms = pushbackMs(pushback);
    return ms === null ? null : { ms, pushback: true };
  }
  return { ms: backoffDelay(policy, backoffRetry), pushback: false };
}

/**
 * The pushback's milliseconds, or null when it is negative or malformed. A
 * trailers-only response can show the one value twice ("50, 50": headers
 * and trailers joined); one value repeated is still that value.
 */
function pushbackMs(text) {
  const values = new Set(text.split(",").map((v) => v.trim()));
  if (values.size !== 1) return null;
  const [value] = values;
  return /^\d+$/.test(value) && Number(value) <= Number.MAX_SAFE_INTEGER ? Number(value) : null;
}
