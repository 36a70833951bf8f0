//! The text forms of the well-known types in the proto3 JSON mapping:
//! Timestamp (RFC 3339), Duration (`"1.5s"`), FieldMask (`"a,b.c"`) and
//! base64 for bytes. Pure functions, so the rules are tested on the host.
use crate::ascii;

/// 0001-01-01T00:00:00Z and 9999-12-31T23:59:59Z, the range JSON allows.
const MIN_SECONDS: i64 = -62_135_596_800;
const MAX_SECONDS: i64 = 253_402_300_799;
/// ±10,000 years, Duration's range.
const MAX_DURATION_SECONDS: i64 = 315_576_000_000;

/// A Timestamp as RFC 3339 in UTC with 0, 3, 6 or 9 fractional digits.
pub fn format_timestamp(seconds: i64, nanos: i32) -> Result<String, &'static str> {
    if !(MIN_SECONDS..=MAX_SECONDS).contains(&seconds) || !(0..1_000_000_000).contains(&nanos) {
        return Err("Timestamp out of range");
    }
    let (days, secs) = (seconds.div_euclid(86_400), seconds.rem_euclid(86_400));
    let (y, m, d) = civil_from_days(days);
    let mut text = String::new();
    for (n, width, then) in [
        (y as u64, 4, "-"),
        (m.into(), 2, "-"),
        (d.into(), 2, "T"),
        (secs as u64 / 3600, 2, ":"),
        (secs as u64 / 60 % 60, 2, ":"),
        (secs as u64 % 60, 2, ""),
    ] {
        ascii::push_digits(&mut text, n, width);
        text.push_str(then);
    }
    push_fraction(&mut text, nanos);
    text.push('Z');
    Ok(text)
}

/// RFC 3339 (`2024-05-01T12:00:00.5Z`, `...+02:00`) as seconds and nanos.
pub fn parse_timestamp(text: &str) -> Result<(i64, i32), &'static str> {
    const BAD: &str = "an RFC 3339 timestamp";
    let b = text.as_bytes();
    // ASCII only, so the slices below fall on character boundaries.
    if !text.is_ascii()
        || b.len() < 20
        || b[4] != b'-'
        || b[7] != b'-'
        || !matches!(b[10], b'T' | b't')
    {
        return Err(BAD);
    }
    if b[13] != b':' || b[16] != b':' {
        return Err(BAD);
    }
    let num = |range: std::ops::Range<usize>| digits(&text[range]).ok_or(BAD);
    let (y, mo, d) = (num(0..4)?, num(5..7)?, num(8..10)?);
    let (h, mi, s) = (num(11..13)?, num(14..16)?, num(17..19)?);
    if !(1..=12).contains(&mo) || d == 0 || d > days_in_month(y, mo) || h > 23 || mi > 59 || s > 59
    {
        return Err(BAD);
    }
    let mut rest = &text[19..];
    let mut nanos = 0;
    if let Some(frac) = rest.strip_prefix(".") {
        let len = frac.bytes().take_while(u8::is_ascii_digit).count();
        if len == 0 {
            return Err(BAD);
        }
        nanos = parse_nanos(&frac[..len]).ok_or(BAD)?;
        rest = &frac[len..];
    }
    let offset = match rest.as_bytes() {
        [b'Z' | b'z'] => 0,
        [sign @ (b'+' | b'-'), _, _, b':', _, _] => {
            let (oh, om) = (
                digits(&rest[1..3]).ok_or(BAD)?,
                digits(&rest[4..6]).ok_or(BAD)?,
            );
            if oh > 23 || om > 59 {
                return Err(BAD);
            }
            let minutes = (oh * 60 + om) as i64;
            if *sign == b'+' { minutes } else { -minutes }
        }
        _ => return Err(BAD),
    };
    let seconds =
        days_from_civil(y as i64, mo, d) * 86_400 + (h * 3600 + mi * 60 + s) as i64 - offset * 60;
    if !(MIN_SECONDS..=MAX_SECONDS).contains(&seconds) {
        return Err("a timestamp from year 1 to 9999");
    }
    Ok((seconds, nanos))
}

/// A Duration as `"1.5s"`, `"-0.001s"`, `"3s"`.
pub fn format_duration(seconds: i64, nanos: i32) -> Result<String, &'static str> {
    let same_sign = seconds == 0 || nanos == 0 || (seconds < 0) == (nanos < 0);
    // unsigned_abs: the server's bytes may hold i64::MIN, whose abs() overflows.
    let nanos_abs = nanos.unsigned_abs();
    if seconds.unsigned_abs() > MAX_DURATION_SECONDS as u64
        || nanos_abs >= 1_000_000_000
        || !same_sign
    {
        return Err("Duration out of range");
    }
    let mut text = String::from(if seconds < 0 || nanos < 0 { "-" } else { "" });
    ascii::push_digits(&mut text, seconds.unsigned_abs(), 1);
    // Under 10^9, so it fits.
    push_fraction(&mut text, nanos_abs as i32);
    text.push('s');
    Ok(text)
}

pub fn parse_duration(text: &str) -> Result<(i64, i32), &'static str> {
    const BAD: &str = "a duration such as \"1.5s\"";
    let body = text.strip_suffix("s").ok_or(BAD)?;
    let (negative, body) = match body.strip_prefix("-") {
        Some(rest) => (true, rest),
        None => (false, body),
    };
    let (whole, frac) = ascii::split_once(body, b'.').unwrap_or((body, ""));
    if whole.is_empty() || !whole.bytes().all(|b| b.is_ascii_digit()) {
        return Err(BAD);
    }
    if ascii::contains(body, b'.') && frac.is_empty() {
        return Err(BAD);
    }
    const RANGE: &str = "a duration within 10000 years";
    let seconds = ascii::decimal(whole)
        .and_then(|s| i64::try_from(s).ok())
        .ok_or(RANGE)?;
    let nanos = parse_nanos(frac).ok_or(BAD)?;
    if seconds > MAX_DURATION_SECONDS {
        return Err(RANGE);
    }
    Ok(if negative {
        (-seconds, -nanos)
    } else {
        (seconds, nanos)
    })
}

/// FieldMask paths (`foo_bar.baz`) as JSON: lowerCamelCase, comma-separated.
pub fn field_mask_to_json(paths: &[String]) -> Result<String, &'static str> {
    // Pushed onto one string rather than `join`ed: `str::join`'s generic
    // code is 300 B of the package for this one caller (issue 17).
    let mut out = String::new();
    for (i, path) in paths.iter().enumerate() {
        let camel = crate::schema::json_name(path);
        // Only paths that convert back unchanged have a JSON form.
        if path.bytes().any(|b| b.is_ascii_uppercase()) || field_mask_path(&camel) != *path {
            return Err("FieldMask path has no JSON form");
        }
        if i > 0 {
            out.push(',');
        }
        out.push_str(&camel);
    }
    Ok(out)
}

/// `"fooBar,baz.qux"` → `["foo_bar", "baz.qux"]`.
pub fn field_mask_from_json(text: &str) -> Result<Vec<String>, &'static str> {
    if text.is_empty() {
        return Ok(Vec::new());
    }
    // A plain loop: `collect()` of `Result`s through `map` was 0.7 KB of
    // adaptor code in the package (issue 17).
    let mut paths = Vec::new();
    for p in ascii::split(text, b',') {
        if p.is_empty() || ascii::contains(p, b'_') {
            return Err("comma-separated lowerCamelCase paths");
        }
        paths.push(field_mask_path(p));
    }
    Ok(paths)
}

fn field_mask_path(camel: &str) -> String {
    // Byte by byte, as `schema::json_name`: only ASCII bytes change.
    let mut out = Vec::with_capacity(camel.len() + 4);
    for b in camel.bytes() {
        if b.is_ascii_uppercase() {
            out.push(b'_');
        }
        out.push(b.to_ascii_lowercase());
    }
    String::from_utf8(out).unwrap_or_default()
}

/// Base64 in, with either alphabet (standard or URL-safe), padded or not.
/// By hand rather than with the `base64` crate: its engine is several
/// times the size of these lines in the package.
pub fn decode_base64(text: &str) -> Result<Vec<u8>, &'static str> {
    const BAD: &str = "base64";
    let body = ascii::trim_end(text, b'=');
    if text.len() - body.len() > 2 || body.len() % 4 == 1 {
        return Err(BAD);
    }
    let mut out = Vec::with_capacity(body.len() * 3 / 4);
    let (mut bits, mut count) = (0u32, 0);
    for byte in body.bytes() {
        let value = match byte {
            b'A'..=b'Z' => byte - b'A',
            b'a'..=b'z' => byte - b'a' + 26,
            b'0'..=b'9' => byte - b'0' + 52,
            b'+' | b'-' => 62,
            b'/' | b'_' => 63,
            _ => return Err(BAD),
        };
        bits = (bits << 6) | u32::from(value);
        count += 6;
        if count >= 8 {
            count -= 8;
            out.push((bits >> count) as u8);
        }
    }
    Ok(out)
}

/// Appends `.5` as `.500`, to 3, 6 or 9 digits; nothing for whole
/// seconds. Nine digits with their zeros cut in threes, rather than a
/// width for each precision (issue 17).
fn push_fraction(text: &mut String, nanos: i32) {
    if nanos == 0 {
        return;
    }
    text.push('.');
    ascii::push_digits(text, nanos as u64, 9);
    while text.ends_with("000") {
        text.truncate(text.len() - 3);
    }
}

/// Up to nine fractional digits as nanoseconds.
fn parse_nanos(frac: &str) -> Option<i32> {
    if frac.len() > 9 || !frac.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    if frac.is_empty() {
        return Some(0);
    }
    // At most 9 digits: under 10^9, so it fits.
    let value = ascii::decimal(frac)? as i32;
    Some(value * 10i32.pow(9 - frac.len() as u32))
}

fn digits(text: &str) -> Option<u32> {
    ascii::decimal(text).and_then(|n| u32::try_from(n).ok())
}

fn days_in_month(y: u32, m: u32) -> u32 {
    match m {
        2 if y.is_multiple_of(4) && (!y.is_multiple_of(100) || y.is_multiple_of(400)) => 29,
        2 => 28,
        4 | 6 | 9 | 11 => 30,
        _ => 31,
    }
}

/// Days since 1970-01-01 of a proleptic Gregorian date (Howard Hinnant's
/// `days_from_civil`).
fn days_from_civil(y: i64, m: u32, d: u32) -> i64 {
    let y = if m <= 2 { y - 1 } else { y };
    let era = y.div_euclid(400);
    let yoe = y - era * 400;
    let mp = (i64::from(m) + 9) % 12;
    let doy = (153 * mp + 2) / 5 + i64::from(d) - 1;
    let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    era * 146_097 + doe - 719_468
}

/// The inverse of [`days_from_civil`].
fn civil_from_days(days: i64) -> (i64, u32, u32) {
    let z = days + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z - era * 146_097;
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let d = (doy - (153 * mp + 2) / 5 + 1) as u32;
    let m = if mp < 10 { mp + 3 } else { mp - 9 } as u32;
    (
        if m <= 2 {
            yoe + era * 400 + 1
        } else {
            yoe + era * 400
        },
        m,
        d,
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn timestamps_format_and_parse() {
        assert_eq!(format_timestamp(0, 0).unwrap(), "1970-01-01T00:00:00Z");
        assert_eq!(
            format_timestamp(1_700_000_000, 500_000_000).unwrap(),
            "2023-11-14T22:13:20.500Z"
        );
        assert_eq!(
            format_timestamp(MIN_SECONDS, 1).unwrap(),
            "0001-01-01T00:00:00.000000001Z"
        );
        assert_eq!(
            format_timestamp(MAX_SECONDS, 999_999_000).unwrap(),
            "9999-12-31T23:59:59.999999Z"
        );
        assert!(format_timestamp(MAX_SECONDS + 1, 0).is_err());
        assert!(format_timestamp(0, -1).is_err());
        assert_eq!(parse_timestamp("1970-01-01T00:00:00Z"), Ok((0, 0)));
        assert_eq!(
            parse_timestamp("2023-11-14T23:13:20.5+01:00"),
            Ok((1_700_000_000, 500_000_000))
        );
        assert_eq!(
            parse_timestamp("1969-12-31T23:59:59.999999999Z"),
            Ok((-1, 999_999_999))
        );
        for bad in [
            "",
            "2023-02-29T00:00:00Z",
            "2023-11-14 22:13:20Z",
            "2023-11-14T22:13:20",
            "2023-11-14T22:13:20.Z",
            "2023-11-14T22:13:20.1234567890Z",
            "2023-11-14T24:00:00Z",
            "2023-11-14T22:13:2é",
            "2023-11-14T22:13:20+0é:00",
        ] {
            assert!(parse_timestamp(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn every_day_round_trips() {
        for days in (-719_162..2_932_896).step_by(997) {
            let (y, m, d) = civil_from_days(days);
            assert_eq!(days_from_civil(y, m, d), days);
        }
    }

    #[test]
    fn durations_format_and_parse() {
        assert_eq!(format_duration(1, 500_000_000).unwrap(), "1.500s");
        assert_eq!(format_duration(0, -1_000).unwrap(), "-0.000001s");
        assert_eq!(format_duration(-3, 0).unwrap(), "-3s");
        assert_eq!(format_duration(0, 0).unwrap(), "0s");
        assert!(format_duration(1, -1).is_err());
        assert!(format_duration(MAX_DURATION_SECONDS + 1, 0).is_err());
        assert!(format_duration(i64::MIN, 0).is_err());
        assert!(format_duration(0, i32::MIN).is_err());
        assert_eq!(parse_duration("1.5s"), Ok((1, 500_000_000)));
        assert_eq!(parse_duration("-0.000000001s"), Ok((0, -1)));
        assert_eq!(parse_duration("3s"), Ok((3, 0)));
        for bad in ["", "s", "1", "1.s", "+1s", "1.5", "1e3s", "-s"] {
            assert!(parse_duration(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn field_masks_convert_case() {
        let paths = vec!["foo_bar".to_string(), "baz.qux_quux".to_string()];
        assert_eq!(field_mask_to_json(&paths).unwrap(), "fooBar,baz.quxQuux");
        assert_eq!(field_mask_from_json("fooBar,baz.quxQuux").unwrap(), paths);
        assert_eq!(field_mask_from_json("").unwrap(), Vec::<String>::new());
        assert!(field_mask_from_json("a,,b").is_err());
        assert!(field_mask_to_json(&["Foo".to_string()]).is_err());
    }

    #[test]
    fn base64_takes_both_alphabets_and_any_padding() {
        assert_eq!(decode_base64("+/8=").unwrap(), [0xfb, 0xff]);
        assert_eq!(decode_base64("-_8").unwrap(), [0xfb, 0xff]);
        assert_eq!(decode_base64("").unwrap(), Vec::<u8>::new());
        assert_eq!(decode_base64("aGVsbG8gd29ybGQ=").unwrap(), b"hello world");
        assert_eq!(decode_base64("AAEC").unwrap(), [0, 1, 2]);
        assert!(decode_base64("not base64!").is_err());
        assert!(decode_base64("A").is_err());
        assert!(decode_base64("AA===").is_err());
    }
}
