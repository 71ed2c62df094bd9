//! Retrying HTTP calls the way every provider family does: exponential backoff between
//! attempts, a server's `Retry-After` honoured up to a ceiling, and an error's whole
//! chain of causes in one line for the message.

use std::time::Duration;

/// The pause before attempt `attempt + 1` (attempts count from 1): `base`, doubled for
/// each attempt after the first, never more than `max`.
pub fn backoff(attempt: u32, base: Duration, max: Duration) -> Duration {
    base.saturating_mul(1 << attempt.saturating_sub(1).min(16)).min(max)
}

/// A `Retry-After` header in seconds, cut to `max` (an HTTP date is not honoured: the
/// caller falls back to its backoff).
pub fn retry_after(header: Option<&str>, max: Duration) -> Option<Duration> {
    let seconds = header?.trim().parse::<u64>().ok()?;
    Some(Duration::from_secs(seconds).min(max))
}

/// An error and each of its causes, joined by `: `.
pub fn error_chain(error: &dyn std::error::Error) -> String {
    let mut text = error.to_string();
    let mut source = error.source();
    while let Some(cause) = source {
        text.push_str(&format!(": {cause}"));
        source = cause.source();
    }
    text
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn backoff_doubles_up_to_the_ceiling() {
        let (base, max) = (Duration::from_millis(250), Duration::from_secs(10));
        assert_eq!(backoff(1, base, max), base);
        assert_eq!(backoff(3, base, max), Duration::from_secs(1));
        assert_eq!(backoff(40, base, max), max);
    }

    #[test]
    fn retry_after_is_seconds_cut_to_the_ceiling() {
        let max = Duration::from_secs(60);
        assert_eq!(retry_after(Some(" 2 "), max), Some(Duration::from_secs(2)));
        assert_eq!(retry_after(Some("3600"), max), Some(max));
        assert_eq!(retry_after(Some("Wed, 21 Oct 2015 07:28:00 GMT"), max), None);
        assert_eq!(retry_after(None, max), None);
    }
}
