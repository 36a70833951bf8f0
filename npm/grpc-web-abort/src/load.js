// Loading the wasm core: once per page, at the first call or at `init()`.
import initWasm, { setErrorClass } from "../grpc_web_abort.js";
import { GrpcError } from "./error.js";

let loading;
// Where the wasm comes from when `init()` is given nothing: next to this
// module (fetched), unless an entry such as node.js says otherwise.
let wasmSource = async () => undefined;

/** @internal How node.js hands the wasm's bytes over (Node's fetch cannot read file: URLs). */
export function setWasmSource(source) {
  wasmSource = source;
}

// One load for the page; a failed load is retried by the next call.
export function load(input) {
  loading ??= (async () => input ?? (await wasmSource()))()
    .then((source) => initWasm(source === undefined ? undefined : { module_or_path: source }))
    .then(
    () => setErrorClass(GrpcError),
    (error) => {
      loading = undefined;
      throw new Error(`grpc-web-abort: the WebAssembly module could not be loaded: ${error?.message ?? error}`, {
        cause: error,
      });
    },
  );
  return loading;
}
