// Type-checks the npm package's declarations the way a TypeScript user meets
// them (`tsc -p tests/js`, strict). Never run, only compiled.
import init, {
  type CallOptions,
  Code,
  GreeterClient,
  GrpcError,
  StatsClient,
  UpdatesClient,
  WorkClient,
  navigationSignal,
} from "../../pkg/grpc_web_abort.js";

await init();
const options: CallOptions = { signal: navigationSignal(), timeoutMs: 100, deadline: new Date(), headers: { "x-a": "b" } };
const greeter = new GreeterClient("http://127.0.0.1:8080", { timeoutMs: 5000 });
const reply = await greeter.sayHello({ name: "Ada", delayMs: 1 }, options);
const message: string = reply.message;
for await (const update of new UpdatesClient("http://127.0.0.1:8080").watch({ topic: "t", intervalMs: 10 })) {
  const seq: number | string = update.seq;
  const text: string = update.text;
  break;
}
const { result } = await new WorkClient("http://127.0.0.1:8080").compute({ n: 10n });
for await (const snapshot of new StatsClient("http://127.0.0.1:8080").watch({ intervalMs: 250 })) {
  const stopMs: number = snapshot.tiers[0].lastCancelToStopMs;
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
greeter.sayHello({ delayMs: "1" });
// @ts-expect-error replies have no unknown fields
reply.nope;
export { message, result, cancelled };
