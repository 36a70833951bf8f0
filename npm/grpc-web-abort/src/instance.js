// The wasm instance every call goes through: made at the first call (or at
// `init()`), and made anew if it ever traps. A trap is a bug (no reply is
// meant to cause one, and the response path is fuzzed), but it must never
// leave a call unsettled nor the page with an uncaught error: every entry
// into the wasm is watched, and a trap rejects the calls in flight with
// INTERNAL and retires the instance, whose state can no longer be trusted;
// the next call starts a fresh one. `cargo xtask dist` ships wasm-bindgen's
// glue as a factory (`createCore()`), so a fresh instance comes with fresh
// glue state.
import { createCore } from "../grpc_web_abort.js";
import { GrpcError } from "./error.js";

const INTERNAL = 13;

let core;
let memory;
let loading;
let generation = 0;
// The calls in flight: what rejects them if the instance traps.
const pending = new Set();
// The traps this module saw, so that the page's listeners can tell them apart.
const traps = new WeakSet();

// Where the wasm comes from when `init()` is given nothing: next to this
// module (bundlers see this URL and ship the file), unless an entry such as
// node.js says otherwise.
let wasmSource = async () => new URL("../grpc_web_abort_bg.wasm", import.meta.url);

/** @internal How node.js hands the wasm's bytes over (Node's fetch cannot read file: URLs). */
export function setWasmSource(source) {
  wasmSource = source;
}

/** @internal The current instance's linear memory in bytes (what `cargo xtask bench` watches). */
export function wasmMemoryBytes() {
  return memory?.buffer.byteLength;
}

/** Which instance is current: registrations made with an older one must be made again. */
export function instanceGeneration() {
  return generation;
}

// One load at a time; a failed load is retried by the next call.
export function load(input) {
  loading ??= (async () => {
    const source = input ?? (await wasmSource());
    const fresh = createCore();
    const exports = await watched(() => fresh.default({ module_or_path: source }));
    fresh.setErrorClass(GrpcError);
    core = fresh;
    memory = exports.memory;
    generation++;
  })().catch((error) => {
    loading = undefined;
    throw new Error(`grpc-web-abort: the WebAssembly module could not be loaded: ${error?.message ?? error}`, {
      cause: error,
    });
  });
  return loading;
}

// wasm-bindgen's glue instantiates the module itself; for the time it
// takes, its instantiation hands the glue the exports behind `guard`.
async function watched(init) {
  const { instantiate, instantiateStreaming } = WebAssembly;
  const wrap = (original) =>
    async function (source, imports, ...rest) {
      const result = await original.call(WebAssembly, source, imports, ...rest);
      // Only the glue's own call (its imports are named after our module).
      if (!imports || !("./grpc_web_abort_bg.js" in imports)) return result;
      const instance = result instanceof WebAssembly.Instance ? result : result.instance;
      const module = result instanceof WebAssembly.Instance ? source : result.module;
      return { instance: { exports: guard(instance.exports) }, module };
    };
  WebAssembly.instantiate = wrap(instantiate);
  if (instantiateStreaming) WebAssembly.instantiateStreaming = wrap(instantiateStreaming);
  try {
    return await init();
  } finally {
    WebAssembly.instantiate = instantiate;
    if (instantiateStreaming) WebAssembly.instantiateStreaming = instantiateStreaming;
  }
}

function guard(exports) {
  const guarded = {};
  for (const [name, value] of Object.entries(exports)) {
    guarded[name] =
      typeof value !== "function"
        ? value
        : function (...args) {
            try {
              return value.apply(this, args);
            } catch (error) {
              if (error instanceof WebAssembly.RuntimeError) trapped(error);
              throw error;
            }
          };
  }
  return guarded;
}

function failure(error) {
  return new GrpcError(
    INTERNAL,
    "INTERNAL",
    `grpc-web-abort: the WebAssembly runtime failed (${error.message}); the call was abandoned, and the next call starts a fresh runtime`,
    new Headers(),
  );
}

function trapped(error) {
  traps.add(error);
  if (core === undefined) return;
  core = undefined;
  loading = undefined;
  for (const { reject } of pending) reject(failure(error));
  pending.clear();
}

// A trap in a task the glue runs on its own (a future woken by a fetch) is
// thrown where no call awaits it: the calls are rejected already, and the
// page is spared an uncaught error.
globalThis.addEventListener?.("error", (event) => {
  if (traps.has(event.error)) event.preventDefault();
});
globalThis.addEventListener?.("unhandledrejection", (event) => {
  if (traps.has(event.reason)) event.preventDefault();
});

function current() {
  if (core === undefined) throw new GrpcError(INTERNAL, "INTERNAL", "grpc-web-abort: the WebAssembly runtime is not loaded", new Headers());
  return core;
}

/** Runs `call` on the current instance, a trap while it runs an INTERNAL error. */
function entering(call) {
  try {
    return call(current());
  } catch (error) {
    throw traps.has(error) ? failure(error) : error;
  }
}

/** `promise`, settled with INTERNAL if the instance traps first. */
function tracked(promise) {
  return new Promise((resolve, reject) => {
    const entry = { reject };
    pending.add(entry);
    Promise.resolve(promise).then(
      (value) => {
        pending.delete(entry);
        resolve(value);
      },
      (error) => {
        pending.delete(entry);
        reject(traps.has(error) ? failure(error) : error);
      },
    );
  });
}

export function registerSchema(descriptorSet) {
  return entering((c) => c.registerSchema(descriptorSet));
}

export function unary(...args) {
  return tracked(entering((c) => c.unary(...args)));
}

/** A server stream's call: its reads tracked, its cancel a no-op once its instance is gone. */
export function serverStream(...args) {
  const call = entering((c) => c.serverStream(...args));
  const born = generation;
  return {
    next: () => tracked(entering(() => call.next())),
    cancel: () => {
      if (core !== undefined && born === generation) call.cancel();
    },
  };
}

/** The test transport's codec: a request's bytes decoded, a reply encoded, by the core's tables. */
export function decodeRequest(...args) {
  return entering((c) => c.decodeRequest(...args));
}

export function encodeReply(...args) {
  return entering((c) => c.encodeReply(...args));
}

export function methodStreams(...args) {
  return entering((c) => c.methodStreams(...args));
}
