// Declarations of the runtime package `grpc-web-abort`: what every
// generated module shares. Needs only the ES2022 and DOM libs.
import type { Code } from "./grpc_web_abort.js";
export { Code } from "./grpc_web_abort.js";

/** Options for one call, or a client's defaults (merged: both signals apply, the earlier deadline wins, the call's headers win). */
export interface CallOptions {
  /** Aborting it cancels the call (CANCELLED; DEADLINE_EXCEEDED for a TimeoutError reason). */
  signal?: AbortSignal;
  /** Relative deadline in milliseconds, finite and >= 0; sent as grpc-timeout. */
  timeoutMs?: number;
  /** Absolute deadline: a Date or epoch milliseconds. */
  deadline?: Date | number;
  /** Request metadata. */
  headers?: Record<string, string> | Headers;
  /** Called with a successful call's response headers (a failure carries them in `GrpcError.metadata`). */
  onHeader?: (headers: Headers) => void;
  /** Called with a successful call's trailers, after its last message. */
  onTrailer?: (trailers: Headers) => void;
  /**
   * The most bytes a reply message may have: an integer >= 0, or `Infinity`
   * for no limit (default 4 MiB, as gRPC's clients). A reply frame announced
   * larger fails the call with RESOURCE_EXHAUSTED, naming the size and the
   * limit, before its bytes are buffered; the fetch is aborted.
   */
  maxReceiveMessageBytes?: number;
  /**
   * The most bytes the encoded request message may have: an integer >= 0, or
   * `Infinity` (the default: no limit). A larger request fails with
   * RESOURCE_EXHAUSTED and nothing is sent.
   */
  maxSendMessageBytes?: number;
}

/** A JSON value: what google.protobuf.Value holds. */
export type JsonValue = null | boolean | number | string | JsonValue[] | { [key: string]: JsonValue };

/** A float or double as it comes out: a number, or one of the three non-finite names. */
export type FloatOutput = number | "NaN" | "Infinity" | "-Infinity";

/** How a call failed. A real Error: `instanceof GrpcError` and `instanceof Error` hold. */
export declare class GrpcError extends Error {
  readonly name: "GrpcError";
  /** The gRPC status code (see `Code`). */
  readonly code: Code;
  /** The code's name in the gRPC spec, e.g. "DEADLINE_EXCEEDED". */
  readonly codeName: string;
  /** Response headers and trailers. */
  readonly metadata: Headers;
  /** The signal's abort reason, when the signal ended the call. */
  readonly cause?: unknown;
}

/** A server stream: `for await` reads it; `break` / `return()` cancels the call without an error. */
export declare class MessageStream<T> implements AsyncIterableIterator<T> {
  private constructor();
  next(): Promise<IteratorResult<T, undefined>>;
  return(value?: undefined): Promise<IteratorResult<T, undefined>>;
  [Symbol.asyncIterator](): MessageStream<T>;
}

/** An AbortSignal that aborts at the page's next navigation; a fresh one per call. */
export declare function navigationSignal(): AbortSignal;

/**
 * Loads the WebAssembly module now (optional: the first call loads it).
 * `input`: where the `.wasm` is (a URL, a `Response`, bytes), when not next to this module.
 */
export default function init(input?: unknown): Promise<void>;

/** A proto file's descriptor as registered with the runtime by its generated module. */
export interface FileRegistration {
  readonly descriptor: string;
  readonly deps: readonly FileRegistration[];
}

/** @internal What a generated client class holds. */
export interface ClientHandle {
  readonly file: FileRegistration;
  readonly baseUrl: string;
  readonly defaults: CallOptions | undefined;
}

/** @internal Called by generated modules; not for applications. */
export declare function registerFile(descriptor: string, deps: readonly FileRegistration[]): FileRegistration;
/** @internal Called by generated client classes; not for applications. */
export declare function client(file: FileRegistration, baseUrl: string, defaults?: CallOptions): ClientHandle;
/** @internal Called by generated client classes; not for applications. */
export declare function unary(client: ClientHandle, path: string, request: unknown, options?: CallOptions): Promise<unknown>;
/** @internal Called by generated client classes; not for applications. */
export declare function serverStream(client: ClientHandle, path: string, request: unknown, options?: CallOptions): MessageStream<unknown>;

/* PROVIDED */

/** @internal Used by the Node entry to hand over the wasm's bytes. */
export declare function setWasmSource(source: () => Promise<unknown>): void;
