//! `infra plan`: what apply would change, rendered as Terraform users expect, or as JSON.

use std::path::PathBuf;

use clap::Args;
use infra_runtime::diff::{Action, ReplaceCause};
use infra_runtime::plan::Plan;
use infra_runtime::session::PlanOptions;
use infra_runtime::state::LockHolder;
use infra_runtime::Value;

use crate::inputs::InputArgs;
use crate::output::{Output, Report, EXIT_CHANGES, EXIT_OK};
use crate::render;
pub use crate::render_plan::summary;
use crate::session::Opening;

#[derive(Args, Debug)]
pub struct PlanArgs {
    /// The root module
    #[arg(value_name = "DIR", default_value = ".")]
    module_dir: PathBuf,

    #[command(flatten)]
    inputs: InputArgs,

    #[command(flatten)]
    selection: crate::selection::SelectionArgs,

    /// Print the plan as one JSON document on stdout
    #[arg(long)]
    json: bool,

    /// Save the plan, for `infra apply FILE` to apply exactly
    #[arg(long = "out", short = 'o', value_name = "FILE")]
    out: Option<PathBuf>,

    /// Exit 0 when nothing would change, 2 when something would, 1 on errors
    #[arg(long)]
    detailed_exitcode: bool,

    /// Read every managed object through its provider first, to show drift
    #[arg(long, default_value_t = true, action = clap::ArgAction::Set, value_name = "BOOL")]
    refresh: bool,

    /// How long to wait for the state lock, in seconds
    #[arg(long, value_name = "SECONDS", default_value_t = 0)]
    lock_timeout: u64,

    #[command(flatten)]
    backend: crate::session::BackendArgs,
}

pub fn run(args: &PlanArgs, out: Output) -> Report {
    let session = match crate::session::open(Opening {
        module_dir: &args.module_dir,
        inputs: &args.inputs,
        backend: &args.backend,
        holder: LockHolder::current(),
        lock_timeout: args.lock_timeout,
        refusal: "the module has errors; nothing was planned",
    }) {
        Ok(session) => session,
        Err(report) => return report,
    };
    out.show(&session.warnings(), session.sources());
    // Hashing every source costs a millisecond per 100 KB: only for a plan being saved.
    let fingerprint = args.out.is_some().then(|| session.fingerprint());
    let run = session.run(PlanOptions { refresh: args.refresh, selection: args.selection.selection(), exiting: true });
    // The files the configuration reads are recorded in a saved plan.
    let file_reads = args.out.is_some().then(infra_stdlib::library::FileReads::start);
    let result = run.plan_until(crate::output::planning_interrupted());
    let files = file_reads.map(infra_stdlib::library::FileReads::finish).unwrap_or_default();
    session.unlock();
    let plan = match result {
        Ok(plan) => plan,
        Err(diagnostics) => return Report::planned(diagnostics, session.sources().clone()).with_count(),
    };
    if let (Some(path), Some(fingerprint)) = (&args.out, fingerprint) {
        if let Err(error) =
            session.save_plan(path, &plan, fingerprint, run.options(), files, args.backend.workspace_name())
        {
            return Report::error(
                crate::codes::COMMAND_FAILED,
                &format!("cannot save the plan to `{}`: {error}", path.display()),
                "check that the directory exists and is writable",
            );
        }
    }
    let pending = pending_notes(session.state());
    out.show(&plan.warnings, session.sources());
    if args.json {
        render::to_stdout(&format!("{}\n", serde_json::to_string_pretty(&plan_json(&plan)).unwrap_or_default()));
    } else {
        crate::render_plan::print(&plan, &pending, out.stdout_color, true);
        render::to_stdout(&retry_notes(&plan));
    }
    // Outputs the apply would change count as changes, as in Terraform.
    let changes = plan.changes().count() > 0 || !plan.output_changes().is_empty();
    // The process ends next: freeing the syntax trees, the state and the plan one
    // allocation at a time would cost about a tenth of a large plan (bench/RESULTS.md).
    std::mem::forget(plan);
    std::mem::forget(run);
    session.finish();
    Report::exit(if args.detailed_exitcode && changes { EXIT_CHANGES } else { EXIT_OK })
}

/// One line per read that failed with a transient error and was tried again.
pub fn retry_notes(plan: &Plan) -> String {
    let mut text = String::new();
    for (address, message) in &plan.retries {
        text.push_str(&format!(
            "\nNote: reading {address} failed with a transient error and was tried again: {message}\n"
        ));
    }
    text
}

fn plan_json(plan: &Plan) -> serde_json::Value {
    let changes: Vec<serde_json::Value> = plan
        .changes()
        .map(|instance| {
            let attributes: serde_json::Map<String, serde_json::Value> = instance
                .diff
                .attributes()
                .map(|c| {
                    let sensitive = instance.sensitive.contains(c.name.as_str());
                    let side = |v: &Option<Value>| match v {
                        Some(v) if sensitive || v.contains_sensitive() => serde_json::json!({ "sensitive": true }),
                        Some(v) if !v.is_wholly_known() => serde_json::json!({ "unknown": true }),
                        Some(v) => serde_json::json!({ "value": crate::json::value(v) }),
                        None => serde_json::Value::Null,
                    };
                    let entry = serde_json::json!({
                        "before": side(&c.before),
                        "after": side(&c.after),
                        "changed": c.is_change(),
                        "forces_replacement": c.forces_replacement,
                    });
                    (c.name.to_string(), entry)
                })
                .collect();
            serde_json::json!({
                "address": instance.address.to_string(),
                "type": instance.resource_type.as_str(),
                "action": action_name(instance.diff.action),
                "drifted": instance.drifted_from.is_some(),
                "moved_from": instance.moved_from.as_ref().map(ToString::to_string),
                "imported_from": instance.imported,
                "replace_because": instance.diff.cause.map(|cause| match cause {
                    ReplaceCause::Requested => "requested",
                    ReplaceCause::ReplaceWhen => "replace_when",
                    ReplaceCause::TypeChanged => "type_changed",
                }),
                "attributes": attributes,
            })
        })
        .collect();
    let (add, change, destroy) = summary(plan);
    let retries: Vec<serde_json::Value> = plan
        .retries
        .iter()
        .map(|(address, message)| serde_json::json!({ "address": address.to_string(), "error": message }))
        .collect();
    serde_json::json!({
        "changes": changes,
        "summary": { "add": add, "change": change, "destroy": destroy },
        "retries": retries,
        "warnings": plan.warnings.iter().map(|w| serde_json::json!({ "code": w.code.0, "message": w.message })).collect::<Vec<_>>(),
    })
}

fn action_name(action: Action) -> &'static str {
    match action {
        Action::Create => "create",
        Action::Update => "update",
        Action::Replace { create_before_destroy: false } => "replace",
        Action::Replace { create_before_destroy: true } => "create-before-destroy",
        Action::Delete => "delete",
        Action::Read => "read",
        Action::NoOp => "no-op",
        Action::Forget => "forget",
    }
}

/// What the plan says of the instances whose last operation was not confirmed: one
/// line each, or, for more than a few unconfirmed operations (a run stopped while many
/// were ready), one line for them all.
pub(crate) fn pending_notes(state: &infra_runtime::state::State) -> Vec<String> {
    use infra_runtime::state::Status;
    let (partly, unconfirmed): (Vec<_>, Vec<_>) =
        state.pending().partition(|(_, instance)| instance.status == Status::PartlyCreated);
    let mut notes: Vec<String> = partly.iter().map(|(address, i)| pending_note(address, i.status)).collect();
    if unconfirmed.len() <= 3 {
        notes.extend(unconfirmed.iter().map(|(address, i)| pending_note(address, i.status)));
    } else {
        let named: Vec<String> = unconfirmed.iter().take(5).map(|(address, _)| address.to_string()).collect();
        let more = if unconfirmed.len() > 5 { ", ..." } else { "" };
        notes.push(format!(
            "{} operations began and were never confirmed (Infra stopped while they were ready or running): {}{more}; \
             creates are made again and the rest were read, as the plan shows; check objects made outside Infra by hand",
            unconfirmed.len(),
            named.join(", ")
        ));
    }
    notes
}

/// What the plan says of an instance whose last operation was not confirmed.
fn pending_note(address: &infra_runtime::address::Address, status: infra_runtime::state::Status) -> String {
    use infra_runtime::state::{Action, Status};
    if status == Status::PartlyCreated {
        return format!(
            "the create of {address} stopped after its object was made; the plan read it: it is taken over when it is there, made again when it is gone"
        );
    }
    let action = match status.pending_action() {
        Some(Action::Create) => "a create",
        Some(Action::Read) => "a read",
        Some(Action::Update) => "an update",
        Some(Action::Delete) => "a delete",
        Some(Action::Import) => "an import",
        None => "an operation",
    };
    format!("{action} of {address} began but was never confirmed; check it by hand")
}
