//! A plain JS object → protobuf bytes, walking the schema's field table (the
//! proto3 JSON mapping, as design.md's table gives it). Every problem is a
//! `TypeError` naming the full path (`AddItemRequest.items[2].quantity:
//! expected an integer, got "x"`); nothing a caller sent is dropped: an
//! unknown key is an error too.
use js_sys::{Array, Reflect, Uint8Array};
use wasm_bindgen::{JsCast, JsValue};

use super::{
    error::type_error,
    value::{
        bigint_decimal, describe, is_plain_object, is_unset, keys, number_from_text,
        well_formed_string,
    },
};
use crate::{
    ascii::{join, push_digits},
    schema::{Field, Kind, Schema, Wkt},
    wire::{self, I32, I64, LEN, VARINT},
    wkt,
};

/// Deeper than this is refused rather than risking the stack.
pub(crate) const MAX_DEPTH: usize = 100;

/// Encodes `value` as the message `index` of `schema`.
pub(crate) fn encode(schema: &Schema, index: usize, value: &JsValue) -> Result<Vec<u8>> {
    let mut encoder = Encoder {
        schema,
        path: schema.messages[index].name.clone(),
        depth: 0,
    };
    let mut out = Vec::new();
    // A missing request is an empty one.
    let value = if is_unset(value) {
        &js_sys::Object::new().into()
    } else {
        value
    };
    encoder.message(index, value, &mut out)?;
    Ok(out)
}

/// One field's value on the wire.
enum Scalar {
    Varint(u64),
    Fixed32(u32),
    Fixed64(u64),
    Bytes(Vec<u8>),
}

impl Scalar {
    fn is_default(&self) -> bool {
        match self {
            Scalar::Varint(v) | Scalar::Fixed64(v) => *v == 0,
            Scalar::Fixed32(v) => *v == 0,
            Scalar::Bytes(b) => b.is_empty(),
        }
    }

    fn write(self, number: u32, out: &mut Vec<u8>) {
        match self {
            Scalar::Varint(v) => {
                wire::put_tag(out, number, VARINT);
                wire::put_varint(out, v);
            }
            Scalar::Fixed32(v) => {
                wire::put_tag(out, number, I32);
                out.extend_from_slice(&v.to_le_bytes());
            }
            Scalar::Fixed64(v) => {
                wire::put_tag(out, number, I64);
                out.extend_from_slice(&v.to_le_bytes());
            }
            Scalar::Bytes(b) => {
                wire::put_tag(out, number, LEN);
                wire::put_len(out, &b);
            }
        }
    }

    /// The value alone, as a packed repeated field holds it.
    fn write_packed(self, out: &mut Vec<u8>) {
        match self {
            Scalar::Varint(v) => wire::put_varint(out, v),
            Scalar::Fixed32(v) => out.extend_from_slice(&v.to_le_bytes()),
            Scalar::Fixed64(v) => out.extend_from_slice(&v.to_le_bytes()),
            Scalar::Bytes(_) => unreachable!("strings and bytes are never packed"),
        }
    }
}

struct Encoder<'s> {
    schema: &'s Schema,
    /// Where we are, for errors: `Message.field[2].inner`.
    path: String,
    depth: usize,
}

type Result<T> = std::result::Result<T, JsValue>;

impl Encoder<'_> {
    fn expected(&self, what: &str, got: &JsValue) -> JsValue {
        type_error(&join(&[
            &self.path,
            ": expected ",
            what,
            ", got ",
            &describe(got),
        ]))
    }

    /// What is wrong, in pieces: the message is joined once, with no
    /// `String` of its own for `what` (issue 17).
    fn problem(&self, what: &[&str]) -> JsValue {
        let mut text = join(&[&self.path, ": "]);
        for piece in what {
            text.push_str(piece);
        }
        type_error(&text)
    }

    /// Runs `f` with `segment` appended to the path (written straight into
    /// it: no `String` made and dropped per step).
    fn at<T>(&mut self, segment: &[&str], f: impl FnOnce(&mut Self) -> Result<T>) -> Result<T> {
        let len = self.path.len();
        for piece in segment {
            self.path.push_str(piece);
        }
        let result = f(self);
        self.path.truncate(len);
        result
    }

    /// [`Self::at`] an array index, its digits written straight into the
    /// path.
    fn at_index<T>(&mut self, i: usize, f: impl FnOnce(&mut Self) -> Result<T>) -> Result<T> {
        let len = self.path.len();
        self.path.push('[');
        push_digits(&mut self.path, i as u64, 1);
        self.path.push(']');
        let result = f(self);
        self.path.truncate(len);
        result
    }

    fn message(&mut self, index: usize, value: &JsValue, out: &mut Vec<u8>) -> Result<()> {
        self.depth += 1;
        if self.depth > MAX_DEPTH {
            return Err(self.problem(&["nested too deeply"]));
        }
        let message = &self.schema.messages[index];
        let result = match message.wkt {
            Some(kind) => self.well_known(kind, index, value, out),
            None => self.fields(index, value, out),
        };
        self.depth -= 1;
        result
    }

    fn fields(&mut self, index: usize, value: &JsValue, out: &mut Vec<u8>) -> Result<()> {
        let schema = self.schema;
        let message = &schema.messages[index];
        if !is_plain_object(value) {
            return Err(self.expected("an object", value));
        }
        for key in keys(value).iter() {
            let key = key.as_string().unwrap_or_default();
            if !message
                .fields
                .iter()
                .any(|f| f.json_name == key || f.name == key)
            {
                return Err(self.problem(&["unknown field \"", &key, "\""]));
            }
        }
        // A field's value is an own property: an inherited `constructor` or
        // `toString` (a field named so) is not the caller's.
        let object: &js_sys::Object = value.unchecked_ref();
        let get = |name: &str| -> Result<JsValue> {
            let name = JsValue::from_str(name);
            if js_sys::Object::has_own(object, &name) {
                Ok(Reflect::get(value, &name)?)
            } else {
                Ok(JsValue::UNDEFINED)
            }
        };
        let mut oneofs: Vec<Option<&str>> = vec![None; message.oneofs.len()];
        for field in &message.fields {
            let by_json = get(&field.json_name)?;
            let by_name = if field.name == field.json_name {
                JsValue::UNDEFINED
            } else {
                get(&field.name)?
            };
            let item = match (is_unset(&by_json), is_unset(&by_name)) {
                (false, false) => {
                    return Err(self.problem(&[
                        "\"",
                        &field.json_name,
                        "\" and \"",
                        &field.name,
                        "\" name the same field",
                    ]));
                }
                (false, true) => by_json,
                (true, false) => by_name,
                // `null` is a Value of its own, and a NullValue's one value
                // (firestore.v1.Value's `nullValue`: a oneof member set);
                // elsewhere it means unset. Under either name.
                (true, true)
                    if (by_json.is_null() || by_name.is_null()) && self.is_value(field) =>
                {
                    JsValue::NULL
                }
                (true, true) => continue,
            };
            if let Some(oneof) = field.oneof {
                if let Some(other) = oneofs[oneof] {
                    return Err(self.problem(&[
                        "oneof \"",
                        &message.oneofs[oneof],
                        "\" has more than one member set: \"",
                        other,
                        "\" and \"",
                        &field.json_name,
                        "\"",
                    ]));
                }
                oneofs[oneof] = Some(&field.json_name);
            }
            self.at(&[".", &field.json_name], |e| e.field(field, &item, out))?;
        }
        Ok(())
    }

    /// Whether `null` is a value of `field`'s type (Value, NullValue), not "unset".
    fn is_value(&self, field: &Field) -> bool {
        match field.kind {
            Kind::Message(m) => self.schema.messages[m].wkt == Some(Wkt::Value),
            Kind::Enum(e) => self.schema.enums[e].is_null_value(),
            _ => false,
        }
    }

    fn field(&mut self, field: &Field, value: &JsValue, out: &mut Vec<u8>) -> Result<()> {
        if !field.repeated {
            return self.single(field.number, field.kind, value, field.presence, out);
        }
        if let Kind::Message(entry) = field.kind
            && self.schema.messages[entry].map_entry
        {
            return self.map(field.number, entry, value, out);
        }
        if !Array::is_array(value) {
            return Err(self.expected("an array", value));
        }
        let items: Array = value.clone().unchecked_into();
        let mut packed = Vec::new();
        for (i, item) in items.iter().enumerate() {
            self.at_index(i, |e| {
                if is_unset(&item) && !e.is_value(field) {
                    return Err(e.expected("a value", &item));
                }
                if field.packed {
                    e.scalar(field.kind, &item)?.write_packed(&mut packed);
                    Ok(())
                } else {
                    e.single(field.number, field.kind, &item, true, out)
                }
            })?;
        }
        if field.packed && !packed.is_empty() {
            wire::put_tag(out, field.number, LEN);
            wire::put_len(out, &packed);
        }
        Ok(())
    }

    /// One value of a field; defaults are left out unless `always`.
    fn single(
        &mut self,
        number: u32,
        kind: Kind,
        value: &JsValue,
        always: bool,
        out: &mut Vec<u8>,
    ) -> Result<()> {
        if let Kind::Message(index) = kind {
            let mut nested = Vec::new();
            self.message(index, value, &mut nested)?;
            wire::put_tag(out, number, LEN);
            wire::put_len(out, &nested);
            return Ok(());
        }
        let scalar = self.scalar(kind, value)?;
        if always || !scalar.is_default() {
            scalar.write(number, out);
        }
        Ok(())
    }

    /// A `map<K, V>` from a plain object (keys are strings, as in JSON).
    fn map(&mut self, number: u32, entry: usize, value: &JsValue, out: &mut Vec<u8>) -> Result<()> {
        if !is_plain_object(value) {
            return Err(self.expected("an object (a map)", value));
        }
        let schema = self.schema;
        let fields = &schema.messages[entry].fields;
        let (key_field, value_field) = (&fields[0], &fields[1]);
        for key in keys(value).iter() {
            let name = key.as_string().unwrap_or_default();
            let item = Reflect::get(value, &key)?;
            self.at(&["[\"", &name, "\"]"], |e| {
                let mut record = Vec::new();
                e.map_key(key_field.kind, &name)?.write(1, &mut record);
                if is_unset(&item) && !e.is_value(value_field) {
                    return Err(e.expected("a value", &item));
                }
                e.single(2, value_field.kind, &item, true, &mut record)?;
                wire::put_tag(out, number, LEN);
                wire::put_len(out, &record);
                Ok(())
            })?;
        }
        Ok(())
    }

    fn map_key(&self, kind: Kind, key: &str) -> Result<Scalar> {
        let text = JsValue::from_str(key);
        match kind {
            Kind::Bool => match key {
                "true" => Ok(Scalar::Varint(1)),
                "false" => Ok(Scalar::Varint(0)),
                _ => Err(self.problem(&["map key \"", key, "\" is not \"true\" or \"false\""])),
            },
            Kind::String => Ok(Scalar::Bytes(key.as_bytes().to_vec())),
            _ => self.scalar(kind, &text),
        }
    }

    fn scalar(&self, kind: Kind, value: &JsValue) -> Result<Scalar> {
        // The integer kinds share one read of the value (issue 17: a call
        // per kind was 0.4 KB more).
        let range = match kind {
            Kind::Int32 | Kind::SInt32 | Kind::SFixed32 => Some(Range::I32),
            Kind::UInt32 | Kind::Fixed32 => Some(Range::U32),
            Kind::Int64 | Kind::SInt64 | Kind::SFixed64 => Some(Range::I64),
            Kind::UInt64 | Kind::Fixed64 => Some(Range::U64),
            _ => None,
        };
        if let Some(range) = range {
            let bits = self.int(value, range)?;
            return Ok(match kind {
                Kind::SInt32 => Scalar::Varint(wire::zigzag32(bits as i32)),
                Kind::SInt64 => Scalar::Varint(wire::zigzag64(bits as i64)),
                Kind::SFixed32 | Kind::Fixed32 => Scalar::Fixed32(bits as u32),
                Kind::SFixed64 | Kind::Fixed64 => Scalar::Fixed64(bits),
                _ => Scalar::Varint(bits),
            });
        }
        Ok(match kind {
            Kind::Double => Scalar::Fixed64(self.float(value)?.to_bits()),
            Kind::Float => {
                let v = self.float(value)?;
                if v.is_finite() && v.abs() > f64::from(f32::MAX) {
                    return Err(self.expected("a number in float's range", value));
                }
                Scalar::Fixed32((v as f32).to_bits())
            }
            Kind::Bool => Scalar::Varint(
                value
                    .as_bool()
                    .ok_or_else(|| self.expected("a boolean", value))? as u64,
            ),
            Kind::String => Scalar::Bytes(self.string(value)?.into_bytes()),
            Kind::Bytes => Scalar::Bytes(self.bytes(value)?),
            Kind::Enum(index) => Scalar::Varint(self.enumeration(index, value)? as i64 as u64),
            Kind::Message(_) => unreachable!("messages are not scalars"),
            _ => unreachable!("integers are read above"),
        })
    }

    fn string(&self, value: &JsValue) -> Result<String> {
        match well_formed_string(value) {
            Some(Ok(text)) => Ok(text),
            Some(Err(())) => Err(self.expected("a well-formed string (no lone surrogates)", value)),
            None => Err(self.expected("a string", value)),
        }
    }

    fn bytes(&self, value: &JsValue) -> Result<Vec<u8>> {
        if let Some(bytes) = value.dyn_ref::<Uint8Array>() {
            return Ok(bytes.to_vec());
        }
        let text = value
            .as_string()
            .ok_or_else(|| self.expected("a Uint8Array or a base64 string", value))?;
        wkt::decode_base64(&text)
            .map_err(|_| self.expected("a Uint8Array or a base64 string", value))
    }

    /// A number, or the strings `"NaN"`, `"Infinity"`, `"-Infinity"` and numeric text.
    fn float(&self, value: &JsValue) -> Result<f64> {
        if let Some(v) = value.as_f64() {
            return Ok(v);
        }
        let parsed = value.as_string().and_then(|text| match text.as_str() {
            "NaN" => Some(f64::NAN),
            "Infinity" => Some(f64::INFINITY),
            "-Infinity" => Some(f64::NEG_INFINITY),
            other => number_from_text(other),
        });
        parsed.ok_or_else(|| self.expected("a number", value))
    }

    /// An integer of `range` from a number, a BigInt or a decimal string, as
    /// its two's-complement bits (sign-extended for the signed kinds).
    fn int(&self, value: &JsValue, range: Range) -> Result<u64> {
        const SAFE: f64 = 9_007_199_254_740_991.0;
        let (negative, magnitude) = if let Some(n) = value.as_f64() {
            if !n.is_finite() || n.fract() != 0.0 {
                return Err(self.expected("an integer", value));
            }
            if range.is_64_bit() && n.abs() > SAFE {
                return Err(self.expected(
                    "a safe integer (beyond 2^53 - 1 pass a BigInt or a decimal string)",
                    value,
                ));
            }
            (n < 0.0, n.abs() as u64)
        } else if let Some(text) = bigint_decimal(value).or_else(|| value.as_string()) {
            let body = text.strip_prefix("-").unwrap_or(&text);
            if body.is_empty() || !body.bytes().all(|b| b.is_ascii_digit()) {
                return Err(self.expected("an integer", value));
            }
            // More digits than any 64-bit value: out of range, not unparseable.
            let magnitude =
                crate::ascii::decimal(body).ok_or_else(|| self.expected(&range.text(), value))?;
            (text.starts_with("-"), magnitude)
        } else {
            return Err(self.expected("an integer", value));
        };
        range
            .bits(negative && magnitude != 0, magnitude)
            .ok_or_else(|| self.expected(&range.text(), value))
    }

    fn enumeration(&self, index: usize, value: &JsValue) -> Result<i32> {
        let enumeration = &self.schema.enums[index];
        if let Some(name) = value.as_string() {
            return enumeration.number_of(&name).ok_or_else(|| {
                self.expected(&join(&["a value of ", &enumeration.full_name]), value)
            });
        }
        if value.is_null() && enumeration.is_null_value() {
            return Ok(0);
        }
        self.int(value, Range::I32).map(|n| n as i32).map_err(|_| {
            self.expected(
                &join(&["a name or number of ", &enumeration.full_name]),
                value,
            )
        })
    }

    fn well_known(
        &mut self,
        kind: Wkt,
        index: usize,
        value: &JsValue,
        out: &mut Vec<u8>,
    ) -> Result<()> {
        match kind {
            Wkt::Timestamp => {
                let (seconds, nanos) = if let Some(date) = value.dyn_ref::<js_sys::Date>() {
                    let ms = date.get_time();
                    if !ms.is_finite() {
                        return Err(self.expected("a valid Date", value));
                    }
                    let seconds = (ms / 1000.0).floor();
                    // A Date's time is whole milliseconds (ECMAScript's
                    // TimeClip), so the nanoseconds are exact: no `round`,
                    // which wasm lacks (issue 17: libm's, 87 B).
                    (seconds as i64, ((ms - seconds * 1000.0) * 1e6) as i32)
                } else {
                    let text = value
                        .as_string()
                        .ok_or_else(|| self.expected("an RFC 3339 string or a Date", value))?;
                    wkt::parse_timestamp(&text).map_err(|e| self.expected(e, value))?
                };
                seconds_and_nanos(seconds, nanos, out);
            }
            Wkt::Duration => {
                let text = value
                    .as_string()
                    .ok_or_else(|| self.expected("a duration string such as \"1.5s\"", value))?;
                let (seconds, nanos) =
                    wkt::parse_duration(&text).map_err(|e| self.expected(e, value))?;
                seconds_and_nanos(seconds, nanos, out);
            }
            Wkt::FieldMask => {
                let text = value
                    .as_string()
                    .ok_or_else(|| self.expected("a field mask string such as \"a,b.c\"", value))?;
                for path in wkt::field_mask_from_json(&text).map_err(|e| self.expected(e, value))? {
                    Scalar::Bytes(path.into_bytes()).write(1, out);
                }
            }
            Wkt::Wrapper => {
                let kind = self.schema.messages[index].fields[0].kind;
                self.single(1, kind, value, false, out)?;
            }
            Wkt::Struct => self.json_struct(value, out)?,
            Wkt::ListValue => self.json_list(value, out)?,
            Wkt::Value => self.json_value(value, out)?,
        }
        Ok(())
    }

    /// `google.protobuf.Struct`: field 1, `map<string, Value>`.
    fn json_struct(&mut self, value: &JsValue, out: &mut Vec<u8>) -> Result<()> {
        if !is_plain_object(value) {
            return Err(self.expected("an object", value));
        }
        for key in keys(value).iter() {
            let name = key.as_string().unwrap_or_default();
            let item = Reflect::get(value, &key)?;
            self.at(&["[\"", &name, "\"]"], |e| {
                let mut record = Vec::new();
                wire::put_tag(&mut record, 1, LEN);
                wire::put_len(&mut record, name.as_bytes());
                e.nested_value(2, &item, &mut record)?;
                wire::put_tag(out, 1, LEN);
                wire::put_len(out, &record);
                Ok(())
            })?;
        }
        Ok(())
    }

    /// `google.protobuf.ListValue`: field 1, `repeated Value`.
    fn json_list(&mut self, value: &JsValue, out: &mut Vec<u8>) -> Result<()> {
        if !Array::is_array(value) {
            return Err(self.expected("an array", value));
        }
        let items: Array = value.clone().unchecked_into();
        for (i, item) in items.iter().enumerate() {
            self.at_index(i, |e| e.nested_value(1, &item, out))?;
        }
        Ok(())
    }

    fn nested_value(&mut self, number: u32, value: &JsValue, out: &mut Vec<u8>) -> Result<()> {
        self.depth += 1;
        if self.depth > MAX_DEPTH {
            return Err(self.problem(&["nested too deeply"]));
        }
        let mut record = Vec::new();
        let result = self.json_value(value, &mut record);
        self.depth -= 1;
        result?;
        wire::put_tag(out, number, LEN);
        wire::put_len(out, &record);
        Ok(())
    }

    /// `google.protobuf.Value`: whichever JSON kind the value is.
    fn json_value(&mut self, value: &JsValue, out: &mut Vec<u8>) -> Result<()> {
        if value.is_null() {
            Scalar::Varint(0).write(1, out);
        } else if let Some(n) = value.as_f64() {
            if !n.is_finite() {
                return Err(self.expected("a finite number (JSON has no NaN or Infinity)", value));
            }
            Scalar::Fixed64(n.to_bits()).write(2, out);
        } else if value.is_string() {
            Scalar::Bytes(self.string(value)?.into_bytes()).write(3, out);
        } else if let Some(b) = value.as_bool() {
            Scalar::Varint(b as u64).write(4, out);
        } else if Array::is_array(value) {
            let mut list = Vec::new();
            self.json_list(value, &mut list)?;
            wire::put_tag(out, 6, LEN);
            wire::put_len(out, &list);
        } else if is_plain_object(value) {
            let mut object = Vec::new();
            self.json_struct(value, &mut object)?;
            wire::put_tag(out, 5, LEN);
            wire::put_len(out, &object);
        } else {
            return Err(self.expected("a JSON value", value));
        }
        Ok(())
    }
}

/// The range of an integer kind.
#[derive(Clone, Copy)]
enum Range {
    I32,
    U32,
    I64,
    U64,
}

impl Range {
    fn is_64_bit(self) -> bool {
        matches!(self, Range::I64 | Range::U64)
    }

    /// What the error says is expected (`an integer from -2147483648 to
    /// 2147483647`), its bounds written from [`Self::limit`].
    fn text(self) -> String {
        let min = self.limit(true).unwrap_or(0);
        let mut text = join(&["an integer from ", if min > 0 { "-" } else { "" }]);
        push_digits(&mut text, min, 1);
        text.push_str(" to ");
        push_digits(&mut text, self.limit(false).unwrap_or(0), 1);
        text
    }

    /// The largest magnitude of the range's negative or positive values.
    fn limit(self, negative: bool) -> Option<u64> {
        Some(match (self, negative) {
            (Range::U32 | Range::U64, true) => return None,
            (Range::I32, true) => 1 << 31,
            (Range::I32, false) => (1 << 31) - 1,
            (Range::U32, false) => u64::from(u32::MAX),
            (Range::I64, true) => 1 << 63,
            (Range::I64, false) => (1 << 63) - 1,
            (Range::U64, false) => u64::MAX,
        })
    }

    /// The value's bits, if it is in range.
    fn bits(self, negative: bool, magnitude: u64) -> Option<u64> {
        let limit = self.limit(negative)?;
        (magnitude <= limit).then(|| {
            if negative {
                magnitude.wrapping_neg()
            } else {
                magnitude
            }
        })
    }
}

/// Timestamp and Duration: `int64 seconds = 1; int32 nanos = 2;`.
fn seconds_and_nanos(seconds: i64, nanos: i32, out: &mut Vec<u8>) {
    if seconds != 0 {
        Scalar::Varint(seconds as u64).write(1, out);
    }
    if nanos != 0 {
        Scalar::Varint(nanos as i64 as u64).write(2, out);
    }
}

#[cfg(test)]
mod tests {
    use super::Range;

    #[test]
    fn range_texts_name_each_kinds_bounds() {
        for (range, min, max) in [
            (
                Range::I32,
                i64::from(i32::MIN).to_string(),
                i32::MAX.to_string(),
            ),
            (Range::U32, "0".into(), u32::MAX.to_string()),
            (Range::I64, i64::MIN.to_string(), i64::MAX.to_string()),
            (Range::U64, "0".into(), u64::MAX.to_string()),
        ] {
            assert_eq!(range.text(), format!("an integer from {min} to {max}"));
        }
    }
}
