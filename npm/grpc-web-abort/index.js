// The runtime package `grpc-web-abort`: the JS half that every generated
// module shares. It loads the wasm core once (lazily at the first call, or at
// an explicit `init()`), keeps the type registry the generated modules
// register their descriptors with, and gives the generated client classes
// their calls, `MessageStream`, `GrpcError` and `navigationSignal`.
// Validation, encoding, fetch, abort and deadlines are the wasm core's
// (grpc_web_abort.js, built from the Rust crate).
import initWasm, * as core from "./grpc_web_abort.js";

export { Code } from "./grpc_web_abort.js";

// A JS class because a wasm-bindgen struct cannot extend Error: this way
// `instanceof GrpcError` and `instanceof Error` both hold, with a real stack.
export class GrpcError extends Error {
  constructor(code, codeName, message, metadata, cause) {
    super(message, cause === undefined ? undefined : { cause });
    this.name = "GrpcError";
    this.code = code;
    this.codeName = codeName;
    this.metadata = metadata;
  }
}

let loading;
// Where the wasm comes from when `init()` is given nothing: next to this
// module (fetched), unless an entry such as node.js says otherwise.
let wasmSource = async () => undefined;

/** @internal How node.js hands the wasm's bytes over (Node's fetch cannot read file: URLs). */
export function setWasmSource(source) {
  wasmSource = source;
}

// One load for the page; a failed load is retried by the next call.
function load(input) {
  loading ??= (async () => input ?? (await wasmSource()))()
    .then((source) => initWasm(source === undefined ? undefined : { module_or_path: source }))
    .then(
    () => core.setErrorClass(GrpcError),
    (error) => {
      loading = undefined;
      throw new Error(`grpc-web-abort: the WebAssembly module could not be loaded: ${error?.message ?? error}`, {
        cause: error,
      });
    },
  );
  return loading;
}

function bytesOf(base64) {
  const text = atob(base64);
  const bytes = new Uint8Array(text.length);
  for (let i = 0; i < text.length; i++) bytes[i] = text.charCodeAt(i);
  return bytes;
}

// The type registry: every generated module registers its proto's
// descriptor here once, when it is first imported (its imports' modules
// first). The wasm reads them all as one FileDescriptorSet, rebuilt only
// when a module registered since the last call (code splitting).
const registered = [];
let schema;

/** @internal Called by generated modules: their descriptor (base64) and the registrations of the protos they use. */
export function registerFile(descriptor, deps) {
  const file = { descriptor, deps };
  registered.push(file);
  return file;
}

// FileDescriptorSet: field 1, one length-delimited record per file.
function descriptorSet() {
  const parts = [];
  for (const { descriptor } of registered) {
    const bytes = bytesOf(descriptor);
    const head = [0x0a];
    for (let n = bytes.length; ; n >>>= 7) {
      if (n < 0x80) {
        head.push(n);
        break;
      }
      head.push((n & 0x7f) | 0x80);
    }
    parts.push(Uint8Array.from(head), bytes);
  }
  const set = new Uint8Array(parts.reduce((sum, p) => sum + p.length, 0));
  let at = 0;
  for (const p of parts) {
    set.set(p, at);
    at += p.length;
  }
  return set;
}

function ready(input) {
  if (schema?.count !== registered.length) {
    const current = {
      count: registered.length,
      id: load(input).then(() => core.registerSchema(descriptorSet())),
    };
    current.id.catch(() => {
      if (schema === current) schema = undefined;
    });
    schema = current;
  }
  return schema.id;
}

/** Loads the WebAssembly module now (optional: the first call loads it). */
export default async function init(input) {
  await ready(input);
}

/** @internal What a generated client class holds. */
export function client(file, baseUrl, defaults) {
  return { file, baseUrl: String(baseUrl), defaults };
}

/** @internal A unary call of a generated client. */
export async function unary(client, path, request, options) {
  return core.unary(await ready(), client.baseUrl, client.defaults, path, request, options);
}

/** @internal A server-streaming call of a generated client. */
export function serverStream(client, path, request, options) {
  return new MessageStream(async () =>
    core.serverStream(await ready(), client.baseUrl, client.defaults, path, request, options),
  );
}

// The well-known types' registrations (written in by `cargo xtask dist`
// from the generator, so their descriptors are the generator's).
/* PROVIDED */

// The async iterator a server-streaming method returns: `for await` reads
// it; `break` (which calls `return()`) cancels the call, aborting its fetch,
// without an error. The call opens at the first `next()`.
export class MessageStream {
  #open;
  #call;
  #queue = Promise.resolve();
  #done = false;
  #returned = false;

  constructor(open) {
    this.#open = open;
  }

  [Symbol.asyncIterator]() {
    return this;
  }

  next() {
    // One read at a time, in call order, as an async generator would.
    const read = this.#queue.then(() => this.#read());
    this.#queue = read.catch(() => {});
    return read;
  }

  async #read() {
    if (this.#done) return { done: true, value: undefined };
    try {
      this.#call ??= await this.#open();
      // `return()` while the call was being set up: it never starts.
      if (this.#done) {
        this.#call.cancel();
        return { done: true, value: undefined };
      }
      const value = await this.#call.next();
      if (value === undefined) this.#finish();
      return value === undefined ? { done: true, value } : { done: false, value };
    } catch (error) {
      this.#finish();
      // A read that `return()` cut short ends quietly.
      if (this.#returned) return { done: true, value: undefined };
      throw error;
    }
  }

  return(value) {
    if (!this.#done) {
      this.#returned = true;
      this.#finish();
    }
    return Promise.resolve({ done: true, value });
  }

  #finish() {
    this.#done = true;
    this.#call?.cancel();
  }
}

// An AbortSignal that aborts at the page's next navigation. The Navigation
// API's `navigate` event sees every kind of navigation; where it is missing,
// history and hash changes stand in. `pagehide` always counts (the page is
// going away or into the back/forward cache).
export function navigationSignal() {
  const controller = new AbortController();
  const listening = [];
  const listen = (target, type) => {
    target.addEventListener(type, abort);
    listening.push([target, type]);
  };
  function abort(event) {
    for (const [target, type] of listening) target.removeEventListener(type, abort);
    controller.abort(new DOMException(`the page navigated (${event.type})`, "AbortError"));
  }
  if (typeof navigation === "object" && navigation && "addEventListener" in navigation) {
    listen(navigation, "navigate");
  } else {
    listen(window, "popstate");
    listen(window, "hashchange");
  }
  listen(window, "pagehide");
  return controller.signal;
}
