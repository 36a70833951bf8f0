// The codec against an independent implementation: runs kinds.cases.mjs in
// Chromium against tests/echo-server, then has @bufbuild/protobuf
// (protobuf-es) (1) decode the very bytes our client sent and check that its
// proto3 JSON equals our reply, and (2) encode those messages itself, which
// our client must decode to the same JSON.
// Usage: node tests/js/kinds.test.mjs ECHO_URL PACKAGES_DIR
import { readFile, readdir } from "node:fs/promises";
import { createRequire } from "node:module";
import { isDeepStrictEqual } from "node:util";

import { report, runCases } from "./page.mjs";

const require = createRequire(new URL("../../e2e/package.json", import.meta.url));
const { create, createFileRegistry, fromBinary, fromJson, toBinary, toJson } = require("@bufbuild/protobuf");
const wkt = require("@bufbuild/protobuf/wkt");
const { protoCamelCase } = require("@bufbuild/protobuf/reflect");
const { FileDescriptorProtoSchema, FileDescriptorSetSchema } = wkt;

const [base = "http://127.0.0.1:27090", packages = "target/test-packages"] = process.argv.slice(2);
const cases = new URL("./kinds.cases.mjs", import.meta.url);

// The descriptors the generated modules register, so both sides read the
// same schema; the well-known types' (which the runtime registers) from
// protobuf-es's own copies.
const files = Object.entries(wkt)
  .filter(([name]) => name.startsWith("file_google_protobuf_"))
  .map(([, desc]) => desc.proto);
for (const entry of await readdir(`${packages}/kinds`, { recursive: true })) {
  if (!entry.endsWith("_grpcweb.js")) continue;
  const module = await readFile(`${packages}/kinds/${entry}`, "utf8");
  const embedded = module.match(/\$rt\.registerFile\("([A-Za-z0-9+/=]+)"/)?.[1];
  if (!embedded) throw new Error(`no descriptor in ${entry}`);
  files.push(withDefaults(fromBinary(FileDescriptorProtoSchema, Buffer.from(embedded, "base64"))));
}
if (!files.some((f) => f.name === "kinds.proto")) throw new Error("no module for kinds.proto");
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

const ordered = [];
const place = (file) => {
  if (ordered.includes(file)) return;
  for (const dep of file.dependency) place(files.find((f) => f.name === dep) ?? { name: dep, dependency: [] });
  ordered.push(file);
};
files.forEach(place);
const registry = createFileRegistry(create(FileDescriptorSetSchema, { file: ordered.filter((f) => f.$typeName) }));
const Kinds = registry.getMessage("test.kinds.v1.Kinds");

const { results, roundTrips } = await runCases(cases, `${base}/kinds/package.json`, { base, round: "cases" });
let failed = report("every field kind", results);

// Any's JSON form differs by design: ours keeps { typeUrl, value } (the
// packed bytes), proto3 JSON unpacks it ({ "@type", ...the message's JSON }).
// Ours is unpacked here by protobuf-es, from the registry, so that the
// comparison covers the packed bytes both ways: a wrong typeUrl or value
// fails it.
function unpackAny(json) {
  if (json.any === undefined) return json;
  const { typeUrl, value } = json.any;
  const type = registry.getMessage(typeUrl.slice(typeUrl.lastIndexOf("/") + 1));
  if (!type) throw new Error(`Any: no message type for ${typeUrl}`);
  const packed = toJson(type, fromBinary(type, Buffer.from(value, "base64")), { alwaysEmitImplicit: true, registry });
  return { ...json, any: { "@type": typeUrl, ...packed } };
}
const same = (ours, theirs) => isDeepStrictEqual(unpackAny(ours), theirs);
const oracle = [];
const encoded = [];
for (const { name, bytes, ours } of roundTrips) {
  const b64 = bytes.padEnd(Math.ceil(bytes.length / 4) * 4, "=");
  let error;
  try {
    const message = fromBinary(Kinds, Buffer.from(b64, "base64"));
    const theirs = toJson(Kinds, message, { alwaysEmitImplicit: true, registry });
    if (!same(ours, theirs)) {
      error = `ours   ${JSON.stringify(ours)}\n     theirs ${JSON.stringify(theirs)}`;
    }
    encoded.push({ name, theirs, b64: Buffer.from(toBinary(Kinds, fromJson(Kinds, theirs, { registry }))).toString("base64") });
  } catch (e) {
    error = String(e?.stack ?? e);
  }
  oracle.push({ name: `protobuf-es reads our bytes as our reply: ${name}`, error });
}
failed += report("oracle, our encoding", oracle);

const decoded = await runCases(cases, `${base}/kinds/package.json`, { base, round: "decode", encoded });
const reverse = decoded.map(({ name, ours, error }, i) => {
  const { theirs } = encoded[i];
  try {
    if (!error && !same(ours, theirs)) {
      error = `ours   ${JSON.stringify(ours)}\n     theirs ${JSON.stringify(theirs)}`;
    }
  } catch (e) {
    error = String(e?.stack ?? e);
  }
  return { name: `we read protobuf-es's bytes as its JSON: ${name}`, error };
});
failed += report("oracle, our decoding", reverse);
if (roundTrips.length === 0) failed++;
process.exit(failed ? 1 : 0);
