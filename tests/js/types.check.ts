// Type-checks the npm package's declarations the way a TypeScript user meets
// them (`tsc -p tests/js`, strict, skipLibCheck off). Never run, only compiled.
import init, {
  type CallOptions,
  type FloatOutput,
  Code,
  GreeterClient,
  GrpcError,
  MessageStream,
  StatsClient,
  UpdatesClient,
  type Update,
  WorkClient,
  navigationSignal,
} from "../../pkg/index.js";

await init(); // optional, and harmless
const options: CallOptions = {
  signal: navigationSignal(),
  timeoutMs: 100,
  deadline: new Date(),
  headers: { "x-a": "b" },
  onHeader: (headers: Headers) => headers.get("content-type"),
  onTrailer: (trailers: Headers) => trailers.get("x-b"),
};
const greeter = new GreeterClient("http://127.0.0.1:8080", { timeoutMs: 5000 });
const reply = await greeter.sayHello({ name: "Ada", delayMs: 1 }, options);
const message: string = reply.message;
const stream: MessageStream<Update> = new UpdatesClient("http://127.0.0.1:8080").watch({ topic: "t", intervalMs: 10 });
for await (const update of stream) {
  const seq: bigint = update.seq;
  const text: string = update.text;
  if (update.seq >= 10n) break;
}
const { result } = await new WorkClient("http://127.0.0.1:8080").compute({ n: 10n });
const big: bigint = result;
await new WorkClient("http://127.0.0.1:8080").compute({ n: "10" });
await new WorkClient("http://127.0.0.1:8080").compute({ n: 10 });
for await (const snapshot of new StatsClient("http://127.0.0.1:8080").watch({ intervalMs: 250 })) {
  // A double: a number, or "NaN" / "Infinity" / "-Infinity".
  const stopMs: FloatOutput = snapshot.tiers[0].lastCancelToStopMs;
  if (typeof stopMs === "number") stopMs.toFixed(1);
  const inFlight: bigint = snapshot.tiers[0].inFlight;
}
try {
  await greeter.sayHello({});
} catch (e) {
  if (e instanceof GrpcError) {
    const code: Code = e.code;
    const name: string = e.codeName;
    const header: string | null = e.metadata.get("x-a");
    const asError: Error = e;
  }
}
const cancelled: number = Code.CANCELLED;

// What must not type-check:
// @ts-expect-error timeoutMs is a number
greeter.sayHello({}, { timeoutMs: "1" });
// @ts-expect-error signal is an AbortSignal
greeter.sayHello({}, { signal: {} });
// @ts-expect-error delayMs is a number
greeter.sayHello({ delayMs: true });
// @ts-expect-error replies have no unknown fields
reply.nope;
// @ts-expect-error 64-bit outputs are bigint, not number
const seqAsNumber: number = (await stream.next()).value!.seq;
export { message, big, cancelled, seqAsNumber };
