//! The `time` provider: a resource that waits, for things that settle after they are created.

use std::sync::Arc;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

pub use infra_compiler::schema::validate::parse_duration;
use infra_compiler::schema::{AttributeSchema, ProviderSchema, Validator};
use infra_compiler::types::Type;
use infra_runtime::provider::{Attributes, Provider, ProviderError, ProviderFactory, ProviderResult, ReadResult};
use infra_runtime::Value;

use infra_provider_kit::{keep_computed, kind, known, plan_attributes, provider, resource_schema, Stop};

use super::stateless::unconfigured_factory;

pub fn schema() -> ProviderSchema {
    let sleep = kind(
        "Waits for a while when created or destroyed, to give other systems time to settle.",
        "The time the resource was created, in RFC 3339 format.",
        vec![
            AttributeSchema::optional(
                "create_duration",
                Type::String,
                "How long to wait on create, as a duration such as \"100ms\", \"2s\" or \"1m\".",
            )
            .validate(Validator::Duration),
            AttributeSchema::optional(
                "destroy_duration",
                Type::String,
                "How long to wait on destroy, as a duration such as \"100ms\", \"2s\" or \"1m\".",
            )
            .validate(Validator::Duration),
            AttributeSchema::optional(
                "triggers",
                Type::map(Type::String),
                "Values that replace the resource, and so wait again, whenever one changes.",
            )
            .force_new(),
        ],
    );
    provider("time", "Resources that wait, to order operations in time.", vec![("sleep", sleep)], vec![])
}

/// The `time` provider type.
pub fn factory() -> Arc<dyn ProviderFactory> {
    unconfigured_factory(schema(), Arc::new(TimeProvider { schema: schema(), stopped: Stop::new() }))
}

struct TimeProvider {
    schema: ProviderSchema,
    /// Set when the run is interrupted: waits in flight end at once, as errors.
    stopped: Stop,
}

impl TimeProvider {
    /// Waits `wait`, unless the run is interrupted first (an error: the wait did not
    /// happen, so the object is not made or not deleted). `help` says which command
    /// waits again.
    async fn wait(&self, wait: Duration, help: &str) -> ProviderResult<()> {
        self.stopped
            .unless_stopped(sleep(wait))
            .await
            .map_err(|_| ProviderError::new("interrupted before the wait ended").with_help(help))
    }
}

#[async_trait::async_trait]
impl Provider for TimeProvider {
    fn validate(&self, kind: &str, config: &Attributes) -> Vec<ProviderError> {
        if let Err(error) = resource_schema(&self.schema, kind) {
            return vec![error];
        }
        DURATIONS.iter().filter_map(|name| duration(config, name).err()).collect()
    }

    fn plan(&self, kind: &str, prior: Option<&Attributes>, config: &Attributes) -> ProviderResult<Attributes> {
        if let Some(error) = self.validate(kind, config).into_iter().next() {
            return Err(error);
        }
        Ok(plan_attributes(resource_schema(&self.schema, kind)?, prior, config, &[]))
    }

    /// Waits `create_duration`; the id is the time the wait ended.
    async fn create(&self, kind: &str, planned: &Attributes) -> ProviderResult<Attributes> {
        resource_schema(&self.schema, kind)?;
        self.wait(duration(planned, "create_duration")?, "run `infra apply` again to wait in full").await?;
        let mut attributes = planned.clone();
        attributes.insert("id".to_string(), Value::string(rfc3339(SystemTime::now())));
        Ok(attributes)
    }

    async fn read(&self, kind: &str, current: &Attributes) -> ProviderResult<ReadResult> {
        resource_schema(&self.schema, kind)?;
        Ok(ReadResult::Found(current.clone()))
    }

    /// A changed duration takes effect at the next create or destroy; nothing waits now.
    async fn update(&self, kind: &str, prior: &Attributes, planned: &Attributes) -> ProviderResult<Attributes> {
        let schema = resource_schema(&self.schema, kind)?;
        duration(planned, "create_duration")?;
        duration(planned, "destroy_duration")?;
        Ok(keep_computed(schema, prior, planned))
    }

    /// Waits `destroy_duration`. A delete is `infra destroy`'s, or `infra apply`'s for an
    /// object replaced or taken out of the configuration: the help names both.
    async fn delete(&self, kind: &str, current: &Attributes) -> ProviderResult<()> {
        resource_schema(&self.schema, kind)?;
        let help = "the object is still in the state; run `infra destroy` again to wait in full (or `infra apply`, \
                    when it was being replaced or removed from the configuration)";
        self.wait(duration(current, "destroy_duration")?, help).await
    }

    /// Ends the waits in flight (Ctrl-C), as Terraform's `time_sleep` does.
    fn stop(&self) {
        self.stopped.stop();
    }
}

/// Waits `wait`, to a fraction of a millisecond. tokio's timers fire on whole
/// milliseconds and up to two late, which adds up along a chain of waits, so on Linux
/// the last two milliseconds are waited on a timer file descriptor (held only for
/// them; tokio's timer is the fallback if one cannot be made).
async fn sleep(wait: Duration) {
    // A wait past the clock's range (a duration of centuries) is tokio's far future.
    let Some(deadline) = tokio::time::Instant::now().checked_add(wait) else {
        return tokio::time::sleep(wait).await;
    };
    #[cfg(target_os = "linux")]
    {
        if let Some(coarse) = deadline.checked_sub(Duration::from_millis(2)) {
            tokio::time::sleep_until(coarse).await;
        }
        if precise::sleep_until(deadline.into_std()).await.is_ok() {
            return;
        }
    }
    tokio::time::sleep_until(deadline).await;
}

#[cfg(target_os = "linux")]
mod precise {
    use std::time::Instant;

    use rustix::time::{
        timerfd_create, timerfd_settime, Itimerspec, TimerfdClockId, TimerfdFlags, TimerfdTimerFlags, Timespec,
    };
    use tokio::io::unix::AsyncFd;
    use tokio::io::Interest;

    /// Waits until `deadline` on a monotonic timerfd that the runtime polls (its I/O
    /// driver must be on: every runtime Infra builds has `enable_all`).
    pub async fn sleep_until(deadline: Instant) -> std::io::Result<()> {
        let rest = deadline.saturating_duration_since(Instant::now());
        if rest.is_zero() {
            return Ok(());
        }
        let timer = timerfd_create(TimerfdClockId::Monotonic, TimerfdFlags::NONBLOCK | TimerfdFlags::CLOEXEC)?;
        let zero = Timespec { tv_sec: 0, tv_nsec: 0 };
        let value = Timespec { tv_sec: rest.as_secs() as i64, tv_nsec: i64::from(rest.subsec_nanos()) };
        timerfd_settime(&timer, TimerfdTimerFlags::empty(), &Itimerspec { it_interval: zero, it_value: value })?;
        // tokio deprecated this constructor because an `AsRawFd` it is given may be
        // closed behind its back; this one is an `OwnedFd` that the `AsyncFd` owns,
        // closed only when it is dropped (after deregistering), so the registration
        // is sound, and `register_with_interest` would need `unsafe`, which the
        // workspace forbids.
        #[allow(deprecated)]
        let timer = AsyncFd::with_interest(timer, Interest::READABLE)?;
        let _ready = timer.readable().await?;
        // Readiness may be reported spuriously; a wait never ends early.
        if Instant::now() < deadline {
            tokio::time::sleep_until(deadline.into()).await;
        }
        Ok(())
    }
}

/// The attributes that hold durations.
const DURATIONS: [&str; 2] = ["create_duration", "destroy_duration"];

/// A duration attribute; zero when it is not set (or not yet known).
fn duration(attributes: &Attributes, name: &str) -> ProviderResult<Duration> {
    let Some(value) = known(attributes, name) else { return Ok(Duration::ZERO) };
    let text = value.as_str().ok_or_else(|| {
        ProviderError::new(format!("`{name}` must be a string, not {}", crate::library::args::a_type(value)))
            .on_attribute(name)
    })?;
    parse_duration(text).map_err(|reason| {
        ProviderError::new(format!("`{name}` is not a duration: {reason}"))
            .on_attribute(name)
            .with_help("write numbers with units, such as \"100ms\", \"2s\", \"1m30s\" or \"1h\"")
    })
}

/// `time` as an RFC 3339 timestamp in UTC to the second, such as `2024-05-01T12:30:00Z`.
fn rfc3339(time: SystemTime) -> String {
    let seconds = time.duration_since(UNIX_EPOCH).map_or(0, |d| d.as_secs());
    let (days, second_of_day) = (seconds / 86_400, seconds % 86_400);
    let (year, month, day) = civil_from_days(days);
    let (hour, minute, second) = (second_of_day / 3600, second_of_day / 60 % 60, second_of_day % 60);
    format!("{year:04}-{month:02}-{day:02}T{hour:02}:{minute:02}:{second:02}Z")
}

/// The proleptic Gregorian date `days` days after 1970-01-01: Howard Hinnant's
/// `civil_from_days`, restricted to dates after the epoch.
fn civil_from_days(days: u64) -> (u64, u64, u64) {
    let z = days + 719_468;
    let era = z / 146_097;
    let day_of_era = z % 146_097;
    let year_of_era = (day_of_era - day_of_era / 1460 + day_of_era / 36_524 - day_of_era / 146_096) / 365;
    let day_of_year = day_of_era - (365 * year_of_era + year_of_era / 4 - year_of_era / 100);
    let month_index = (5 * day_of_year + 2) / 153;
    let day = day_of_year - (153 * month_index + 2) / 5 + 1;
    let month = if month_index < 10 { month_index + 3 } else { month_index - 9 };
    let year = year_of_era + era * 400 + u64::from(month <= 2);
    (year, month, day)
}

#[cfg(test)]
mod tests {
    use std::time::{Duration, UNIX_EPOCH};

    use super::rfc3339;

    #[test]
    fn rfc3339_known_instants() {
        let at = |seconds| rfc3339(UNIX_EPOCH + Duration::from_secs(seconds));
        assert_eq!(at(0), "1970-01-01T00:00:00Z");
        assert_eq!(at(951_782_400), "2000-02-29T00:00:00Z");
        assert_eq!(at(1_709_251_199), "2024-02-29T23:59:59Z");
        assert_eq!(at(4_102_444_800), "2100-01-01T00:00:00Z");
    }

    /// A wait never ends early, whether it is shorter or longer than the stretch
    /// waited on the precise timer, and a zero wait ends at once.
    #[test]
    fn waits_are_never_short() {
        let runtime = tokio::runtime::Builder::new_current_thread().enable_all().build().expect("runtime");
        runtime.block_on(async {
            for wait in
                [Duration::ZERO, Duration::from_micros(700), Duration::from_millis(3), Duration::from_millis(25)]
            {
                let started = std::time::Instant::now();
                super::sleep(wait).await;
                assert!(started.elapsed() >= wait, "{wait:?} ended after {:?}", started.elapsed());
            }
            // A duration past the clock's range waits (for ever) rather than panicking.
            let forever = tokio::time::timeout(Duration::from_millis(5), super::sleep(Duration::MAX)).await;
            assert!(forever.is_err(), "a wait of centuries is still waiting");
        });
    }

    /// The precise timer is a file descriptor the runtime polls; a deadline already
    /// passed makes none.
    #[cfg(target_os = "linux")]
    #[test]
    fn the_precise_timer_waits_for_its_deadline() {
        let runtime = tokio::runtime::Builder::new_current_thread().enable_all().build().expect("runtime");
        runtime.block_on(async {
            let past = std::time::Instant::now();
            super::precise::sleep_until(past).await.expect("a passed deadline");
            let deadline = std::time::Instant::now() + Duration::from_millis(5);
            super::precise::sleep_until(deadline).await.expect("a timerfd");
            assert!(std::time::Instant::now() >= deadline);
        });
    }
}
