// The codec against an independent implementation: runs kinds.cases.mjs in
// Chromium against tests/echo-server, then has @bufbuild/protobuf
// (protobuf-es) (1) decode the very bytes our client sent and check that its
// proto3 JSON equals our reply, and (2) encode those messages itself, which
// our client must decode to the same JSON.
// Usage: node tests/js/kinds.test.mjs ECHO_URL PACKAGES_DIR
import { readFile } from "node:fs/promises";
import { createRequire } from "node:module";
import { isDeepStrictEqual } from "node:util";

import { report, runCases } from "./page.mjs";

const require = createRequire(new URL("../../e2e/package.json", import.meta.url));
const { createFileRegistry, fromBinary, fromJson, toBinary, toJson } = require("@bufbuild/protobuf");
const { FileDescriptorSetSchema } = require("@bufbuild/protobuf/wkt");

const [base = "http://127.0.0.1:47090", packages = "target/test-packages"] = process.argv.slice(2);
const cases = new URL("./kinds.cases.mjs", import.meta.url);

// The descriptor set the generated package embeds, so both sides read the same schema.
const index = await readFile(`${packages}/kinds/index.js`, "utf8");
const embedded = index.match(/createRuntime\("([A-Za-z0-9+/=]+)"\)/)?.[1];
if (!embedded) throw new Error("no descriptor set in the kinds package's index.js");
const registry = createFileRegistry(fromBinary(FileDescriptorSetSchema, Buffer.from(embedded, "base64")));
const Kinds = registry.getMessage("test.kinds.v1.Kinds");

const { results, roundTrips } = await runCases(cases, `${base}/kinds/package.json`, { base, round: "cases" });
let failed = report("every field kind", results);

// Any's JSON form differs by design (ours keeps { typeUrl, value }): compared in the page instead.
const withoutAny = ({ any, ...rest }) => rest;
const oracle = [];
const encoded = [];
for (const { name, bytes, ours } of roundTrips) {
  const b64 = bytes.padEnd(Math.ceil(bytes.length / 4) * 4, "=");
  let error;
  try {
    const message = fromBinary(Kinds, Buffer.from(b64, "base64"));
    const theirs = toJson(Kinds, message, { alwaysEmitImplicit: true, registry });
    if (!isDeepStrictEqual(withoutAny(ours), withoutAny(theirs))) {
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
  if (!error && !isDeepStrictEqual(withoutAny(ours), withoutAny(theirs))) {
    error = `ours   ${JSON.stringify(ours)}\n     theirs ${JSON.stringify(theirs)}`;
  }
  return { name: `we read protobuf-es's bytes as its JSON: ${name}`, error };
});
failed += report("oracle, our decoding", reverse);
if (roundTrips.length === 0) failed++;
process.exit(failed ? 1 : 0);
