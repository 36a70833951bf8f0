//! Small questions about JS values the codec asks: what kind of value is
//! this, how to name it in an error, how to read a number from it.
use js_sys::{Array, JsString, Object, Uint8Array};
use wasm_bindgen::{JsCast, JsValue, prelude::wasm_bindgen};

use crate::ascii;

/// A value that stands for "unset": `undefined` or `null`.
pub(crate) fn is_unset(value: &JsValue) -> bool {
    value.is_undefined() || value.is_null()
}

/// An object that is not an array, a byte array, a Date or a boxed primitive
/// (class instances are accepted: their own enumerable keys are the fields).
pub(crate) fn is_plain_object(value: &JsValue) -> bool {
    value.is_object()
        && !Array::is_array(value)
        && !value.is_instance_of::<Uint8Array>()
        && !value.is_instance_of::<js_sys::Date>()
        && !value.is_function()
}

/// The value as an error message shows it: `"x"`, `1.5`, `5n`, `an object`.
pub(crate) fn describe(value: &JsValue) -> String {
    if value.is_string() {
        return js_sys::JSON::stringify(value)
            .map(String::from)
            .unwrap_or_default();
    }
    if let Some(mut digits) = bigint_decimal(value) {
        digits.push('n');
        return digits;
    }
    if value.is_null() {
        return "null".into();
    }
    let kind = if Array::is_array(value) {
        "an array"
    } else if value.is_instance_of::<Uint8Array>() {
        "a Uint8Array"
    } else if value.is_instance_of::<js_sys::Date>() {
        "a Date"
    } else if value.is_function() {
        "a function"
    } else if value.is_symbol() {
        "a symbol"
    } else if value.is_object() {
        "an object"
    } else {
        // undefined, booleans and numbers print as JS prints them.
        return js_string(value);
    };
    kind.into()
}

#[wasm_bindgen]
extern "C" {
    /// JS's `String(value)`: numbers, BigInts and booleans as JS prints
    /// them, with no number formatting compiled into the package.
    #[wasm_bindgen(js_name = String)]
    pub(crate) fn js_string(value: &JsValue) -> String;

    /// JS's `Array.from(value)`: a `Headers`' `[name, value]` pairs in one
    /// call, rather than js-sys's `try_iter`, whose iterator protocol in the
    /// wasm (a JS call per step) was 1.5 KB of wasm, 0.4 KB gzipped
    /// (issue 17).
    #[wasm_bindgen(catch, js_namespace = Array, js_name = from)]
    pub(crate) fn array_from(value: &JsValue) -> Result<Array, JsValue>;
}

/// The string, refusing lone surrogates, which UTF-8 cannot carry (they
/// would otherwise turn into U+FFFD without a word). JS's `isWellFormed`
/// (older than `AbortSignal.any`, the package's floor) rather than
/// js-sys's `is_valid_utf16`, which decodes UTF-16 in the wasm one
/// `charCodeAt` call per unit: 0.5 KB of code (issue 17), and slow.
pub(crate) fn well_formed_string(value: &JsValue) -> Option<Result<String, ()>> {
    let text = value.dyn_ref::<JsString>()?;
    Some(if text.is_well_formed() {
        Ok(String::from(text))
    } else {
        Err(())
    })
}

/// A BigInt's decimal digits.
pub(crate) fn bigint_decimal(value: &JsValue) -> Option<String> {
    // JS's `String(big)`: the digits, by an import the package has anyway
    // rather than `BigInt.prototype.toString`'s own (issue 17).
    value.is_bigint().then(|| js_string(value))
}

/// The own enumerable keys of an object.
pub(crate) fn keys(value: &JsValue) -> Array {
    Object::keys(value.unchecked_ref::<Object>())
}

/// Text that is a JSON number (`-1.5e3`), as a number; converted by JS's
/// `Number`, since Rust's float parser would add its tables to the package.
pub(crate) fn number_from_text(text: &str) -> Option<f64> {
    is_json_number(text).then(|| js_sys::Number::parse_float(text))
}

/// Whether `text` is a JSON number, not `"Infinity"`, `" 1"` or `"0x10"`.
fn is_json_number(text: &str) -> bool {
    let body = text.strip_prefix("-").unwrap_or(text);
    let mantissa_end = body
        .bytes()
        .position(|b| b == b'e' || b == b'E')
        .unwrap_or(body.len());
    let (mantissa, exponent) = body.split_at(mantissa_end);
    let (whole, frac) = ascii::split_once(mantissa, b'.').unwrap_or((mantissa, "0"));
    let digits = |s: &str| !s.is_empty() && s.bytes().all(|b| b.is_ascii_digit());
    let exponent_ok = exponent.is_empty() || {
        let e = &exponent[1..];
        digits(e.strip_prefix("+").or(e.strip_prefix("-")).unwrap_or(e))
    };
    digits(whole) && digits(frac) && exponent_ok
}

#[cfg(test)]
mod tests {
    use super::is_json_number;

    #[test]
    fn number_text_is_json_numbers_only() {
        for good in ["1", "-1.5e3", "2E-2", "0", "1e+5"] {
            assert!(is_json_number(good), "{good}");
        }
        for bad in [
            "", " 1", "1 ", "inf", "NaN", "0x10", "1.", ".5", "+1", "1e", "--1",
        ] {
            assert!(!is_json_number(bad), "{bad}");
        }
    }
}
