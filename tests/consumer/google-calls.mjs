// Run by run.mjs inside the JS app (so `grpc-web-abort` is the installed
// runtime, its Node entry): every unary and server-streaming method of the
// given protos, as protobuf-es reads them from buf's image (an
// implementation this project did not write), is called through the
// generated client class, from Node, at a port where nothing listens; each
// must end in GrpcError UNAVAILABLE (the request was encoded, validated and
// sent). Prints { services, called, skipped, failures } as JSON.
// Usage: node google-calls.mjs IMAGE GEN_DIR FILE...
import { readFileSync } from "node:fs";
import { createServer } from "node:net";
import { resolve } from "node:path";
import { pathToFileURL } from "node:url";

import { createFileRegistry, fromBinary } from "@bufbuild/protobuf";
import { FileDescriptorSetSchema } from "@bufbuild/protobuf/wkt";
import { Code, GrpcError } from "grpc-web-abort";

const [image, gen, ...files] = process.argv.slice(2);
const registry = createFileRegistry(fromBinary(FileDescriptorSetSchema, readFileSync(image)));

const closed = await new Promise((ok) => {
  const probe = createServer().listen(0, "127.0.0.1", () => {
    const { port } = probe.address();
    probe.close(() => ok(port));
  });
});
const base = `http://127.0.0.1:${closed}`;

// Every module first: the runtime reads the registered descriptors once.
const modules = new Map();
for (const name of files) {
  const path = resolve(gen, name.replace(/\.proto$/, "_grpcweb.js"));
  modules.set(name, await import(pathToFileURL(path).href));
}

let services = 0;
let skipped = 0;
const calls = [];
const failures = [];
for (const name of files) {
  const file = registry.getFile(name);
  if (!file) {
    failures.push(`${name}: not in the image`);
    continue;
  }
  const module = modules.get(name);
  for (const service of file.services) {
    services++;
    // Our class is `<Service>Client`, with `$` appended where the proto took that name.
    const classes = Object.entries(module).filter(([key]) => key.replace(/\$+$/, "") === `${service.name}Client`);
    for (const method of service.methods) {
      if (method.methodKind === "client_streaming" || method.methodKind === "bidi_streaming") {
        skipped++;
        continue;
      }
      const found = classes.find(([, cls]) => typeof cls.prototype[method.localName] === "function");
      if (!found) {
        failures.push(`${service.typeName}.${method.name}: no ${service.name}Client.${method.localName}()`);
        continue;
      }
      const client = new found[1](base);
      calls.push(call(client, method, `${service.typeName}.${method.name}`));
    }
  }
}

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
