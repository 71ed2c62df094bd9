//! `infra apply` and `infra destroy`: show the plan, ask for confirmation, then make it
//! so, printing each operation as it starts and ends (see [`crate::progress`]).

use std::io::{BufRead, IsTerminal, Write};
use std::path::PathBuf;

use clap::Args;
use infra_runtime::diff::diff;
use infra_runtime::module::ModuleScope;
use infra_runtime::plan::{apply, plan, ApplyOptions, Event, Plan, PlanContext, PlannedInstance};
use infra_runtime::state::{LockHolder, Mode};

use crate::inputs::InputArgs;
use crate::{render, Output, EXIT_ERRORS, EXIT_OK};

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

    /// At most this many provider operations at once
    #[arg(long, value_name = "N", default_value_t = 10)]
    parallelism: usize,

    /// How long to wait for the state lock, in seconds
    #[arg(long, value_name = "SECONDS", default_value_t = 0)]
    lock_timeout: u64,

    #[command(flatten)]
    backend: crate::session::BackendArgs,
}

pub fn run(args: &ApplyArgs, out: Output, destroy: bool) -> u8 {
    if destroy && !args.selection.replace.is_empty() {
        render::print_error(
            out,
            crate::codes::OPTION_NOT_SUPPORTED,
            "`destroy` does not take --replace",
            "`--replace` is for `apply` and `plan`; `destroy --target ADDRESS` destroys one object and what depends on it",
        );
        return EXIT_ERRORS;
    }
    let saved = if !destroy && args.module_dir.is_file() {
        match crate::saved_plan::load(&args.module_dir) {
            Ok(saved) => Some(saved),
            Err(diagnostic) => {
                render::print_diagnostics(out, &[diagnostic], &infra_compiler::SourceMap::new());
                return EXIT_ERRORS;
            }
        }
    } else {
        None
    };
    let selection = match &saved {
        // A saved plan is applied with the selection it was made with.
        Some(saved) if args.selection.is_selective() || !args.selection.replace.is_empty() => {
            render::print_error(
                out,
                crate::codes::OPTION_NOT_SUPPORTED,
                "a saved plan is applied with the --target, --exclude and --replace it was made with",
                &format!(
                    "leave them out, or run `infra plan --out FILE` again with them (`{}` was saved with {} target(s))",
                    args.module_dir.display(),
                    saved.targets.len()
                ),
            );
            return EXIT_ERRORS;
        }
        Some(saved) => match saved.selection() {
            Ok(selection) => selection,
            Err(diagnostic) => {
                render::print_diagnostics(out, &[diagnostic], &infra_compiler::SourceMap::new());
                return EXIT_ERRORS;
            }
        },
        None => args.selection.selection(),
    };
    let module_dir = saved.as_ref().map_or(args.module_dir.clone(), |s| s.module_dir.clone());
    let (analysis, inputs) = match crate::inputs::checked_module(
        &module_dir,
        &args.inputs,
        out,
        "the module has errors; nothing was changed",
    ) {
        Ok(loaded) => loaded,
        Err(code) => return code,
    };
    let module = &analysis.modules[0];
    let command = if destroy { "infra destroy" } else { "infra apply" };
    let (backend, lock, loaded) = match crate::session::locked_state(
        module,
        &inputs,
        &args.backend,
        &LockHolder::new(command),
        args.lock_timeout,
        &analysis.sources,
        out,
    ) {
        Ok(state) => state,
        Err(code) => return code,
    };
    let env = |name: &str| std::env::var(name).ok();
    let stdlib = infra_stdlib::builtin();
    // Only a saved plan is checked against the sources' digest.
    let digest = saved.is_some().then(|| crate::saved_plan::digest(&analysis, &inputs));
    let scope = ModuleScope::new(module, inputs, stdlib, stdlib, &env);
    let providers = infra_stdlib::providers::factories();
    let mut context = PlanContext {
        scope: &scope,
        modules: &analysis.modules,
        graphs: &analysis.graphs,
        state: &loaded.state,
        providers: &providers,
        // A saved plan is planned again as it was made (refreshed unless it was not,
        // so a plan that showed drift applies) and must come out the same.
        refresh: saved.as_ref().is_none_or(|s| s.refresh),
        selection,
        imports: Vec::new(),
        // The plan shown first is freed before applying; the apply's memory is left
        // to the operating system.
        exiting: false,
    };
    let runtime = match crate::session::runtime(out) {
        Ok(runtime) => runtime,
        Err(code) => return code,
    };
    let shown = if destroy {
        destroy_plan(&loaded.state, &providers, &context.selection)
    } else {
        match runtime.block_on(plan(&context)) {
            Ok(plan) => plan,
            Err(diagnostics) => {
                render::print_diagnostics(out, &diagnostics, &analysis.sources);
                render::print_summary(out, false, &render::count_summary(diagnostics.len(), 0));
                return EXIT_ERRORS;
            }
        }
    };
    if let (Some(saved), Some(digest)) = (&saved, &digest) {
        if let Err(diagnostic) = crate::saved_plan::verify(saved, &loaded.state, digest, &shown) {
            render::print_diagnostics(out, &[diagnostic], &analysis.sources);
            return EXIT_ERRORS;
        }
    }
    let no_changes = shown.changes().count() == 0;
    if no_changes && destroy {
        render::to_stdout("No changes. The state holds nothing to destroy.\n");
        return EXIT_OK;
    }
    // With no changes there is nothing to approve, but what refresh found (the drift
    // notice says what) and the outputs are still saved.
    render::to_stdout(&crate::plan::render_plan(&shown, &[], out.stdout_color));
    render::to_stdout(&crate::plan::retry_notes(&shown));
    // Applying a saved plan is the approval of what was reviewed when it was saved.
    if saved.is_none() && !no_changes && !approved(args.auto_approve, destroy, out) {
        return EXIT_ERRORS;
    }
    let display = crate::progress::Progress::new(std::io::stdout().is_terminal(), &shown);
    let events = |event: Event| display.show(&event);
    let cancelled = std::sync::Arc::new(std::sync::atomic::AtomicBool::new(false));
    watch_interrupts(&runtime, cancelled.clone(), out);
    let options = ApplyOptions {
        backend: backend.as_ref(),
        parallelism: args.parallelism,
        events: &events,
        destroy,
        cancelled: &cancelled,
        import_only: false,
        // Apply executes the plan just shown (a saved plan: as planned again and
        // verified against the saved one above).
        approved: (!destroy).then_some(&shown),
    };
    context.exiting = true;
    let report = runtime.block_on(display.around(apply(&context, &options)));
    let interrupted = cancelled.load(std::sync::atomic::Ordering::SeqCst);
    drop(lock);
    if interrupted {
        render::print_summary(out, false, "interrupted; the state holds everything completed, run again to finish");
        return EXIT_INTERRUPTED;
    }
    render::print_diagnostics(out, &report.errors, &analysis.sources);
    if !report.errors.is_empty() {
        render::print_summary(
            out,
            false,
            &format!("{}; the state holds what was done", render::count_summary(report.errors.len(), 0)),
        );
        return EXIT_ERRORS;
    }
    if no_changes {
        print_outputs(&report.state);
        return EXIT_OK;
    }
    let (created, changed, deleted) = crate::plan::summary(&report.plan);
    let verb = if destroy { "Destroy" } else { "Apply" };
    render::to_stdout(&format!(
        "\n{verb} complete! Resources: {created} added, {changed} changed, {deleted} destroyed.\n"
    ));
    print_outputs(&report.state);
    // The process ends next: freeing the syntax trees, the states and the plans one
    // allocation at a time would cost about a tenth of a large apply (bench/RESULTS.md).
    std::mem::forget(context);
    std::mem::forget(scope);
    std::mem::forget(report);
    std::mem::forget(shown);
    std::mem::forget(loaded);
    std::mem::forget(analysis);
    EXIT_OK
}

fn print_outputs(state: &infra_runtime::state::State) {
    if !state.outputs.is_empty() {
        render::to_stdout("\nOutputs:\n\n");
        for (name, value) in &state.outputs {
            render::to_stdout(&format!("{name} = {value}\n"));
        }
    }
}

/// The exit status of a run stopped by Ctrl-C, as shells report SIGINT.
const EXIT_INTERRUPTED: u8 = 130;

/// The first Ctrl-C stops starting new operations (those in flight finish and the state
/// is saved); a second exits at once.
fn watch_interrupts(
    runtime: &tokio::runtime::Runtime,
    cancelled: std::sync::Arc<std::sync::atomic::AtomicBool>,
    out: Output,
) {
    runtime.spawn(async move {
        if tokio::signal::ctrl_c().await.is_err() {
            return;
        }
        cancelled.store(true, std::sync::atomic::Ordering::SeqCst);
        render::to_stderr("\nInterrupted: no new operations start; waiting for those in flight, then saving the state. Press Ctrl-C again to stop at once.\n");
        if tokio::signal::ctrl_c().await.is_ok() {
            render::print_error(
                out,
                crate::codes::INTERRUPTED,
                "stopped at once: operations in flight may have finished without being recorded",
                "run `infra plan`: operations begun but never confirmed are reported as pending",
            );
            std::process::exit(i32::from(EXIT_INTERRUPTED));
        }
    });
    // The runtime runs one thread: the task above would first be polled (and start
    // listening) only once the apply waits. One turn of the runtime starts it now.
    runtime.block_on(tokio::task::yield_now());
}

/// What destroy will delete: every managed instance in state, or those `--target` and
/// `--exclude` select (see `destroy_selection`).
fn destroy_plan(
    state: &infra_runtime::state::State,
    providers: &[std::sync::Arc<dyn infra_runtime::provider::ProviderFactory>],
    selection: &infra_runtime::plan::Selection,
) -> Plan {
    let selected = infra_runtime::plan::destroy_selection(state, selection);
    let instances = state
        .instances
        .iter()
        .filter(|(address, i)| i.mode == Mode::Managed && selected.as_ref().is_none_or(|s| s.contains(*address)))
        .map(|(address, instance)| {
            let (provider, kind) = instance.resource_type.split_once('.').unwrap_or(("", ""));
            let schema =
                providers.iter().find(|f| f.name() == provider).and_then(|f| f.schema().resources.get(kind).cloned());
            let schema = schema.unwrap_or_default();
            let sensitive = schema.attributes.iter().filter(|a| a.sensitive).map(|a| a.name.clone()).collect();
            PlannedInstance {
                address: address.clone(),
                resource_type: instance.resource_type.clone(),
                mode: Mode::Managed,
                diff: diff(&schema, Some(&instance.attributes), None, false, false),
                sensitive,
                drifted_from: None,
                moved_from: None,
                imported: None,
            }
        })
        .collect();
    Plan { instances, ..Plan::default() }
}

/// Asks for `yes` on a terminal; without one, only `--auto-approve` proceeds.
fn approved(auto_approve: bool, destroy: bool, out: Output) -> bool {
    if auto_approve {
        return true;
    }
    if !std::io::stdin().is_terminal() {
        render::print_error(
            out,
            crate::codes::NOT_CONFIRMED,
            "stdin is not a terminal, so there is no one to confirm",
            "pass --auto-approve to proceed without confirmation",
        );
        return false;
    }
    let what = if destroy { "destroy all of the above" } else { "perform these actions" };
    let _ = write!(std::io::stderr(), "\nDo you want to {what}? Only `yes` will be accepted: ");
    let _ = std::io::stderr().flush();
    let mut answer = String::new();
    let _ = std::io::stdin().lock().read_line(&mut answer);
    if answer.trim() == "yes" {
        true
    } else {
        render::print_error(out, crate::codes::NOT_CONFIRMED, "cancelled; nothing was changed", "only `yes` confirms");
        false
    }
}
