// `GrpcError`, how a call failed.
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
