//! How long to wait before retrying after failed cycles.

use std::time::Duration;

/// The first retry comes after at most this long, or after the interval if it is shorter.
const FIRST_RETRY: Duration = Duration::from_secs(30);

/// The wait after `failures` consecutive failed cycles (1 for the first): it starts at the
/// interval or 30 seconds, whichever is shorter, doubles with each failure, and never exceeds
/// `max` (nor falls below a millisecond). `jitter`, from 0 to 1, takes it down by up to half,
/// so that agents that failed together do not retry together.
pub(crate) fn delay(failures: u32, interval: Duration, max: Duration, jitter: f64) -> Duration {
    let first = interval.min(FIRST_RETRY).max(Duration::from_millis(1));
    let doublings = failures.saturating_sub(1).min(32);
    let grown = first.saturating_mul(1u32 << doublings.min(31));
    let capped = grown.min(max.max(Duration::from_millis(1)));
    let jitter = if jitter.is_finite() {
        jitter.clamp(0.0, 1.0)
    } else {
        0.0
    };
    capped
        .mul_f64(1.0 - jitter / 2.0)
        .max(Duration::from_millis(1))
}

#[cfg(test)]
mod tests {
    use super::*;

    const MINUTE: Duration = Duration::from_secs(60);

    #[test]
    fn starts_at_the_interval_or_thirty_seconds_and_doubles() {
        let interval = 5 * MINUTE;
        let max = 5 * MINUTE;
        let waits: Vec<u64> = (1..=6)
            .map(|n| delay(n, interval, max, 0.0).as_secs())
            .collect();
        assert_eq!(waits, [30, 60, 120, 240, 300, 300]);
        assert_eq!(
            delay(1, Duration::from_millis(200), max, 0.0),
            Duration::from_millis(200)
        );
    }

    #[test]
    fn is_bounded_whatever_the_count() {
        for failures in [1, 10, 31, 32, 1000, u32::MAX] {
            let wait = delay(failures, MINUTE, 5 * MINUTE, 0.0);
            assert!(wait <= 5 * MINUTE, "{failures}: {wait:?}");
            assert!(wait >= Duration::from_millis(1));
        }
    }

    #[test]
    fn jitter_takes_off_at_most_half() {
        let full = delay(3, MINUTE, 10 * MINUTE, 0.0);
        assert_eq!(delay(3, MINUTE, 10 * MINUTE, 1.0), full / 2);
        let some = delay(3, MINUTE, 10 * MINUTE, 0.3);
        assert!(some < full && some > full / 2, "{some:?}");
        // Out-of-range jitter is clamped, never a panic.
        assert_eq!(delay(3, MINUTE, 10 * MINUTE, f64::NAN), full);
        assert_eq!(delay(3, MINUTE, 10 * MINUTE, 7.0), full / 2);
    }
}
