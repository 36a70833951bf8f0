//! Text split and trimmed at ASCII bytes. The codec's and the trailers'
//! separators are all ASCII, and `str`'s own `split`/`split_once`/`find`
//! with a `char` pattern bring core's UTF-8 char searcher and `memchr`
//! into the package (issue 17). A byte below 0x80 is never inside a
//! multi-byte character, so every split here falls on a char boundary.
//! Decimal digits are read here too: one loop instead of `str::parse` for
//! each of `i32`, `u32`, `i64` and `u64`, each its own copy (issue 17).
//! Messages are joined and decimals written here too, by [`join`] and
//! [`push_digits`], not by `format!`: `format!` and integers' `Display`
//! link core's formatting machinery (`fmt::write`, `pad_integral`,
//! padding), 2 KB of wasm that joining text and printing decimals does not
//! need (issue 17).
//! Without `js-api` only `grpc-status` is read here.
#![cfg_attr(not(feature = "js-api"), allow(dead_code))]

/// `text` before and after the first `byte`.
pub(crate) fn split_once(text: &str, byte: u8) -> Option<(&str, &str)> {
    let at = position(text, byte)?;
    Some((&text[..at], &text[at + 1..]))
}

/// Whether `text` holds `byte`.
pub(crate) fn contains(text: &str, byte: u8) -> bool {
    position(text, byte).is_some()
}

/// Where the first `byte` is in `text`.
pub(crate) fn position(text: &str, byte: u8) -> Option<usize> {
    text.bytes().position(|b| b == byte)
}

/// The pieces of `text` between `byte`s, as `str::split` gives them (an
/// empty piece between two separators, and at either end).
pub(crate) fn split(text: &str, byte: u8) -> impl Iterator<Item = &str> {
    let mut rest = Some(text);
    std::iter::from_fn(move || {
        let piece = rest?;
        Some(match split_once(piece, byte) {
            Some((head, tail)) => {
                rest = Some(tail);
                head
            }
            None => {
                rest = None;
                piece
            }
        })
    })
}

/// `text` as a decimal number: ASCII digits only (no sign), at least one;
/// `None` past `u64::MAX`.
pub(crate) fn decimal(text: &str) -> Option<u64> {
    if text.is_empty() {
        return None;
    }
    let mut value: u64 = 0;
    for b in text.bytes() {
        if !b.is_ascii_digit() {
            return None;
        }
        value = value.checked_mul(10)?.checked_add(u64::from(b - b'0'))?;
    }
    Some(value)
}

/// `text` without the `byte`s it ends with.
pub(crate) fn trim_end(text: &str, byte: u8) -> &str {
    let mut end = text.len();
    while end > 0 && text.as_bytes()[end - 1] == byte {
        end -= 1;
    }
    &text[..end]
}

/// The pieces one after another. Not inlined: one call per message,
/// where `[&str]::concat` was code at every site (issue 17).
#[inline(never)]
pub(crate) fn join(pieces: &[&str]) -> String {
    let mut out = String::new();
    for piece in pieces {
        out.push_str(piece);
    }
    out
}

/// Appends `n` in decimal, with zeros in front to `width` digits (at
/// most 20).
#[inline(never)]
pub(crate) fn push_digits(out: &mut String, mut n: u64, width: usize) {
    let mut buf = [0; 20];
    let mut at = buf.len();
    while n > 0 || buf.len() - at < width.max(1) {
        at -= 1;
        buf[at] = b'0' + (n % 10) as u8;
        n /= 10;
    }
    out.push_str(std::str::from_utf8(&buf[at..]).unwrap_or_default());
}

/// `n` in decimal.
pub(crate) fn digits(n: u64) -> String {
    let mut out = String::new();
    push_digits(&mut out, n, 1);
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn agree_with_str_and_parse() {
        for (text, byte) in [
            ("a,b,,c", b','),
            ("", b','),
            (",", b','),
            ("é,ü,", b','),
            ("k: v\r\nx:y", b'\n'),
        ] {
            let ours: Vec<_> = split(text, byte).collect();
            let core: Vec<_> = text.split(byte as char).collect();
            assert_eq!(ours, core, "{text:?}");
            assert_eq!(
                split_once(text, byte),
                text.split_once(byte as char),
                "{text:?}"
            );
            assert_eq!(contains(text, byte), text.contains(byte as char));
        }
        for text in [
            "0",
            "007",
            "18446744073709551615",
            "18446744073709551616",
            "",
            "+1",
            "-1",
            "1 ",
            "١",
        ] {
            assert_eq!(
                decimal(text),
                text.parse::<u64>().ok().filter(|_| !text.starts_with('+')),
                "{text:?}"
            );
        }
        for (n, width) in [(0, 1), (7, 1), (7, 4), (1234, 2), (u64::MAX, 1), (5, 0)] {
            let mut text = String::new();
            push_digits(&mut text, n, width);
            assert_eq!(text, format!("{n:0width$}"), "{n} {width}");
        }
        assert_eq!(join(&["a", "", "bc"]), "abc");
        for text in ["", "/", "a//", "a/b", "é/"] {
            assert_eq!(trim_end(text, b'/'), text.trim_end_matches('/'));
        }
    }

    // The same comparison on generated text: separators, digits, signs and
    // a multi-byte character, which no split may cut.
    #[cfg(not(target_arch = "wasm32"))]
    proptest::proptest! {
        #[test]
        fn agree_on_generated_text(text in "[,./0-9+ é]{0,24}") {
            for byte in [b',', b'.', b'/'] {
                let ours: Vec<_> = split(&text, byte).collect();
                let core: Vec<_> = text.split(byte as char).collect();
                proptest::prop_assert_eq!(ours, core);
                proptest::prop_assert_eq!(split_once(&text, byte), text.split_once(byte as char));
                proptest::prop_assert_eq!(trim_end(&text, byte), text.trim_end_matches(byte as char));
            }
            let parsed = text.parse::<u64>().ok().filter(|_| !text.starts_with('+'));
            proptest::prop_assert_eq!(decimal(&text), parsed);
        }
    }
}
