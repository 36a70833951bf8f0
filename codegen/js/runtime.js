// The JS half shared by every generated package: it loads the wasm core once
// (lazily at the first call, or at an explicit `init()`), and gives the
// generated client classes their calls, `MessageStream`, `GrpcError` and
// `navigationSignal`. Validation, encoding, fetch, abort and deadlines are
// the wasm core's (grpc_web_abort.js).
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

// One load for the page; a failed load is retried by the next call.
function load(input) {
  loading ??= initWasm(input === undefined ? undefined : { module_or_path: input }).then(
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

// What a generated package's client classes call; `descriptor` is its
// FileDescriptorSet in base64.
export function createRuntime(descriptor) {
  let schema;
  const ready = (input) =>
    (schema ??= load(input)
      .then(() => core.registerSchema(bytesOf(descriptor)))
      .catch((error) => {
        schema = undefined;
        throw error;
      }));
  return {
    init: async (input) => {
      await ready(input);
    },
    client: (baseUrl, defaults) => ({ baseUrl: String(baseUrl), defaults }),
    unary: async (client, path, request, options) =>
      core.unary(await ready(), client.baseUrl, client.defaults, path, request, options),
    serverStream: (client, path, request, options) =>
      new MessageStream(async () =>
        core.serverStream(await ready(), client.baseUrl, client.defaults, path, request, options),
      ),
  };
}

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
