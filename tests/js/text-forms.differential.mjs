// A differential property test of the codec's text forms: thousands of
// seeded, generated and edge-case values (integers as strings, enums by
// number, Duration, Timestamp, FieldMask; and binary Timestamps, Durations,
// FieldMasks and 64-bit integers) go through OUR codec (the kinds package's
// runtime in Node, through `testCodec`, the test transport's codec) and
// through @bufbuild/protobuf (protobuf-es), which must agree:
// - encoding a JS value: both accept it (and the bytes decode to the same
//   proto3 JSON), or both refuse it, ours with a TypeError naming the field;
// - decoding bytes: both give the same proto3 JSON, or both refuse them;
// - grpc-status values in a response: the code Rust's `usize` parse read
//   before the rewrite (the gRPC spec's UNKNOWN for anything else).
// Where the project deliberately differs from protobuf-es, `deliberate`
// below says so, and each such case must differ exactly that way.
// Usage: node tests/js/text-forms.differential.mjs PACKAGES_DIR [SEED] [COUNT]
import { readFile } from "node:fs/promises";
import { createRequire } from "node:module";
import { pathToFileURL } from "node:url";
import { isDeepStrictEqual } from "node:util";

import { oracleRegistry } from "./oracle-registry.mjs";
import { asProto3Json } from "./proto3-json.mjs";
import { seeded } from "./seeded.mjs";

const require = createRequire(new URL("../../e2e/package.json", import.meta.url));
const { create, fromBinary, fromJson, toBinary, toJson } = require("@bufbuild/protobuf");
const wkt = require("@bufbuild/protobuf/wkt");

const [packages = "target/test-packages", seedText = "20261130", countText = "400"] = process.argv.slice(2);
const SEED = Number(seedText) >>> 0;
const COUNT = Number(countText); // generated values per generator
const started = performance.now();

// OUR codec: the runtime inside the kinds package, its wasm read from disk
// (as the package's Node entry does), the generated module registering
// kinds.proto.
const dir = pathToFileURL(`${packages}/kinds/`);
const runtime = await import(new URL("runtime/index.js", dir));
runtime.setWasmSource(() => readFile(new URL("runtime/grpc_web_abort_bg.wasm", dir)));
await import(new URL("kinds_grpcweb.js", dir));
const METHOD = "/test.kinds.v1.Echo/Echo";
const { testCodec } = runtime;

// protobuf-es, from the same descriptors.
const registry = await oracleRegistry(`${packages}/kinds`, "kinds.proto");
const Kinds = registry.getMessage("test.kinds.v1.Kinds");
if (!Kinds) throw new Error("no test.kinds.v1.Kinds");

const { random, int, pick, bigRandom } = seeded(SEED);
const digits = (n) => Array.from({ length: n }, () => int(0, 9)).join("");
const pad = (n, width) => String(n).padStart(width, "0");

// Our decoded output in the proto3 JSON form protobuf-es's toJson writes.
const anyAsJson = (typeUrl, value) => toJson(wkt.AnySchema, create(wkt.AnySchema, { typeUrl, value }), { alwaysEmitImplicit: true, registry });
const show = (v) => JSON.stringify(v, (_, x) => (typeof x === "bigint" ? `${x}n` : x));

async function attempt(f) {
  try {
    return { value: await f() };
  } catch (error) {
    return { error };
  }
}

// Where the two differ on purpose, each case must differ exactly so: the
// reason, or undefined when the case must agree. Each is older than the
// text-parsing rewrite (1e16534..): 4135e47's runtime gives the same results.
function deliberate(kind, value, ours, theirs) {
  const oursOnly = !ours.error && theirs.error;
  const theirsOnly = ours.error && !theirs.error;
  if (theirsOnly && INTEGER_KINDS.has(kind) && typeof value === "string" && !/^-?[0-9]+$/.test(value)) {
    // docs/javascript.md: "a decimal string"; kinds.cases.mjs refuses "12abc".
    return "integer text is decimal digits with an optional '-' (protobuf-es also reads ' 1', '+1', '1e3', '0x10', '1.0' through Number()/BigInt())";
  }
  if (theirsOnly && /64$/.test(kind) && typeof value === "number" && !Number.isSafeInteger(value) && Number.isInteger(value)) {
    // docs/javascript.md: a 64-bit field takes "a number (a safe integer)".
    return "a 64-bit field refuses a number beyond 2^53 - 1 (it may already be rounded)";
  }
  if (theirsOnly && kind === "Duration" && /^-?[0-9]+(\.[0-9]+)?s./.test(value)) {
    // protobuf-es's Duration pattern is not anchored at the end.
    return "a Duration with text after its 's' (protobuf-es ignores it)";
  }
  if (theirsOnly && kind === "Timestamp" && !calendarValid(value)) {
    // protobuf-es reads through Date.parse, which rolls Feb 29 of a common
    // year, Apr 31 or 24:00 over into the next day; RFC 3339 has no such dates.
    return "a Timestamp whose date or time does not exist (protobuf-es rolls it over)";
  }
  if (oursOnly && kind === "Timestamp" && /[tz]/.test(value) && sameAs(ours.value, { at: value.toUpperCase() })) {
    // RFC 3339 section 5.6: "T" and "Z" may be lowercase.
    return "a Timestamp with a lowercase 't' or 'z' (RFC 3339 allows it; protobuf-es refuses it)";
  }
  if (theirsOnly && kind === "FieldMask" && value.split(",").includes("")) {
    // protobuf-es keeps the empty path ("a," -> ["a", ""]), which names no
    // field; ours refuses the text.
    return "a FieldMask with an empty path (',', 'a,', 'a,,b')";
  }
  return undefined;
}

/** Whether our `bytes` are what protobuf-es makes of `json`. */
function sameAs(bytes, json) {
  const their = toJson(Kinds, fromJson(Kinds, json, { registry }), { registry });
  return isDeepStrictEqual(toJson(Kinds, fromBinary(Kinds, bytes), { registry }), their);
}

/** Whether an RFC 3339 text names a date and time that exist. */
function calendarValid(text) {
  const m = /^([0-9]{4})-([0-9]{2})-([0-9]{2})[Tt]([0-9]{2}):([0-9]{2}):([0-9]{2})/.exec(text);
  if (!m) return true;
  const [y, mo, d, h, mi, s] = m.slice(1).map(Number);
  const date = new Date(0);
  date.setUTCFullYear(y, mo - 1, d);
  date.setUTCHours(h, mi, s);
  return date.getUTCFullYear() === y && date.getUTCMonth() === mo - 1 && date.getUTCDate() === d && date.getUTCHours() === h && date.getUTCMinutes() === mi;
}
const INTEGER_KINDS = new Set(["int32", "sint32", "sfixed32", "uint32", "fixed32", "int64", "sint64", "sfixed64", "uint64", "fixed64", "enum"]);

const failures = [];
const tally = { cases: 0, bothAccept: 0, bothRefuse: 0, deliberate: 0 };
const deliberateSeen = new Map();
const byKind = new Map(); // "encode Duration" -> [agreed, of which refused]
function count(what, refused) {
  const [n, r] = byKind.get(what) ?? [0, 0];
  byKind.set(what, [n + 1, r + (refused ? 1 : 0)]);
}
function fail(what, detail) {
  failures.push(`${what}\n     ${detail}`);
}

// docs/tested.md names this check.
const NAMING = "a value protobuf-es refuses is a TypeError naming the field";

/** `input` (a Kinds JSON object) through both encoders. `at` is the field path our TypeError must name. */
async function encodeCase(kind, at, input, value) {
  tally.cases++;
  const ours = await attempt(() => testCodec.encodeReply(METHOD, input));
  const theirs = await attempt(() => fromJson(Kinds, input, { registry }));
  const what = `encode ${kind} ${show(value)}`;
  const reason = deliberate(kind, value, ours, theirs);
  if (reason) {
    tally.deliberate++;
    deliberateSeen.set(reason, (deliberateSeen.get(reason) ?? 0) + 1);
  } else if (ours.error && theirs.error) {
    tally.bothRefuse++;
    count(`encode ${kind}`, true);
  } else if (ours.error) {
    return fail(what, `ours refused it (${ours.error.message}), protobuf-es accepted it as ${show(toJson(Kinds, theirs.value, { registry }))}`);
  } else if (theirs.error) {
    return fail(what, `protobuf-es refused it (${theirs.error.message}), ours accepted it as ${show(toJson(Kinds, fromBinary(Kinds, ours.value), { registry }))}`);
  } else {
    tally.bothAccept++;
    count(`encode ${kind}`, false);
    const mine = toJson(Kinds, fromBinary(Kinds, ours.value), { registry });
    const their = toJson(Kinds, theirs.value, { registry });
    if (!isDeepStrictEqual(mine, their)) return fail(what, `ours ${show(mine)}\n     theirs ${show(their)}`);
  }
  if (ours.error) {
    const prefix = `Kinds.${at}: `;
    if (!(ours.error instanceof TypeError) || !ours.error.message.startsWith(prefix)) {
      fail(what, `${NAMING} (${prefix}), got ${ours.error?.constructor?.name}: ${ours.error?.message}`);
    }
  }
}

/** `bytes` (a Kinds message) through both decoders. */
async function decodeCase(kind, bytes, label) {
  tally.cases++;
  const ours = await attempt(async () => asProto3Json(Kinds, await testCodec.decodeRequest(METHOD, bytes), anyAsJson));
  const theirs = await attempt(() => toJson(Kinds, fromBinary(Kinds, bytes), { alwaysEmitImplicit: true, registry }));
  const what = `decode ${kind} ${label}`;
  count(`decode ${kind}`, ours.error && theirs.error);
  if (ours.error && theirs.error) tally.bothRefuse++;
  else if (ours.error) fail(what, `ours refused it (${ours.error.message}), protobuf-es read ${show(theirs.value)}`);
  else if (theirs.error) fail(what, `protobuf-es refused it (${theirs.error.message}), ours read ${show(ours.value)}`);
  else if (!isDeepStrictEqual(ours.value, theirs.value)) fail(what, `ours ${show(ours.value)}\n     theirs ${show(theirs.value)}`);
  else tally.bothAccept++;
}

// ---- integers (and enums by number) as strings and numbers ----
const INTEGERS = [
  ["int32", "fInt32", -(2n ** 31n), 2n ** 31n - 1n],
  ["sint32", "fSint32", -(2n ** 31n), 2n ** 31n - 1n],
  ["sfixed32", "fSfixed32", -(2n ** 31n), 2n ** 31n - 1n],
  ["uint32", "fUint32", 0n, 2n ** 32n - 1n],
  ["fixed32", "fFixed32", 0n, 2n ** 32n - 1n],
  ["int64", "fInt64", -(2n ** 63n), 2n ** 63n - 1n],
  ["sint64", "fSint64", -(2n ** 63n), 2n ** 63n - 1n],
  ["sfixed64", "fSfixed64", -(2n ** 63n), 2n ** 63n - 1n],
  ["uint64", "fUint64", 0n, 2n ** 64n - 1n],
  ["fixed64", "fFixed64", 0n, 2n ** 64n - 1n],
];
const DECORATIONS = [
  (s) => s,
  (s) => s,
  (s) => s,
  (s) => (s.startsWith("-") ? `-0${s.slice(1)}` : `0${s}`),
  (s) => (s.startsWith("-") ? `-00${s.slice(1)}` : `00${s}`),
  (s) => `+${s}`,
  (s) => ` ${s}`,
  (s) => `${s} `,
  (s) => `${s}\n`,
  (s) => `${s}.0`,
  (s) => `${s}e0`,
  (s) => `${s}.5`,
  (s) => `0x${s}`,
  (s) => `${s}n`,
  (s) => `${s.slice(0, 1)}_${s.slice(1)}`,
  (s) => `${s}\u0000`,
  (s) => s.replace(/[0-9]/, (d) => String.fromCharCode(0x660 + Number(d))), // Arabic-Indic digit
];
const FIXED_TEXTS = ["0", "-0", "+0", "00", "-00", "", "-", "+", " ", "1e3", "1E3", "-1e3", "1e0", "10e-1", "1.0", "-1.0", "0.0", "1.", ".1",
  "Infinity", "-Infinity", "NaN", "0x10", "0b1", "0o7", "1 2", "١", "９", "99999999999999999999999", "-99999999999999999999999",
  "18446744073709551616", "-9223372036854775809", "9223372036854775808", "4294967296", "2147483648", "-2147483649", "--1", "-+1"];
const FIXED_NUMBERS = [0, -0, 1, -1, 1e3, 1.5, -1.5, 2 ** 31 - 1, 2 ** 31, -(2 ** 31), -(2 ** 31) - 1, 2 ** 32 - 1, 2 ** 32,
  2 ** 53 - 1, 2 ** 53, -(2 ** 53) + 1, -(2 ** 53), 1e21, Number.MIN_VALUE, 0.1 + 0.2, 1e-7];

for (const [kind, field, min, max] of INTEGERS) {
  const values = [...FIXED_TEXTS, ...FIXED_NUMBERS];
  for (const edge of [min, max, min - 1n, max + 1n, min + 1n, max - 1n, 0n, 1n, -1n]) values.push(String(edge));
  for (let i = 0; i < COUNT; i++) {
    const span = max - min + 1n;
    const bits = pick([8, 16, 32, 64]);
    let n = min + (bigRandom(bits) % span);
    if (random() < 0.1) n = pick([min, max]) + BigInt(int(-2, 2));
    const text = pick(DECORATIONS)(String(n));
    values.push(random() < 0.15 && n >= -(2n ** 53n) && n <= 2n ** 53n ? Number(n) : text);
  }
  for (const value of values) await encodeCase(kind, `scalars.${field}`, { scalars: { [field]: value } }, value);
}

// Enums by name and by number (as a string or a number), and the oneof
// 64-bit member and the repeated/map paths, which go through the same reader.
{
  const values = ["RED", "GREEN", "COLOR_UNSPECIFIED", "red", "Red", "PURPLE", "", " RED", ...FIXED_TEXTS, ...FIXED_NUMBERS, "1", "2", "7", "-1", "01", "+1",
    "2147483647", "2147483648", "-2147483648", "-2147483649"];
  for (let i = 0; i < COUNT / 4; i++) values.push(pick(DECORATIONS)(String(int(-5, 5))));
  for (const value of values) await encodeCase("enum", "color", { color: value }, value);
  for (let i = 0; i < COUNT / 4; i++) {
    const value = pick(DECORATIONS)(String(bigRandom(64) - 2n ** 63n));
    await encodeCase("int64", "number", { number: value }, value);
    await encodeCase("int64", "longs[0]", { longs: [value] }, value);
    await encodeCase("int64", 'counts["k"]', { counts: { k: value } }, value);
  }
}

// ---- Duration ----
{
  const MAX = 315576000000;
  const values = ["0s", "-0s", "0.5s", "-0.5s", "-0.000000001s", "0.000000001s", "1s", "1.s", ".5s", "-.5s", "1.5", "1.5S", "1.5 s", " 1.5s",
    "1.5s ", "+1.5s", "--1s", "1.0000000000s", "1.1234567890s", "1e3s", "0x10s", "1,5s", "1.-5s", "1.+5s", "s", "-s", "", "1..5s",
    `${MAX}s`, `-${MAX}s`, `${MAX}.999999999s`, `-${MAX}.999999999s`, `${MAX + 1}s`, `-${MAX + 1}s`, "99999999999999999999s",
    "9223372036854775807s", "9223372036854775808s", "18446744073709551616s", "00001.5s", "1.٥s", "1h", "1m", "1ms", "1.5sx", "1ss"];
  for (let i = 0; i < COUNT * 2; i++) {
    const seconds = random() < 0.5 ? int(0, 100) : int(0, random() < 0.1 ? MAX + 1000 : MAX);
    const frac = int(0, 10);
    const body = `${seconds}${frac ? `.${digits(frac)}` : pick(["", "", "."])}`;
    const sign = pick(["", "", "-", "+"]);
    values.push(`${sign}${body}${pick(["s", "s", "s", "s", "", "S"])}`);
  }
  for (const value of values) await encodeCase("Duration", "took", { took: value }, value);
}

// ---- Timestamp ----
{
  const values = ["1970-01-01T00:00:00Z", "0001-01-01T00:00:00Z", "9999-12-31T23:59:59.999999999Z", "0000-12-31T23:59:59Z",
    "10000-01-01T00:00:00Z", "0001-01-01T00:00:00+00:01", "0001-01-01T00:59:00-00:01", "9999-12-31T23:59:59-00:01",
    "9999-12-31T23:00:00+01:00", "2016-12-31T23:59:60Z", "2023-02-29T00:00:00Z", "2024-02-29T00:00:00Z", "1900-02-29T00:00:00Z",
    "2000-02-29T00:00:00Z", "2024-04-31T00:00:00Z", "2024-13-01T00:00:00Z", "2024-00-10T00:00:00Z", "2024-01-00T00:00:00Z",
    "2024-01-01t00:00:00z", "2024-01-01T00:00:00z", "2024-01-01t00:00:00Z", "2024-01-01 00:00:00Z", "2024-01-01T00:00:00",
    "2024-01-01T00:00:00+0100", "2024-01-01T00:00:00+01", "2024-01-01T00:00:00+24:00", "2024-01-01T00:00:00+23:59",
    "2024-01-01T00:00:00-23:59", "2024-01-01T00:00:00+01:60", "2024-01-01T24:00:00Z", "2024-01-01T23:60:00Z", "2024-01-01T00:00:00.Z",
    "2024-01-01T00:00:00.1234567890Z", "2024-01-01T00:00:00.+1Z", "2024-01-01T00:00:00,5Z", "+2024-01-01T00:00:00Z", "2024-1-01T00:00:00Z",
    "2024-01-01T00:00:00.000Z", "2024-01-01T00:00:00.000000Z", "2024-01-01T00:00:00.000000000Z", "2024-01-01T00:00:00.5-00:00",
    "2024-01-01T00:00:00Z ", " 2024-01-01T00:00:00Z", "2024-01-01T00:00:00ZZ", "2024-01-01T00:00:00+01:00Z", "2024-01-0１T00:00:00Z", ""];
  for (let i = 0; i < COUNT * 2; i++) {
    const y = random() < 0.1 ? pick([1, 2, 9998, 9999, 1969, 1970, 2000, 2100]) : int(1, 9999);
    const mo = random() < 0.05 ? int(0, 13) : int(1, 12);
    const d = random() < 0.1 ? int(28, 32) : int(1, 28);
    const h = random() < 0.05 ? 24 : int(0, 23);
    const mi = random() < 0.05 ? 60 : int(0, 59);
    const s = random() < 0.05 ? 60 : int(0, 59);
    const frac = int(0, 10);
    const fraction = frac ? `.${digits(frac)}` : "";
    const offset = random() < 0.5 ? pick(["Z", "z"]) : `${pick(["+", "-"])}${pad(int(0, 23), 2)}:${pad(int(0, 59), 2)}`;
    values.push(`${pad(y, 4)}-${pad(mo, 2)}-${pad(d, 2)}${pick(["T", "T", "t"])}${pad(h, 2)}:${pad(mi, 2)}:${pad(s, 2)}${fraction}${offset}`);
  }
  for (const value of values) await encodeCase("Timestamp", "at", { at: value }, value);
}

// ---- FieldMask ----
const segment = () => {
  const head = pick("abcxyz");
  let rest = "";
  for (let i = int(0, 6); i > 0; i--) rest += pick("abcdefgXYZ019_");
  return head + rest;
};
{
  const values = ["", ",", "a,", ",a", "a,,b", "a", "fooBar", "fooBar,baz.quxQuux", "a_b", "A", "aB.Cd", "a..b", ".a", "a.", "a1B",
    "fooBAR", "foo1Bar", "a b", "é", "fooÉ", "aB,aB"];
  for (let i = 0; i < COUNT; i++) {
    const path = () => Array.from({ length: int(1, 3) }, segment).join(".");
    values.push(Array.from({ length: int(1, 3) }, path).join(","));
  }
  for (const value of values) await encodeCase("FieldMask", "mask", { mask: value }, value);
}

// ---- decoding: the same bytes through both decoders ----
const bytesOf = (init) => toBinary(Kinds, create(Kinds, init));
{
  const Timestamp = wkt.TimestampSchema;
  const Duration = wkt.DurationSchema;
  const FieldMask = wkt.FieldMaskSchema;
  const nanosAt = () => pick([0, 0, 1, 999999999, 1000000000, -1, 500000000, 1000000, 1000, int(0, 999) * 1000000, int(0, 999999) * 1000, int(0, 999999999)]);
  const seconds = [-62135596800, -62135596801, 253402300799, 253402300800, 0, -1, 1, 315576000000, 315576000001, -315576000000, -315576000001];
  for (let i = 0; i < COUNT * 2; i++) {
    const ts = create(Timestamp, { seconds: BigInt(random() < 0.1 ? pick(seconds) : int(-62135596800, 253402300799)), nanos: nanosAt() });
    await decodeCase("Timestamp", bytesOf({ at: ts }), show(ts));
    let s = random() < 0.1 ? pick(seconds) : int(-315576000000, 315576000000);
    let n = nanosAt();
    if (random() < 0.7 && s < 0) n = -Math.abs(n); // mostly the same sign, as the spec requires
    if (random() < 0.1) s = 0;
    if (s === 0 && random() < 0.5) n = -Math.abs(n);
    const du = create(Duration, { seconds: BigInt(s), nanos: n });
    await decodeCase("Duration", bytesOf({ took: du }), show(du));
  }
  const snake = () => {
    let s = pick("abcxyz");
    for (let i = int(0, 8); i > 0; i--) s += pick("abcdxyz_019AB");
    return s;
  };
  const masks = [[], [""], ["foo_bar"], ["foo__bar"], ["_foo"], ["foo_"], ["foo_1"], ["foo_1bar"], ["fooBar"], ["foo_bar.baz_qux"], ["a", "b.c"], ["foo_é"]];
  for (let i = 0; i < COUNT; i++) masks.push(Array.from({ length: int(1, 3) }, () => Array.from({ length: int(1, 2) }, snake).join(".")));
  for (const paths of masks) await decodeCase("FieldMask", bytesOf({ mask: create(FieldMask, { paths }) }), show(paths));
  for (let i = 0; i < COUNT; i++) {
    const scalars = {
      fInt64: BigInt.asIntN(64, bigRandom(64)), fUint64: bigRandom(64), fSint64: BigInt.asIntN(64, bigRandom(64)),
      fFixed64: bigRandom(64), fSfixed64: BigInt.asIntN(64, bigRandom(64)), fInt32: int(-(2 ** 31), 2 ** 31 - 1),
      fUint32: int(0, 2 ** 32 - 1), fSint32: int(-(2 ** 31), 2 ** 31 - 1), fFixed32: int(0, 2 ** 32 - 1), fSfixed32: int(-(2 ** 31), 2 ** 31 - 1),
    };
    await decodeCase("integers", bytesOf({ scalars, color: int(-3, 3), longs: [BigInt.asIntN(64, bigRandom(64))] }), show(scalars));
  }
}

// ---- grpc-status through the response path ----
// No protobuf-es here: the reference is how the client read it before the
// rewrite (Rust's `usize` parse of the trimmed value: digits, one leading
// '+'), and the gRPC spec's rule that an unknown code is UNKNOWN. Both
// places a status arrives: the headers of a trailers-only response, and a
// trailer frame after an (empty) reply.
{
  const { EchoClient } = await import(new URL("kinds_grpcweb.js", dir));
  const UNKNOWN = 2;
  const expected = (value) => {
    const text = value.trim();
    return /^\+?[0-9]+$/.test(text) && BigInt(text) <= 16n ? Number(text) : UNKNOWN;
  };
  const frame = (flags, bytes) => Uint8Array.from([flags, ...[24, 16, 8, 0].map((s) => (bytes.length >>> s) & 255), ...bytes]);
  const replies = {
    "trailers-only": (value) => new Response(null, { headers: { "content-type": "application/grpc-web+proto", "grpc-status": value, "grpc-message": "m" } }),
    "trailer frame": (value) => {
      const trailers = new TextEncoder().encode(`grpc-status:${value}\r\ngrpc-message:m\r\n`);
      const body = new Uint8Array([...frame(0, []), ...frame(0x80, trailers)]);
      return new Response(body, { headers: { "content-type": "application/grpc-web+proto" } });
    },
  };
  const values = ["0", "+1", "007", "17", "-1", " 1", "1 ", "\t3", "99999999999", "18446744073709551616", "+", "", "++1", "+-1", "1 1", "16", "+016", "0x1", "1e1"];
  for (let i = 0; i < COUNT / 2; i++) {
    const len = int(1, random() < 0.1 ? 22 : 4);
    values.push(Array.from({ length: len }, () => pick("0123456789012345+- \t")).join(""));
  }
  for (const value of values) {
    for (const [where, reply] of Object.entries(replies)) {
      tally.cases++;
      const client = new EchoClient("http://in-memory.test", { fetch: async () => reply(value) });
      const got = await attempt(() => client.echo({}));
      const want = expected(value);
      const code = got.error ? got.error.code : 0;
      const what = `grpc-status ${show(value)} (${where})`;
      if (want === 0 && where === "trailers-only") {
        // OK without a reply message: INTERNAL whatever the parse.
        if (code !== 13) fail(what, `expected INTERNAL (no reply message), got ${code} ${got.error?.message}`);
      } else if (code !== want) {
        fail(what, `code ${code} (${got.error?.message ?? "success"}), expected ${want}`);
      } else if (code !== 0 && got.error.message !== "m") {
        fail(what, `message ${show(got.error.message)}, expected "m"`);
      }
      count(`grpc-status ${where}`, code !== 0);
    }
  }
}

const seconds = ((performance.now() - started) / 1000).toFixed(1);
console.log(`text forms vs protobuf-es: seed ${SEED}, ${tally.cases} cases in ${seconds} s: ${tally.bothAccept} accepted by both, ${tally.bothRefuse} refused by both, ${tally.deliberate} deliberate differences`);
console.log(`  agreed: ${[...byKind].map(([what, [n, r]]) => `${what} ${n} (${r} refused)`).join(", ")}`);
for (const [reason, n] of deliberateSeen) console.log(`  deliberate (${n}): ${reason}`);
for (const failure of failures.slice(0, Number(process.env.SHOW ?? 40))) console.log(`  FAIL ${failure}`);
if (failures.length) console.log(`${failures.length} divergences (re-run: node tests/js/text-forms.differential.mjs ${packages} ${SEED} ${COUNT})`);
process.exit(failures.length || tally.bothAccept === 0 || tally.bothRefuse === 0 ? 1 : 0);
