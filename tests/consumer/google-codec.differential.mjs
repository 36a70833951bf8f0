// A seeded differential test of OUR codec (the installed runtime, through
// the generated clients of Google's API protos and `testCodec`) against
// protobuf-es (an implementation this project did not write), on real,
// populated messages. For each message type that a unary or
// server-streaming method takes or returns, COUNT random messages are made
// from the descriptors in buf's image (every scalar kind with its edge
// values, repeated fields, maps, oneofs, open enums with unknown numbers,
// nested messages to a bounded depth and size, and the well-known types as
// they occur: Timestamp, Duration, FieldMask, Struct/Value/ListValue, Any,
// Empty, the wrappers), each as the proto3 JSON protobuf-es reads and as
// the JS value docs/javascript.md says our codec takes. Then, both ways:
// - protobuf-es's bytes -> ours: decoded as a reply of the method (a call
//   whose `fetch` answers with them) or as its request (testCodec), our
//   value must be protobuf-es's toJson of the message, in the form
//   docs/javascript.md gives (tests/js/proto3-json.mjs); 1 in 5 with a
//   field the type does not have appended, 1 in 10 followed by a second
//   message (the two read as one, merged);
// - ours -> bytes: encoded as the method's request (the call's body) or as
//   its reply (testCodec), protobuf-es must read the same message; and so
//   must it when what our codec decoded is given back to it.
// Prints { seed, count, types, reached, cases, checks, seconds, made, failed,
// failures (the first SHOW, default 30) } as JSON.
// Usage (inside the app run.mjs builds; ../js/ holds tests/js's shared
// modules): node google-codec.differential.mjs IMAGE GEN_DIR [--seed=N] [--count=N] FILE...
import { create, fromBinary, fromJson, toBinary, toJson } from "@bufbuild/protobuf";
import { testCodec } from "grpc-web-abort";

import { asProto3Json } from "../js/proto3-json.mjs";
import { seeded } from "../js/seeded.mjs";
import { googleMethods } from "./google-clients.mjs";

const args = process.argv.slice(2);
const option = (name, fallback) => Number(args.find((a) => a.startsWith(`--${name}=`))?.split("=")[1] ?? fallback);
const [image, gen, ...files] = args.filter((a) => !a.startsWith("--"));
const SEED = option("seed", 20261130) >>> 0;
const COUNT = option("count", 2); // messages per type and direction
const started = performance.now();
const { random, int, pick, bigRandom } = seeded(SEED);

// No request leaves the process: each call's `fetch` answers it.
const { registry, methods, failures } = await googleMethods(image, gen, files, "http://in-memory.test");
const opts = { registry, alwaysEmitImplicit: true };
const Any = registry.getMessage("google.protobuf.Any");
const anyAsJson = (typeUrl, value) => toJson(Any, create(Any, { typeUrl, value }), opts);

// ---- the messages: each { json, ours }, from one sequence of choices ----
const MAX_DEPTH = 5; // message nesting below the top
const BUDGET = 150; // fields set per message, nested ones included
const INT64 = { 3: true, 6: false, 16: true, 18: true, 4: false }; // signed?
const INT32 = { 5: true, 15: true, 17: true, 7: false, 13: false };
const [DOUBLE, FLOAT, BOOL, STRING, BYTES] = [1, 2, 8, 9, 12];
const WRAPPED = {
  DoubleValue: DOUBLE, FloatValue: FLOAT, Int64Value: 3, UInt64Value: 4, Int32Value: 5, UInt32Value: 13,
  BoolValue: BOOL, StringValue: STRING, BytesValue: BYTES,
};
const base64 = (bytes) => Buffer.from(bytes).toString("base64");
const chance = (p) => random() < p;
// What the messages held, by kind: printed, so that a generator that
// stopped making something shows.
const made = {};
const tally = (what) => (made[what] = (made[what] ?? 0) + 1);
const NAMES = { 1: "double", 2: "float", 3: "int64", 4: "uint64", 5: "int32", 6: "fixed64", 7: "fixed32", 8: "bool", 9: "string", 12: "bytes", 13: "uint32", 15: "sfixed32", 16: "sfixed64", 17: "sint32", 18: "sint64" };

const CHARS = ["a", "z", "A", "0", " ", "_", "\"", "\\", "/", "\n", "\t", "\u0000", "\u007f", "é", "ß", "✓", "中", "\u2028", "\ufeff", "\ufffd", "𝄞", "😀"];
const text = () => Array.from({ length: pick([0, 1, 3, 8, 20]) }, () => (chance(0.6) ? String.fromCharCode(int(0x61, 0x7a)) : pick(CHARS))).join("");

function integer(type) {
  if (type in INT64) {
    const signed = INT64[type];
    const edges = signed ? [-(2n ** 63n), 2n ** 63n - 1n, 0n, -1n, 1n, -(2n ** 53n) - 1n, 2n ** 53n + 1n] : [0n, 1n, 2n ** 64n - 1n, 2n ** 63n, 2n ** 53n + 1n];
    const raw = bigRandom(pick([8, 16, 32, 64]));
    const n = chance(0.2) ? pick(edges) : signed ? BigInt.asIntN(64, raw) * pick([1n, -1n]) : raw;
    const v = signed ? BigInt.asIntN(64, n) : BigInt.asUintN(64, n);
    const safe = v >= -(2n ** 53n) + 1n && v <= 2n ** 53n - 1n;
    // docs/javascript.md: a BigInt, a decimal string or a safe integer number.
    return { json: String(v), ours: pick([v, v, String(v), safe ? Number(v) : v]) };
  }
  const signed = INT32[type];
  const [lo, hi] = signed ? [-(2 ** 31), 2 ** 31 - 1] : [0, 2 ** 32 - 1];
  const n = chance(0.2) ? pick([lo, hi, 0, 1, signed ? -1 : hi - 1]) : chance(0.5) ? int(signed ? -300 : 0, 300) : int(lo, hi);
  return { json: n, ours: chance(0.1) ? String(n) : n };
}

function floating(type) {
  const f32 = type === FLOAT;
  const edges = f32
    ? [3.4028234663852886e38, -3.4028234663852886e38, 1.401298464324817e-45, 1.1754943508222875e-38, 16777217]
    : [Number.MAX_VALUE, -Number.MAX_VALUE, Number.MIN_VALUE, 2 ** 53 + 2, 0.1, 1e21, 1e-7];
  let v = chance(0.25) ? pick([0, -0, NaN, Infinity, -Infinity, ...edges]) : (random() - 0.5) * 10 ** int(-8, 12);
  if (f32) v = Math.fround(v);
  const json = Number.isNaN(v) ? "NaN" : v === Infinity ? "Infinity" : v === -Infinity ? "-Infinity" : v;
  // docs/javascript.md: a number or a string.
  return { json, ours: chance(0.3) ? v : chance(0.2) && !Object.is(v, -0) ? String(json) : json };
}

function scalar(type) {
  tally(NAMES[type]);
  if (type in INT64 || type in INT32) return integer(type);
  if (type === DOUBLE || type === FLOAT) return floating(type);
  if (type === BOOL) return same(chance(0.5));
  if (type === STRING) return same(text());
  const bytes = Uint8Array.from({ length: pick([0, 1, 2, 3, 16, 40]) }, () => int(0, 255));
  return { json: base64(bytes), ours: chance(0.7) ? bytes : base64(bytes) };
}
const same = (v) => ({ json: v, ours: v });

function enumValue(desc) {
  if (desc.typeName === "google.protobuf.NullValue") return tally("NullValue"), same(null);
  if (desc.open && chance(0.05)) {
    tally("enum, unknown number");
    // A number the enum does not name: an open enum keeps it, as a number.
    const unnamed = [-1, 999, 2 ** 31 - 1, -(2 ** 31)].filter((n) => !desc.values.some((v) => v.number === n));
    return same(pick(unnamed));
  }
  const value = pick(desc.values);
  tally("enum");
  return { json: value.name, ours: chance(0.2) ? value.number : value.name };
}

/** A key of a map whose key type is `type` (a string in JSON, as in ours). */
function mapKey(type) {
  if (type === STRING) return text();
  if (type === BOOL) return String(chance(0.5));
  return String(integer(type).json);
}

function jsonValue(depth) {
  const kinds = depth > 2 ? ["null", "number", "string", "bool"] : ["null", "number", "string", "bool", "list", "struct"];
  switch (pick(kinds)) {
    case "null": return null;
    case "number": return pick([0, -0, 1, -1.5, 2 ** 53 + 2, 1e-300, Number.MAX_VALUE, (random() - 0.5) * 1e6]);
    case "string": return text();
    case "bool": return chance(0.5);
    case "list": return Array.from({ length: int(0, 3) }, () => jsonValue(depth + 1));
    default: return jsonObject(depth + 1);
  }
}
const jsonObject = (depth) => Object.fromEntries(Array.from({ length: int(0, 3) }, () => [text(), jsonValue(depth)]));

const nanos = () => pick([0, 0, int(0, 999) * 1_000_000, int(0, 999_999) * 1000, int(0, 999_999_999), 999_999_999]);
const snake = () => Array.from({ length: int(1, 3) }, () => String.fromCharCode(int(0x61, 0x7a)) + (chance(0.5) ? `${int(0, 99)}` : "")).join("_");

// The types packed into an Any: the well-known ones and those the methods use.
const packable = [];

/** `desc`'s well-known JSON form, or undefined for any other message. */
function wellKnown(desc, state, depth) {
  const name = desc.typeName.replace(/^google\.protobuf\./, "");
  if (name === desc.typeName) return undefined;
  tally(name);
  const viaOracle = (init) => {
    const json = toJson(desc, create(desc, init), opts);
    return { json, ours: json };
  };
  switch (name) {
    case "Timestamp": {
      const seconds = chance(0.1) ? pick([-62135596800, 253402300799, 0, -1]) : int(-62135596800, 253402300799);
      const n = nanos();
      const out = viaOracle({ seconds: BigInt(seconds), nanos: n });
      // docs/javascript.md: a Date too, where it holds the value.
      if (n % 1_000_000 === 0 && chance(0.3)) out.ours = (tally("Timestamp as a Date"), new Date(seconds * 1000 + n / 1_000_000));
      return out;
    }
    case "Duration": {
      const seconds = chance(0.1) ? pick([-315576000000, 315576000000, 0]) : int(-315576000000, 315576000000);
      let n = Math.abs(seconds) === 315576000000 ? 0 : nanos();
      if (seconds < 0 || (seconds === 0 && chance(0.5))) n = -n;
      return viaOracle({ seconds: BigInt(seconds), nanos: n });
    }
    case "FieldMask":
      return viaOracle({ paths: Array.from({ length: int(0, 3) }, () => Array.from({ length: int(1, 2) }, snake).join(".")) });
    case "Empty":
      return { json: {}, ours: {} };
    case "Struct":
      return same(jsonObject(depth));
    case "Value":
      return same(jsonValue(depth));
    case "ListValue":
      return same(Array.from({ length: int(0, 3) }, () => jsonValue(depth + 1)));
    case "Any": {
      const type = depth < MAX_DEPTH && packable.length ? pick(packable) : registry.getMessage("google.protobuf.Duration");
      const inner = message(type, state, depth + 1);
      const value = toBinary(type, fromJson(type, inner.json, { registry }));
      const typeUrl = `type.googleapis.com/${type.typeName}`;
      return { json: anyAsJson(typeUrl, value), ours: { typeUrl, value: chance(0.7) ? value : base64(value) } };
    }
    default:
      if (name in WRAPPED) return scalar(WRAPPED[name]);
      return undefined;
  }
}

/** A random message of type `desc`: `state.p` is the chance that a field is set. */
function message(desc, state, depth = 0) {
  const known = wellKnown(desc, state, depth);
  if (known) return known;
  state.reached.add(desc.typeName);
  tally("message");
  const json = {};
  const ours = {};
  for (const member of desc.members) {
    const field = member.kind === "oneof" ? (chance(0.6) ? pick(member.fields) : undefined) : member;
    if (field?.oneof) tally("oneof member");
    if (!field || state.budget <= 0 || !chance(member.kind === "oneof" ? 1 : state.p)) continue;
    if (depth >= MAX_DEPTH && field.message) continue;
    state.budget--;
    const value = fieldValue(field, state, depth);
    json[field.jsonName] = value.json;
    // docs/javascript.md: the proto's own names are accepted in requests too.
    ours[chance(0.1) ? field.name : field.jsonName] = value.ours;
  }
  // An unset field may be given as null (but null is a Value of its own).
  const unset = desc.fields.filter((f) => !(f.jsonName in json) && !f.oneof && f.message?.typeName !== "google.protobuf.Value");
  if (unset.length && chance(0.2)) ours[pick(unset).jsonName] = (tally("null for unset"), null);
  return { json, ours };
}

function fieldValue(field, state, depth) {
  const one = (kind) => {
    if (kind === "scalar") return scalar(field.scalar);
    if (kind === "enum") return enumValue(field.enum);
    return message(field.message, state, depth + 1);
  };
  if (field.fieldKind === "list") {
    tally("repeated");
    const items = Array.from({ length: pick([0, 1, 1, 2, 3, 5]) }, () => one(field.listKind));
    return { json: items.map((i) => i.json), ours: items.map((i) => i.ours) };
  }
  if (field.fieldKind === "map") {
    tally("map");
    const json = {};
    const ours = {};
    for (let i = int(0, 3); i > 0; i--) {
      const key = mapKey(field.mapKey);
      const value = one(field.mapKind);
      json[key] = value.json;
      ours[key] = value.ours;
    }
    return { json, ours };
  }
  return one(field.fieldKind);
}

// ---- the checks ----
const total = { cases: 0, checks: 0 };
const reached = new Set();
const show = (v) => JSON.stringify(v, (_, x) => (typeof x === "bigint" ? `${x}n` : x instanceof Uint8Array ? `Uint8Array[${base64(x)}]` : x));
const clip = (text) => (text.length > 1500 ? `${text.slice(0, 1500)}…` : text);
function fail(what, detail) {
  failures.push(clip(`${what}: ${detail}`));
}

/** Where two JSON values first differ, as a path. */
function firstDifference(a, b, path = "") {
  if (Object.is(a, b)) return undefined;
  if (typeof a !== "object" || typeof b !== "object" || a === null || b === null || Array.isArray(a) !== Array.isArray(b)) {
    return `${path || "."}: ours ${show(a)}, protobuf-es ${show(b)}`;
  }
  for (const key of new Set([...Object.keys(a), ...Object.keys(b)])) {
    if (!(key in a) || !(key in b)) return `${path}.${key}: ${key in a ? `only ours, ${show(a[key])}` : `only protobuf-es, ${show(b[key])}`}`;
    const found = firstDifference(a[key], b[key], `${path}.${key}`);
    if (found) return found;
  }
  return undefined;
}

/** Our decoded value (or error) against protobuf-es's JSON of the message (or its error). */
function checkDecoded(what, desc, theirs, ours) {
  total.checks++;
  if (ours.error && theirs.error) return tally("bytes both refuse");
  if (theirs.error) return fail(what, `protobuf-es refused the bytes (${theirs.error.message}), ours read ${show(ours.value)}`);
  const expected = theirs.value;
  if (ours.error) return fail(what, `ours refused protobuf-es's bytes: ${ours.error.message}`);
  let mine;
  try {
    mine = asProto3Json(desc, ours.value, anyAsJson);
  } catch (error) {
    return fail(what, error.message);
  }
  const difference = firstDifference(mine, expected);
  if (difference) fail(what, difference);
}

/** Our bytes (or error) as protobuf-es reads them, against its JSON of the message. */
function checkEncoded(what, desc, expected, ours, input) {
  total.checks++;
  if (ours.error) return fail(what, `ours refused ${show(input)}: ${ours.error.message}`);
  let theirs;
  try {
    theirs = toJson(desc, fromBinary(desc, ours.value), opts);
  } catch (error) {
    return fail(what, `protobuf-es cannot read our bytes: ${error.message}`);
  }
  const difference = firstDifference(theirs, expected);
  if (difference) fail(what, difference.replace(/ours (.*), protobuf-es (.*)$/, "read from our bytes $1, protobuf-es's own $2"));
}

async function attempt(f) {
  try {
    return { value: await f() };
  } catch (error) {
    return { error };
  }
}

const frame = (flags, bytes) => {
  const out = new Uint8Array(5 + bytes.length);
  out[0] = flags;
  new DataView(out.buffer).setUint32(1, bytes.length);
  out.set(bytes, 5);
  return out;
};
const OK_TRAILERS = frame(0x80, new TextEncoder().encode("grpc-status:0\r\n"));

/** A call of `method` with `request`, answered with `reply` (bytes): our request's bytes and our reply. */
async function call({ client, method }, request, reply) {
  let sent;
  const fetch = async (input, init) => {
    const body = new Uint8Array(await (input instanceof Request ? input : new Request(input, init)).arrayBuffer());
    sent = body.subarray(5);
    return new Response(new Uint8Array([...frame(0, reply), ...OK_TRAILERS]), { headers: { "content-type": "application/grpc-web+proto" } });
  };
  const result = await attempt(async () => {
    const answer = client[method.localName](request, { fetch });
    if (method.methodKind === "unary") return answer;
    const all = [];
    for await (const one of answer) all.push(one);
    if (all.length !== 1) throw new Error(`${all.length} messages from a stream of one`);
    return all[0];
  });
  return { sent: sent ? { value: sent } : { error: result.error ?? new Error("nothing sent") }, reply: result };
}

/** A field of a number `desc` does not use, of a random wire type. */
function unknownField(desc) {
  let number;
  do number = pick([int(1, 200), 19999, 536870911]);
  while (desc.fields.some((f) => f.number === number));
  const varint = (n) => {
    const out = [];
    for (; n >= 0x80n; n >>= 7n) out.push(Number(n & 0x7fn) | 0x80);
    return [...out, Number(n)];
  };
  const wire = pick([0, 1, 2, 5]);
  tally(`unknown field, wire type ${wire}`);
  const key = varint((BigInt(number) << 3n) | BigInt(wire));
  const payload = Array.from({ length: int(0, 12) }, () => int(0, 255));
  if (wire === 0) return [...key, ...varint(bigRandom(64))];
  if (wire === 1) return [...key, ...Array.from({ length: 8 }, () => int(0, 255))];
  if (wire === 5) return [...key, ...Array.from({ length: 4 }, () => int(0, 255))];
  return [...key, ...varint(BigInt(payload.length)), ...payload];
}

/** A random message of `desc` with protobuf-es's reading of it. */
function sample(desc, label) {
  const one = () => {
    const state = { p: pick([0.15, 0.5, 0.9]), budget: int(5, BUDGET), reached };
    const { json, ours } = message(desc, state);
    const parsed = attempt.sync(() => fromJson(desc, json, { registry }));
    // Not a codec divergence: the generator made JSON protobuf-es refuses.
    if (parsed.error) fail(`${label}: the generator's ${desc.typeName}`, `${parsed.error.message}\n     ${show(json)}`);
    return parsed.error ? undefined : { ours, message: parsed.value };
  };
  const first = one();
  if (!first) return undefined;
  const expected = toJson(desc, first.message, opts);
  let bytes = toBinary(desc, first.message);
  // A field this type does not have (a newer server's): both skip it.
  if (chance(0.2)) bytes = new Uint8Array([...bytes, ...unknownField(desc)]);
  if (!chance(0.1)) return { ours: first.ours, expected, bytes, decoded: { value: expected } };
  // Two messages one after the other are one message, the two merged (the
  // encoding's rule: scalars and oneofs last wins, repeated fields append,
  // messages merge): our decoder must read it as protobuf-es does.
  const second = one();
  if (!second) return undefined;
  tally("two messages concatenated (a merge)");
  bytes = new Uint8Array([...bytes, ...toBinary(desc, second.message)]);
  // (A Duration may come out with seconds and nanos of opposite signs,
  // which neither side can write as JSON.)
  return { ours: first.ours, expected, bytes, decoded: attempt.sync(() => toJson(desc, fromBinary(desc, bytes), opts)) };
}
attempt.sync = (f) => {
  try {
    return { value: f() };
  } catch (error) {
    return { error };
  }
};

// Each type once as a request and once as a reply, by the first method
// that takes or returns it; the other side of the call is an empty message.
const asInput = new Map();
const asOutput = new Map();
for (const m of methods) {
  if (!asInput.has(m.method.input.typeName)) asInput.set(m.method.input.typeName, m);
  if (!asOutput.has(m.method.output.typeName)) asOutput.set(m.method.output.typeName, m);
}
for (const m of [...asInput.values(), ...asOutput.values()]) {
  for (const desc of [m.method.input, m.method.output]) if (!desc.typeName.startsWith("google.protobuf.")) packable.push(desc);
}

for (let round = 0; round < COUNT; round++) {
  for (const [name, m] of asInput) {
    const desc = m.method.input;
    const s = sample(desc, `${m.label} request`);
    if (!s) continue;
    total.cases++;
    const what = `${m.label} request ${name} (seed ${SEED}, round ${round})`;
    const { sent } = await call(m, s.ours, new Uint8Array());
    checkEncoded(`${what}, encoded by our call`, desc, s.expected, sent, s.ours);
    const decoded = await attempt(() => testCodec.decodeRequest(m.path, s.bytes));
    checkDecoded(`${what}, decoded by testCodec.decodeRequest`, desc, s.decoded, decoded);
    // What our codec gives back it takes as input.
    if (decoded.value && s.decoded.value) {
      const again = await call(m, decoded.value, new Uint8Array());
      checkEncoded(`${what}, decoded by testCodec.decodeRequest and given back to our call`, desc, s.decoded.value, again.sent, decoded.value);
    }
  }
  for (const [name, m] of asOutput) {
    const desc = m.method.output;
    const s = sample(desc, `${m.label} reply`);
    if (!s) continue;
    total.cases++;
    const what = `${m.label} reply ${name} (seed ${SEED}, round ${round})`;
    const { reply } = await call(m, {}, s.bytes);
    checkDecoded(`${what}, decoded by our call`, desc, s.decoded, reply);
    checkEncoded(`${what}, encoded by testCodec.encodeReply`, desc, s.expected, await attempt(() => testCodec.encodeReply(m.path, s.ours)), s.ours);
    if (reply.value && s.decoded.value) {
      const again = await attempt(() => testCodec.encodeReply(m.path, reply.value));
      checkEncoded(`${what}, decoded by our call and given back to testCodec.encodeReply`, desc, s.decoded.value, again, reply.value);
    }
  }
}

const types = new Set([...asInput.keys(), ...asOutput.keys()]).size;
const seconds = Number(((performance.now() - started) / 1000).toFixed(1));
const summary = { seed: SEED, count: COUNT, types, reached: reached.size, cases: total.cases, checks: total.checks, seconds, made };
console.log(JSON.stringify({ ...summary, failed: failures.length, failures: failures.slice(0, Number(process.env.SHOW ?? 30)) }));
