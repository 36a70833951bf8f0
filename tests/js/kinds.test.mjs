// The codec against an independent implementation: runs kinds.cases.mjs in
// Chromium against tests/echo-server, then has @bufbuild/protobuf
// (protobuf-es) (1) decode the very bytes our client sent and check that its
// proto3 JSON equals our reply, and (2) encode those messages itself, which
// our client must decode to the same JSON.
// Usage: node tests/js/kinds.test.mjs ECHO_URL PACKAGES_DIR
import { createRequire } from "node:module";
import { isDeepStrictEqual } from "node:util";

import { oracleRegistry } from "./oracle-registry.mjs";
import { report, runCases } from "./page.mjs";

const require = createRequire(new URL("../../e2e/package.json", import.meta.url));
const { fromBinary, fromJson, toBinary, toJson } = require("@bufbuild/protobuf");

const [base = "http://127.0.0.1:27090", packages = "target/test-packages"] = process.argv.slice(2);
const cases = new URL("./kinds.cases.mjs", import.meta.url);

const registry = await oracleRegistry(`${packages}/kinds`, "kinds.proto");
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
