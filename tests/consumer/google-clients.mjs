// The generated clients of Google's API protos, method by method, as
// protobuf-es reads the protos from buf's image (an implementation this
// project did not write): shared by google-calls.mjs and
// google-codec.differential.mjs, which run inside the JS app (so
// `grpc-web-abort` is the installed runtime, its Node entry).
import { readFileSync } from "node:fs";
import { resolve } from "node:path";
import { pathToFileURL } from "node:url";

import { createFileRegistry, fromBinary } from "@bufbuild/protobuf";
import { FileDescriptorSetSchema } from "@bufbuild/protobuf/wkt";

/**
 * `{ registry, services, methods, skipped, failures }`: each unary and
 * server-streaming method of `files` (in buf's `image`) as `{ label, path,
 * method, client }`, `client` the generated `<Service>Client` made with
 * `base`; `skipped` counts the client and bidi streaming ones, `failures`
 * names what is missing.
 */
export async function googleMethods(image, gen, files, base) {
  const registry = createFileRegistry(fromBinary(FileDescriptorSetSchema, readFileSync(image)));
  // Every module first: the runtime reads the registered descriptors once.
  const modules = new Map();
  for (const name of files) {
    const path = resolve(gen, name.replace(/\.proto$/, "_grpcweb.js"));
    modules.set(name, await import(pathToFileURL(path).href));
  }
  let services = 0;
  let skipped = 0;
  const methods = [];
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
        const label = `${service.typeName}.${method.name}`;
        const found = classes.find(([, cls]) => typeof cls.prototype[method.localName] === "function");
        if (!found) {
          failures.push(`${label}: no ${service.name}Client.${method.localName}()`);
          continue;
        }
        methods.push({ label, path: `/${service.typeName}/${method.name}`, method, client: new found[1](base) });
      }
    }
  }
  return { registry, services, methods, skipped, failures };
}
