// `GrpcError`, how a call failed.
// A JS class because a wasm-bindgen struct cannot extend Error: this way
// `instanceof GrpcError` and `instanceof Error` both hold, with a real stack.
import { Code } from "./code.js";

export class GrpcError extends Error {
  // The shipped bundle minifies names (xtask/src/pkg.rs); this one is API.
  static name = "GrpcError";

  /**
   * `new GrpcError(code, message, { metadata, cause })`, e.g. in a test
   * handler or an interceptor. (The runtime's own calls pass
   * `(code, codeName, message, metadata, cause)`.)
   */
  constructor(code, ...rest) {
    const internal = typeof rest[0] === "string" && typeof rest[1] === "string";
    const [codeName, message, metadata, cause] = internal
      ? rest
      : [Code[code], rest[0], rest[1]?.metadata, rest[1]?.cause];
    super(message ?? "", cause === undefined ? undefined : { cause });
    this.name = "GrpcError";
    this.code = code;
    this.codeName = codeName ?? "UNKNOWN";
    this.metadata = metadata ?? new Headers();
  }
}
