// The runtime under Node 20+ (the package's `node` export condition): the
// same module as in browsers, except that the wasm is read from the file
// system, since Node's fetch cannot read a file: URL. SSR code and test
// runners call services with the same generated clients.
import { readFile } from "node:fs/promises";

import init, { setWasmSource } from "./index.js";

setWasmSource(() => readFile(new URL("./grpc_web_abort_bg.wasm", import.meta.url)));

export * from "./index.js";
export default init;
