// GrpcError is defined in JavaScript because a wasm-bindgen struct cannot
// extend Error: this way `instanceof GrpcError` and `instanceof Error` both
// hold, and the stack trace is a real one.
export class GrpcError extends Error {
  constructor(code, codeName, message, metadata, cause) {
    super(message, cause === undefined ? undefined : { cause });
    this.name = "GrpcError";
    this.code = code;
    this.codeName = codeName;
    this.metadata = metadata;
  }
}
