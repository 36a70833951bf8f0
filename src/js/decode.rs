//! Protobuf bytes → a plain JS object, walking the schema's field table.
//! Output objects carry every field (defaults included); unset message
//! fields, unset `optional` fields and unset oneof members are absent.
//! Bytes that do not decode are an error (the call's INTERNAL), never a panic.
//!
//! The decoder builds its values through [`Build`]: JS values in the
//! browser ([`Js`]), plain Rust values in the host's fuzz tests, so the
//! code that reads a server's bytes is the code those tests run.
use std::borrow::Cow;

use js_sys::{Array, BigInt, Object, Reflect, Uint8Array};
use wasm_bindgen::{JsCast, JsValue};

use super::{encode::MAX_DEPTH, value::js_string};
use crate::{
    ascii::{digits, join},
    schema::{Field, JsType, Kind, Schema, Wkt},
    wire::{self, I32, I64, LEN, Reader, VARINT},
    wkt,
};

/// What is wrong with the bytes. Most errors are fixed texts: a `Cow`
/// borrows them where a `String` would copy each one into the heap, code
/// repeated at every `?` (issue 17).
type Result<T> = std::result::Result<T, Cow<'static, str>>;

/// Decodes `bytes` as the message `index` of `schema`.
pub(crate) fn decode(schema: &Schema, index: usize, bytes: &[u8]) -> Result<JsValue> {
    decode_with(Js, schema, index, bytes)
}

/// [`decode`] building with `build`.
pub(crate) fn decode_with<B: Build>(
    build: B,
    schema: &Schema,
    index: usize,
    bytes: &[u8],
) -> Result<B::Value> {
    Decoder { schema, build }.message(index, bytes, 0)
}

/// How the decoder makes values. Objects and lists are handles: what is
/// set on or pushed to one shows in every copy.
pub(crate) trait Build {
    type Value: Clone;
    fn object(&self) -> Self::Value;
    fn list(&self) -> Self::Value;
    /// Sets `object[key] = value` as an own property.
    fn set(&self, object: &Self::Value, key: &str, value: &Self::Value);
    fn get(&self, object: &Self::Value, key: &str) -> Self::Value;
    fn remove(&self, object: &Self::Value, key: &str);
    fn push(&self, list: &Self::Value, item: &Self::Value);
    fn null(&self) -> Self::Value;
    fn bool(&self, value: bool) -> Self::Value;
    fn number(&self, value: f64) -> Self::Value;
    fn string(&self, value: &str) -> Self::Value;
    fn bytes(&self, value: &[u8]) -> Self::Value;
    /// A 64-bit integer as its field's `jstype` asks: BigInt, string or
    /// number. `bits` are the two's-complement bits; `signed` says how to
    /// read them.
    fn int64(&self, jstype: JsType, bits: u64, signed: bool) -> Self::Value;
    /// A map key (string, number, BigInt or boolean) as an object key.
    fn key(&self, value: &Self::Value) -> String;
}

/// JS values, as the page gets them.
pub(crate) struct Js;

impl Build for Js {
    type Value = JsValue;

    fn object(&self) -> JsValue {
        Object::new().into()
    }

    fn list(&self) -> JsValue {
        Array::new().into()
    }

    /// Assigning `__proto__` would set the object's prototype instead (and
    /// lose the value), so that key (a map key or a Struct key from the
    /// server, or a `json_name`) is defined.
    fn set(&self, object: &JsValue, key: &str, value: &JsValue) {
        // Defining a property on a fresh plain object cannot fail.
        if key == "__proto__" {
            let descriptor = Object::new();
            for flag in ["writable", "enumerable", "configurable"] {
                let _ = Reflect::set(&descriptor, &flag.into(), &JsValue::TRUE);
            }
            let _ = Reflect::set(&descriptor, &"value".into(), value);
            Object::define_property(object.unchecked_ref::<Object>(), &key.into(), &descriptor);
        } else {
            let _ = Reflect::set(object, &key.into(), value);
        }
    }

    fn get(&self, object: &JsValue, key: &str) -> JsValue {
        Reflect::get(object, &key.into()).unwrap_or_default()
    }

    fn remove(&self, object: &JsValue, key: &str) {
        let _ = Reflect::delete_property(object.unchecked_ref::<Object>(), &key.into());
    }

    fn push(&self, list: &JsValue, item: &JsValue) {
        list.unchecked_ref::<Array>().push(item);
    }

    fn null(&self) -> JsValue {
        JsValue::NULL
    }

    fn bool(&self, value: bool) -> JsValue {
        JsValue::from_bool(value)
    }

    fn number(&self, value: f64) -> JsValue {
        JsValue::from_f64(value)
    }

    fn string(&self, value: &str) -> JsValue {
        JsValue::from_str(value)
    }

    fn bytes(&self, value: &[u8]) -> JsValue {
        Uint8Array::from(value).into()
    }

    fn int64(&self, jstype: JsType, bits: u64, signed: bool) -> JsValue {
        let big: JsValue = if signed {
            BigInt::from(bits as i64).into()
        } else {
            BigInt::from(bits).into()
        };
        match jstype {
            JsType::BigInt => big,
            // JS formats and converts it: no integer formatting in the package.
            JsType::String => js_string(&big).into(),
            JsType::Number => JsValue::from_f64(if signed {
                bits as i64 as f64
            } else {
                bits as f64
            }),
        }
    }

    fn key(&self, value: &JsValue) -> String {
        // Numbers, BigInts and booleans print as JSON keys print them.
        value.as_string().unwrap_or_else(|| js_string(value))
    }
}

struct Decoder<'s, B> {
    schema: &'s Schema,
    build: B,
}

impl<B: Build> Decoder<'_, B> {
    fn message(&self, index: usize, bytes: &[u8], depth: usize) -> Result<B::Value> {
        if depth > MAX_DEPTH {
            return Err("nested too deeply".into());
        }
        let message = &self.schema.messages[index];
        if let Some(kind) = message.wkt {
            return self.well_known(kind, index, bytes, depth);
        }
        let b = &self.build;
        let object = b.object();
        for field in &message.fields {
            let initial = if self.is_map(field) {
                b.object()
            } else if field.repeated {
                b.list()
            } else if field.presence {
                continue;
            } else {
                self.default(field)
            };
            b.set(&object, &field.json_name, &initial);
        }
        // Singular message fields may come in pieces, which merge: their
        // bytes are gathered and decoded once at the end.
        let mut pieces: Vec<(&Field, Vec<u8>)> = Vec::new();
        // The member of each oneof seen last wins.
        let mut oneof_last: Vec<Option<u32>> = vec![None; message.oneofs.len()];
        let mut r = Reader::new(bytes);
        while let Some((number, wire_type)) = r.tag()? {
            let Some(field) = message.field(number) else {
                r.skip(wire_type)?;
                continue;
            };
            let fail = |e: &str| join(&[&message.name, ".", &field.name, ": ", e]);
            if let Some(oneof) = field.oneof {
                oneof_last[oneof] = Some(number);
            }
            if self.is_map(field) {
                let Kind::Message(entry) = field.kind else {
                    unreachable!()
                };
                expect(wire_type, LEN).map_err(|e| fail(&e))?;
                let (key, value) = self.map_entry(entry, r.len_delimited()?, depth)?;
                b.set(&b.get(&object, &field.json_name), &key, &value);
            } else if let Kind::Message(_) = field.kind {
                expect(wire_type, LEN).map_err(|e| fail(&e))?;
                let bytes = r.len_delimited()?;
                if field.repeated {
                    let item = self.field_message(field, bytes, depth)?;
                    self.push(&object, field, &item);
                } else {
                    match pieces.iter_mut().find(|(f, _)| f.number == number) {
                        Some((_, all)) => all.extend_from_slice(bytes),
                        None => pieces.push((field, bytes.to_vec())),
                    }
                }
            } else if field.repeated && wire_type == LEN && field.kind.is_packable() {
                let mut packed = Reader::new(r.len_delimited()?);
                while !packed.is_empty() {
                    let item = self.scalar(field, packed_wire_type(field.kind), &mut packed)?;
                    self.push(&object, field, &item);
                }
            } else {
                let item = self
                    .scalar(field, wire_type, &mut r)
                    .map_err(|e| fail(&e))?;
                if field.repeated {
                    self.push(&object, field, &item);
                } else {
                    b.set(&object, &field.json_name, &item);
                }
            }
        }
        for (field, bytes) in pieces {
            if field
                .oneof
                .is_none_or(|o| oneof_last[o] == Some(field.number))
            {
                let value = self.field_message(field, &bytes, depth)?;
                b.set(&object, &field.json_name, &value);
            }
        }
        // Only the last member of each oneof stays.
        for field in &message.fields {
            if let Some(o) = field.oneof
                && oneof_last[o] != Some(field.number)
            {
                b.remove(&object, &field.json_name);
            }
        }
        Ok(object)
    }

    fn is_map(&self, field: &Field) -> bool {
        matches!(field.kind, Kind::Message(m) if field.repeated && self.schema.messages[m].map_entry)
    }

    fn push(&self, object: &B::Value, field: &Field, item: &B::Value) {
        let b = &self.build;
        b.push(&b.get(object, &field.json_name), item);
    }

    fn field_message(&self, field: &Field, bytes: &[u8], depth: usize) -> Result<B::Value> {
        let Kind::Message(index) = field.kind else {
            unreachable!("called for message fields")
        };
        self.message(index, bytes, depth + 1)
    }

    /// A map entry's key (as the string a JS object key is) and value.
    fn map_entry(&self, entry: usize, bytes: &[u8], depth: usize) -> Result<(String, B::Value)> {
        let [key_field, value_field] = &self.schema.messages[entry].fields[..] else {
            return Err(join(&[
                &self.schema.messages[entry].full_name,
                ": a map entry is a key and a value",
            ])
            .into());
        };
        let mut key = None;
        let mut value = None;
        let mut r = Reader::new(bytes);
        while let Some((number, wire_type)) = r.tag()? {
            match number {
                1 => key = Some(self.scalar(key_field, wire_type, &mut r)?),
                2 if matches!(value_field.kind, Kind::Message(_)) => {
                    expect(wire_type, LEN)?;
                    value = Some(self.field_message(value_field, r.len_delimited()?, depth)?);
                }
                2 => value = Some(self.scalar(value_field, wire_type, &mut r)?),
                _ => r.skip(wire_type)?,
            }
        }
        let key = self
            .build
            .key(&key.unwrap_or_else(|| self.default(key_field)));
        let value = match value {
            Some(v) => v,
            None if matches!(value_field.kind, Kind::Message(_)) => {
                self.field_message(value_field, &[], depth)?
            }
            None => self.default(value_field),
        };
        Ok((key, value))
    }

    /// The value of an unset field without presence.
    fn default(&self, field: &Field) -> B::Value {
        let b = &self.build;
        match field.kind {
            Kind::String => b.string(""),
            Kind::Bool => b.bool(false),
            Kind::Bytes => b.bytes(&[]),
            Kind::Enum(index) => self.enum_value(index, 0),
            kind if kind.is_64_bit() => b.int64(field.jstype, 0, false),
            _ => b.number(0.0),
        }
    }

    fn enum_value(&self, index: usize, number: i32) -> B::Value {
        let enumeration = &self.schema.enums[index];
        if enumeration.is_null_value() {
            return self.build.null();
        }
        match enumeration.name_of(number) {
            Some(name) => self.build.string(name),
            None => self.build.number(number.into()),
        }
    }

    fn scalar(&self, field: &Field, wire_type: u8, r: &mut Reader) -> Result<B::Value> {
        let wanted = packed_wire_type(field.kind);
        expect(wire_type, wanted)?;
        let b = &self.build;
        if wanted == LEN {
            let bytes = r.len_delimited()?;
            return Ok(match field.kind {
                Kind::String => b.string(utf8(bytes)?),
                Kind::Bytes => b.bytes(bytes),
                _ => unreachable!("messages are not scalars"),
            });
        }
        // One read per wire type, then the kind's reading of the bits
        // (issue 17: a read per kind was 0.6 KB more).
        let bits = match wanted {
            I32 => u64::from(r.fixed32()?),
            I64 => r.fixed64()?,
            _ => r.varint()?,
        };
        let number = |n: f64| b.number(n);
        Ok(match field.kind {
            Kind::Double => self.float(f64::from_bits(bits)),
            Kind::Float => self.float(f32::from_bits(bits as u32).into()),
            Kind::Int32 | Kind::SFixed32 => number(f64::from(bits as i32)),
            Kind::SInt32 => number(f64::from(wire::unzigzag32(bits))),
            Kind::UInt32 | Kind::Fixed32 => number(f64::from(bits as u32)),
            Kind::Int64 | Kind::SFixed64 => b.int64(field.jstype, bits, true),
            Kind::SInt64 => b.int64(field.jstype, wire::unzigzag64(bits) as u64, true),
            Kind::UInt64 | Kind::Fixed64 => b.int64(field.jstype, bits, false),
            Kind::Bool => b.bool(bits != 0),
            Kind::Enum(index) => self.enum_value(index, bits as i32),
            _ => unreachable!("strings and bytes are read above"),
        })
    }

    /// A float as JS gets it: a number, or `"NaN"`, `"Infinity"`, `"-Infinity"`.
    fn float(&self, value: f64) -> B::Value {
        let b = &self.build;
        if value.is_nan() {
            b.string("NaN")
        } else if value.is_infinite() {
            b.string(if value > 0.0 { "Infinity" } else { "-Infinity" })
        } else {
            b.number(value)
        }
    }

    fn well_known(&self, kind: Wkt, index: usize, bytes: &[u8], depth: usize) -> Result<B::Value> {
        let b = &self.build;
        Ok(match kind {
            Wkt::Timestamp => {
                let (seconds, nanos) = seconds_and_nanos(bytes)?;
                b.string(&wkt::format_timestamp(seconds, nanos)?)
            }
            Wkt::Duration => {
                let (seconds, nanos) = seconds_and_nanos(bytes)?;
                b.string(&wkt::format_duration(seconds, nanos)?)
            }
            Wkt::FieldMask => {
                let mut paths = Vec::new();
                each_field(bytes, |number, wire_type, r| {
                    if number == 1 {
                        expect(wire_type, LEN)?;
                        paths.push(utf8(r.len_delimited()?)?.to_string());
                        return Ok(true);
                    }
                    Ok(false)
                })?;
                b.string(&wkt::field_mask_to_json(&paths)?)
            }
            Wkt::Wrapper => {
                let field = &self.schema.messages[index].fields[0];
                let mut value = self.default(field);
                each_field(bytes, |number, wire_type, r| {
                    if number == 1 {
                        value = self.scalar(field, wire_type, r)?;
                        return Ok(true);
                    }
                    Ok(false)
                })?;
                value
            }
            Wkt::Struct => self.json_struct(bytes, depth)?,
            Wkt::ListValue => self.json_list(bytes, depth)?,
            Wkt::Value => self.json_value(bytes, depth)?,
        })
    }

    fn json_struct(&self, bytes: &[u8], depth: usize) -> Result<B::Value> {
        let b = &self.build;
        let object = b.object();
        each_field(bytes, |number, wire_type, r| {
            if number != 1 {
                return Ok(false);
            }
            expect(wire_type, LEN)?;
            let (mut key, mut value) = (String::new(), b.null());
            each_field(r.len_delimited()?, |number, wire_type, r| {
                match number {
                    1 => {
                        expect(wire_type, LEN)?;
                        key = utf8(r.len_delimited()?)?.to_string();
                    }
                    2 => {
                        expect(wire_type, LEN)?;
                        value = self.json_value(r.len_delimited()?, depth + 1)?;
                    }
                    _ => return Ok(false),
                }
                Ok(true)
            })?;
            b.set(&object, &key, &value);
            Ok(true)
        })?;
        Ok(object)
    }

    fn json_list(&self, bytes: &[u8], depth: usize) -> Result<B::Value> {
        let b = &self.build;
        let list = b.list();
        each_field(bytes, |number, wire_type, r| {
            if number != 1 {
                return Ok(false);
            }
            expect(wire_type, LEN)?;
            b.push(&list, &self.json_value(r.len_delimited()?, depth + 1)?);
            Ok(true)
        })?;
        Ok(list)
    }

    fn json_value(&self, bytes: &[u8], depth: usize) -> Result<B::Value> {
        if depth > MAX_DEPTH {
            return Err("nested too deeply".into());
        }
        let b = &self.build;
        let mut value = None;
        each_field(bytes, |number, wire_type, r| {
            value = Some(match (number, wire_type) {
                (1, VARINT) => {
                    r.varint()?;
                    b.null()
                }
                (2, I64) => b.number(f64::from_bits(r.fixed64()?)),
                (3, LEN) => b.string(utf8(r.len_delimited()?)?),
                (4, VARINT) => b.bool(r.varint()? != 0),
                (5, LEN) => self.json_struct(r.len_delimited()?, depth + 1)?,
                (6, LEN) => self.json_list(r.len_delimited()?, depth + 1)?,
                (1..=6, _) => return Err("google.protobuf.Value: wrong wire type".into()),
                _ => return Ok(false),
            });
            Ok(true)
        })?;
        value.ok_or_else(|| "google.protobuf.Value has no kind set".into())
    }
}

/// Calls `read` for each field; it returns whether it consumed the value
/// (the rest are skipped).
fn each_field(
    bytes: &[u8],
    mut read: impl FnMut(u32, u8, &mut Reader) -> Result<bool>,
) -> Result<()> {
    let mut r = Reader::new(bytes);
    while let Some((number, wire_type)) = r.tag()? {
        if !read(number, wire_type, &mut r)? {
            r.skip(wire_type)?;
        }
    }
    Ok(())
}

/// Timestamp and Duration: `int64 seconds = 1; int32 nanos = 2;`.
fn seconds_and_nanos(bytes: &[u8]) -> Result<(i64, i32)> {
    let (mut seconds, mut nanos) = (0, 0);
    each_field(bytes, |number, wire_type, r| {
        match number {
            1 => {
                expect(wire_type, VARINT)?;
                seconds = r.varint()? as i64;
            }
            2 => {
                expect(wire_type, VARINT)?;
                nanos = r.varint()? as i32;
            }
            _ => return Ok(false),
        }
        Ok(true)
    })?;
    Ok((seconds, nanos))
}

/// The wire type a value of `kind` has when not length-delimited.
fn packed_wire_type(kind: Kind) -> u8 {
    match kind {
        Kind::Double | Kind::Fixed64 | Kind::SFixed64 => I64,
        Kind::Float | Kind::Fixed32 | Kind::SFixed32 => I32,
        Kind::String | Kind::Bytes | Kind::Message(_) => LEN,
        _ => VARINT,
    }
}

fn expect(wire_type: u8, wanted: u8) -> Result<()> {
    if wire_type == wanted {
        Ok(())
    } else {
        Err(join(&[
            "wire type ",
            &digits(wire_type.into()),
            " where ",
            &digits(wanted.into()),
            " was expected",
        ])
        .into())
    }
}

fn utf8(bytes: &[u8]) -> Result<&str> {
    std::str::from_utf8(bytes).map_err(|_| "a string is not valid UTF-8".into())
}
