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

/// Resolves once `deadline` has passed on our clock.
pub(crate) async fn expired(deadline: Deadline) {
    // `setTimeout` overflows past 2^31 - 1 ms (and may wake a little early):
    // sleep in bounded steps until the clock agrees.
    const MAX_STEP: Duration = Duration::from_millis(i32::MAX as u64);
    loop {
        let left = deadline.remaining();
        // `setTimeout` counts whole milliseconds: less than one left is the
        // deadline. (Sleeping again for the fraction cost a whole extra
        // millisecond when rounded up, and 0 ms timers in a row are clamped
        // to 4 ms by browsers when rounded down: the bench saw both.)
        if left < Duration::from_millis(1) {
            return;
        }
        gloo_timers::future::sleep(step(left, MAX_STEP)).await;
    }
}

/// The next sleep of [`expired`]: whole milliseconds rounded down, so the
/// timer ends within a millisecond of the deadline, never past it by more
/// than the browser's own lateness.
fn step(left: Duration, max: Duration) -> Duration {
    // Seconds and subsecond millis, not `as_millis()`: its u128 links
    // 128-bit division into the wasm (about 1 KB).
    let left = left.min(max);
    Duration::from_millis(left.as_secs() * 1000 + u64::from(left.subsec_millis()))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn steps_round_down_to_whole_milliseconds() {
        let max = Duration::from_secs(10);
        assert_eq!(
            step(Duration::from_micros(450_300), max),
            Duration::from_millis(450)
        );
        assert_eq!(step(Duration::from_micros(300), max), Duration::ZERO);
        assert_eq!(step(Duration::from_secs(99), max), max);
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
