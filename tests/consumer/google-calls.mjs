// Run by run.mjs inside the JS app (so `grpc-web-abort` is the installed
// runtime, its Node entry): every unary and server-streaming method of the
// given protos, as protobuf-es reads them from buf's image (an
// implementation this project did not write), is called through the
// generated client class, from Node, at a port where nothing listens; each
// must end in GrpcError UNAVAILABLE (the request was encoded, validated and
// sent). Prints { services, called, skipped, failures } as JSON.
// Usage: node google-calls.mjs IMAGE GEN_DIR FILE...
import { createServer } from "node:net";

import { Code, GrpcError } from "grpc-web-abort";

import { googleMethods } from "./google-clients.mjs";

const [image, gen, ...files] = process.argv.slice(2);

const closed = await new Promise((ok) => {
  const probe = createServer().listen(0, "127.0.0.1", () => {
    const { port } = probe.address();
    probe.close(() => ok(port));
  });
});
const base = `http://127.0.0.1:${closed}`;

const { services, methods, skipped, failures } = await googleMethods(image, gen, files, base);
const calls = methods.map(({ client, method, label }) => call(client, method, label));

async function call(client, method, label) {
  try {
    const result = client[method.localName]({}, { timeoutMs: 10_000 });
    if (method.methodKind === "server_streaming") {
      for await (const _ of result) {
        // A closed port sends nothing.
      }
    } else {
      await result;
    }
    failures.push(`${label}: succeeded`);
  } catch (error) {
    if (!(error instanceof GrpcError) || error.code !== Code.UNAVAILABLE) {
      failures.push(`${label}: ${error?.name} ${error?.code} ${error?.message}`);
    }
  }
}

await Promise.all(calls);
console.log(JSON.stringify({ services, called: calls.length, skipped, failures }));
