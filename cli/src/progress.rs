//! What `apply` and `destroy` print while they run: a line per operation as it starts
//! and as it ends (`after 0.3s`), and, on a terminal, one overall line kept below them
//! (done / total, in flight, failed, elapsed) instead of a spinner per operation.

use std::fmt::Write as _;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Mutex, OnceLock};
use std::time::Duration;

use infra_runtime::address::Address;
use infra_runtime::diff::Action;
use infra_runtime::plan::{Event, Plan};

use crate::render;

/// `0.3s` under a minute (tenths: most operations take less than a second), `1m05s`
/// from a minute, `1h02m05s` from an hour.
pub fn duration(seconds: f64) -> String {
    let tenths = (seconds.max(0.0) * 10.0).round();
    if tenths < 600.0 {
        return format!("{:.1}s", tenths / 10.0);
    }
    let whole = seconds.round() as u64;
    let (hours, minutes, seconds) = (whole / 3600, whole / 60 % 60, whole % 60);
    if hours > 0 {
        format!("{hours}h{minutes:02}m{seconds:02}s")
    } else {
        format!("{minutes}m{seconds:02}s")
    }
}

/// The line an event prints, Terraform's wording.
pub fn line(event: &Event) -> String {
    match event {
        Event::Started { address, action } => format!("{}: {}...\n", label(address), verb(*action, false)),
        Event::Finished { address, action, id, seconds } => {
            let id = id.as_ref().map_or(String::new(), |id| format!(" [id={id}]"));
            format!("{}: {} after {}{id}\n", label(address), verb(*action, true), duration(*seconds))
        }
        Event::Failed { address, action } => format!("{}: {} failed\n", label(address), verb(*action, false)),
        Event::Skipped { address, interrupted: false } => {
            format!("{address}: skipped, because something it depends on failed\n")
        }
        Event::Skipped { address, interrupted: true } => {
            format!("{address}: skipped, because the run was interrupted\n")
        }
        Event::Retrying { address, action, message } => format!(
            "{}: {} failed with a transient error, trying once more in {}: {message}\n",
            label(address),
            verb(*action, false),
            duration(infra_runtime::plan::RETRY_DELAY.as_secs_f64())
        ),
        Event::Still { address, action, seconds } => {
            // Whole multiples of ten seconds: tenths would say nothing.
            let elapsed = if *seconds < 60 { format!("{seconds}s") } else { duration(*seconds as f64) };
            format!("{}: Still {}... [{elapsed} elapsed]\n", label(address), verb(*action, false).to_lowercase())
        }
    }
}

/// An address as progress shows it: the old object of a create-before-destroy
/// replacement is `web[0] (deposed object)`, as Terraform says, not its state address.
fn label(address: &infra_runtime::address::Address) -> String {
    let instance = infra_runtime::plan::undeposed(address);
    if instance == *address {
        address.to_string()
    } else {
        format!("{instance} (deposed object)")
    }
}

fn verb(action: Action, done: bool) -> &'static str {
    match (action, done) {
        (Action::Create, false) => "Creating",
        (Action::Create, true) => "Creation complete",
        (Action::Update, false) => "Modifying",
        (Action::Update, true) => "Modifications complete",
        (Action::Delete, false) => "Destroying",
        (Action::Delete, true) => "Destruction complete",
        (Action::NoOp, false) => "Reading",
        (_, false) => "Working",
        (_, true) => "Done",
    }
}

/// How many provider operations an action takes: a replacement is a delete and a create.
pub fn operations(action: Action) -> usize {
    match action {
        Action::Create | Action::Update | Action::Delete => 1,
        Action::Replace { .. } => 2,
        Action::NoOp | Action::Read | Action::Forget => 0,
    }
}

/// The apply's operations counted: the total from the plan, the rest from the events.
#[derive(Debug, Default)]
pub struct Tally {
    total: usize,
    done: usize,
    in_flight: usize,
    failed: usize,
    skipped: usize,
    /// Each planned change and its operations, to count what a skipped declaration
    /// leaves undone.
    planned: Vec<(Address, usize)>,
}

impl Tally {
    pub fn new(plan: &Plan) -> Tally {
        let planned: Vec<(Address, usize)> =
            plan.changes().map(|i| (i.address.clone(), operations(i.diff.action))).filter(|(_, n)| *n > 0).collect();
        Tally { total: planned.iter().map(|(_, n)| n).sum(), planned, ..Tally::default() }
    }

    pub fn record(&mut self, event: &Event) {
        match event {
            Event::Started { .. } => self.in_flight += 1,
            Event::Finished { .. } => {
                self.in_flight = self.in_flight.saturating_sub(1);
                self.done += 1;
            }
            Event::Failed { .. } => {
                self.in_flight = self.in_flight.saturating_sub(1);
                self.failed += 1;
            }
            Event::Skipped { address, .. } => self.skipped += self.planned_within(address),
            Event::Still { .. } | Event::Retrying { .. } => {}
        }
        // An operation the plan did not count (an object left deposed by an earlier
        // run) still counts once it happens.
        self.total = self.total.max(self.done + self.failed + self.in_flight + self.skipped);
    }

    fn planned_within(&self, declaration: &str) -> usize {
        let Ok(declaration) = declaration.parse::<Address>() else { return 0 };
        self.planned.iter().filter(|(a, _)| a.is_within(&declaration)).map(|(_, n)| n).sum()
    }

    /// `3/10 done, 2 in flight, 1 failed` (and how many were skipped, if any).
    pub fn status(&self) -> String {
        let mut text =
            format!("{}/{} done, {} in flight, {} failed", self.done, self.total, self.in_flight, self.failed);
        if self.skipped > 0 {
            let _ = write!(text, ", {} skipped", self.skipped);
        }
        text
    }
}

/// Progress output. On a terminal, the lines scroll above one overall line that stays at
/// the bottom; otherwise plain lines only.
///
/// Plain lines are collected and written when the apply waits (for providers, timers or
/// the disk), so that a wave of operations finishing together costs one write rather
/// than one per line. While the plan's text is still being written (by another thread,
/// as an approved apply starts), every line waits, and the overall line is not drawn.
pub struct Progress {
    terminal: bool,
    bar: OnceLock<indicatif::ProgressBar>,
    tally: Mutex<Tally>,
    lines: Mutex<String>,
    held: AtomicBool,
}

impl Progress {
    /// `held`: the plan's text is not all written yet; [`Progress::release`] says when it is.
    pub fn new(terminal: bool, plan: &Plan, held: bool) -> Progress {
        let progress = Progress {
            terminal,
            bar: OnceLock::new(),
            tally: Mutex::new(Tally::new(plan)),
            lines: Mutex::default(),
            held: AtomicBool::new(held),
        };
        if !held {
            progress.flush(false);
        }
        progress
    }

    /// The plan's text is written: lines held until now go out at the next poll.
    pub fn release(&self) {
        self.held.store(false, Ordering::Release);
    }

    /// Called each time the apply has been polled: writes the collected lines, and once
    /// it is `done` leaves the overall line showing the final counts.
    pub fn polled(&self, done: bool) {
        if self.held.load(Ordering::Acquire) {
            return;
        }
        self.flush(done);
        if done {
            if let Some(bar) = self.bar.get() {
                bar.abandon();
            }
        }
    }

    /// Writes the collected lines; on a terminal, then draws the overall line below them
    /// (unless the apply is `done`; nothing to count when nothing changes, as in an apply
    /// that only saves outputs).
    fn flush(&self, done: bool) {
        let Ok(mut lines) = self.lines.lock() else { return };
        if !lines.is_empty() {
            render::to_stdout(&lines);
            lines.clear();
        }
        if self.terminal && !done && self.bar.get().is_none() {
            let Ok(tally) = self.tally.lock() else { return };
            if tally.total > 0 {
                let _ = self.bar.set(overall_line(&tally.status()));
            }
        }
    }

    pub fn show(&self, event: &Event) {
        // Lines first, then the tally, as `flush` takes them.
        let Ok(mut lines) = self.lines.lock() else { return };
        let Ok(mut tally) = self.tally.lock() else { return };
        tally.record(event);
        match self.bar.get() {
            Some(bar) => {
                bar.println(line(event).trim_end());
                bar.set_message(tally.status());
            }
            None => lines.push_str(&line(event)),
        }
    }
}

/// The overall line: a spinner, the counts and the time since the apply began.
fn overall_line(status: &str) -> indicatif::ProgressBar {
    let bar = indicatif::ProgressBar::with_draw_target(None, indicatif::ProgressDrawTarget::stdout());
    let elapsed = |state: &indicatif::ProgressState, w: &mut dyn std::fmt::Write| {
        let _ = w.write_str(&duration(state.elapsed().as_secs_f64()));
    };
    if let Ok(style) = indicatif::ProgressStyle::with_template("{spinner} {msg}, {took} elapsed") {
        bar.set_style(style.with_key("took", elapsed));
    }
    bar.set_message(status.to_string());
    bar.enable_steady_tick(Duration::from_millis(100));
    bar
}

#[cfg(test)]
mod tests {
    use super::*;
    use infra_runtime::diff::InstanceDiff;
    use infra_runtime::plan::PlannedInstance;
    use infra_runtime::state::Mode;

    #[test]
    fn durations_under_a_minute_have_tenths_and_longer_ones_minutes() {
        let cases = [
            (0.0, "0.0s"),
            (0.3, "0.3s"),
            (0.04, "0.0s"),
            (1.0, "1.0s"),
            (12.345, "12.3s"),
            (59.94, "59.9s"),
            (59.96, "1m00s"),
            (65.0, "1m05s"),
            (600.4, "10m00s"),
            (3725.0, "1h02m05s"),
        ];
        for (seconds, expected) in cases {
            assert_eq!(duration(seconds), expected, "{seconds} seconds");
        }
    }

    fn address(text: &str) -> Address {
        text.parse().expect("an address")
    }

    #[test]
    fn each_event_is_one_plain_line() {
        let web = address("web[0]");
        let events = [
            Event::Started { address: web.clone(), action: Action::Create },
            Event::Still { address: web.clone(), action: Action::Create, seconds: 10 },
            Event::Still { address: web.clone(), action: Action::Create, seconds: 70 },
            Event::Finished { address: web.clone(), action: Action::Create, id: Some("i-1".into()), seconds: 0.3 },
            Event::Finished { address: web.clone(), action: Action::Delete, id: None, seconds: 65.2 },
            Event::Failed { address: web.clone(), action: Action::Update },
            Event::Skipped { address: "db".into(), interrupted: false },
            Event::Skipped { address: "cache".into(), interrupted: true },
        ];
        let text: String = events.iter().map(line).collect();
        assert_eq!(
            text,
            "web[0]: Creating...\n\
             web[0]: Still creating... [10s elapsed]\n\
             web[0]: Still creating... [1m10s elapsed]\n\
             web[0]: Creation complete after 0.3s [id=i-1]\n\
             web[0]: Destruction complete after 1m05s\n\
             web[0]: Modifying failed\n\
             db: skipped, because something it depends on failed\n\
             cache: skipped, because the run was interrupted\n"
        );
    }

    fn planned(text: &str, action: Action) -> PlannedInstance {
        PlannedInstance {
            address: address(text),
            resource_type: "null.resource".into(),
            mode: Mode::Managed,
            diff: InstanceDiff::new(action, Vec::new(), None),
            sensitive: Default::default(),
            drifted_from: None,
            record_anyway: false,
            moved_from: None,
            imported: None,
        }
    }

    #[test]
    fn the_total_counts_operations_and_the_status_follows_the_events() {
        let plan = Plan {
            instances: vec![
                planned("a", Action::Create),
                planned("b", Action::Replace { create_before_destroy: false }),
                planned("c", Action::NoOp),
                planned("app[0]", Action::Update),
                planned("app[1]", Action::Delete),
            ],
            ..Plan::default()
        };
        let mut tally = Tally::new(&plan);
        assert_eq!(tally.status(), "0/5 done, 0 in flight, 0 failed", "a replacement is two operations");
        tally.record(&Event::Started { address: address("a"), action: Action::Create });
        tally.record(&Event::Started { address: address("b"), action: Action::Delete });
        assert_eq!(tally.status(), "0/5 done, 2 in flight, 0 failed");
        tally.record(&Event::Finished { address: address("a"), action: Action::Create, id: None, seconds: 0.1 });
        tally.record(&Event::Failed { address: address("b"), action: Action::Delete });
        tally.record(&Event::Skipped { address: "app".into(), interrupted: false });
        assert_eq!(tally.status(), "1/5 done, 0 in flight, 1 failed, 2 skipped");
    }

    #[test]
    fn an_operation_the_plan_did_not_count_raises_the_total() {
        let mut tally = Tally::new(&Plan::default());
        tally.record(&Event::Started { address: address("old"), action: Action::Delete });
        tally.record(&Event::Finished { address: address("old"), action: Action::Delete, id: None, seconds: 0.1 });
        assert_eq!(tally.status(), "1/1 done, 0 in flight, 0 failed");
    }
}
