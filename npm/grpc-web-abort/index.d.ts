// Declarations of the runtime package `grpc-web-abort`: what every
// generated module shares. Needs only the ES2022 and DOM libs.
/** gRPC status codes, numbered as the gRPC spec numbers them (`Code.CANCELLED === 1`). */
/* CODE */

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
  /**
   * Server streams: reconnect after a retryable failure, as one iteration
   * (see {@link ResumeOptions}; `true` for the defaults). Ended, like any
   * stream, by the signal, the deadline (which spans every attempt) or `break`.
   */
  resume?: boolean | ResumeOptions;
  /**
   * Server streams: no message within this many milliseconds (a finite
   * number > 0) of asking for one means the connection is broken: the
   * attempt's fetch is aborted (the server sees a cancel), and a resumable
   * stream reconnects; otherwise the call fails with UNAVAILABLE saying it
   * was idle. Pick it above the server's longest quiet time (or its heartbeat).
   */
  idleTimeoutMs?: number;
  /** Server streams: called at each change of the stream's connection, e.g. to show "Reconnecting in 4 s…". */
  onStateChange?: (state: StreamState) => void;
  /**
   * Unary calls: retries per gRFC A6 (see {@link RetryOptions}; `true` for
   * the defaults, `false` for none). By default on only for methods whose
   * proto says `idempotency_level = NO_SIDE_EFFECTS` or `IDEMPOTENT`.
   */
  retry?: boolean | RetryOptions;
  /**
   * Run around each attempt of the call (a retry or a stream's reconnect runs
   * them again). A client's interceptors are outside a call's; in each list
   * the first is the outermost. See {@link Interceptor}.
   */
  interceptors?: readonly Interceptor[];
  /**
   * What sends the request instead of the global `fetch` (called with a
   * `Request`), e.g. `createTestTransport(...).fetch` from
   * `grpc-web-abort/testing`, or a wrapper that instruments the network.
   */
  fetch?: (request: Request) => Promise<Response>;
}

/** The method a call is for. */
export interface MethodInfo {
  /** The service's full proto name, e.g. "demo.v1.Greeter". */
  readonly service: string;
  /** The method's proto name, e.g. "SayHello". */
  readonly name: string;
  readonly kind: "unary" | "server_streaming";
  /** "/demo.v1.Greeter/SayHello". */
  readonly path: string;
}

/** A call's attempt as an interceptor sees it; pass it (or a changed copy) to `next`. */
export interface InterceptorRequest<I = any> {
  readonly method: MethodInfo;
  /** The request message as the caller gave it; replace it in the object given to `next`. */
  message: I;
  /** The request metadata, the client's defaults and the call's merged: change it freely. */
  headers: Headers;
  /** Aborts when the caller's signal does (never, without one). */
  readonly signal: AbortSignal;
  /** The call's deadline in epoch ms, undefined without one. */
  readonly deadline: number | undefined;
}

/** A unary attempt's outcome: replace any part in what an interceptor returns. */
export interface UnaryResponse<O = any> {
  readonly stream: false;
  message: O;
  headers: Headers;
  trailers: Headers;
}

/**
 * A server stream's attempt, once open (its response headers are in):
 * wrap `messages` to observe or change each; `trailers` fills in when the
 * stream ends. A failure before the headers rejects `next` instead.
 */
export interface StreamResponse<O = any> {
  readonly stream: true;
  headers: Headers;
  trailers: Headers;
  messages: AsyncIterable<O>;
}

/** What `next` of an interceptor chain does: one attempt, to the server and back. */
export type InterceptorNext = (request: InterceptorRequest) => Promise<UnaryResponse | StreamResponse>;

/**
 * App code around each attempt of a call: `(next) => async (request) => {
 * ...; return await next(request); }`. It may change the headers or the
 * message (awaiting what it needs first, e.g. a token), call `next` again
 * (e.g. after refreshing a token on UNAUTHENTICATED), and observe or replace
 * the response or the error. What it throws rejects the call unchanged; if
 * it throws before calling `next`, nothing is sent.
 */
export type Interceptor = (next: InterceptorNext) => InterceptorNext;

/** Exponential backoff with full jitter: the n-th wait is random(0, min(initialBackoffMs × backoffMultiplier^(n-1), maxBackoffMs)). */
export interface BackoffOptions {
  /** The first wait's cap in ms (> 0). Streams: 1000; unary: 100. */
  initialBackoffMs?: number;
  /** The largest cap in ms (>= initialBackoffMs). Streams: 30000; unary: 2000. */
  maxBackoffMs?: number;
  /** How much the cap grows per retry (>= 1). Streams: 1.6; unary: 2. */
  backoffMultiplier?: number;
}

/** What can make a resumable stream reconnect: a status code the server sent, or one of the failures without one. */
export type RetryableFailure =
  | Code
  /** UNAVAILABLE without a grpc-status from a server: the fetch failed, the connection broke, a proxy answered 502/503/504. */
  | "network"
  /** The response ended (or was cut inside a frame) without a grpc-status. */
  | "no-status"
  /** No message within `idleTimeoutMs`. */
  | "idle";

/** How a resumable server stream reconnects. */
export interface ResumeOptions<Req = any, Res = any> extends BackoffOptions {
  /**
   * The request of the next attempt, from the last message received and the
   * first request (e.g. `(u, req) => ({ ...req, afterSeq: u.seq })`). Called
   * only once a message has arrived; without it the first request is sent again.
   */
  from?: (lastMessage: Res, request: Req) => Req;
  /** Attempts in a row that may fail before the stream fails with the last error (an attempt that received a message starts the count again); default Infinity. */
  maxAttempts?: number;
  /** Default `[Code.UNAVAILABLE, "network", "no-status", "idle"]`; any other failure ends the stream with its error. */
  retryOn?: readonly RetryableFailure[];
  /** Close the connection while the page is hidden and reconnect (at once) when it is visible again; default false. */
  pauseWhenHidden?: boolean;
}

/** gRFC A6's retry policy for a unary call. */
export interface RetryOptions extends BackoffOptions {
  /** Attempts including the first: an integer >= 1 (more than 5 counts as 5, as in A6); default 3. */
  maxAttempts?: number;
  /** Default `[Code.UNAVAILABLE]`. A server's `grpc-retry-pushback-ms` sets the next wait; a negative or malformed one stops the retries. */
  retryableStatusCodes?: readonly Code[];
}

/**
 * A server stream's connection. `attempt` counts the stream's attempts (1
 * for the first); `delayMs` is the backoff before the next one.
 */
export type StreamState =
  | { readonly state: "connecting"; readonly attempt: number }
  | { readonly state: "open"; readonly attempt: number }
  | { readonly state: "reconnecting"; readonly attempt: number; readonly delayMs: number; readonly lastError: GrpcError }
  /** Waiting for the browser to be online, or (pauseWhenHidden) the page to be visible; then it goes at once. */
  | { readonly state: "paused"; readonly reason: "offline" | "hidden"; readonly lastError?: GrpcError }
  /** Over: ended by the server, by `break`, or failed with `error`. */
  | { readonly state: "closed"; readonly error?: unknown };

/** A JSON value: what google.protobuf.Value holds. */
export type JsonValue = null | boolean | number | string | JsonValue[] | { [key: string]: JsonValue };

/** A float or double as it comes out: a number, or one of the three non-finite names. */
export type FloatOutput = number | "NaN" | "Infinity" | "-Infinity";

/** How a call failed. A real Error: `instanceof GrpcError` and `instanceof Error` hold. */
export declare class GrpcError extends Error {
  /** E.g. in a test handler or an interceptor: `new GrpcError(Code.NOT_FOUND, "no such item")`. */
  constructor(code: Code, message: string, options?: { metadata?: Headers; cause?: unknown });
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
 * `input`: where the `.wasm` is (a URL, a `Response` or a promise of one, bytes), when not next to this module.
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
export declare function unary(client: ClientHandle, path: string, request: unknown, options?: CallOptions, method?: { readonly idempotent?: boolean }): Promise<unknown>;
/** @internal Called by generated client classes; not for applications. */
export declare function serverStream(client: ClientHandle, path: string, request: unknown, options?: CallOptions): MessageStream<unknown>;

/** @internal The codec on its own, for `grpc-web-abort/testing`. */
export declare const testCodec: {
  methodStreams(path: string): Promise<boolean | undefined>;
  decodeRequest(path: string, bytes: Uint8Array): Promise<unknown>;
  encodeReply(path: string, message: unknown): Promise<Uint8Array>;
};

/* PROVIDED */

/** @internal Used by the Node entry to hand over the wasm's bytes. */
export declare function setWasmSource(source: () => Promise<unknown>): void;

/** @internal The wasm's linear memory in bytes, once loaded (for benchmarks). */
export declare function wasmMemoryBytes(): number | undefined;
