// protobuf-es (the codec's test oracle) reading the same schema as our
// runtime: the descriptors a test package's generated modules register,
// with the well-known types' from protobuf-es's own copies. Shared by
// kinds.test.mjs and text-forms.differential.mjs.
import { readFile, readdir } from "node:fs/promises";
import { createRequire } from "node:module";

const require = createRequire(new URL("../../e2e/package.json", import.meta.url));
const { create, createFileRegistry, fromBinary } = require("@bufbuild/protobuf");
const wkt = require("@bufbuild/protobuf/wkt");
const { protoCamelCase } = require("@bufbuild/protobuf/reflect");

/** A protobuf-es registry of the package in `dir` (e.g. target/test-packages/kinds), which must hold `proto`. */
export async function oracleRegistry(dir, proto) {
  const files = Object.entries(wkt)
    .filter(([name]) => name.startsWith("file_google_protobuf_"))
    .map(([, desc]) => desc.proto);
  for (const entry of await readdir(dir, { recursive: true })) {
    if (!entry.endsWith("_grpcweb.js")) continue;
    const module = await readFile(`${dir}/${entry}`, "utf8");
    const embedded = module.match(/\$rt\.registerFile\("([A-Za-z0-9+/=]+)"/)?.[1];
    if (!embedded) throw new Error(`no descriptor in ${entry}`);
    files.push(withDefaults(fromBinary(wkt.FileDescriptorProtoSchema, Buffer.from(embedded, "base64"))));
  }
  if (!files.some((f) => f.name === proto)) throw new Error(`no module for ${proto}`);
  const ordered = [];
  const place = (file) => {
    if (ordered.includes(file)) return;
    for (const dep of file.dependency) place(files.find((f) => f.name === dep) ?? { name: dep, dependency: [] });
    ordered.push(file);
  };
  files.forEach(place);
  return createFileRegistry(create(wkt.FileDescriptorSetSchema, { file: ordered.filter((f) => f.$typeName) }));
}

// The embedded descriptors leave out what the runtime derives (a field's
// default JSON name, the optional label); protobuf-es reads them as given,
// so they are put back here the way protoc writes them, by protobuf-es's own
// camel case: a runtime that derived them differently would fail the checks.
function withDefaults(file) {
  const fill = (message) => {
    for (const field of message.field) {
      if (!field.jsonName) field.jsonName = protoCamelCase(field.name);
      if (!field.label) field.label = 1;
    }
    message.nestedType.forEach(fill);
  };
  file.messageType.forEach(fill);
  return file;
}
