// The options the runtime's JS handles itself (the wasm core reads only its
// own and ignores these): `resume`, `idleTimeoutMs` and `onStateChange` for
// server streams, `retry` for unary calls. Validated here with TypeErrors
// naming the option; the call's win over the client's defaults.
import { UNAVAILABLE } from "./failure.js";

/** What a resumable stream does when `resume: true` says nothing more. */
export const RESUME_DEFAULTS = Object.freeze({
  initialBackoffMs: 1000,
  maxBackoffMs: 30_000,
  backoffMultiplier: 1.6,
  maxAttempts: Infinity,
  retryOn: Object.freeze([UNAVAILABLE, "network", "no-status", "idle"]),
  pauseWhenHidden: false,
  from: undefined,
});

/** Unary retries (gRFC A6) when `retry: true` or the method is idempotent. */
export const RETRY_DEFAULTS = Object.freeze({
  maxAttempts: 3,
  initialBackoffMs: 100,
  maxBackoffMs: 2000,
  backoffMultiplier: 2,
  retryableStatusCodes: Object.freeze([UNAVAILABLE]),
});

/** gRFC A6: more attempts than this are treated as this many. */
const MAX_RETRY_ATTEMPTS = 5;
const KINDS = ["network", "no-status", "idle"];
const STREAM_ONLY = ["resume", "idleTimeoutMs", "onStateChange"];

export const isObject = (v) => typeof v === "object" && v !== null;
const given = (v) => v !== undefined && v !== null;
const show = (v) => (typeof v === "string" ? JSON.stringify(v) : typeof v === "bigint" ? `${v}n` : String(v));
const isCode = (c) => Number.isInteger(c) && c >= 0 && c <= 16;

/** The option `name`: the call's when it has one, else the client's. */
export function pick(defaults, options, name) {
  if (isObject(options) && given(options[name])) return options[name];
  if (isObject(defaults) && given(defaults[name])) return defaults[name];
  return undefined;
}

function backoffField(path, config, name, check, what) {
  const value = config[name];
  if (!check(value)) throw new TypeError(`${path}.${name} must be ${what}, got ${show(value)}`);
}

/** `{ ...defaults, ...given }`, every field checked, unknown ones refused. */
function configure(path, value, defaults, extra) {
  if (value === true) return { ...defaults };
  if (!isObject(value)) throw new TypeError(`${path} must be a boolean or an object, got ${show(value)}`);
  for (const key of Object.keys(value)) {
    if (!(key in defaults)) throw new TypeError(`${path}: unknown option "${key}"`);
  }
  const config = { ...defaults };
  for (const [k, v] of Object.entries(value)) if (v !== undefined) config[k] = v;
  const positive = (v) => typeof v === "number" && Number.isFinite(v) && v > 0;
  backoffField(path, config, "initialBackoffMs", positive, "a finite number > 0");
  backoffField(path, config, "maxBackoffMs", (v) => positive(v) && v >= config.initialBackoffMs, "a finite number >= initialBackoffMs");
  backoffField(path, config, "backoffMultiplier", (v) => typeof v === "number" && Number.isFinite(v) && v >= 1, "a finite number >= 1");
  extra(config);
  return config;
}

/** The resumable-stream configuration, or null when the stream is not resumable. */
function resumeConfig(value, path) {
  if (value === undefined || value === false) return null;
  return configure(path, value, RESUME_DEFAULTS, (c) => {
    const attempts = c.maxAttempts;
    if (!(attempts === Infinity || (Number.isInteger(attempts) && attempts >= 1))) {
      throw new TypeError(`${path}.maxAttempts must be an integer >= 1 or Infinity, got ${show(attempts)}`);
    }
    if (!Array.isArray(c.retryOn) || !c.retryOn.every((r) => isCode(r) || KINDS.includes(r))) {
      throw new TypeError(`${path}.retryOn must be an array of status codes and "network", "no-status", "idle"`);
    }
    if (c.from !== undefined && typeof c.from !== "function") {
      throw new TypeError(`${path}.from must be a function (the last message, the first request) => the next request`);
    }
    if (typeof c.pauseWhenHidden !== "boolean") {
      throw new TypeError(`${path}.pauseWhenHidden must be a boolean, got ${show(c.pauseWhenHidden)}`);
    }
  });
}

function retryConfig(value, path) {
  return configure(path, value, RETRY_DEFAULTS, (c) => {
    if (!Number.isInteger(c.maxAttempts) || c.maxAttempts < 1) {
      throw new TypeError(`${path}.maxAttempts must be an integer >= 1, got ${show(c.maxAttempts)}`);
    }
    c.maxAttempts = Math.min(c.maxAttempts, MAX_RETRY_ATTEMPTS);
    if (!Array.isArray(c.retryableStatusCodes) || !c.retryableStatusCodes.every(isCode)) {
      throw new TypeError(`${path}.retryableStatusCodes must be an array of status codes (Code.UNAVAILABLE, ...)`);
    }
  });
}

function checkBoth(defaults, options, name, check) {
  for (const [where, source] of [["CallOptions", options], ["the client's defaults", defaults]]) {
    if (isObject(source) && given(source[name])) check(source[name], where === "CallOptions" ? `CallOptions.${name}` : `${where}: CallOptions.${name}`);
  }
}

/** A server stream's own options, checked: { resume, idleTimeoutMs, onStateChange, onHeader }. */
export function streamPolicy(defaults, options) {
  if (isObject(options) && given(options.retry)) {
    throw new TypeError("CallOptions.retry is for unary calls; a server stream reconnects with CallOptions.resume");
  }
  checkBoth(defaults, options, "resume", (v, path) => resumeConfig(v, path));
  checkBoth(defaults, options, "idleTimeoutMs", (v, path) => {
    if (!(typeof v === "number" && Number.isFinite(v) && v > 0)) {
      throw new TypeError(`${path} must be a finite number > 0, got ${show(v)}`);
    }
  });
  for (const name of ["onStateChange", "onHeader"]) {
    checkBoth(defaults, options, name, (v, path) => {
      if (typeof v !== "function") throw new TypeError(`${path} must be a function`);
    });
  }
  return {
    resume: resumeConfig(pick(defaults, options, "resume"), "CallOptions.resume"),
    idleTimeoutMs: pick(defaults, options, "idleTimeoutMs"),
    onStateChange: pick(defaults, options, "onStateChange"),
    onHeader: pick(defaults, options, "onHeader"),
  };
}

/** A unary call's retry configuration, or null for none; `idempotent` from the proto. */
export function retryPolicy(defaults, options, idempotent) {
  for (const name of STREAM_ONLY) {
    if (isObject(options) && given(options[name])) {
      throw new TypeError(`CallOptions.${name} is for server streams, not unary calls`);
    }
  }
  checkBoth(defaults, options, "retry", (v, path) => v === false || retryConfig(v, path));
  const value = pick(defaults, options, "retry") ?? (idempotent ? true : false);
  return value === false ? null : retryConfig(value, "CallOptions.retry");
}

/** The call's absolute deadline (epoch ms), from valid `timeoutMs` / `deadline` of both; the core rejects invalid ones. */
export function deadlineOf(defaults, options, now = Date.now()) {
  let at;
  for (const source of [defaults, options]) {
    if (!isObject(source)) continue;
    const t = source.timeoutMs;
    const d = source.deadline instanceof Date ? source.deadline.getTime() : source.deadline;
    for (const candidate of [
      typeof t === "number" && t >= 0 && Number.isFinite(t) ? now + t : undefined,
      typeof d === "number" && Number.isFinite(d) ? d : undefined,
    ]) {
      if (candidate !== undefined && (at === undefined || candidate < at)) at = candidate;
    }
  }
  return at;
}

/** The signals of both: whichever aborts ends the call. */
export function signalsOf(defaults, options) {
  return [defaults, options]
    .map((s) => (isObject(s) ? s.signal : undefined))
    .filter((s) => typeof AbortSignal !== "undefined" && s instanceof AbortSignal);
}

/**
 * Options for an attempt after the first: the deadline now absolute (so each
 * attempt sends the time remaining), `overrides` on top.
 */
export function laterAttempt(defaults, options, deadlineAt, overrides) {
  return {
    defaults: { ...(isObject(defaults) ? defaults : {}), timeoutMs: undefined, deadline: undefined },
    options: { ...(isObject(options) ? options : {}), timeoutMs: undefined, deadline: deadlineAt, ...overrides },
  };
}
