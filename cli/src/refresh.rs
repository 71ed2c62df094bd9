//! `infra refresh`: read every managed object through its provider and record what it is
//! now in the state, changing no object (Terraform's `apply -refresh-only -auto-approve`).

use std::path::PathBuf;

use clap::Args;
use infra_runtime::session::PlanOptions;
use infra_runtime::state::LockHolder;

use crate::inputs::InputArgs;
use crate::output::{Output, Report};
use crate::render;
use crate::session::Opening;

#[derive(Args, Debug)]
pub struct RefreshArgs {
    /// The root module
    #[arg(value_name = "DIR", default_value = ".")]
    module_dir: PathBuf,

    #[command(flatten)]
    inputs: InputArgs,

    /// How long to wait for the state lock, in seconds
    #[arg(long, value_name = "SECONDS", default_value_t = 0)]
    lock_timeout: u64,

    #[command(flatten)]
    backend: crate::session::BackendArgs,
}

pub fn run(args: &RefreshArgs, out: Output) -> Report {
    let session = match crate::session::open(Opening {
        module_dir: &args.module_dir,
        inputs: &args.inputs,
        backend: &args.backend,
        holder: LockHolder::new("infra refresh"),
        lock_timeout: args.lock_timeout,
        refusal: "the module has errors; nothing was refreshed",
    }) {
        Ok(session) => session,
        Err(report) => return report,
    };
    out.show(&session.warnings(), session.sources());
    let run = session.run(PlanOptions { refresh: true, ..PlanOptions::default() });
    let planned = match run.plan() {
        Ok(planned) => planned,
        Err(diagnostics) => return Report::failed(diagnostics, session.sources().clone()).with_count(),
    };
    // What the providers warned about while reading says why an object reads as it does
    // (a link where a file was), as the plan's warnings do.
    out.show(&planned.warnings, session.sources());
    let report = run.refresh(&planned);
    session.unlock();
    if !report.errors.is_empty() {
        let summary = format!("{}; the state holds what was recorded", render::count_summary(report.errors.len(), 0));
        return Report::failed(report.errors, session.sources().clone()).with_summary(false, summary);
    }
    let drifted = planned.instances.iter().filter(|i| i.drifted_from.is_some()).count();
    if drifted == 0 {
        render::to_stdout("No changes. The state matches the objects.\n");
    } else {
        render::to_stdout(&crate::render_plan::render_drift_only(&planned, out.stdout_color));
        let objects = render::plural(drifted, "object");
        render::to_stdout(&format!("Refresh complete! {objects} changed outside of Infra recorded in the state.\n"));
    }
    Report::ok()
}
