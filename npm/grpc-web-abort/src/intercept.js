// Interceptors: app code around each attempt of a call (a retry or a
// stream's reconnect runs them again, so a refreshed token goes with it).
// `(next) => async (request) => response`, as Connect-ES has them: the
// client's interceptors are outside the call's, and in each list the first
// is the outermost. An interceptor may change the request's headers or
// message (await whatever it needs first), call `next` once, several times
// or not at all, and observe or replace the response or the error. What it
// throws rejects the call as it is; when it throws before `next`, nothing is
// sent.
import { GrpcError } from "./error.js";
import { deadlineOf, isObject, pick, signalsOf } from "./policy.js";

/** The interceptors of a call, client's first; a TypeError names a bad one. */
export function interceptorsOf(defaults, options) {
  const all = [];
  for (const [where, source] of [["the client's defaults: CallOptions", defaults], ["CallOptions", options]]) {
    const list = isObject(source) ? source.interceptors : undefined;
    if (list === undefined || list === null) continue;
    if (!Array.isArray(list)) throw new TypeError(`${where}.interceptors must be an array of functions`);
    list.forEach((interceptor, i) => {
      if (typeof interceptor !== "function") {
        throw new TypeError(`${where}.interceptors[${i}] must be a function (next) => (request) => response`);
      }
    });
    all.push(...list);
  }
  return all;
}

/** What interceptors learn of the method from its path, "/pkg.Service/Method". */
export function methodOf(path, kind) {
  const [, service = "", name = ""] = /^\/([^/]*)\/([^/]*)$/.exec(path) ?? [];
  return Object.freeze({ service, name, kind, path });
}

/** The request an interceptor sees: the headers merged (the call's win by name). */
function requestOf(method, message, defaults, options) {
  const headers = new Headers();
  for (const [where, source] of [["the client's defaults: CallOptions", defaults], ["CallOptions", options]]) {
    const given = isObject(source) ? source.headers : undefined;
    if (given === undefined || given === null) continue;
    // The core's rule: a record's values are strings (a number is not quietly turned into one).
    if (!(given instanceof Headers) && isObject(given)) {
      for (const [name, value] of Object.entries(given)) {
        if (typeof value !== "string") throw new TypeError(`${where}.headers: the value of "${name}" must be a string`);
      }
    }
    let entries;
    try {
      entries = [...new Headers(given)];
    } catch (error) {
      throw new TypeError(`${where}.headers must be a Headers or a record of strings: ${error.message}`, { cause: error });
    }
    const names = new Set(entries.map(([name]) => name));
    for (const name of names) headers.delete(name);
    for (const [name, value] of entries) headers.append(name, value);
  }
  const signals = signalsOf(defaults, options);
  const signal = signals.length === 0 ? new AbortController().signal : signals.length === 1 ? signals[0] : AbortSignal.any(signals);
  return { method, message, headers, signal, deadline: deadlineOf(defaults, options) };
}

function chain(interceptors, innermost) {
  let next = innermost;
  for (let i = interceptors.length - 1; i >= 0; i--) {
    next = interceptors[i](next);
    if (typeof next !== "function") {
      throw new TypeError(`CallOptions.interceptors[${i}] must return a function (request) => response`);
    }
  }
  return next;
}

/** The options of the core's call for an intercepted request: its headers replace both sets. */
function coreOptions(defaults, options, request, extra) {
  return {
    defaults: isObject(defaults) ? { ...defaults, headers: undefined } : defaults,
    // Options that are not an object go to the core as they are, for its TypeError.
    options: isObject(options) || options === undefined || options === null ? { ...options, headers: request.headers, ...extra } : options,
  };
}

/**
 * One unary attempt through `interceptors`; `call(defaults, options,
 * message)` is the core's. The app's onHeader/onTrailer hear the response
 * the interceptors return.
 */
export async function interceptUnary(interceptors, method, defaults, options, message, call) {
  const innermost = async (request) => {
    let headers = new Headers();
    let trailers = new Headers();
    const { defaults: d, options: o } = coreOptions(defaults, options, request, {
      onHeader: (h) => (headers = h),
      onTrailer: (t) => (trailers = t),
    });
    const reply = await call(d, o, request.message);
    return { stream: false, message: reply, headers, trailers };
  };
  const response = await chain(interceptors, innermost)(requestOf(method, message, defaults, options));
  pick(defaults, options, "onHeader")?.(response.headers);
  pick(defaults, options, "onTrailer")?.(response.trailers);
  return response.message;
}

/**
 * One server-stream attempt through `interceptors`: the core's call object
 * ({ next, cancel }) at once, its messages those of the response the
 * interceptors return. `open(defaults, options, message)` is the core's.
 * `next` of the chain resolves once the stream is open (its response
 * headers are in) and rejects if it fails before; the trailers fill in when
 * it ends.
 */
export function interceptStream(interceptors, method, defaults, options, message, open) {
  // The core's call of the latest `next`, so that a cancel reaches the fetch
  // even before the interceptors have returned.
  let current;
  let cancelled = false;
  const innermost = async (request) => {
    if (cancelled) throw new GrpcError(1, "CANCELLED", "the stream was cancelled", new Headers());
    let opened;
    const headersIn = new Promise((resolve) => (opened = resolve));
    const trailers = new Headers();
    const { defaults: d, options: o } = coreOptions(defaults, options, request, {
      onHeader: (h) => opened(h),
      onTrailer: (t) => t.forEach((value, name) => trailers.append(name, value)),
    });
    const call = open(d, o, request.message);
    current = call;
    // The first read opens the call; a failure before the headers rejects here.
    let first = call.next();
    const headers = await Promise.race([headersIn, first.then(() => undefined)]);
    first.catch(() => {});
    const messages = {
      [Symbol.asyncIterator]() {
        return this;
      },
      async next() {
        const read = first ?? call.next();
        first = undefined;
        const value = await read;
        return value === undefined ? { done: true, value: undefined } : { done: false, value };
      },
      async return(value) {
        call.cancel();
        return { done: true, value };
      },
    };
    return { stream: true, headers: headers ?? new Headers(), trailers, messages };
  };
  const onHeader = pick(defaults, options, "onHeader");
  let iterator;
  let responseTrailers;
  const ready = (async () => {
    const response = await chain(interceptors, innermost)(requestOf(method, message, defaults, options));
    iterator = response.messages[Symbol.asyncIterator]();
    responseTrailers = response.trailers;
    onHeader?.(response.headers);
    if (cancelled) iterator.return?.();
  })();
  ready.catch(() => {});
  return {
    async next() {
      await ready;
      const { done, value } = await iterator.next();
      if (!done) return value;
      pick(defaults, options, "onTrailer")?.(responseTrailers);
      return undefined;
    },
    cancel() {
      cancelled = true;
      current?.cancel();
      iterator?.return?.();
    },
  };
}
