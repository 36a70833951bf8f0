//! TypeScript declarations for what wasm-bindgen cannot describe itself:
//! options, messages, `GrpcError` (a JS class, re-exported by the package
//! build) and the stream type.
use wasm_bindgen::prelude::*;

#[wasm_bindgen(typescript_custom_section)]
const TYPES: &'static str = r#"
/** Options for one call, or a client's defaults (merged: both signals apply, the earlier deadline wins). */
export interface CallOptions {
  /** Aborting it cancels the call (CANCELLED; DEADLINE_EXCEEDED for a TimeoutError reason). */
  signal?: AbortSignal;
  /** Relative deadline in milliseconds, finite and >= 0; sent as grpc-timeout. */
  timeoutMs?: number;
  /** Absolute deadline: a Date or epoch milliseconds. */
  deadline?: Date | number;
  /** Request metadata. */
  headers?: Record<string, string> | Headers;
}

/** A 64-bit integer input: a safe integer number, a BigInt or a decimal string. */
export type Int64Input = number | bigint | string;
/** A 64-bit integer output: a number up to Number.MAX_SAFE_INTEGER, a decimal string above. */
export type Int64Output = number | string;

export interface HelloRequest { name?: string; delayMs?: number; }
export interface HelloReply { message: string; }
export interface WatchRequest { topic?: string; intervalMs?: number; /** 0 = endless */ limit?: number; }
export interface Update { topic: string; seq: Int64Output; text: string; sentAtMs: Int64Output; }
export interface ComputeRequest { n?: Int64Input; }
export interface ComputeReply { result: Int64Output; }
export interface StatsRequest { intervalMs?: number; }
export interface TierStats {
  tier: string;
  inFlight: Int64Output;
  started: Int64Output;
  ok: Int64Output;
  cancelled: Int64Output;
  deadlineExceeded: Int64Output;
  lastCancelToStopMs: number;
}
export interface StatsSnapshot { tiers: TierStats[]; }

/** A server stream: `for await` reads it; `break` / `return()` cancels the call without an error. */
export interface MessageStream<T> extends AsyncIterableIterator<T> {
  next(): Promise<IteratorResult<T, undefined>>;
  return(value?: undefined): Promise<IteratorResult<T, undefined>>;
}

/** How a call failed. A real Error: `instanceof GrpcError` and `instanceof Error` hold. */
export class GrpcError extends Error {
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
"#;

// Parameter types: imported JS types carry their TypeScript name, and an
// `Option` of one becomes an optional parameter (`options?: CallOptions`).
#[wasm_bindgen]
extern "C" {
    #[wasm_bindgen(typescript_type = "CallOptions")]
    pub type CallOptionsArg;
    #[wasm_bindgen(typescript_type = "HelloRequest")]
    pub type HelloRequestArg;
    #[wasm_bindgen(typescript_type = "WatchRequest")]
    pub type WatchRequestArg;
    #[wasm_bindgen(typescript_type = "ComputeRequest")]
    pub type ComputeRequestArg;
    #[wasm_bindgen(typescript_type = "StatsRequest")]
    pub type StatsRequestArg;
}

/// The JS value behind an optional argument (`undefined` when absent).
pub(crate) fn arg(value: Option<impl Into<JsValue>>) -> JsValue {
    value.map(Into::into).unwrap_or_default()
}
