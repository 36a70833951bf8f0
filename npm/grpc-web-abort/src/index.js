// The runtime package `grpc-web-abort`: the JS half that every generated
// module shares. It loads the wasm core once (lazily at the first call, or at
// an explicit `init()`), keeps the type registry the generated modules
// register their descriptors with, and gives the generated client classes
// their calls, `MessageStream`, `GrpcError` and `navigationSignal`.
// Validation, encoding, fetch, abort and deadlines are the wasm core's
// (grpc_web_abort.js, built from the Rust crate). `cargo xtask dist`
// bundles these modules into the package's one index.js.
export { Code } from "./code.js";
export { client, default, serverStream, unary } from "./calls.js";
export { testCodec } from "./codec.js";
export { GrpcError } from "./error.js";
export { setWasmSource, wasmMemoryBytes } from "./instance.js";
export { navigationSignal } from "./navigation.js";
export { registerFile } from "./registry.js";
export { MessageStream } from "./stream.js";
export * from "./provided.js";
