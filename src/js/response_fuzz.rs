//! Property tests of the whole response path, on the host: random bytes and
//! mutated valid responses, cut into chunks wherever the network may cut
//! them, go through the frame reader (with its limit), the trailers and the
//! message decoder, against a schema with every field kind: every outcome is
//! decoded messages with a status, or a failure, never a panic. Valid
//! responses must come out exactly (their messages, their status).
//!
//! `cargo test` runs proptest's 256 cases per property (about a second);
//! `PROPTEST_CASES=100000 cargo test -p grpc-web-abort --features js-api
//! response_fuzz` runs longer.
use std::{cell::RefCell, rc::Rc, sync::OnceLock};

use proptest::prelude::*;

use super::decode::{Build, decode_with};
use crate::{
    frames::{DEFAULT_MAX_RECEIVE, Frame, Frames, percent_decode, status, trailer_lines},
    schema::{JsType, Kind, Schema, Wkt},
    status::{Code, Failure},
    wire::{EGROUP, I32, I64, LEN, SGROUP, VARINT, put_len, put_tag, put_varint, zigzag64},
};

const PROTO: &str = r#"
syntax = "proto3";
package fuzz.v1;
import "google/protobuf/any.proto";
import "google/protobuf/duration.proto";
import "google/protobuf/empty.proto";
import "google/protobuf/field_mask.proto";
import "google/protobuf/struct.proto";
import "google/protobuf/timestamp.proto";
import "google/protobuf/wrappers.proto";

enum Color { COLOR_UNSPECIFIED = 0; RED = 1; GREEN = 2; }

message Scalars {
  double f_double = 1; float f_float = 2; int32 f_int32 = 3; int64 f_int64 = 4;
  uint32 f_uint32 = 5; uint64 f_uint64 = 6; sint32 f_sint32 = 7; sint64 f_sint64 = 8;
  fixed32 f_fixed32 = 9; fixed64 f_fixed64 = 10; sfixed32 f_sfixed32 = 11;
  sfixed64 f_sfixed64 = 12; bool f_bool = 13; string f_string = 14; bytes f_bytes = 15;
}

message Reply {
  Scalars scalars = 1;
  repeated Scalars list = 2;
  Color color = 3;
  repeated Color colors = 4;
  repeated int32 ints = 5;
  repeated string names = 6;
  repeated double doubles = 7;
  repeated sint64 longs = 8 [packed = false];
  map<string, int64> counts = 9;
  map<int32, string> labels = 10;
  map<bool, Scalars> flags = 11;
  map<uint64, Color> by_id = 12;
  map<string, Reply> children = 13;
  oneof choice { string text = 14; Scalars nested = 15; int64 number = 16; }
  optional int32 maybe = 17;
  google.protobuf.Timestamp at = 18;
  google.protobuf.Duration took = 19;
  google.protobuf.DoubleValue w_double = 20;
  google.protobuf.Int64Value w_int64 = 21;
  google.protobuf.StringValue w_string = 22;
  google.protobuf.BytesValue w_bytes = 23;
  google.protobuf.BoolValue w_bool = 24;
  google.protobuf.Struct meta = 25;
  google.protobuf.Value json = 26;
  google.protobuf.ListValue list_value = 27;
  google.protobuf.FieldMask mask = 28;
  google.protobuf.Any any = 29;
  google.protobuf.Empty nothing = 30;
  Reply child = 31;
  int64 as_string = 32 [jstype = JS_STRING];
  uint64 as_number = 33 [jstype = JS_NUMBER];
  google.protobuf.NullValue null = 34;
}
"#;

fn schema() -> &'static Schema {
    static SCHEMA: OnceLock<Schema> = OnceLock::new();
    SCHEMA.get_or_init(|| crate::schema::compile_for_tests("fuzz.proto", PROTO))
}

fn reply() -> usize {
    schema().message("fuzz.v1.Reply").unwrap()
}

/// A decoded value as plain Rust data (the browser gets JS values).
#[derive(Clone, Debug)]
enum Plain {
    Null,
    Bool(bool),
    Number(f64),
    Text(String),
    Bytes(Vec<u8>),
    Int(i128),
    Object(Rc<RefCell<Vec<(String, Plain)>>>),
    List(Rc<RefCell<Vec<Plain>>>),
}

struct Host;

impl Build for Host {
    type Value = Plain;

    fn object(&self) -> Plain {
        Plain::Object(Rc::default())
    }

    fn list(&self) -> Plain {
        Plain::List(Rc::default())
    }

    fn set(&self, object: &Plain, key: &str, value: &Plain) {
        let Plain::Object(entries) = object else {
            panic!("set on {object:?}")
        };
        let mut entries = entries.borrow_mut();
        match entries.iter_mut().find(|(k, _)| k == key) {
            Some((_, v)) => *v = value.clone(),
            None => entries.push((key.to_string(), value.clone())),
        }
    }

    fn get(&self, object: &Plain, key: &str) -> Plain {
        let Plain::Object(entries) = object else {
            panic!("get on {object:?}")
        };
        let entries = entries.borrow();
        let found = entries.iter().find(|(k, _)| k == key);
        found.map_or(Plain::Null, |(_, v)| v.clone())
    }

    fn remove(&self, object: &Plain, key: &str) {
        let Plain::Object(entries) = object else {
            panic!("remove on {object:?}")
        };
        entries.borrow_mut().retain(|(k, _)| k != key);
    }

    fn push(&self, list: &Plain, item: &Plain) {
        let Plain::List(items) = list else {
            panic!("push on {list:?}")
        };
        items.borrow_mut().push(item.clone());
    }

    fn null(&self) -> Plain {
        Plain::Null
    }

    fn bool(&self, value: bool) -> Plain {
        Plain::Bool(value)
    }

    fn number(&self, value: f64) -> Plain {
        Plain::Number(value)
    }

    fn string(&self, value: &str) -> Plain {
        Plain::Text(value.to_string())
    }

    fn bytes(&self, value: &[u8]) -> Plain {
        Plain::Bytes(value.to_vec())
    }

    fn int64(&self, jstype: JsType, bits: u64, signed: bool) -> Plain {
        let n = if signed {
            i128::from(bits as i64)
        } else {
            i128::from(bits)
        };
        match jstype {
            JsType::BigInt => Plain::Int(n),
            JsType::String => Plain::Text(n.to_string()),
            JsType::Number => Plain::Number(n as f64),
        }
    }

    fn key(&self, value: &Plain) -> String {
        match value {
            Plain::Text(text) => text.clone(),
            Plain::Bool(b) => b.to_string(),
            Plain::Number(n) => n.to_string(),
            Plain::Int(n) => n.to_string(),
            other => panic!("a map key cannot be {other:?}"),
        }
    }
}

/// How a client ends up after reading a response body.
#[derive(Debug)]
enum Outcome {
    /// The trailers came: how many messages decoded before them, and the status.
    Ended(Vec<Plain>, Option<Failure>),
    Failed(Failure),
    /// The body ended first (inside a frame or before any trailers).
    Cut,
}

/// The JS path's reading of `body`, arriving in the pieces `cuts` make.
fn read(body: &[u8], cuts: &[usize], limit: usize) -> Outcome {
    let mut frames = Frames::new(limit, "maxReceiveMessageBytes");
    let mut messages = Vec::new();
    let mut at = 0;
    let ends = cuts
        .iter()
        .map(|c| c % (body.len() + 1))
        .chain([body.len()]);
    for end in ends {
        if end < at {
            continue;
        }
        if let Err(failure) = frames.push(&body[at..end]) {
            return Outcome::Failed(failure);
        }
        at = end;
        loop {
            match frames.next() {
                Err(failure) => return Outcome::Failed(failure),
                Ok(None) => break,
                Ok(Some(Frame::Message(bytes))) => {
                    match decode_with(Host, schema(), reply(), &bytes) {
                        Ok(message) => messages.push(message),
                        Err(e) => return Outcome::Failed(Failure::new(Code::INTERNAL, e)),
                    }
                }
                Ok(Some(Frame::Trailers(block))) => {
                    let lines: Vec<_> = trailer_lines(&block).collect();
                    let get = |name: &str| {
                        let value = lines
                            .iter()
                            .rev()
                            .find(|(n, _)| n.eq_ignore_ascii_case(name));
                        value.map(|(_, v)| *v)
                    };
                    let failure = status(get("grpc-status"), get("grpc-message"));
                    return Outcome::Ended(messages, failure);
                }
            }
        }
    }
    Outcome::Cut
}

/// splitmix64: valid messages from one seed, so proptest only has to pick
/// the seed and the mutations.
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9e37_79b9_7f4a_7c15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
        z ^ (z >> 31)
    }

    fn below(&mut self, n: u64) -> u64 {
        self.next() % n
    }

    fn text(&mut self) -> String {
        const CHARS: [char; 8] = ['a', 'Z', '0', ' ', 'é', '✓', '😀', '_'];
        (0..self.below(6))
            .map(|_| CHARS[self.below(8) as usize])
            .collect()
    }

    fn bytes(&mut self) -> Vec<u8> {
        (0..self.below(6)).map(|_| self.next() as u8).collect()
    }
}

/// A valid encoding of message `index`, unknown fields and groups included.
fn valid(index: usize, rng: &mut Rng, depth: usize) -> Vec<u8> {
    let message = &schema().messages[index];
    let mut out = Vec::new();
    match message.wkt {
        Some(Wkt::Timestamp) => {
            // 0001-01-01 to 9999-12-31.
            let seconds = -62_135_596_800 + rng.below(315_537_897_600) as i64;
            varint_field(&mut out, 1, seconds as u64);
            varint_field(&mut out, 2, rng.below(1_000_000_000));
            return out;
        }
        Some(Wkt::Duration) => {
            let (seconds, nanos) = (
                rng.below(315_576_000_001) as i64,
                rng.below(1_000_000_000) as i64,
            );
            let sign = if rng.below(2) == 0 { 1 } else { -1 };
            varint_field(&mut out, 1, (sign * seconds) as u64);
            varint_field(&mut out, 2, (sign * nanos) as u64);
            return out;
        }
        Some(Wkt::FieldMask) => {
            for _ in 0..rng.below(3) {
                let path = ["a", "foo_bar", "x.y_z"][rng.below(3) as usize];
                put_tag(&mut out, 1, LEN);
                put_len(&mut out, path.as_bytes());
            }
            return out;
        }
        Some(Wkt::Value) => {
            // Exactly one kind; containers only while shallow.
            let kinds = if depth < 4 { 6 } else { 4 };
            match rng.below(kinds) + 1 {
                1 => varint_field(&mut out, 1, 0),
                2 => {
                    put_tag(&mut out, 2, I64);
                    out.extend_from_slice(&rng.next().to_le_bytes());
                }
                3 => {
                    put_tag(&mut out, 3, LEN);
                    put_len(&mut out, rng.text().as_bytes());
                }
                4 => varint_field(&mut out, 4, rng.below(2)),
                number => {
                    let kind = if number == 5 { "Struct" } else { "ListValue" };
                    let inner = schema()
                        .message(&format!("google.protobuf.{kind}"))
                        .unwrap();
                    put_tag(&mut out, number as u32, LEN);
                    put_len(&mut out, &valid(inner, rng, depth + 1));
                }
            }
            return out;
        }
        _ => {}
    }
    for field in &message.fields {
        if rng.below(3) == 0 {
            continue;
        }
        let count = if field.repeated { rng.below(4) } else { 1 };
        if field.packed && rng.below(2) == 0 {
            let mut packed = Vec::new();
            for _ in 0..count {
                scalar(field.kind, rng, &mut packed);
            }
            put_tag(&mut out, field.number, LEN);
            put_len(&mut out, &packed);
            continue;
        }
        for _ in 0..count {
            match field.kind {
                Kind::Message(inner) => {
                    // Deep enough: an empty message ends the recursion (a
                    // Value needs its kind, and limits its own depth).
                    let value = schema().messages[inner].wkt == Some(Wkt::Value);
                    let bytes = if depth < 4 || value {
                        valid(inner, rng, depth + 1)
                    } else {
                        Vec::new()
                    };
                    put_tag(&mut out, field.number, LEN);
                    put_len(&mut out, &bytes);
                }
                Kind::String | Kind::Bytes => {
                    put_tag(&mut out, field.number, LEN);
                    scalar(field.kind, rng, &mut out);
                }
                kind => {
                    put_tag(&mut out, field.number, wire_type(kind));
                    scalar(kind, rng, &mut out);
                }
            }
        }
    }
    if rng.below(3) == 0 {
        unknown(rng, &mut out, 0);
    }
    out
}

fn varint_field(out: &mut Vec<u8>, number: u32, value: u64) {
    put_tag(out, number, VARINT);
    put_varint(out, value);
}

fn wire_type(kind: Kind) -> u8 {
    match kind {
        Kind::Double | Kind::Fixed64 | Kind::SFixed64 => I64,
        Kind::Float | Kind::Fixed32 | Kind::SFixed32 => I32,
        Kind::String | Kind::Bytes | Kind::Message(_) => LEN,
        _ => VARINT,
    }
}

/// A value of a scalar `kind` (strings and bytes with their length).
fn scalar(kind: Kind, rng: &mut Rng, out: &mut Vec<u8>) {
    match kind {
        Kind::String => put_len(out, rng.text().as_bytes()),
        Kind::Bytes => put_len(out, &rng.bytes()),
        Kind::SInt32 | Kind::SInt64 => {
            put_varint(out, zigzag64(rng.next() as i64 >> rng.below(64)))
        }
        Kind::Bool => put_varint(out, rng.below(2)),
        Kind::Int32 | Kind::Enum(_) => {
            put_varint(out, i64::from(rng.next() as i32 >> rng.below(32)) as u64)
        }
        Kind::UInt32 => put_varint(out, u64::from(rng.next() as u32)),
        kind => match wire_type(kind) {
            I64 => out.extend_from_slice(&rng.next().to_le_bytes()),
            I32 => out.extend_from_slice(&(rng.next() as u32).to_le_bytes()),
            _ => put_varint(out, rng.next() >> rng.below(64)),
        },
    }
}

/// A field no schema here knows (numbers from 1000), of any wire type,
/// groups (nested) included.
fn unknown(rng: &mut Rng, out: &mut Vec<u8>, depth: usize) {
    let number = 1000 + rng.below(50) as u32;
    match rng.below(5) {
        0 => varint_field(out, number, rng.next()),
        1 => {
            put_tag(out, number, I64);
            out.extend_from_slice(&rng.next().to_le_bytes());
        }
        2 => {
            put_tag(out, number, LEN);
            put_len(out, &rng.bytes());
        }
        3 => {
            put_tag(out, number, I32);
            out.extend_from_slice(&(rng.next() as u32).to_le_bytes());
        }
        _ => {
            put_tag(out, number, SGROUP);
            for _ in 0..rng.below(3) {
                if depth < 3 {
                    unknown(rng, out, depth + 1);
                }
            }
            put_tag(out, number, EGROUP);
        }
    }
}

fn frame(flags: u8, payload: &[u8]) -> Vec<u8> {
    let mut out = vec![flags];
    out.extend_from_slice(&(payload.len() as u32).to_be_bytes());
    out.extend_from_slice(payload);
    out
}

/// `text` as a server percent-encodes a `grpc-message`.
fn percent_encode(text: &str) -> String {
    text.bytes()
        .map(|b| match b {
            b' '..=b'~' if b != b'%' => char::from(b).to_string(),
            _ => format!("%{b:02X}"),
        })
        .collect()
}

/// A valid response: `count` messages from `seed`, then trailers with `code`.
fn valid_response(seed: u64, count: usize, code: u8, message: &str) -> Vec<u8> {
    let mut rng = Rng(seed);
    let mut body = Vec::new();
    for _ in 0..count {
        body.extend(frame(0, &valid(reply(), &mut rng, 0)));
    }
    let trailers = format!(
        "grpc-status:{code}\r\ngrpc-message:{}\r\nx-extra: 1\r\n",
        percent_encode(message)
    );
    body.extend(frame(0x80, trailers.as_bytes()));
    body
}

/// A limit: tiny, the default, or none.
fn limit() -> impl Strategy<Value = usize> {
    prop_oneof![0..64usize, Just(DEFAULT_MAX_RECEIVE), Just(usize::MAX)]
}

proptest! {
    #[test]
    fn random_bodies_end_in_an_outcome(
        body in proptest::collection::vec(any::<u8>(), 0..512),
        cuts in proptest::collection::vec(any::<usize>(), 0..4),
        limit in limit(),
    ) {
        read(&body, &cuts, limit);
    }

    #[test]
    fn random_bytes_decode_or_fail_as_every_message(
        bytes in proptest::collection::vec(any::<u8>(), 0..256),
    ) {
        for index in 0..schema().messages.len() {
            let _ = decode_with(Host, schema(), index, &bytes);
        }
    }

    #[test]
    fn valid_responses_come_out_exactly(
        seed in any::<u64>(),
        count in 0..4usize,
        code in 0..17u8,
        message in "\\PC{0,12}",
        cuts in proptest::collection::vec(any::<usize>(), 0..6),
    ) {
        let body = valid_response(seed, count, code, &message);
        match read(&body, &cuts, DEFAULT_MAX_RECEIVE) {
            Outcome::Ended(messages, failure) => {
                prop_assert_eq!(messages.len(), count);
                match failure {
                    None => prop_assert_eq!(code, 0),
                    Some(failure) => {
                        prop_assert_eq!(failure.code as u8, code);
                        // Trailer values are trimmed; a server sends spaces unencoded.
                        prop_assert_eq!(failure.message, message.trim_matches(' '));
                    }
                }
            }
            other => prop_assert!(false, "{:?}", other),
        }
    }

    #[test]
    fn mutated_responses_end_in_an_outcome(
        seed in any::<u64>(),
        count in 0..4usize,
        edits in proptest::collection::vec((any::<usize>(), 0..4u8, any::<u8>()), 1..8),
        cuts in proptest::collection::vec(any::<usize>(), 0..4),
        limit in limit(),
    ) {
        let mut body = valid_response(seed, count, 3, "bad");
        for (at, edit, byte) in edits {
            let at = at % (body.len() + 1);
            match edit {
                0 if at < body.len() => body[at] ^= byte | 1,
                1 => body.insert(at, byte),
                2 if at < body.len() => {
                    body.remove(at);
                }
                _ => body.truncate(at),
            }
        }
        read(&body, &cuts, limit);
    }

    #[test]
    fn grpc_messages_decode_whatever_they_hold(text in "\\PC{0,20}", raw in ".{0,20}") {
        prop_assert_eq!(percent_decode(&percent_encode(&text)), text);
        percent_decode(&raw);
    }
}

#[test]
fn a_reply_over_the_limit_fails_on_its_header() {
    // `text: "abc"`, 5 bytes.
    let mut body = frame(0, &[0x72, 3, b'a', b'b', b'c']);
    body.extend(frame(0x80, b"grpc-status:0\r\n"));
    match read(&body, &[3], 4) {
        Outcome::Failed(failure) => assert_eq!(failure.code, Code::RESOURCE_EXHAUSTED),
        other => panic!("{other:?}"),
    }
    // At the limit, and trailers longer than it: they have their own.
    assert!(matches!(read(&body, &[3], 5), Outcome::Ended(m, None) if m.len() == 1));
    let mut huge = vec![0, 0xff, 0xff, 0xff, 0xff];
    huge.extend([0; 16]);
    match read(&huge, &[], DEFAULT_MAX_RECEIVE) {
        Outcome::Failed(failure) => assert_eq!(failure.code, Code::RESOURCE_EXHAUSTED),
        other => panic!("{other:?}"),
    }
    assert!(matches!(read(&huge, &[], usize::MAX), Outcome::Cut));
}

#[test]
fn unknown_groups_in_a_reply_are_skipped() {
    let mut bytes = Vec::new();
    put_tag(&mut bytes, 500, SGROUP);
    varint_field(&mut bytes, 1, 7);
    put_tag(&mut bytes, 2, SGROUP);
    put_tag(&mut bytes, 2, EGROUP);
    put_tag(&mut bytes, 500, EGROUP);
    put_tag(&mut bytes, 14, LEN);
    put_len(&mut bytes, b"kept");
    let Plain::Object(fields) = decode_with(Host, schema(), reply(), &bytes).unwrap() else {
        panic!("an object")
    };
    let text = fields
        .borrow()
        .iter()
        .find(|(k, _)| k == "text")
        .map(|(_, v)| v.clone());
    assert!(matches!(text, Some(Plain::Text(t)) if t == "kept"));
    // A group the schema declares another type for is still a wrong wire type.
    let mut wrong = Vec::new();
    put_tag(&mut wrong, 14, SGROUP);
    put_tag(&mut wrong, 14, EGROUP);
    assert!(decode_with(Host, schema(), reply(), &wrong).is_err());
}

#[test]
fn messages_nested_past_the_limit_fail() {
    // `child` (31) inside `child`, 150 deep: an error, not a stack overflow.
    let mut bytes = Vec::new();
    for _ in 0..150 {
        let mut outer = Vec::new();
        put_tag(&mut outer, 31, LEN);
        put_len(&mut outer, &bytes);
        bytes = outer;
    }
    let error = decode_with(Host, schema(), reply(), &bytes).unwrap_err();
    assert!(error.contains("nested too deeply"), "{error}");
}

#[test]
fn a_known_reply_decodes_to_its_values() {
    let mut scalars = Vec::new();
    put_tag(&mut scalars, 15, LEN);
    put_len(&mut scalars, &[0, 255]);
    varint_field(&mut scalars, 8, zigzag64(-3));
    let mut bytes = Vec::new();
    put_tag(&mut bytes, 1, LEN);
    put_len(&mut bytes, &scalars);
    let reply = decode_with(Host, schema(), reply(), &bytes).unwrap();
    let scalars = Host.get(&reply, "scalars");
    assert!(matches!(Host.get(&scalars, "fBytes"), Plain::Bytes(b) if b == [0, 255]));
    assert!(matches!(Host.get(&scalars, "fSint64"), Plain::Int(-3)));
    assert!(matches!(Host.get(&scalars, "fString"), Plain::Text(t) if t.is_empty()));
    assert!(matches!(Host.get(&reply, "at"), Plain::Null));
}
