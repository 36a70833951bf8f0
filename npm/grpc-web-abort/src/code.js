// `Code`: the gRPC status codes by name, as the wasm core defines them
// (wasm-bindgen's enum object, taken from a glue instance of its own).
import { createCore } from "../grpc_web_abort.js";

export const Code = /* @__PURE__ */ (() => createCore().Code)();
