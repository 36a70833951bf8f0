// What the generated client classes call: one call into the wasm core each,
// once the core is loaded and has read every registered descriptor.
import { serverStream as coreServerStream, unary as coreUnary } from "../grpc_web_abort.js";
import { ready } from "./registry.js";
import { MessageStream } from "./stream.js";

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
  return coreUnary(await ready(), client.baseUrl, client.defaults, path, request, options);
}

/** @internal A server-streaming call of a generated client. */
export function serverStream(client, path, request, options) {
  return new MessageStream(async () =>
    coreServerStream(await ready(), client.baseUrl, client.defaults, path, request, options),
  );
}
