//! Deadlines: when a call must be over, what `grpc-timeout` says about it, and
//! the local timer that ends the call even if the server stays silent.
use std::time::Duration;

use crate::clock;

/// The instant a call must be over by, on the monotonic clock.
///
/// Insert one into a `tonic::Request`'s extensions (or use
/// [`RequestExt::with_deadline`](crate::RequestExt::with_deadline)) for an
/// absolute deadline; `Request::set_timeout` gives a relative one. When both
/// are present the earlier one wins.
#[derive(Clone, Copy, Debug, PartialEq, PartialOrd)]
pub struct Deadline {
    at_ms: f64,
}

impl Deadline {
    /// `timeout` from now.
    pub fn after(timeout: Duration) -> Self {
        Self::at_monotonic_ms(clock::monotonic_ms() + timeout.as_secs_f64() * 1e3)
    }

    /// At a wall-clock time (milliseconds since the Unix epoch, like `Date.now()`).
    pub fn at_epoch_ms(epoch_ms: f64) -> Self {
        Self::at_monotonic_ms(clock::monotonic_ms() + (epoch_ms - clock::epoch_ms()))
    }

    fn at_monotonic_ms(at_ms: f64) -> Self {
        Self { at_ms }
    }

    /// Time left, zero once the deadline has passed.
    pub fn remaining(self) -> Duration {
        remaining_between(self.at_ms, clock::monotonic_ms())
    }

    /// The earlier of two optional deadlines.
    pub fn earliest(a: Option<Self>, b: Option<Self>) -> Option<Self> {
        earlier(a, b)
    }
}

/// The smaller of two optional values (a deadline, a timeout), if any.
pub(crate) fn earlier<T: PartialOrd>(a: Option<T>, b: Option<T>) -> Option<T> {
    match (a, b) {
        (Some(a), Some(b)) => Some(if b < a { b } else { a }),
        (a, b) => a.or(b),
    }
}

/// Time from `now_ms` until `at_ms`, rounded down to the nanosecond so that
/// what we announce is never later than the real deadline.
fn remaining_between(at_ms: f64, now_ms: f64) -> Duration {
    let left_ns = ((at_ms - now_ms) * 1e6).floor();
    if left_ns > 0.0 {
        // `as` saturates, which is what a deadline centuries away deserves.
        Duration::from_nanos(left_ns as u64)
    } else {
        Duration::ZERO
    }
}

/// The largest value a `grpc-timeout` may carry: at most 8 digits.
const MAX_TIMEOUT_VALUE: u128 = 99_999_999;

/// Encodes `timeout` as a `grpc-timeout` value in the finest unit that fits in
/// 8 digits, truncating, so the server's deadline never falls after ours.
pub fn encode_grpc_timeout(timeout: Duration) -> String {
    const UNITS: [(char, u128); 6] = [
        ('n', 1),
        ('u', 1_000),
        ('m', 1_000_000),
        ('S', 1_000_000_000),
        ('M', 60_000_000_000),
        ('H', 3_600_000_000_000),
    ];
    let nanos = timeout.as_nanos();
    for (unit, per) in UNITS {
        let value = nanos / per;
        if value <= MAX_TIMEOUT_VALUE {
            return format!("{value}{unit}");
        }
    }
    format!("{MAX_TIMEOUT_VALUE}H")
}

/// Parses a `grpc-timeout` value (1 to 8 digits and a unit); `None` if malformed.
pub fn parse_grpc_timeout(value: &str) -> Option<Duration> {
    let (digits, unit) = value.split_at_checked(value.len().checked_sub(1)?)?;
    if digits.is_empty() || digits.len() > 8 || !digits.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    let n: u64 = digits.parse().ok()?;
    Some(match unit {
        "H" => Duration::from_secs(n * 3600),
        "M" => Duration::from_secs(n * 60),
        "S" => Duration::from_secs(n),
        "m" => Duration::from_millis(n),
        "u" => Duration::from_micros(n),
        "n" => Duration::from_nanos(n),
        _ => return None,
    })
}

/// Resolves once `deadline` has passed on our clock.
pub(crate) async fn expired(deadline: Deadline) {
    // `setTimeout` overflows past 2^31 - 1 ms (and may wake a little early):
    // sleep in bounded steps until the clock agrees.
    const MAX_STEP: Duration = Duration::from_millis(i32::MAX as u64);
    loop {
        let left = deadline.remaining();
        if left.is_zero() {
            return;
        }
        // Round up to whole milliseconds so a step never ends before the deadline.
        let step = Duration::from_millis(left.as_micros().div_ceil(1000) as u64).min(MAX_STEP);
        gloo_timers::future::sleep(step).await;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn encodes_in_the_finest_unit_that_fits() {
        assert_eq!(encode_grpc_timeout(Duration::from_millis(1500)), "1500000u");
        assert_eq!(
            encode_grpc_timeout(Duration::from_nanos(99_999_999)),
            "99999999n"
        );
        assert_eq!(encode_grpc_timeout(Duration::from_secs(1000)), "1000000m");
        assert_eq!(encode_grpc_timeout(Duration::from_secs(200_000)), "200000S");
        assert_eq!(
            encode_grpc_timeout(Duration::from_secs(100_000_000 * 60)),
            "1666666H"
        );
        assert_eq!(encode_grpc_timeout(Duration::ZERO), "0n");
    }

    #[test]
    fn encoding_rounds_down() {
        // 100.0000009 s: 9 digits of microseconds do not fit, so milliseconds, truncated.
        assert_eq!(encode_grpc_timeout(Duration::new(100, 999_999)), "100000m");
        assert_eq!(
            encode_grpc_timeout(Duration::new(100_000, 999_000_000)),
            "100000S"
        );
        let max = encode_grpc_timeout(Duration::MAX);
        assert_eq!(max, "99999999H");
    }

    #[test]
    fn encoding_never_exceeds_the_timeout_and_round_trips() {
        for ms in [0u64, 1, 999, 1000, 86_400_000, 7_777_777_777] {
            for extra_ns in [0u32, 1, 999_999] {
                let d = Duration::from_millis(ms) + Duration::from_nanos(extra_ns.into());
                let encoded = encode_grpc_timeout(d);
                let decoded = parse_grpc_timeout(&encoded).unwrap();
                assert!(decoded <= d, "{encoded} > {d:?}");
                assert!(encoded.len() <= 9, "{encoded}");
            }
        }
    }

    #[test]
    fn parses_every_unit_and_rejects_malformed_values() {
        assert_eq!(parse_grpc_timeout("2H"), Some(Duration::from_secs(7200)));
        assert_eq!(parse_grpc_timeout("3M"), Some(Duration::from_secs(180)));
        assert_eq!(parse_grpc_timeout("4S"), Some(Duration::from_secs(4)));
        assert_eq!(parse_grpc_timeout("5m"), Some(Duration::from_millis(5)));
        assert_eq!(parse_grpc_timeout("6u"), Some(Duration::from_micros(6)));
        assert_eq!(parse_grpc_timeout("7n"), Some(Duration::from_nanos(7)));
        for bad in [
            "",
            "S",
            "1",
            "123456789S",
            "1s",
            "-1S",
            "1.5S",
            " 1S",
            "1SS",
            "é",
        ] {
            assert_eq!(parse_grpc_timeout(bad), None, "{bad:?}");
        }
    }

    #[test]
    fn remaining_rounds_down_and_saturates_at_zero() {
        assert_eq!(remaining_between(10.0, 4.5), Duration::from_micros(5500));
        assert_eq!(
            remaining_between(1.000_000_9, 0.0),
            Duration::from_millis(1)
        );
        assert_eq!(remaining_between(5.0, 5.0), Duration::ZERO);
        assert_eq!(remaining_between(5.0, 9.0), Duration::ZERO);
    }

    #[test]
    fn the_earlier_deadline_wins() {
        let soon = Deadline::at_monotonic_ms(10.0);
        let late = Deadline::at_monotonic_ms(20.0);
        assert_eq!(Deadline::earliest(Some(late), Some(soon)), Some(soon));
        assert_eq!(Deadline::earliest(Some(soon), Some(late)), Some(soon));
        assert_eq!(Deadline::earliest(None, Some(late)), Some(late));
        assert_eq!(Deadline::earliest(Some(late), None), Some(late));
        assert_eq!(Deadline::earliest(None, None), None);
    }

    #[test]
    fn epoch_deadlines_land_on_the_monotonic_clock() {
        let d = Deadline::at_epoch_ms(clock::epoch_ms() + 60_000.0);
        let left = d.remaining();
        assert!(
            left <= Duration::from_secs(60) && left > Duration::from_secs(59),
            "{left:?}"
        );
        assert_eq!(
            Deadline::at_epoch_ms(clock::epoch_ms() - 1.0).remaining(),
            Duration::ZERO
        );
    }
}
