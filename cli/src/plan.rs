//! `infra plan`: what apply would change, rendered as Terraform users expect, or as JSON.

use std::path::PathBuf;

use clap::Args;
use infra_runtime::diff::{Action, AttributeChange, ReplaceCause};
use infra_runtime::module::ModuleScope;
use infra_runtime::plan::{plan, Plan, PlanContext, PlannedInstance};
use infra_runtime::state::LockHolder;
use infra_runtime::Value;

use crate::inputs::InputArgs;
use crate::{render, Output, EXIT_ERRORS, EXIT_OK};

/// `--detailed-exitcode`: the plan has changes.
const EXIT_CHANGES: u8 = 2;

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

pub fn run(args: &PlanArgs, out: Output) -> u8 {
    let (analysis, inputs) = match crate::inputs::checked_module(
        &args.module_dir,
        &args.inputs,
        out,
        "the module has errors; nothing was planned",
    ) {
        Ok(loaded) => loaded,
        Err(code) => return code,
    };
    let module = &analysis.modules[0];
    let (_backend, lock, loaded) = match crate::session::locked_state(
        module,
        &inputs,
        &args.backend,
        &LockHolder::current(),
        args.lock_timeout,
        &analysis.sources,
        out,
    ) {
        Ok(state) => state,
        Err(code) => return code,
    };
    let environment = crate::saved_plan::EnvironmentReads::default();
    let env = |name: &str| environment.get(name);
    let stdlib = infra_stdlib::builtin();
    // Hashing every source costs a millisecond per 100 KB: only for a plan being saved.
    let digest = args.out.is_some().then(|| crate::saved_plan::digest(&analysis, &inputs));
    let scope = ModuleScope::new(module, inputs, stdlib, stdlib, &env);
    let providers = infra_stdlib::providers::factories();
    let context = PlanContext {
        scope: &scope,
        modules: &analysis.modules,
        graphs: &analysis.graphs,
        state: &loaded.state,
        providers: &providers,
        refresh: args.refresh,
        selection: args.selection.selection(),
        imports: Vec::new(),
        exiting: true,
    };
    let runtime = match crate::session::runtime(out) {
        Ok(runtime) => runtime,
        Err(code) => return code,
    };
    let result = runtime.block_on(plan(&context));
    drop(lock);
    let plan = match result {
        Ok(plan) => plan,
        Err(diagnostics) => {
            render::print_diagnostics(out, &diagnostics, &analysis.sources);
            render::print_summary(out, false, &render::count_summary(diagnostics.len(), 0));
            return EXIT_ERRORS;
        }
    };
    if let (Some(path), Some(digest)) = (&args.out, digest) {
        let basis = crate::saved_plan::Basis {
            digest,
            selection: &context.selection,
            refresh: args.refresh,
            environment: &environment,
        };
        if let Err(error) = crate::saved_plan::save(path, &module.dir, &loaded.state, basis, &plan) {
            render::print_error(
                out,
                infra_compiler::diagnostic::codes::COMMAND_FAILED,
                &format!("cannot save the plan to `{}`: {error}", path.display()),
                "check that the directory exists and is writable",
            );
            return EXIT_ERRORS;
        }
    }
    let pending: Vec<String> =
        loaded.state.pending().map(|(address, i)| format!("{address} ({:?})", i.status)).collect();
    if args.json {
        render::to_stdout(&format!("{}\n", serde_json::to_string_pretty(&plan_json(&plan)).unwrap_or_default()));
    } else {
        render::to_stdout(&render_plan(&plan, &pending, out.stdout_color));
        render::to_stdout(&retry_notes(&plan));
    }
    let changes = plan.changes().count() > 0;
    // The process ends next: freeing the syntax trees, the state and the plan one
    // allocation at a time would cost about a tenth of a large plan (bench/RESULTS.md).
    std::mem::forget(context);
    std::mem::forget(scope);
    std::mem::forget(plan);
    std::mem::forget(loaded);
    std::mem::forget(analysis);
    if args.detailed_exitcode && changes {
        EXIT_CHANGES
    } else {
        EXIT_OK
    }
}

/// The plan as text, Terraform style.
pub fn render_plan(plan: &Plan, pending: &[String], color: bool) -> String {
    let mut text = String::new();
    let drifted: Vec<&PlannedInstance> = plan.instances.iter().filter(|i| i.drifted_from.is_some()).collect();
    if !drifted.is_empty() {
        text.push_str("Objects changed outside of Infra:\n\n");
        for instance in &drifted {
            text.push_str(&format!("  # {} was changed or deleted outside of Infra\n", instance.address));
        }
        text.push('\n');
    }
    for line in pending {
        text.push_str(&format!("warning: an operation on {line} began but was never confirmed; check it by hand\n\n"));
    }
    let changes: Vec<&PlannedInstance> = plan.changes().collect();
    if changes.is_empty() {
        text.push_str("No changes. The infrastructure matches the configuration.\n");
        return text;
    }
    text.push_str("Infra will perform the following actions:\n\n");
    for instance in &changes {
        render_instance(&mut text, instance, color);
    }
    let (add, change, destroy) = summary(plan);
    let mut line = format!("Plan: {add} to add, {change} to change, {destroy} to destroy");
    let (moved, imported, forgotten) = refactoring_summary(plan);
    for (count, what) in [(moved, "to move"), (imported, "to import"), (forgotten, "to forget")] {
        if count > 0 {
            line.push_str(&format!(", {count} {what}"));
        }
    }
    text.push_str(&format!("{line}.\n"));
    if !plan.outputs.is_empty() {
        text.push_str("\nOutputs:\n");
        for (name, value) in &plan.outputs {
            text.push_str(&format!("  {name} = {value}\n"));
        }
    }
    text
}

/// How many instances are added, changed and destroyed (a replacement counts as one
/// added and one destroyed).
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

pub fn summary(plan: &Plan) -> (usize, usize, usize) {
    let mut counts = (0, 0, 0);
    for instance in plan.changes() {
        match instance.diff.action {
            Action::Create => counts.0 += 1,
            Action::Update => counts.1 += 1,
            Action::Replace { .. } => {
                counts.0 += 1;
                counts.2 += 1;
            }
            Action::Delete => counts.2 += 1,
            Action::NoOp | Action::Read | Action::Forget => {}
        }
    }
    counts
}

/// How many instances are moved, imported and forgotten.
pub fn refactoring_summary(plan: &Plan) -> (usize, usize, usize) {
    let moved = plan.instances.iter().filter(|i| i.moved_from.is_some()).count();
    let imported = plan.instances.iter().filter(|i| i.imported.is_some()).count();
    let forgotten = plan.instances.iter().filter(|i| i.diff.action == Action::Forget).count();
    (moved, imported, forgotten)
}

fn describe(action: Action) -> &'static str {
    match action {
        Action::Create => "will be created",
        Action::Update => "will be updated in place",
        Action::Replace { create_before_destroy: false } => "must be replaced",
        Action::Replace { create_before_destroy: true } => "must be replaced (created before the old one is destroyed)",
        Action::Delete => "will be destroyed",
        Action::Read => "will be read during apply",
        Action::NoOp => "is unchanged",
        Action::Forget => "will be forgotten: removed from the state, the object itself left as it is",
    }
}

fn color_of(action: Action) -> &'static str {
    match action {
        Action::Create => "32",
        Action::Update | Action::Read => "33",
        Action::Replace { .. } | Action::Delete => "31",
        Action::NoOp | Action::Forget => "0",
    }
}

fn render_instance(text: &mut String, instance: &PlannedInstance, color: bool) {
    let action = instance.diff.action;
    let symbol = render::paint(action.symbol(), color_of(action), color);
    if let Some(from) = &instance.moved_from {
        text.push_str(&format!("  # {from} has moved to {}\n", instance.address));
    }
    if let Some(id) = &instance.imported {
        text.push_str(&format!(
            "  # {} will be imported from id {}\n",
            instance.address,
            infra_runtime::value::quote(id)
        ));
    }
    if action == Action::Forget {
        text.push_str(&format!("  # {} {}\n\n", instance.address, describe(action)));
        return;
    }
    if action == Action::NoOp {
        text.push('\n');
        return;
    }
    let because = match instance.diff.cause {
        Some(ReplaceCause::Requested) => " because of `--replace`",
        Some(ReplaceCause::ReplaceWhen) => " because a value in `replace_when` changed",
        None => "",
    };
    text.push_str(&format!("  # {} {}{because}\n", instance.address, describe(action)));
    text.push_str(&format!("  {symbol} {} {} {{\n", instance.resource_type, instance.address));
    let mut attributes: Vec<&AttributeChange> = instance.diff.attributes.iter().collect();
    attributes.sort_by(|a, b| a.name.cmp(&b.name));
    let shown: Vec<&AttributeChange> = attributes
        .into_iter()
        .filter(|c| match action {
            Action::Update => c.is_change(),
            _ => c.after.as_ref().or(c.before.as_ref()).is_some_and(|v| !v.is_null()),
        })
        .collect();
    let width = shown.iter().map(|c| c.name.len()).max().unwrap_or(0);
    for change in shown {
        let sensitive = instance.sensitive.contains(&change.name);
        let show = |value: &Option<Value>| value.as_ref().map_or("null".to_string(), |v| shown_value(v, sensitive));
        let (marker, body) = match action {
            Action::Create | Action::Read => ("+", show(&change.after)),
            Action::Delete => ("-", show(&change.before)),
            _ if change.is_change() && change.before.as_ref().is_some_and(|v| !v.is_null()) => {
                ("~", format!("{} -> {}", show(&change.before), show(&change.after)))
            }
            _ if change.is_change() => ("+", show(&change.after)),
            _ => (" ", show(&change.after)),
        };
        let reason = if change.forces_replacement { " # forces replacement" } else { "" };
        let marker = render::paint(marker, color_of(action), color);
        text.push_str(&format!("      {marker} {:<width$} = {body}{reason}\n", change.name));
    }
    text.push_str("    }\n\n");
}

fn shown_value(value: &Value, sensitive: bool) -> String {
    if sensitive && value.is_known() {
        "(sensitive value)".to_string()
    } else {
        value.to_string()
    }
}

fn plan_json(plan: &Plan) -> serde_json::Value {
    let changes: Vec<serde_json::Value> = plan
        .changes()
        .map(|instance| {
            let attributes: serde_json::Map<String, serde_json::Value> = instance
                .diff
                .attributes
                .iter()
                .map(|c| {
                    let sensitive = instance.sensitive.contains(&c.name);
                    let side = |v: &Option<Value>| match v {
                        Some(v) if sensitive || v.contains_sensitive() => serde_json::json!({ "sensitive": true }),
                        Some(v) if !v.is_wholly_known() => serde_json::json!({ "unknown": true }),
                        Some(v) => serde_json::json!({ "value": v.to_string() }),
                        None => serde_json::Value::Null,
                    };
                    let entry = serde_json::json!({
                        "before": side(&c.before),
                        "after": side(&c.after),
                        "changed": c.is_change(),
                        "forces_replacement": c.forces_replacement,
                    });
                    (c.name.clone(), entry)
                })
                .collect();
            serde_json::json!({
                "address": instance.address.to_string(),
                "type": instance.resource_type,
                "action": action_name(instance.diff.action),
                "drifted": instance.drifted_from.is_some(),
                "moved_from": instance.moved_from.as_ref().map(ToString::to_string),
                "imported_from": instance.imported,
                "replace_because": instance.diff.cause.map(|cause| match cause {
                    ReplaceCause::Requested => "requested",
                    ReplaceCause::ReplaceWhen => "replace_when",
                }),
                "attributes": attributes,
            })
        })
        .collect();
    let (add, change, destroy) = summary(plan);
    serde_json::json!({ "changes": changes, "summary": { "add": add, "change": change, "destroy": destroy } })
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
