//! Reading and writing the fields of plain JS message objects, with the
//! integer rules: 64-bit inputs take a number, a BigInt or a decimal string;
//! 64-bit outputs are numbers while they are safe integers (up to 2^53 - 1)
//! and decimal strings above that, as in proto3's JSON mapping, so no value
//! is ever rounded.
use js_sys::{Object, Reflect};
use wasm_bindgen::{JsCast, JsValue};

use super::error::type_error;

/// `Number.MAX_SAFE_INTEGER`.
const MAX_SAFE: u64 = (1 << 53) - 1;

/// The fields of one input message, named `Message.field` in errors.
pub(crate) struct Input<'a> {
    object: &'a JsValue,
    message: &'static str,
}

impl<'a> Input<'a> {
    /// `undefined` and `null` read as an empty message (every field default).
    pub fn new(object: &'a JsValue, message: &'static str) -> Result<Self, JsValue> {
        if !object.is_undefined() && !object.is_null() && !object.is_object() {
            return Err(type_error(&format!("{message} must be an object")));
        }
        Ok(Self { object, message })
    }

    fn get(&self, field: &str) -> Option<JsValue> {
        if !self.object.is_object() {
            return None;
        }
        let value = Reflect::get(self.object, &field.into()).ok()?;
        (!value.is_undefined() && !value.is_null()).then_some(value)
    }

    fn fail(&self, field: &str, problem: &str) -> JsValue {
        type_error(&format!("{}.{field} {problem}", self.message))
    }

    pub fn string(&self, field: &str) -> Result<String, JsValue> {
        match self.get(field) {
            None => Ok(String::new()),
            Some(v) => v
                .as_string()
                .ok_or_else(|| self.fail(field, "must be a string")),
        }
    }

    pub fn uint32(&self, field: &str) -> Result<u32, JsValue> {
        let Some(v) = self.get(field) else {
            return Ok(0);
        };
        let n = v
            .as_f64()
            .ok_or_else(|| self.fail(field, "must be a number"))?;
        uint_from_number(n, u32::MAX.into())
            .map(|n| n as u32)
            .map_err(|problem| self.fail(field, problem))
    }

    pub fn uint64(&self, field: &str) -> Result<u64, JsValue> {
        let Some(v) = self.get(field) else {
            return Ok(0);
        };
        let parsed = if let Some(n) = v.as_f64() {
            uint_from_number(n, MAX_SAFE)
        } else if let Some(big) = v.dyn_ref::<js_sys::BigInt>() {
            let decimal = big.to_string(10).map(String::from).unwrap_or_default();
            uint64_from_decimal(&decimal)
        } else if let Some(text) = v.as_string() {
            uint64_from_decimal(&text)
        } else {
            Err("must be a number, a BigInt or a decimal string")
        };
        parsed.map_err(|problem| self.fail(field, problem))
    }
}

/// A whole, non-negative number no larger than `max`.
fn uint_from_number(n: f64, max: u64) -> Result<u64, &'static str> {
    if !n.is_finite() || n.fract() != 0.0 {
        Err("must be an integer")
    } else if n < 0.0 {
        Err("must not be negative")
    } else if n > max as f64 {
        if max == MAX_SAFE {
            Err("is above Number.MAX_SAFE_INTEGER: pass a BigInt or a decimal string")
        } else {
            Err("is out of range")
        }
    } else {
        Ok(n as u64)
    }
}

fn uint64_from_decimal(text: &str) -> Result<u64, &'static str> {
    if text.starts_with('-') && text.len() > 1 {
        return Err("must not be negative");
    }
    if text.is_empty() || !text.bytes().all(|b| b.is_ascii_digit()) {
        return Err("must be a decimal integer");
    }
    text.parse()
        .map_err(|_| "is out of range for a 64-bit unsigned integer")
}

/// A 64-bit output: a number while it is safe, otherwise a decimal string.
fn int64_output(n: i128) -> JsValue {
    if n.unsigned_abs() <= u128::from(MAX_SAFE) {
        JsValue::from_f64(n as f64)
    } else {
        JsValue::from_str(&n.to_string())
    }
}

/// A plain JS object being filled in.
pub(crate) struct Output(Object);

impl Output {
    pub fn new() -> Self {
        Self(Object::new())
    }

    pub fn set(self, field: &str, value: impl Into<JsValue>) -> Self {
        // Cannot fail on a fresh plain object.
        let _ = Reflect::set(&self.0, &field.into(), &value.into());
        self
    }

    pub fn set_u64(self, field: &str, value: u64) -> Self {
        self.set(field, int64_output(value.into()))
    }

    pub fn set_i64(self, field: &str, value: i64) -> Self {
        self.set(field, int64_output(value.into()))
    }

    pub fn build(self) -> JsValue {
        self.0.into()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn numbers_must_be_whole_non_negative_and_safe() {
        assert_eq!(uint_from_number(0.0, MAX_SAFE), Ok(0));
        assert_eq!(uint_from_number(MAX_SAFE as f64, MAX_SAFE), Ok(MAX_SAFE));
        assert!(
            uint_from_number(MAX_SAFE as f64 + 1.0, MAX_SAFE)
                .unwrap_err()
                .contains("BigInt")
        );
        assert_eq!(uint_from_number(1.5, MAX_SAFE), Err("must be an integer"));
        assert_eq!(
            uint_from_number(f64::NAN, MAX_SAFE),
            Err("must be an integer")
        );
        assert_eq!(
            uint_from_number(f64::INFINITY, MAX_SAFE),
            Err("must be an integer")
        );
        assert_eq!(
            uint_from_number(-1.0, MAX_SAFE),
            Err("must not be negative")
        );
        assert_eq!(
            uint_from_number(4294967296.0, u32::MAX.into()),
            Err("is out of range")
        );
        assert_eq!(
            uint_from_number(4294967295.0, u32::MAX.into()),
            Ok(4294967295)
        );
    }

    #[test]
    fn decimal_strings_cover_the_whole_64_bit_range() {
        assert_eq!(uint64_from_decimal("18446744073709551615"), Ok(u64::MAX));
        assert_eq!(uint64_from_decimal("0"), Ok(0));
        assert!(uint64_from_decimal("18446744073709551616").is_err());
        assert_eq!(uint64_from_decimal("-5"), Err("must not be negative"));
        for bad in ["", "1.5", "1e3", " 1", "0x10", "-"] {
            assert_eq!(
                uint64_from_decimal(bad),
                Err("must be a decimal integer"),
                "{bad:?}"
            );
        }
    }
}
