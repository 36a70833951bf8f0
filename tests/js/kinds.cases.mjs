// Every field kind through a generated package (test.kinds.v1, built from
// tests/protos/kinds.proto), round-tripped through tests/echo-server, which
// answers with the request's own bytes and shows them in the response
// header `x-echo-request-bin`. Run in a page by kinds.test.mjs, which hands
// those bytes and our output to an independent decoder (@bufbuild/protobuf).
//
// `run({ base, round })`: `round` "cases" returns one `{ name, error, bytes,
// ours }` per case; `round` "decode" decodes the bytes the oracle encoded.

const tests = [];
const test = (name, fn) => tests.push({ name, fn });

function assert(condition, message) {
  if (!condition) throw new Error(message);
}

// Deep equality that knows BigInt, Uint8Array and -0.
function same(a, b) {
  if (Object.is(a, b)) return true;
  if (a instanceof Uint8Array && b instanceof Uint8Array) return a.length === b.length && a.every((x, i) => x === b[i]);
  if (typeof a !== "object" || typeof b !== "object" || a === null || b === null) return false;
  if (Array.isArray(a) !== Array.isArray(b)) return false;
  const keys = Object.keys(a);
  return keys.length === Object.keys(b).length && keys.every((k) => Object.hasOwn(b, k) && same(a[k], b[k]));
}

const show = (v) => JSON.stringify(v, (_, x) => (typeof x === "bigint" ? `${x}n` : x instanceof Uint8Array ? `bytes[${x}]` : x));

function expectFields(out, expected, where = "reply") {
  for (const [key, value] of Object.entries(expected)) {
    assert(same(out[key], value), `${where}.${key}: ${show(out[key])}, expected ${show(value)}`);
  }
}

const base64 = (bytes) => btoa(String.fromCharCode(...bytes));
const fromBase64 = (text) => Uint8Array.from(atob(text.padEnd(Math.ceil(text.length / 4) * 4, "=")), (c) => c.charCodeAt(0));

// Our output in the proto3 JSON form the oracle's toJson writes.
function toProto3Json(value, key) {
  if (typeof value === "bigint") return String(value);
  if (key === "asNumber") return String(value);
  if (value instanceof Uint8Array) return base64(value);
  if (Array.isArray(value)) return value.map((v) => toProto3Json(v));
  if (value && typeof value === "object") {
    return Object.fromEntries(Object.entries(value).map(([k, v]) => [k, toProto3Json(v, k)]));
  }
  return value;
}

export async function run({ base, round, encoded }) {
  const pkg = await import(`${base}/kinds/index.js`);
  const { EchoClient, GrpcError, Code } = pkg;
  const echo = new EchoClient(base);

  // Every fetch the page makes, to prove that bad input sends nothing.
  let fetches = 0;
  const realFetch = globalThis.fetch;
  globalThis.fetch = (...args) => {
    fetches++;
    return realFetch(...args);
  };

  if (round === "decode") {
    // Bytes the oracle encoded, answered by the echo server as the reply.
    const results = [];
    for (const { name, b64 } of encoded) {
      try {
        const ours = await echo.echo({}, { headers: { "x-echo-reply-bin": b64 } });
        results.push({ name, ours: toProto3Json(ours) });
      } catch (error) {
        results.push({ name, error: String(error?.stack ?? error) });
      }
    }
    return results;
  }

  const roundTrips = [];
  // A case whose request goes through the echo server; `expected` lists
  // fields of our reply; the oracle checks the whole reply against the bytes.
  const roundTrip = (name, input, expected, check) =>
    test(name, async () => {
      let sent;
      const out = await echo.echo(input, { onHeader: (h) => (sent = h.get("x-echo-request-bin")) });
      assert(Object.getPrototypeOf(out) === Object.prototype, "a plain object");
      expectFields(out, expected);
      check?.(out);
      assert(typeof sent === "string", "the echo server showed the request's bytes");
      roundTrips.push({ name, bytes: sent, ours: toProto3Json(out) });
    });

  roundTrip("an empty request: every implicit field is present with its default", {}, {
    color: "COLOR_UNSPECIFIED", colors: [], ints: [], names: [], counts: {}, labels: {},
    asString: "0", asNumber: 0, constructor: "", toString: "",
  }, (out) => {
    for (const absent of ["scalars", "text", "nested", "number", "maybe", "maybeText", "at", "wInt64", "json", "child", "any"]) {
      assert(!(absent in out), `${absent} is absent when unset`);
    }
  });

  roundTrip("scalars at their extremes", {
    scalars: {
      fDouble: 1.5, fFloat: 0.25, fInt32: -2147483648, fInt64: -9223372036854775808n, fUint32: 4294967295,
      fUint64: "18446744073709551615", fSint32: -1, fSint64: 9223372036854775807n, fFixed32: 4294967295,
      fFixed64: 18446744073709551615n, fSfixed32: -2147483648, fSfixed64: -1, fBool: true,
      fString: "héllo ✓ 𝄞", fBytes: Uint8Array.of(0, 1, 255),
    },
  }, {}, (out) => expectFields(out.scalars, {
    fDouble: 1.5, fFloat: 0.25, fInt32: -2147483648, fInt64: -9223372036854775808n, fUint32: 4294967295,
    fUint64: 18446744073709551615n, fSint32: -1, fSint64: 9223372036854775807n, fFixed32: 4294967295,
    fFixed64: 18446744073709551615n, fSfixed32: -2147483648, fSfixed64: -1n, fBool: true,
    fString: "héllo ✓ 𝄞", fBytes: Uint8Array.of(0, 1, 255),
  }, "scalars"));

  roundTrip("scalar defaults inside a set message", { scalars: {} }, {}, (out) => expectFields(out.scalars, {
    fDouble: 0, fInt64: 0n, fUint64: 0n, fBool: false, fString: "", fBytes: new Uint8Array(),
  }, "scalars"));

  roundTrip("NaN, the infinities and -0", {
    scalars: { fDouble: "NaN", fFloat: "-Infinity" }, doubles: [NaN, Infinity, "-Infinity", -0, 1e308, "2.5"],
  }, { doubles: ["NaN", "Infinity", "-Infinity", -0, 1e308, 2.5] },
  (out) => expectFields(out.scalars, { fDouble: "NaN", fFloat: "-Infinity" }, "scalars"));

  roundTrip("numeric strings for 32-bit integers and floats", { scalars: { fInt32: "-7", fUint32: "7", fDouble: "1e3" } }, {},
    (out) => expectFields(out.scalars, { fInt32: -7, fUint32: 7, fDouble: 1000 }, "scalars"));

  roundTrip("empty and non-ASCII strings, empty bytes, base64 in", {
    names: ["", "ünïcödé", "😀", "日本語"], blobs: [new Uint8Array(), "AAEC", "-_8"],
  }, { names: ["", "ünïcödé", "😀", "日本語"], blobs: [new Uint8Array(), Uint8Array.of(0, 1, 2), Uint8Array.of(251, 255)] });

  roundTrip("enums by name and number; an unknown number stays a number", { color: 2, colors: ["RED", 2, 7] },
    { color: "GREEN", colors: ["RED", "GREEN", 7] });

  roundTrip("repeated scalars packed and unpacked", { ints: [0, -1, 2147483647], longs: [-1n, "5", 0] },
    { ints: [0, -1, 2147483647], longs: [-1n, 5n, 0n] });

  roundTrip("maps with string, integer, bool and 64-bit keys", {
    counts: { a: 1n, b: "2", c: 3 }, labels: { "-1": "minus one", 7: "seven" },
    flags: { true: { fBool: true }, false: {} }, byId: { "18446744073709551615": "RED", 0: 2 },
  }, {
    counts: { a: 1n, b: 2n, c: 3n }, labels: { "-1": "minus one", 7: "seven" },
    byId: { "18446744073709551615": "RED", 0: "GREEN" },
  }, (out) => {
    assert(out.flags.true.fBool === true && out.flags.false.fBool === false, show(out.flags));
  });

  roundTrip("an empty map and an empty list", { counts: {}, names: [] }, { counts: {}, names: [] });

  roundTrip("oneof: a scalar member, even at its default", { text: "" }, { text: "" },
    (out) => assert(!("nested" in out) && !("number" in out), "only the set member"));
  roundTrip("oneof: a message member", { nested: { fInt32: 1 } }, {},
    (out) => assert(out.nested.fInt32 === 1 && !("text" in out), show(out)));
  roundTrip("oneof: a 64-bit member from a string", { number: "5" }, { number: 5n });

  roundTrip("proto3 optional: set to the default is present", { maybe: 0, maybeText: "" }, { maybe: 0, maybeText: "" });

  roundTrip("Timestamp and Duration", { at: "2024-02-29T12:00:00.123+01:00", took: "-1.5s" },
    { at: "2024-02-29T11:00:00.123Z", took: "-1.500s" });
  roundTrip("a Date for a Timestamp", { at: new Date(Date.UTC(1969, 11, 31, 23, 59, 59, 1)) },
    { at: "1969-12-31T23:59:59.001Z" });

  roundTrip("wrappers: their value, defaults included", {
    wDouble: "NaN", wFloat: 1.5, wInt64: "9007199254740993", wUint64: 5, wInt32: -5, wUint32: 0,
    wBool: false, wString: "", wBytes: "AQ==",
  }, {
    wDouble: "NaN", wFloat: 1.5, wInt64: 9007199254740993n, wUint64: 5n, wInt32: -5, wUint32: 0,
    wBool: false, wString: "", wBytes: Uint8Array.of(1),
  });

  roundTrip("Struct, Value and ListValue as plain JSON", {
    meta: { a: 1, b: [true, null, "x", { c: {} }] }, json: { deep: [1, [2]] }, listValue: [1, "two", false, null],
  }, { meta: { a: 1, b: [true, null, "x", { c: {} }] }, json: { deep: [1, [2]] }, listValue: [1, "two", false, null] });

  roundTrip("a Value holding null is present", { json: null }, { json: null });
  roundTrip("a NullValue oneof member given null is set, under its JSON name", { nullChoice: null }, { nullChoice: null });
  roundTrip("a NullValue oneof member given null is set, under its proto name", { null_choice: null }, { nullChoice: null });

  roundTrip("Empty, FieldMask and Any", {
    nothing: {}, mask: "fooBar,baz.quxQuux",
    any: { typeUrl: "type.googleapis.com/test.kinds.v1.Scalars", value: Uint8Array.of(24, 1) },
  }, {
    nothing: {}, mask: "fooBar,baz.quxQuux",
    any: { typeUrl: "type.googleapis.com/test.kinds.v1.Scalars", value: Uint8Array.of(24, 1) },
  });

  roundTrip("deep nesting (40 levels)", (() => {
    let kinds = { color: "RED" };
    for (let i = 0; i < 40; i++) kinds = { child: kinds };
    return kinds;
  })(), {}, (out) => {
    let depth = 0;
    while (out.child) [out, depth] = [out.child, depth + 1];
    assert(depth === 40 && out.color === "RED", `depth ${depth}`);
  });

  roundTrip("jstype: JS_STRING comes out a string, JS_NUMBER a number", { asString: 123n, asNumber: "42" },
    { asString: "123", asNumber: 42 });

  roundTrip("proto field names are accepted too", { list_value: [1], maybe_text: "x", scalars: { f_int32: 5 } },
    { listValue: [1], maybeText: "x" }, (out) => assert(out.scalars.fInt32 === 5, show(out.scalars)));

  roundTrip("null and undefined mean the default", {
    scalars: null, color: null, names: undefined, counts: null, at: null, text: null, maybe: undefined,
  }, { color: "COLOR_UNSPECIFIED", names: [], counts: {} }, (out) => {
    for (const absent of ["scalars", "at", "text", "maybe"]) assert(!(absent in out), `${absent} absent`);
  });

  roundTrip("fields named like Object.prototype's properties", { constructor: "c", toString: "t" }, {
    constructor: "c", toString: "t",
  });

  test('a map key or Struct key "__proto__" comes back an own key, the prototype untouched', async () => {
    const out = await echo.echo(JSON.parse('{"counts":{"__proto__":"5"},"meta":{"__proto__":{"a":1}}}'));
    const own = (o, k) => Object.getOwnPropertyDescriptor(o, k)?.value;
    assert(own(out.counts, "__proto__") === 5n, `counts: ${show(Object.getOwnPropertyNames(out.counts))}`);
    assert(same(own(out.meta, "__proto__"), { a: 1 }), `meta: ${show(Object.getOwnPropertyNames(out.meta))}`);
    for (const o of [out.counts, out.meta]) assert(Object.getPrototypeOf(o) === Object.prototype, "a plain object");
  });

  test("a server stream of every kind", async () => {
    const input = { color: "RED", counts: { x: 1n }, at: "2020-01-01T00:00:00Z" };
    const got = [];
    for await (const out of echo.echoStream(input, { headers: { "x-echo-count": "3" } })) got.push(out);
    assert(got.length === 3, `${got.length} messages`);
    for (const out of got) expectFields(out, { color: "RED", counts: { x: 1n }, at: "2020-01-01T00:00:00Z" });
  });

  test("bidi streaming methods are not generated", () => {
    assert(typeof echo.chat === "undefined" && typeof echo.echo === "function", "no chat()");
  });

  test("a reply that does not decode is INTERNAL, never a hang or a panic", async () => {
    // 0x0a 0x05: field 1 (a message), 5 bytes long, but only one follows.
    for (const reply of ["CgUB", "/w==", "GAA="]) {
      try {
        await echo.echo({}, { headers: { "x-echo-reply-bin": reply } });
        if (reply === "GAA=") continue; // field 3 (color) = 0: valid
        throw new Error(`${reply} decoded`);
      } catch (error) {
        assert(error instanceof GrpcError && error.code === Code.INTERNAL, `${reply}: ${error}`);
        assert(error.message.includes("test.kinds.v1.Kinds"), error.message);
      }
    }
    // A string field with invalid UTF-8 (field 14 of Kinds is `text`).
    try {
      await echo.echo({}, { headers: { "x-echo-reply-bin": base64(Uint8Array.of(0x72, 1, 0xff)) } });
      throw new Error("invalid UTF-8 decoded");
    } catch (error) {
      assert(error instanceof GrpcError && error.code === Code.INTERNAL && /UTF-8/.test(error.message), String(error));
    }
  });

  // Bad input: the exact TypeError, and no request leaves the page.
  const deep = (() => {
    let kinds = {};
    for (let i = 0; i < 101; i++) kinds = { child: kinds };
    return kinds;
  })();
  const bad = [
    [{ scalars: { fInt32: "x" } }, 'Kinds.scalars.fInt32: expected an integer, got "x"'],
    [{ list: [{}, {}, { fUint32: -1 }] }, "Kinds.list[2].fUint32: expected an integer from 0 to 4294967295, got -1"],
    [{ scalars: { fInt32: 1.5 } }, "Kinds.scalars.fInt32: expected an integer, got 1.5"],
    [{ scalars: { fInt32: 2147483648 } }, "Kinds.scalars.fInt32: expected an integer from -2147483648 to 2147483647, got 2147483648"],
    [{ scalars: { fInt64: 2 ** 53 } }, "Kinds.scalars.fInt64: expected a safe integer (beyond 2^53 - 1 pass a BigInt or a decimal string), got 9007199254740992"],
    [{ scalars: { fUint64: -1n } }, "Kinds.scalars.fUint64: expected an integer from 0 to 18446744073709551615, got -1n"],
    [{ scalars: { fInt64: "12abc" } }, 'Kinds.scalars.fInt64: expected an integer, got "12abc"'],
    [{ scalars: { fBool: "true" } }, 'Kinds.scalars.fBool: expected a boolean, got "true"'],
    [{ scalars: { fString: 5 } }, "Kinds.scalars.fString: expected a string, got 5"],
    [{ scalars: { fString: "a\ud800" } }, 'Kinds.scalars.fString: expected a well-formed string (no lone surrogates), got "a\\ud800"'],
    [{ scalars: { fBytes: "@@" } }, 'Kinds.scalars.fBytes: expected a Uint8Array or a base64 string, got "@@"'],
    [{ scalars: { fFloat: 1e39 } }, "Kinds.scalars.fFloat: expected a number in float's range, got 1e+39"],
    [{ scalars: { fDouble: "1.2.3" } }, 'Kinds.scalars.fDouble: expected a number, got "1.2.3"'],
    [{ color: "PURPLE" }, 'Kinds.color: expected a value of test.kinds.v1.Color, got "PURPLE"'],
    [{ colrs: [] }, 'Kinds: unknown field "colrs"'],
    [{ text: "a", number: 1 }, 'Kinds: oneof "choice" has more than one member set: "text" and "number"'],
    [{ names: "x" }, 'Kinds.names: expected an array, got "x"'],
    [{ names: ["a", null] }, "Kinds.names[1]: expected a value, got null"],
    [{ counts: { a: "x" } }, 'Kinds.counts["a"]: expected an integer, got "x"'],
    [{ labels: { x: "y" } }, 'Kinds.labels["x"]: expected an integer, got "x"'],
    [{ flags: { yes: {} } }, 'Kinds.flags["yes"]: map key "yes" is not "true" or "false"'],
    [{ at: "yesterday" }, 'Kinds.at: expected an RFC 3339 timestamp, got "yesterday"'],
    [{ at: new Date(NaN) }, "Kinds.at: expected a valid Date, got a Date"],
    [{ took: "5m" }, 'Kinds.took: expected a duration such as "1.5s", got "5m"'],
    [{ at: "0000-12-31T00:00:00Z" }, 'Kinds.at: expected a timestamp from year 1 to 9999, got "0000-12-31T00:00:00Z"'],
    [{ took: "315576000001s" }, 'Kinds.took: expected a duration within 10000 years, got "315576000001s"'],
    [{ mask: "a_b" }, 'Kinds.mask: expected comma-separated lowerCamelCase paths, got "a_b"'],
    [{ meta: { a: () => 1 } }, 'Kinds.meta["a"]: expected a JSON value, got a function'],
    [{ json: { n: NaN } }, 'Kinds.json["n"]: expected a finite number (JSON has no NaN or Infinity), got NaN'],
    [{ scalars: [] }, "Kinds.scalars: expected an object, got an array"],
    [{ maybeText: "a", maybe_text: "b" }, 'Kinds: "maybeText" and "maybe_text" name the same field'],
    [{ nested: { fInt32: 1, extra: 2 } }, 'Kinds.nested: unknown field "extra"'],
    [deep, "nested too deeply"],
    ["x", 'Kinds: expected an object, got "x"'],
  ];
  test(`${bad.length} kinds of bad input: a TypeError naming the path, no request`, async () => {
    for (const [input, message] of bad) {
      const before = fetches;
      let error;
      try {
        await echo.echo(input);
      } catch (e) {
        error = e;
      }
      assert(error instanceof TypeError, `${show(input).slice(0, 60)}: ${error}`);
      assert(message === "nested too deeply" ? error.message.endsWith(message) : error.message === message,
        `got ${show(error.message)}\n     expected ${show(message)}`);
      assert(fetches === before, `a request was sent for ${message}`);
    }
  });

  const results = [];
  for (const { name, fn } of tests) {
    try {
      await fn();
      results.push({ name });
    } catch (error) {
      results.push({ name, error: String(error?.stack ?? error) });
    }
  }
  globalThis.fetch = realFetch;
  return { results, roundTrips };
}
