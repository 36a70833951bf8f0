//! The `grpc-timeout` header: `1*8DIGIT` followed by a unit (`H`, `M`, `S`,
//! `m`, `u`, `n`), as the gRPC over HTTP/2 spec defines it. Shared by the
//! browser client, which sends it, and the server, which reads it and sends
//! it on upstream.
use std::time::Duration;

/// Header name, as it travels on the wire.
pub const HEADER: &str = "grpc-timeout";

/// Why a `grpc-timeout` value was refused; names the header for the client.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct MalformedTimeout(pub String);

impl std::error::Error for MalformedTimeout {}

impl std::fmt::Display for MalformedTimeout {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(
            f,
            "malformed grpc-timeout header {:?}: expected 1 to 8 digits and a unit (H, M, S, m, u, n)",
            self.0
        )
    }
}

/// Parses a header value into the time it grants.
pub fn parse(value: &[u8]) -> Result<Duration, MalformedTimeout> {
    let malformed = || MalformedTimeout(String::from_utf8_lossy(value).into_owned());
    let (&unit, digits) = value.split_last().ok_or_else(malformed)?;
    if digits.is_empty() || digits.len() > 8 || !digits.iter().all(u8::is_ascii_digit) {
        return Err(malformed());
    }
    // At most 8 ASCII digits: always fits.
    let n: u64 = std::str::from_utf8(digits)
        .ok()
        .and_then(|s| s.parse().ok())
        .ok_or_else(malformed)?;
    Ok(match unit {
        b'H' => Duration::from_secs(n * 3600),
        b'M' => Duration::from_secs(n * 60),
        b'S' => Duration::from_secs(n),
        b'm' => Duration::from_millis(n),
        b'u' => Duration::from_micros(n),
        b'n' => Duration::from_nanos(n),
        _ => return Err(malformed()),
    })
}

/// Encodes `d` in the finest unit whose value fits 8 digits, rounding down so
/// that the receiver's deadline is never later than the sender's.
pub fn encode(d: Duration) -> String {
    const MAX: u128 = 99_999_999;
    let candidates = [
        (d.as_nanos(), 'n'),
        (d.as_micros(), 'u'),
        (d.as_millis(), 'm'),
        (d.as_secs() as u128, 'S'),
        (d.as_secs() as u128 / 60, 'M'),
        (d.as_secs() as u128 / 3600, 'H'),
    ];
    let (value, unit) = candidates
        .into_iter()
        .find(|(v, _)| *v <= MAX)
        .unwrap_or((MAX, 'H'));
    // At most 8 digits, written by hand: `format!` would link core's
    // formatting machinery into the npm runtime, which has none (2 KB of
    // wasm; 128-bit formatting before that, 0.7 KB: issue 17).
    let (mut value, mut text) = (value as u32, vec![unit as u8]);
    loop {
        text.insert(0, b'0' + (value % 10) as u8);
        value /= 10;
        if value == 0 {
            break;
        }
    }
    String::from_utf8(text).unwrap_or_default()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_every_unit() {
        assert_eq!(parse(b"2H"), Ok(Duration::from_secs(7200)));
        assert_eq!(parse(b"3M"), Ok(Duration::from_secs(180)));
        assert_eq!(parse(b"4S"), Ok(Duration::from_secs(4)));
        assert_eq!(parse(b"200m"), Ok(Duration::from_millis(200)));
        assert_eq!(parse(b"5u"), Ok(Duration::from_micros(5)));
        assert_eq!(parse(b"99999999n"), Ok(Duration::from_nanos(99_999_999)));
        assert_eq!(parse(b"0m"), Ok(Duration::ZERO));
    }

    #[test]
    fn refuses_malformed_values() {
        for bad in [
            &b""[..],
            b"abc",
            b"12x4",
            b"123456789m",
            b"m",
            b"10",
            b"-1m",
            b"1.5S",
            b" 1m",
            b"1s",
            b"1SS",
            "é".as_bytes(),
        ] {
            let err = parse(bad).unwrap_err();
            assert!(err.to_string().contains("grpc-timeout"), "{err}");
        }
    }

    #[test]
    fn encodes_in_the_finest_unit_that_fits_rounding_down() {
        assert_eq!(encode(Duration::from_millis(200)), "200000u");
        assert_eq!(encode(Duration::from_nanos(1_999)), "1999n");
        assert_eq!(encode(Duration::from_micros(123_456_789)), "123456m");
        assert_eq!(encode(Duration::from_secs(200_000_000)), "3333333M");
        assert_eq!(encode(Duration::MAX), "99999999H");
        for d in [
            Duration::from_nanos(123_456_789_012),
            Duration::from_secs(86_400 * 400),
        ] {
            assert!(parse(encode(d).as_bytes()).unwrap() <= d);
        }
    }

    #[test]
    fn encoding_never_exceeds_the_timeout_and_round_trips() {
        for ms in [0u64, 1, 999, 1000, 86_400_000, 7_777_777_777] {
            for extra_ns in [0u32, 1, 999_999] {
                let d = Duration::from_millis(ms) + Duration::from_nanos(extra_ns.into());
                let encoded = encode(d);
                let decoded = parse(encoded.as_bytes()).unwrap();
                assert!(decoded <= d, "{encoded} > {d:?}");
                assert!(encoded.len() <= 9, "{encoded}");
            }
        }
    }
}
