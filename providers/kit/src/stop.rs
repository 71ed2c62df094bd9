//! Ending a provider's polling waits when the run is interrupted (Ctrl-C), as a Terraform
//! provider ends its waits on `StopProvider`.
//!
//! A configured provider holds one [`Stop`] and sets it in `Provider::stop`; whatever
//! waits for an object (a server polled until it runs, an action until it completes)
//! pauses between two looks with [`Stop::sleep`], which returns at once when the run is
//! (or gets) interrupted. The wait then ends as an [`Interrupted`] error that says what
//! it waited for and how the object last looked. Nothing is lost by it: a create reports
//! its object to the engine (`CreateProgress::exists`) before it waits, and an update or
//! a delete that ends early leaves the object recorded as it was, so the next plan reads
//! it in every case.

use std::sync::Arc;
use std::time::Duration;

use infra_runtime::provider::ProviderError;

/// A provider configuration's stop signal: set once, by `Provider::stop`, and seen by
/// every clone (a client holds one, the provider sets it). Cheap to clone and to ask.
#[derive(Clone, Debug)]
pub struct Stop {
    stopped: Arc<tokio::sync::watch::Sender<bool>>,
}

impl Default for Stop {
    fn default() -> Stop {
        Stop::new()
    }
}

impl Stop {
    pub fn new() -> Stop {
        Stop { stopped: Arc::new(tokio::sync::watch::Sender::new(false)) }
    }

    /// Stops: every wait in flight, and every wait after, ends at once. Never blocks, as
    /// `Provider::stop` must not.
    pub fn stop(&self) {
        self.stopped.send_replace(true);
    }

    pub fn is_stopped(&self) -> bool {
        *self.stopped.borrow()
    }

    /// Sleeps `duration` between two looks at an object, unless the run is interrupted
    /// first: then (or at once, when it already is) `Err(Stopped)`, for the caller to
    /// turn into an [`Interrupted`] that says what it saw last.
    pub async fn sleep(&self, duration: Duration) -> Result<(), Stopped> {
        self.unless_stopped(tokio::time::sleep(duration)).await
    }

    /// Runs `look` (a look at an object that may itself take a while, such as waiting
    /// for a banner), unless the run is interrupted first: then it is dropped, and
    /// `Err(Stopped)`.
    pub async fn unless_stopped<F: std::future::Future>(&self, look: F) -> Result<F::Output, Stopped> {
        let mut stopped = self.stopped.subscribe();
        tokio::select! {
            biased;
            _ = stopped.wait_for(|stopped| *stopped) => Err(Stopped),
            output = look => Ok(output),
        }
    }
}

/// A wait ended early because the run was interrupted.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Stopped;

/// The error of a wait the run's interruption ended: what it waited for and how the
/// object looked at the last look. A provider's own error type carries it unchanged to
/// the [`ProviderError`] (see `From`), and it is never retryable: the run is ending.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Interrupted {
    /// What the wait waited for, such as "instance i-123 to be running".
    pub waiting_for: String,
    /// The object's state at the last look, such as "pending".
    pub last_seen: String,
}

impl Interrupted {
    pub fn new(waiting_for: impl Into<String>, last_seen: impl Into<String>) -> Interrupted {
        Interrupted { waiting_for: waiting_for.into(), last_seen: last_seen.into() }
    }
}

impl std::fmt::Display for Interrupted {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(
            f,
            "interrupted while waiting for {} (it was {}); it is recorded, and the next plan reads it",
            self.waiting_for, self.last_seen
        )
    }
}

impl From<Interrupted> for ProviderError {
    fn from(interrupted: Interrupted) -> ProviderError {
        ProviderError::new(interrupted.to_string())
            .with_help("run `infra apply` again to finish: it reads the object as it is then and goes on from there")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn runtime() -> tokio::runtime::Runtime {
        tokio::runtime::Builder::new_current_thread().enable_time().build().expect("runtime")
    }

    /// The point of it all: a wait of an hour in flight ends as soon as the provider is
    /// stopped, from another task, and a wait begun after that ends at once.
    #[test]
    fn stop_ends_a_pending_sleep_at_once() {
        let stop = Stop::new();
        let started = std::time::Instant::now();
        let (first, second) = runtime().block_on(async {
            let waiter = stop.clone();
            let sleeping = tokio::spawn(async move { waiter.sleep(Duration::from_secs(3600)).await });
            tokio::time::sleep(Duration::from_millis(20)).await;
            assert!(!sleeping.is_finished(), "the sleep waits until stopped");
            stop.stop();
            (sleeping.await.expect("the sleep ends"), stop.sleep(Duration::from_secs(3600)).await)
        });
        assert_eq!((first, second), (Err(Stopped), Err(Stopped)));
        assert!(started.elapsed() < Duration::from_secs(10), "{:?}", started.elapsed());
        assert!(stop.is_stopped());
    }

    #[test]
    fn a_sleep_that_is_not_stopped_sleeps_in_full() {
        let stop = Stop::default();
        let started = std::time::Instant::now();
        assert_eq!(runtime().block_on(stop.sleep(Duration::from_millis(30))), Ok(()));
        assert!(started.elapsed() >= Duration::from_millis(30));
        assert!(!stop.is_stopped());
    }

    #[test]
    fn an_interrupted_wait_says_what_it_waited_for_and_what_it_saw() {
        let error = ProviderError::from(Interrupted::new("instance i-123 to be running", "pending"));
        assert_eq!(
            error.message,
            "interrupted while waiting for instance i-123 to be running (it was pending); it is recorded, and the \
             next plan reads it"
        );
        assert!(!error.retryable);
        assert!(error.help.is_some_and(|help| help.contains("infra apply")));
    }
}
