// Declarations of `grpc-web-abort/testing`: the test transport.
import type { CallOptions, MessageStream } from "grpc-web-abort";

/** What a test handler learns of its call. */
export interface HandlerContext {
  readonly method: { readonly service: string; readonly name: string; readonly kind: "unary" | "server_streaming"; readonly path: string };
  /** The request's metadata, as the client sent it (grpc-timeout included). */
  readonly headers: Headers;
  /** Aborted when the client cancels the call or its deadline passes. */
  readonly signal: AbortSignal;
  /** The call's deadline in epoch ms, from its grpc-timeout; undefined without one. */
  readonly deadline: number | undefined;
  /** Response headers: set them before the first reply (or the return). */
  readonly responseHeaders: Headers;
  /** Trailers sent after the last reply. */
  readonly responseTrailers: Headers;
}

/** Every field optional at any depth: what a handler may return for a reply (the codec fills in defaults). */
export type ReplyInput<T> = T extends Uint8Array | bigint | Date | string | number | boolean
  ? T
  : T extends readonly (infer E)[]
    ? readonly ReplyInput<E>[]
    : T extends object
      ? { [K in keyof T]?: ReplyInput<T[K]> | null }
      : T;

/**
 * The handlers of a generated client class's methods, by the client's
 * method names (`ServiceHandlers<GreeterClient>`): a unary method returns
 * its reply; a server-streaming one yields them.
 */
export type ServiceHandlers<C> = {
  [K in keyof C]?: C[K] extends (request: infer I, options?: CallOptions) => Promise<infer O>
    ? (request: I, context: HandlerContext) => ReplyInput<O> | Promise<ReplyInput<O>>
    : C[K] extends (request: infer I, options?: CallOptions) => MessageStream<infer O>
      ? (request: I, context: HandlerContext) => AsyncIterable<ReplyInput<O>> | Iterable<ReplyInput<O>>
      : never;
};

/** A transport's `fetch`: give it to a client as `{ fetch }` (in its defaults or per call). */
export interface TestTransport {
  readonly fetch: (input: RequestInfo | URL, init?: RequestInit) => Promise<Response>;
}

/**
 * Handlers by the service's full proto name (`"demo.v1.Greeter"`), each
 * method under its proto name (`SayHello`) or its client's (`sayHello`). A
 * method with no handler answers UNIMPLEMENTED; a `GrpcError` a handler
 * throws is the call's status (anything else thrown: UNKNOWN).
 */
export declare function createTestTransport(services: Record<string, Record<string, (request: any, context: HandlerContext) => unknown>>): TestTransport;
