// Type-checks the live-update options as a strict TypeScript user meets
// them (`tsc -p tests/resume`, with the demo's package in pkg/). Never run,
// only compiled; the @ts-expect-error lines must stay errors.
import {
  type BackoffOptions,
  type CallOptions,
  Code,
  GreeterClient,
  type ResumeOptions,
  type RetryOptions,
  type StreamState,
  type Update,
  UpdatesClient,
  type WatchRequestInput,
} from "../../pkg/index.js";

const resume: ResumeOptions<WatchRequestInput, Update> = {
  from: (last, request) => ({ ...request, afterSeq: last.seq }),
  initialBackoffMs: 500,
  maxBackoffMs: 10_000,
  backoffMultiplier: 2,
  maxAttempts: Infinity,
  retryOn: [Code.UNAVAILABLE, "network", "no-status", "idle"],
  pauseWhenHidden: true,
};
function show(state: StreamState): string {
  switch (state.state) {
    case "connecting":
    case "open":
      return `attempt ${state.attempt}`;
    case "reconnecting":
      return `in ${state.delayMs} ms after ${state.lastError.codeName}`;
    case "paused":
      return state.reason;
    case "closed":
      return String(state.error ?? "");
  }
}
const options: CallOptions = { resume, idleTimeoutMs: 5000, onStateChange: (s) => void show(s) };
for await (const update of new UpdatesClient("http://127.0.0.1:8080", { resume: true }).watch({ topic: "t" }, options)) {
  const seq: bigint = update.seq;
  void seq;
}
const backoff: BackoffOptions = { initialBackoffMs: 100 };
const retry: RetryOptions = { ...backoff, maxAttempts: 4, retryableStatusCodes: [Code.UNAVAILABLE, Code.RESOURCE_EXHAUSTED] };
await new GreeterClient("http://127.0.0.1:8080", { retry: false }).sayHello({ name: "a" }, { retry });
// @ts-expect-error: retryOn takes codes and the three failure kinds only
const wrong: ResumeOptions = { retryOn: ["sometimes"] };
void wrong;
