//! When to try a request again: exponential backoff with full jitter, bounded in attempts and
//! in total time, and `Retry-After` honoured.

use std::time::{Duration, SystemTime};

use reqwest::header::{HeaderMap, RETRY_AFTER};

/// Bounds on retrying a request that failed transiently.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct RetryPolicy {
    /// Attempts in all, the first included. `1` disables retries.
    pub max_attempts: u32,
    /// Delay cap before the first retry; it doubles with each attempt.
    pub base_delay: Duration,
    /// Longest single delay.
    pub max_delay: Duration,
    /// No retry starts after this much time since the first attempt.
    pub max_elapsed: Duration,
}

impl Default for RetryPolicy {
    /// 8 attempts, 200 ms doubling to at most 10 s, within 2 minutes.
    fn default() -> Self {
        Self {
            max_attempts: 8,
            base_delay: Duration::from_millis(200),
            max_delay: Duration::from_secs(10),
            max_elapsed: Duration::from_secs(120),
        }
    }
}

impl RetryPolicy {
    /// How long to wait before attempt `attempt + 1`, or `None` when the budget is spent.
    ///
    /// Without `retry_after` the delay is a random duration up to
    /// `min(max_delay, base_delay * 2^(attempt-1))` (full jitter, so that many clients failing
    /// together do not retry together). With `retry_after` the server's wish is honoured as
    /// long as it fits in the remaining time.
    pub fn delay(
        &self,
        attempt: u32,
        elapsed: Duration,
        retry_after: Option<Duration>,
    ) -> Option<Duration> {
        if attempt >= self.max_attempts {
            return None;
        }
        let remaining = self.max_elapsed.checked_sub(elapsed)?;
        let delay = match retry_after {
            Some(wish) => wish,
            None => {
                let exponent = attempt.saturating_sub(1).min(20);
                let cap = self
                    .base_delay
                    .saturating_mul(1 << exponent)
                    .min(self.max_delay);
                let cap_ms = u64::try_from(cap.as_millis()).unwrap_or(u64::MAX);
                Duration::from_millis(rand::random_range(cap_ms / 2..=cap_ms.max(1)))
            }
        };
        (delay <= remaining).then_some(delay)
    }
}

/// The `Retry-After` header as a duration: delta-seconds or an HTTP date.
pub(crate) fn retry_after(headers: &HeaderMap) -> Option<Duration> {
    let value = headers.get(RETRY_AFTER)?.to_str().ok()?.trim();
    if let Ok(seconds) = value.parse::<u64>() {
        return Some(Duration::from_secs(seconds));
    }
    let date = httpdate::parse_http_date(value).ok()?;
    Some(
        date.duration_since(SystemTime::now())
            .unwrap_or(Duration::ZERO),
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn delays_grow_and_stay_under_the_cap() {
        let policy = RetryPolicy::default();
        for attempt in 1..policy.max_attempts {
            let delay = policy.delay(attempt, Duration::ZERO, None).unwrap();
            let cap = policy.base_delay * 2u32.pow(attempt - 1);
            assert!(
                delay <= cap.min(policy.max_delay),
                "attempt {attempt}: {delay:?}"
            );
        }
    }

    #[test]
    fn stops_after_max_attempts_and_max_elapsed() {
        let policy = RetryPolicy::default();
        assert_eq!(
            policy.delay(policy.max_attempts, Duration::ZERO, None),
            None
        );
        assert_eq!(
            policy.delay(1, policy.max_elapsed + Duration::from_secs(1), None),
            None
        );
    }

    #[test]
    fn honours_retry_after_within_budget() {
        let policy = RetryPolicy::default();
        let wish = Duration::from_secs(3);
        assert_eq!(policy.delay(1, Duration::ZERO, Some(wish)), Some(wish));
        assert_eq!(
            policy.delay(1, policy.max_elapsed - Duration::from_secs(1), Some(wish)),
            None
        );
    }

    #[test]
    fn parses_retry_after_seconds_and_dates() {
        let mut headers = HeaderMap::new();
        headers.insert(RETRY_AFTER, "1".parse().unwrap());
        assert_eq!(retry_after(&headers), Some(Duration::from_secs(1)));
        let later = httpdate::fmt_http_date(SystemTime::now() + Duration::from_secs(30));
        headers.insert(RETRY_AFTER, later.parse().unwrap());
        let parsed = retry_after(&headers).unwrap();
        assert!(parsed > Duration::from_secs(25) && parsed <= Duration::from_secs(30));
        headers.insert(RETRY_AFTER, "soon".parse().unwrap());
        assert_eq!(retry_after(&headers), None);
    }
}
