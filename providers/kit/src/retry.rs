//! Retrying HTTP calls the way every provider family does: exponential backoff between
//! attempts, a server's `Retry-After` honoured up to a ceiling, pauses the run's
//! interruption (Ctrl-C) ends at once ([`Retrying`]), and an error's whole chain of
//! causes in one line for the message.

use std::time::Duration;

use infra_runtime::provider::ProviderError;

use crate::stop::Stop;

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

/// A request being tried again: what it is, whether it creates something, and whether
/// any attempt so far may have been processed by the server. Its [`Retrying::pause`]
/// between two attempts ends at once when the run is interrupted, as a
/// [`RetryInterrupted`] error, instead of sleeping out a backoff or a `Retry-After` of up
/// to a minute.
#[derive(Clone, Debug)]
pub struct Retrying {
    request: String,
    creates: bool,
    maybe_processed: bool,
}

impl Retrying {
    /// `request` names it for the message (such as "Linode: create the SSH key (POST
    /// /profile/sshkeys)"); `creates` says whether it makes an object (a create `POST`).
    pub fn new(request: impl Into<String>, creates: bool) -> Retrying {
        Retrying { request: request.into(), creates, maybe_processed: false }
    }

    /// Pauses `delay` after a failed attempt, before the next, unless the run is (or
    /// gets) interrupted: then at once the [`RetryInterrupted`] error, which is never
    /// retryable. `failure` is how the attempt failed (the status and message);
    /// `processed` whether the server may have processed it (a lost answer, a server
    /// error), as opposed to a refusal before any work (429, 502, 503, throttling) or a
    /// request never sent. Once an attempt may have been processed, the error says so.
    pub async fn pause(
        &mut self,
        stop: &Stop,
        delay: Duration,
        failure: impl std::fmt::Display,
        processed: bool,
    ) -> Result<(), RetryInterrupted> {
        self.maybe_processed |= processed;
        stop.sleep(delay).await.map_err(|_| RetryInterrupted {
            request: self.request.clone(),
            last_failure: failure.to_string(),
            creates: self.creates,
            maybe_processed: self.maybe_processed,
        })
    }
}

/// A retry pause the run's interruption ended: which request, how its last attempt
/// failed, and whether it may have taken effect regardless.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct RetryInterrupted {
    pub request: String,
    pub last_failure: String,
    /// The request makes an object.
    pub creates: bool,
    /// An attempt may have been processed: a create may have made its object.
    pub maybe_processed: bool,
}

impl std::fmt::Display for RetryInterrupted {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let outcome = match (self.creates, self.maybe_processed) {
            (true, true) => "an attempt may have been processed, so the object may have been made",
            (true, false) => "no attempt was processed (each was turned away or never sent), so nothing was made",
            (false, true) => "an attempt may have been processed; the next plan reads the object as it is",
            (false, false) => "no attempt was processed (each was turned away or never sent), so nothing was changed",
        };
        write!(
            f,
            "interrupted while waiting to retry {} (the last attempt failed: {}); {outcome}",
            self.request, self.last_failure
        )
    }
}

impl From<RetryInterrupted> for ProviderError {
    fn from(interrupted: RetryInterrupted) -> ProviderError {
        let help = if interrupted.creates && interrupted.maybe_processed {
            "look for the object at the provider before applying again: if it was made, `infra import` it; if not, \
             apply again"
        } else {
            "run `infra apply` again to finish: it reads the objects as they are then and goes on from there"
        };
        ProviderError::new(interrupted.to_string()).with_help(help)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn runtime() -> tokio::runtime::Runtime {
        tokio::runtime::Builder::new_current_thread().enable_time().build().expect("runtime")
    }

    /// A retry pause of a minute (a long `Retry-After`) in flight ends as soon as the
    /// provider is stopped, as the interrupted error; one begun after that at once.
    #[test]
    fn a_stopped_stop_ends_a_pending_retry_pause_at_once() {
        let stop = Stop::new();
        let started = std::time::Instant::now();
        let (first, second) = runtime().block_on(async {
            let waiter = stop.clone();
            let pausing = tokio::spawn(async move {
                let mut retrying = Retrying::new("Linode: create the SSH key (POST /profile/sshkeys)", true);
                retrying.pause(&waiter, Duration::from_secs(60), "429: slow down", false).await
            });
            tokio::time::sleep(Duration::from_millis(20)).await;
            assert!(!pausing.is_finished(), "the pause waits until stopped");
            stop.stop();
            let mut retrying = Retrying::new("GET /x", false);
            (pausing.await.expect("the pause ends"), retrying.pause(&stop, Duration::from_secs(60), "503", true).await)
        });
        assert!(started.elapsed() < Duration::from_secs(10), "{:?}", started.elapsed());
        let first = first.expect_err("interrupted");
        assert_eq!(
            first.to_string(),
            "interrupted while waiting to retry Linode: create the SSH key (POST /profile/sshkeys) (the last attempt \
             failed: 429: slow down); no attempt was processed (each was turned away or never sent), so nothing was made"
        );
        let error = ProviderError::from(first);
        assert!(!error.retryable);
        assert!(error.help.is_some_and(|help| help.contains("infra apply")));
        let second = second.expect_err("interrupted at once");
        assert!(second.to_string().ends_with("may have been processed; the next plan reads the object as it is"));
    }

    #[test]
    fn a_retry_pause_that_is_not_stopped_sleeps_in_full() {
        let stop = Stop::new();
        let started = std::time::Instant::now();
        let mut retrying = Retrying::new("GET /x", false);
        assert_eq!(runtime().block_on(retrying.pause(&stop, Duration::from_millis(30), "503", false)), Ok(()));
        assert!(started.elapsed() >= Duration::from_millis(30));
    }

    /// Once an attempt of a create may have been processed, a later refusal does not make
    /// the error say nothing was made: it says to look for the object.
    #[test]
    fn an_interrupted_create_that_may_have_been_processed_says_to_look_for_it() {
        let stop = Stop::new();
        stop.stop();
        let mut retrying = Retrying::new("EC2 RunInstances", true);
        let runtime = runtime();
        let _ = runtime.block_on(retrying.pause(&stop, Duration::ZERO, "500 InternalError", true));
        let error =
            runtime.block_on(retrying.pause(&stop, Duration::ZERO, "503 SlowDown", false)).expect_err("stopped");
        assert!(error.maybe_processed && error.creates, "{error:?}");
        let error = ProviderError::from(error);
        assert!(error.message.contains("the last attempt failed: 503 SlowDown"), "{}", error.message);
        assert!(error.message.ends_with("so the object may have been made"), "{}", error.message);
        assert!(error.help.is_some_and(|help| help.contains("infra import")));
        assert!(!error.retryable);
    }

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
