// What the generated client classes call: one call into the wasm core each,
// once the core is loaded and has read every registered descriptor; unary
// calls with retries (retry.js) and server streams that are resumable, watch
// for idleness or report their state (resume.js) go through the JS around it,
// and each attempt through the call's interceptors (intercept.js).
import { serverStream as coreServerStream, unary as coreUnary } from "./instance.js";
import { interceptStream, interceptUnary, interceptorsOf, methodOf } from "./intercept.js";
import { deadlineOf, laterAttempt, retryPolicy, signalsOf, streamPolicy } from "./policy.js";
import { ready } from "./registry.js";
import { ResumableCall } from "./resume.js";
import { withRetries } from "./retry.js";
import { MessageStream } from "./stream.js";

/** Loads the WebAssembly module now (optional: the first call loads it). */
export default async function init(input) {
  await ready(input);
}

/** @internal What a generated client class holds. */
export function client(file, baseUrl, defaults) {
  return { file, baseUrl: String(baseUrl), defaults };
}

/**
 * @internal A unary call of a generated client. `method.idempotent`: the
 * proto marks it NO_SIDE_EFFECTS or IDEMPOTENT, so it is retried by default.
 */
export async function unary(client, path, request, options, method) {
  const { baseUrl, defaults } = client;
  const policy = retryPolicy(defaults, options, method?.idempotent === true);
  const interceptors = interceptorsOf(defaults, options);
  const schema = await ready();
  const core = (d, o, message) => coreUnary(schema, baseUrl, d, path, message, o);
  const info = methodOf(path, "unary");
  const attempt = interceptors.length
    ? (d, o) => interceptUnary(interceptors, info, d, o, request, core)
    : (d, o) => core(d, o, request);
  if (!policy) return attempt(defaults, options);
  const context = { defaults, options, signals: signalsOf(defaults, options), deadlineAt: deadlineOf(defaults, options) };
  return withRetries(attempt, policy, context);
}

/** @internal A server-streaming call of a generated client. */
export function serverStream(client, path, request, options) {
  const { baseUrl, defaults } = client;
  return new MessageStream(async () => {
    const policy = streamPolicy(defaults, options);
    const interceptors = interceptorsOf(defaults, options);
    const schema = await ready();
    const core = (d, o, message) => coreServerStream(schema, baseUrl, d, path, message, o);
    const info = methodOf(path, "server_streaming");
    const call = interceptors.length
      ? (d, o, message) => interceptStream(interceptors, info, d, o, message, core)
      : core;
    const plain = !policy.resume && policy.idleTimeoutMs === undefined && !policy.onStateChange;
    if (plain) return call(defaults, options, request);
    const deadlineAt = deadlineOf(defaults, options);
    return new ResumableCall({
      request,
      policy,
      signals: signalsOf(defaults, options),
      deadlineAt,
      open(attemptRequest, index, opened) {
        // The response headers mean the stream is open; the app's onHeader
        // hears of every attempt's.
        const onHeader = (headers) => {
          opened();
          policy.onHeader?.(headers);
        };
        // The first attempt's options are the caller's, so the core
        // validates them; later ones carry the deadline as an absolute time.
        const attempt =
          index === 0
            ? { defaults, options: options === null || typeof options !== "object" ? options ?? { onHeader } : { ...options, onHeader } }
            : laterAttempt(defaults, options, deadlineAt, { onHeader });
        return call(attempt.defaults, attempt.options, attemptRequest);
      },
    });
  });
}
