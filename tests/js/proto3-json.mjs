// A message as OUR codec decodes it (docs/javascript.md, "Types and
// names": 64-bit integers as bigint, bytes as Uint8Array, Any as
// { typeUrl, value }, the other well-known types and wrappers in their JSON
// forms), rewritten into the proto3 JSON that protobuf-es's
// `toJson(desc, message, { alwaysEmitImplicit: true })` writes, so that the
// two compare with isDeepStrictEqual. It goes by the message's descriptor
// (protobuf-es's DescMessage), and checks on the way that each value has the
// JS type the docs promise for its field: a 64-bit integer given as a
// string, or bytes as a base64 string, would otherwise compare equal.
// Used by tests/js/text-forms.differential.mjs and
// tests/consumer/google-codec.differential.mjs.

// FieldDescriptorProto.Type, as protobuf-es's ScalarType numbers them.
const INT64 = new Set([3, 4, 6, 16, 18]); // int64 uint64 fixed64 sfixed64 sint64
const INT32 = new Set([5, 7, 13, 15, 17]); // int32 fixed32 uint32 sfixed32 sint32
const [DOUBLE, FLOAT, BOOL, STRING, BYTES] = [1, 2, 8, 9, 12];
const [JS_STRING, JS_NUMBER] = [1, 2];

const WRAPPERS = {
  "google.protobuf.DoubleValue": DOUBLE, "google.protobuf.FloatValue": FLOAT, "google.protobuf.Int64Value": 3,
  "google.protobuf.UInt64Value": 4, "google.protobuf.Int32Value": 5, "google.protobuf.UInt32Value": 13,
  "google.protobuf.BoolValue": BOOL, "google.protobuf.StringValue": STRING, "google.protobuf.BytesValue": BYTES,
};
// Written as their proto3 JSON by our codec too: passed through as they are.
const AS_JSON = new Set(["google.protobuf.Timestamp", "google.protobuf.Duration", "google.protobuf.FieldMask",
  "google.protobuf.Struct", "google.protobuf.Value", "google.protobuf.ListValue", "google.protobuf.Empty"]);

const base64 = (bytes) => Buffer.from(bytes).toString("base64");
const show = (v) => (typeof v === "bigint" ? `${v}n` : v instanceof Uint8Array ? `Uint8Array[${v.length}]` : JSON.stringify(v) ?? String(v));

/**
 * Our decoded `value` of message `desc` as protobuf-es's proto3 JSON.
 * `anyAsJson(typeUrl, bytes)` is the proto3 JSON of an Any (protobuf-es
 * unpacks it by its registry). Throws an Error naming the path where a value
 * is not of the type docs/javascript.md gives its field.
 */
export function asProto3Json(desc, value, anyAsJson, path = desc.name) {
  if (typeof value !== "object" || value === null || Object.getPrototypeOf(value) !== Object.prototype) {
    throw new Error(`${path}: expected a plain object, got ${show(value)}`);
  }
  const out = {};
  for (const [key, v] of Object.entries(value)) {
    const field = desc.fields.find((f) => f.jsonName === key);
    if (!field) throw new Error(`${path}.${key}: not a field of ${desc.typeName}`);
    out[key] = fieldJson(field, v, anyAsJson, `${path}.${key}`);
  }
  return out;
}

function fieldJson(field, value, anyAsJson, path) {
  switch (field.fieldKind) {
    case "list":
      if (!Array.isArray(value)) throw new Error(`${path}: expected an array, got ${show(value)}`);
      return value.map((v, i) => single(field, field.listKind, v, anyAsJson, `${path}[${i}]`));
    case "map":
      if (typeof value !== "object" || value === null || Object.getPrototypeOf(value) !== Object.prototype) {
        throw new Error(`${path}: expected a plain object (a map), got ${show(value)}`);
      }
      return Object.fromEntries(Object.entries(value).map(([k, v]) => [k, single(field, field.mapKind, v, anyAsJson, `${path}[${JSON.stringify(k)}]`)]));
    default:
      return single(field, field.fieldKind, value, anyAsJson, path);
  }
}

function single(field, kind, value, anyAsJson, path) {
  if (kind === "scalar") return scalar(field.scalar, field.proto.options?.jstype ?? 0, value, path);
  if (kind === "enum") {
    if (field.enum.typeName === "google.protobuf.NullValue") return expect(value, value === null, "null", path);
    // A name, or a number the enum does not name.
    if (typeof value === "number" && Number.isInteger(value) && !field.enum.values.some((v) => v.number === value)) return value;
    return expect(value, typeof value === "string" && field.enum.values.some((v) => v.name === value), `a name of ${field.enum.typeName}`, path);
  }
  const type = field.message.typeName;
  if (type === "google.protobuf.Any") {
    const ok = typeof value === "object" && value !== null && Object.keys(value).join() === "typeUrl,value" && value.value instanceof Uint8Array;
    expect(value, ok && typeof value.typeUrl === "string", "{ typeUrl, value: Uint8Array }", path);
    return anyAsJson(value.typeUrl, value.value);
  }
  if (type in WRAPPERS) return scalar(WRAPPERS[type], 0, value, path);
  if (AS_JSON.has(type)) return value;
  return asProto3Json(field.message, value, anyAsJson, path);
}

function scalar(type, jstype, value, path) {
  if (INT64.has(type)) {
    if (jstype === JS_STRING) return expect(value, typeof value === "string", "a string ([jstype = JS_STRING])", path);
    if (jstype === JS_NUMBER) return String(expect(value, typeof value === "number", "a number ([jstype = JS_NUMBER])", path));
    return String(expect(value, typeof value === "bigint", "a bigint", path));
  }
  if (INT32.has(type)) return expect(value, Number.isInteger(value), "an integer number", path);
  if (type === DOUBLE || type === FLOAT) {
    return expect(value, typeof value === "number" || ["NaN", "Infinity", "-Infinity"].includes(value), "a number, \"NaN\" or \"±Infinity\"", path);
  }
  if (type === BOOL) return expect(value, typeof value === "boolean", "a boolean", path);
  if (type === STRING) return expect(value, typeof value === "string", "a string", path);
  if (type === BYTES) return base64(expect(value, value instanceof Uint8Array, "a Uint8Array", path));
  throw new Error(`${path}: scalar type ${type}?`);
}

function expect(value, ok, what, path) {
  if (!ok) throw new Error(`${path}: expected ${what}, got ${show(value)}`);
  return value;
}
