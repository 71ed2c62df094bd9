//! `infra apply` and `infra destroy`: show the plan, ask for confirmation, then make it
//! so, printing each operation as it starts and ends (see [`crate::progress`]).

use std::io::{BufRead, IsTerminal, Write};
use std::path::{Path, PathBuf};

use crate::codes;
use clap::Args;
use infra_compiler::diagnostic::Diagnostic;
use infra_compiler::SourceMap;
use infra_runtime::plan::{Event, Plan, Selection};
use infra_runtime::saved_plan::{self, SavedPlan};
use infra_runtime::session::{ApplyRun, PlanOptions, Run, Session};
use infra_runtime::state::LockHolder;

use crate::inputs::InputArgs;
use crate::output::{Output, Report, EXIT_INTERRUPTED};
use crate::progress::Progress;
use crate::render;
use crate::session::Opening;

#[derive(Args, Debug)]
pub struct ApplyArgs {
    /// The root module, or a plan saved by `infra plan --out FILE` to apply exactly
    #[arg(value_name = "DIR|PLAN", default_value = ".")]
    module_dir: PathBuf,

    #[command(flatten)]
    inputs: InputArgs,

    #[command(flatten)]
    selection: crate::selection::SelectionArgs,

    /// Apply without asking; required when stdin is not a terminal
    #[arg(long)]
    auto_approve: bool,

    /// At most this many provider operations at once (1 or more)
    #[arg(long, value_name = "N", default_value_t = 10, value_parser = clap::value_parser!(u16).range(1..))]
    parallelism: u16,

    /// How long to wait for the state lock, in seconds
    #[arg(long, value_name = "SECONDS", default_value_t = 0)]
    lock_timeout: u64,

    #[command(flatten)]
    backend: crate::session::BackendArgs,
}

pub fn run(args: &ApplyArgs, out: Output, destroy: bool) -> Report {
    if destroy && !args.selection.replace.is_empty() {
        return Report::error(
            codes::OPTION_NOT_SUPPORTED,
            "`destroy` does not take --replace",
            "`--replace` is for `apply` and `plan`; `destroy --target ADDRESS` destroys one object and what depends on it",
        );
    }
    // `infra apply FILE` applies a saved plan, found with its module (whose state
    // holds the keys of a sealed one).
    let file = match (!destroy && args.module_dir.is_file()).then(|| saved_plan::load(&args.module_dir)) {
        None => None,
        Some(Ok(file)) => Some(file),
        Some(Err(diagnostic)) => return Report::failed(vec![diagnostic], SourceMap::new()),
    };
    if let Some(diagnostic) = file.as_ref().and_then(|file| other_workspace(file, args.backend.workspace_name())) {
        return Report::failed(vec![diagnostic], SourceMap::new());
    }
    let module_dir = file.as_ref().map_or(args.module_dir.clone(), |f| f.module_dir.clone());
    let mut session = match crate::session::open(Opening {
        module_dir: &module_dir,
        inputs: &args.inputs,
        backend: &args.backend,
        holder: LockHolder::new(if destroy { "infra destroy" } else { "infra apply" }),
        lock_timeout: args.lock_timeout,
        refusal: "the module has errors; nothing was changed",
    }) {
        Ok(session) => session,
        Err(report) => return report,
    };
    let saved = match file.map(|file| session.open_plan(file)).transpose() {
        Ok(saved) => saved,
        Err(diagnostic) => return Report::failed(vec![diagnostic], SourceMap::new()),
    };
    let selection = match selection(args, saved.as_ref()) {
        Ok(selection) => selection,
        Err(report) => return report,
    };
    // A saved plan is planned again at the time it was made, which `plantimestamp()` gave.
    if let Some(timestamp) = saved.as_ref().and_then(|s| s.plan_timestamp.clone()) {
        session.plan_at(timestamp);
    }
    out.show(&session.warnings(), session.sources());
    let run = session.run(PlanOptions {
        // A saved plan is planned again as it was made (refreshed unless it was not,
        // so a plan that showed drift applies) and must come out the same.
        refresh: saved.as_ref().is_none_or(|s| s.refresh),
        selection,
        // The plan shown first is freed before applying; the apply's memory is left
        // to the operating system.
        exiting: false,
    });
    let shown = match shown_plan(&session, &run, saved.as_ref(), destroy) {
        Ok(shown) => shown,
        Err(report) => return report,
    };
    let no_changes = shown.changes().count() == 0;
    if no_changes && destroy {
        render::to_stdout("No changes. The state holds nothing to destroy.\n");
        return Report::ok();
    }
    // With no changes there is nothing to approve, but what refresh found (the drift
    // notice says what) and the outputs are still saved. Applying a saved plan is the
    // approval of what was reviewed when it was saved.
    let asks = saved.is_none() && !no_changes && !args.auto_approve;
    let settings = Execution { parallelism: usize::from(args.parallelism), destroy, no_changes };
    let terminal = std::io::stdout().is_terminal();
    let sources = session.sources();
    // Operations an earlier run began and never confirmed are named, as `plan` names them.
    let pending = crate::plan::pending_notes(session.state());
    let shown_with = (&shown, pending.as_slice());
    // A terminal shows the plan first, then the overall line counting from zero.
    let report = if asks || terminal {
        print_shown(shown_with, out, sources, true);
        if asks {
            if let Err(report) = approved(args.auto_approve, destroy) {
                return report;
            }
        }
        execute(&session, run, &shown, &settings, out, (&Progress::new(terminal, &shown, false), None))
    } else {
        // Nothing to wait for and no one watching: the apply starts at once, and the
        // plan's text (some fifty megabytes for 10,000 large resources) is written
        // meanwhile on another core. Progress lines wait until it is all out.
        let display = Progress::new(terminal, &shown, true);
        std::thread::scope(|scope| {
            // One thread: the engine has the other core.
            let printing = scope.spawn(|| {
                print_shown(shown_with, out, sources, false);
                display.release();
            });
            execute(&session, run, &shown, &settings, out, (&display, Some(printing)))
        })
    };
    // The process ends next: freeing the plan one allocation at a time would cost about
    // a tenth of a large apply (bench/RESULTS.md).
    std::mem::forget(shown);
    session.finish();
    report
}

/// The plan as text, with the notes and warnings that go with it; rendered on
/// `two_threads` when nothing else runs meanwhile.
fn print_shown((shown, pending): (&Plan, &[String]), out: Output, sources: &SourceMap, two_threads: bool) {
    crate::render_plan::print(shown, pending, out.stdout_color, two_threads);
    render::to_stdout(&crate::plan::retry_notes(shown));
    out.show(&shown.warnings, sources);
}

/// E0710 when `file` was saved in another workspace than `workspace`: its state is not
/// the one the plan was made from (checked before that state is locked or read).
fn other_workspace(file: &saved_plan::PlanFile, workspace: &str) -> Option<Diagnostic> {
    let saved = file.workspace.as_deref().filter(|saved| *saved != workspace)?;
    let message = format!("the saved plan was made in the workspace `{saved}`, and this apply uses `{workspace}`");
    Some(Diagnostic::error(infra_runtime::codes::STALE_PLAN, message).with_help(format!(
        "apply it in its workspace (`--workspace {saved}`, or INFRA_WORKSPACE={saved}), or plan again in `{workspace}`"
    )))
}

/// The plan to show: what destroy deletes, or the plan made now (for a saved plan:
/// verified to be the one saved).
fn shown_plan(session: &Session<'_>, run: &Run<'_>, saved: Option<&SavedPlan>, destroy: bool) -> Result<Plan, Report> {
    let failed = |diagnostics| Report::planned(diagnostics, session.sources().clone()).with_count();
    if destroy {
        return run.destroy_plan().map_err(failed);
    }
    let shown = run.plan_until(crate::output::planning_interrupted()).map_err(failed)?;
    if let Some(saved) = saved {
        let file_digest =
            |path: &Path| std::fs::read(path).ok().map(|bytes| infra_stdlib::library::content_digest(&bytes));
        if let Err(diagnostic) = session.verify(saved, &shown, &file_digest) {
            return Err(Report::failed(vec![diagnostic], session.sources().clone()));
        }
    }
    Ok(shown)
}

/// How the approved plan is executed.
struct Execution {
    parallelism: usize,
    destroy: bool,
    /// The plan changes nothing (what refresh found and the outputs are still saved).
    no_changes: bool,
}

/// Executes the plan shown, with progress, and says how it went; `printing` is the
/// thread still writing the plan's text, if any. The caller ends the session.
fn execute(
    session: &Session<'_>,
    run: Run<'_>,
    shown: &Plan,
    settings: &Execution,
    out: Output,
    (display, printing): (&Progress, Option<std::thread::ScopedJoinHandle<'_, ()>>),
) -> Report {
    let events = |event: Event| display.show(&event);
    let polled = |done: bool| display.polled(done);
    let cancelled = std::sync::Arc::new(infra_runtime::provider::Interrupt::new());
    watch_interrupts(session.runtime(), cancelled.clone(), out);
    // Apply executes the plan just shown (a saved plan: as planned again and verified
    // against the saved one).
    let apply_run = ApplyRun {
        parallelism: settings.parallelism,
        events: &events,
        destroy: settings.destroy,
        cancelled: &cancelled,
        polled: &polled,
        exiting: true,
    };
    let report = run.apply(shown, &apply_run);
    if let Some(printing) = printing {
        // The plan's text is out before anything that follows it.
        if let Err(panic) = printing.join() {
            std::panic::resume_unwind(panic);
        }
        display.polled(true);
    }
    // Warnings the plan shown did not already give.
    let new_warnings: Vec<_> = report.plan.warnings.iter().filter(|w| !shown.warnings.contains(w)).cloned().collect();
    out.show(&new_warnings, session.sources());
    let interrupted = cancelled.is_set();
    session.unlock();
    if interrupted {
        // Operations the interruption ended early say so, with what they did.
        let report = Report { exit: EXIT_INTERRUPTED, ..Report::failed(report.errors, session.sources().clone()) };
        return report.with_summary(false, "interrupted; the state holds everything completed, run again to finish");
    }
    if !report.errors.is_empty() {
        let summary = format!("{}; the state holds what was done", render::count_summary(report.errors.len(), 0));
        return Report::failed(report.errors, session.sources().clone()).with_summary(false, summary);
    }
    if settings.no_changes {
        print_outputs(&report.state);
        return Report::ok();
    }
    let (created, changed, deleted) = crate::plan::summary(&report.plan);
    let verb = if settings.destroy { "Destroy" } else { "Apply" };
    render::to_stdout(&format!(
        "\n{verb} complete! Resources: {created} added, {changed} changed, {deleted} destroyed.\n"
    ));
    print_outputs(&report.state);
    // The process ends next: freeing the syntax trees, the states and the plans one
    // allocation at a time would cost about a tenth of a large apply (bench/RESULTS.md).
    std::mem::forget(report);
    std::mem::forget(run);
    Report::ok()
}

/// The selection to apply with: the flags', or a saved plan's (which takes none).
fn selection(args: &ApplyArgs, saved: Option<&SavedPlan>) -> Result<Selection, Report> {
    match saved {
        // A saved plan is applied with the selection it was made with.
        Some(saved) if args.selection.is_selective() || !args.selection.replace.is_empty() => Err(Report::error(
            codes::OPTION_NOT_SUPPORTED,
            "a saved plan is applied with the --target, --exclude and --replace it was made with",
            &format!(
                "leave them out, or run `infra plan --out FILE` again with them (`{}` was saved with {} target(s))",
                args.module_dir.display(),
                saved.targets.len()
            ),
        )),
        Some(saved) => saved.selection().map_err(|diagnostic| Report::failed(vec![diagnostic], SourceMap::new())),
        None => Ok(args.selection.selection()),
    }
}

fn print_outputs(state: &infra_runtime::state::State) {
    if !state.outputs.is_empty() {
        render::to_stdout("\nOutputs:\n\n");
        for (name, value) in &state.outputs {
            render::to_stdout(&format!("{name} = {value}\n"));
        }
    }
}

/// The first Ctrl-C stops starting new operations and tells the providers to stop (a
/// plugin is sent `StopProvider`; built-in providers let their operations finish), then
/// the state is saved; a second exits at once.
fn watch_interrupts(
    runtime: &tokio::runtime::Runtime,
    cancelled: std::sync::Arc<infra_runtime::provider::Interrupt>,
    out: Output,
) {
    runtime.spawn(async move {
        if tokio::signal::ctrl_c().await.is_err() {
            return;
        }
        render::to_stderr("\nInterrupted: no new operations start; waiting for those in flight, then saving the state. Press Ctrl-C again to stop at once.\n");
        cancelled.interrupt();
        if tokio::signal::ctrl_c().await.is_ok() {
            let report = Report::error(
                codes::INTERRUPTED,
                "stopped at once: operations in flight may have finished without being recorded",
                "run `infra plan`: operations begun but never confirmed are reported as pending",
            );
            infra_provider_plugin::handshake::stop_all();
            std::process::exit(i32::from(out.finish(Report { exit: EXIT_INTERRUPTED, ..report })));
        }
    });
    // The runtime runs one thread: the task above would first be polled (and start
    // listening) only once the apply waits. One turn of the runtime starts it now.
    runtime.block_on(tokio::task::yield_now());
}

/// Asks for `yes` on a terminal; without one, only `--auto-approve` proceeds.
fn approved(auto_approve: bool, destroy: bool) -> Result<(), Report> {
    if auto_approve {
        return Ok(());
    }
    if !std::io::stdin().is_terminal() {
        return Err(Report::error(
            codes::NOT_CONFIRMED,
            "stdin is not a terminal, so there is no one to confirm",
            "pass --auto-approve to proceed without confirmation",
        ));
    }
    let what = if destroy { "destroy all of the above" } else { "perform these actions" };
    let _ = write!(std::io::stderr(), "\nDo you want to {what}? Only `yes` will be accepted: ");
    let _ = std::io::stderr().flush();
    let mut answer = String::new();
    let _ = std::io::stdin().lock().read_line(&mut answer);
    if answer.trim() == "yes" {
        Ok(())
    } else {
        Err(Report::error(codes::NOT_CONFIRMED, "cancelled; nothing was changed", "only `yes` confirms"))
    }
}
