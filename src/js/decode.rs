//! Protobuf bytes → a plain JS object, walking the schema's field table.
//! Output objects carry every field (defaults included); unset message
//! fields, unset `optional` fields and unset oneof members are absent.
//! Bytes that do not decode are an error (the call's INTERNAL), never a panic.
use js_sys::{Array, BigInt, Object, Reflect, Uint8Array};
use wasm_bindgen::{JsCast, JsValue};

use super::{encode::MAX_DEPTH, value::js_string};
use crate::{
    schema::{Field, JsType, Kind, Schema, Wkt},
    wire::{self, I32, I64, LEN, Reader, VARINT},
    wkt,
};

type Result<T> = std::result::Result<T, String>;

/// Decodes `bytes` as the message `index` of `schema`.
pub(crate) fn decode(schema: &Schema, index: usize, bytes: &[u8]) -> Result<JsValue> {
    Decoder { schema }.message(index, bytes, 0)
}

struct Decoder<'s> {
    schema: &'s Schema,
}

/// Sets `object[key] = value` as an own property. Assigning `__proto__`
/// would set the object's prototype instead (and lose the value), so that
/// key (a map key or a Struct key from the server, or a `json_name`) is
/// defined.
fn set(object: &Object, key: &str, value: &JsValue) {
    // Defining a property on a fresh plain object cannot fail.
    if key == "__proto__" {
        let descriptor = Object::new();
        for flag in ["writable", "enumerable", "configurable"] {
            let _ = Reflect::set(&descriptor, &flag.into(), &JsValue::TRUE);
        }
        let _ = Reflect::set(&descriptor, &"value".into(), value);
        Object::define_property(object, &key.into(), &descriptor);
    } else {
        let _ = Reflect::set(object, &key.into(), value);
    }
}

impl Decoder<'_> {
    fn message(&self, index: usize, bytes: &[u8], depth: usize) -> Result<JsValue> {
        if depth > MAX_DEPTH {
            return Err("nested too deeply".into());
        }
        let message = &self.schema.messages[index];
        if let Some(kind) = message.wkt {
            return self.well_known(kind, index, bytes, depth);
        }
        let object = Object::new();
        for field in &message.fields {
            let initial = if self.is_map(field) {
                Object::new().into()
            } else if field.repeated {
                Array::new().into()
            } else if field.presence {
                continue;
            } else {
                self.default(field)
            };
            set(&object, &field.json_name, &initial);
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
            let fail = |e: &str| format!("{}.{}: {e}", message.name, field.name);
            if let Some(oneof) = field.oneof {
                oneof_last[oneof] = Some(number);
            }
            if self.is_map(field) {
                let Kind::Message(entry) = field.kind else {
                    unreachable!()
                };
                expect(wire_type, LEN).map_err(|e| fail(&e))?;
                let (key, value) = self.map_entry(entry, r.len_delimited()?, depth)?;
                let map =
                    Reflect::get(&object, &field.json_name.as_str().into()).unwrap_or_default();
                set(map.unchecked_ref(), &key, &value);
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
                    set(&object, &field.json_name, &item);
                }
            }
        }
        for (field, bytes) in pieces {
            if field
                .oneof
                .is_none_or(|o| oneof_last[o] == Some(field.number))
            {
                let value = self.field_message(field, &bytes, depth)?;
                set(&object, &field.json_name, &value);
            }
        }
        // Only the last member of each oneof stays.
        for field in &message.fields {
            if let Some(o) = field.oneof
                && oneof_last[o] != Some(field.number)
            {
                let _ = Reflect::delete_property(&object, &field.json_name.as_str().into());
            }
        }
        Ok(object.into())
    }

    fn is_map(&self, field: &Field) -> bool {
        matches!(field.kind, Kind::Message(m) if field.repeated && self.schema.messages[m].map_entry)
    }

    fn push(&self, object: &Object, field: &Field, item: &JsValue) {
        let list: Array = Reflect::get(object, &field.json_name.as_str().into())
            .unwrap_or_default()
            .into();
        list.push(item);
    }

    fn field_message(&self, field: &Field, bytes: &[u8], depth: usize) -> Result<JsValue> {
        let Kind::Message(index) = field.kind else {
            unreachable!("called for message fields")
        };
        self.message(index, bytes, depth + 1)
    }

    /// A map entry's key (as the string a JS object key is) and value.
    fn map_entry(&self, entry: usize, bytes: &[u8], depth: usize) -> Result<(String, JsValue)> {
        let fields = &self.schema.messages[entry].fields;
        let (key_field, value_field) = (&fields[0], &fields[1]);
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
        let key = key.unwrap_or_else(|| self.default(key_field));
        let key = match key.as_string() {
            Some(text) => text,
            // Numbers, BigInts and booleans print as JSON keys print them.
            None => js_string(&key),
        };
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
    fn default(&self, field: &Field) -> JsValue {
        match field.kind {
            Kind::String => JsValue::from_str(""),
            Kind::Bool => JsValue::FALSE,
            Kind::Bytes => Uint8Array::new_with_length(0).into(),
            Kind::Enum(index) => self.enum_value(index, 0),
            kind if kind.is_64_bit() => int64(field.jstype, 0, false),
            _ => JsValue::from_f64(0.0),
        }
    }

    fn enum_value(&self, index: usize, number: i32) -> JsValue {
        let enumeration = &self.schema.enums[index];
        if enumeration.is_null_value() {
            return JsValue::NULL;
        }
        match enumeration.name_of(number) {
            Some(name) => JsValue::from_str(name),
            None => JsValue::from_f64(number.into()),
        }
    }

    fn scalar(&self, field: &Field, wire_type: u8, r: &mut Reader) -> Result<JsValue> {
        let wanted = packed_wire_type(field.kind);
        expect(wire_type, wanted)?;
        Ok(match field.kind {
            Kind::Double => float(f64::from_bits(r.fixed64()?)),
            Kind::Float => float(f32::from_bits(r.fixed32()?).into()),
            Kind::Int32 => JsValue::from_f64(f64::from(r.varint()? as i32)),
            Kind::SInt32 => JsValue::from_f64(f64::from(wire::unzigzag32(r.varint()?))),
            Kind::UInt32 => JsValue::from_f64(f64::from(r.varint()? as u32)),
            Kind::Fixed32 => JsValue::from_f64(f64::from(r.fixed32()?)),
            Kind::SFixed32 => JsValue::from_f64(f64::from(r.fixed32()? as i32)),
            Kind::Int64 => int64(field.jstype, r.varint()?, true),
            Kind::SInt64 => int64(field.jstype, wire::unzigzag64(r.varint()?) as u64, true),
            Kind::SFixed64 => int64(field.jstype, r.fixed64()?, true),
            Kind::UInt64 => int64(field.jstype, r.varint()?, false),
            Kind::Fixed64 => int64(field.jstype, r.fixed64()?, false),
            Kind::Bool => JsValue::from_bool(r.varint()? != 0),
            Kind::Enum(index) => self.enum_value(index, r.varint()? as i32),
            Kind::String => JsValue::from_str(utf8(r.len_delimited()?)?),
            Kind::Bytes => Uint8Array::from(r.len_delimited()?).into(),
            Kind::Message(_) => unreachable!("messages are not scalars"),
        })
    }

    fn well_known(&self, kind: Wkt, index: usize, bytes: &[u8], depth: usize) -> Result<JsValue> {
        Ok(match kind {
            Wkt::Timestamp => {
                let (seconds, nanos) = seconds_and_nanos(bytes)?;
                wkt::format_timestamp(seconds, nanos)?.into()
            }
            Wkt::Duration => {
                let (seconds, nanos) = seconds_and_nanos(bytes)?;
                wkt::format_duration(seconds, nanos)?.into()
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
                wkt::field_mask_to_json(&paths)?.into()
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

    fn json_struct(&self, bytes: &[u8], depth: usize) -> Result<JsValue> {
        let object = Object::new();
        each_field(bytes, |number, wire_type, r| {
            if number != 1 {
                return Ok(false);
            }
            expect(wire_type, LEN)?;
            let (mut key, mut value) = (String::new(), JsValue::NULL);
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
            set(&object, &key, &value);
            Ok(true)
        })?;
        Ok(object.into())
    }

    fn json_list(&self, bytes: &[u8], depth: usize) -> Result<JsValue> {
        let list = Array::new();
        each_field(bytes, |number, wire_type, r| {
            if number != 1 {
                return Ok(false);
            }
            expect(wire_type, LEN)?;
            list.push(&self.json_value(r.len_delimited()?, depth + 1)?);
            Ok(true)
        })?;
        Ok(list.into())
    }

    fn json_value(&self, bytes: &[u8], depth: usize) -> Result<JsValue> {
        if depth > MAX_DEPTH {
            return Err("nested too deeply".into());
        }
        let mut value = None;
        each_field(bytes, |number, wire_type, r| {
            value = Some(match (number, wire_type) {
                (1, VARINT) => {
                    r.varint()?;
                    JsValue::NULL
                }
                (2, I64) => JsValue::from_f64(f64::from_bits(r.fixed64()?)),
                (3, LEN) => JsValue::from_str(utf8(r.len_delimited()?)?),
                (4, VARINT) => JsValue::from_bool(r.varint()? != 0),
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
        Err(format!("wire type {wire_type} where {wanted} was expected"))
    }
}

fn utf8(bytes: &[u8]) -> Result<&str> {
    std::str::from_utf8(bytes).map_err(|_| "a string is not valid UTF-8".into())
}

/// A float as JS gets it: a number, or `"NaN"`, `"Infinity"`, `"-Infinity"`.
fn float(value: f64) -> JsValue {
    if value.is_nan() {
        "NaN".into()
    } else if value.is_infinite() {
        if value > 0.0 { "Infinity" } else { "-Infinity" }.into()
    } else {
        JsValue::from_f64(value)
    }
}

/// A 64-bit integer as its field's `jstype` asks: BigInt, string or number.
/// `bits` are the two's-complement bits; `signed` says how to read them.
fn int64(jstype: JsType, bits: u64, signed: bool) -> JsValue {
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
