// The calls an app makes, written as one would write them: the modules
// `buf generate` wrote for two protos, the runtime package by its name,
// strict types, no init(), no casts. run.mjs calls them through
// `window.calls` and checks what they return against the server's /metrics.
import { Code, GrpcError } from "grpc-web-abort";

import { GreeterClient } from "./gen/demo/v1/greeter_grpcweb.js";
import { UpdatesClient } from "./gen/demo/v1/updates_grpcweb.js";

/** How a call failed, as plain JSON for the runner. */
export interface Failure {
  code: Code;
  codeName: string;
  cause: string;
  elapsedMs: number;
}

/** Awaits a call that must fail with a GrpcError; anything else is a bug. */
async function failure(call: Promise<unknown>, started: number): Promise<Failure> {
  try {
    await call;
  } catch (error) {
    if (!(error instanceof GrpcError)) throw error;
    const cause = error.cause instanceof Error ? error.cause.message : String(error.cause);
    return { code: error.code, codeName: error.codeName, cause, elapsedMs: performance.now() - started };
  }
  throw new Error("the call succeeded");
}

async function unary(base: string) {
  let status: string | null = null;
  const { message } = await new GreeterClient(base).sayHello(
    { name: "consumer" },
    { onTrailer: (trailers) => (status = trailers.get("grpc-status")) },
  );
  return { message, status };
}

/** Three updates, then `break`: the call is cancelled without an error. */
async function stream(base: string) {
  const seqs: bigint[] = [];
  for await (const u of new UpdatesClient(base).watch({ topic: "consumer", intervalMs: 20 })) {
    seqs.push(u.seq);
    if (seqs.length === 3) break;
  }
  return { seqs: seqs.map(String), bigints: seqs.every((s) => typeof s === "bigint"), ascending: seqs[2] > seqs[0] };
}

// A slow call that the runner aborts once the server has it at both tiers.
let pending: { stop: AbortController; outcome: Promise<Failure> } | undefined;

function startAbortable(base: string): void {
  const stop = new AbortController();
  const call = new GreeterClient(base).sayHello({ name: "abort", delayMs: 30_000 }, { signal: stop.signal });
  pending = { stop, outcome: failure(call, performance.now()) };
}

function abort(): Promise<Failure> {
  if (!pending) throw new Error("startAbortable first");
  pending.stop.abort(new Error("user cancelled"));
  return pending.outcome;
}

function deadline(base: string): Promise<Failure> {
  const call = new GreeterClient(base).sayHello({ name: "deadline", delayMs: 30_000 }, { timeoutMs: 300 });
  return failure(call, performance.now());
}

const calls = { unary, stream, startAbortable, abort, deadline };

declare global {
  interface Window {
    calls: typeof calls;
  }
}
window.calls = calls;
