//! `infra import ADDR ID`: records an existing object in state as the instance `ADDR`,
//! through its provider's import, without changing anything else.

use std::path::PathBuf;

use clap::Args;
use infra_compiler::SourceMap;
use infra_runtime::address::Address;
use infra_runtime::session::ImportError;
use infra_runtime::state::LockHolder;

use crate::inputs::InputArgs;
use crate::output::{Output, Report};
use crate::render;
use crate::session::Opening;

#[derive(Args, Debug)]
pub struct ImportArgs {
    /// The instance to import into, such as `web` or `env["prod"].web[0]`
    #[arg(value_name = "ADDR", value_parser = crate::selection::parse_address)]
    address: Address,

    /// The object's id, as the provider's documentation describes it (an id may start
    /// with `-`, as a random one may: `infra import token -S54_sY1PM8`)
    #[arg(value_name = "ID", allow_hyphen_values = true)]
    id: String,

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

pub fn run(args: &ImportArgs, out: Output) -> Report {
    let session = match crate::session::open(Opening {
        module_dir: &args.module_dir,
        inputs: &args.inputs,
        backend: &args.backend,
        holder: LockHolder::new("infra import"),
        lock_timeout: args.lock_timeout,
        refusal: "the module has errors; nothing was imported",
    }) {
        Ok(session) => session,
        Err(report) => return report,
    };
    out.show(&session.warnings(), session.sources());
    let result = session.import(&args.address, &args.id);
    session.unlock();
    let failed = match result {
        Ok(()) => None,
        Err(ImportError::Taken(diagnostic)) => Some(Report::failed(vec![diagnostic], SourceMap::new())),
        Err(ImportError::Failed(errors)) => Some(Report::failed(errors, session.sources().clone())),
    };
    if let Some(report) = failed {
        return nothing_imported(report);
    }
    render::to_stdout(&format!(
        "Imported {} from id {}. Run `infra plan` to see how it differs from the configuration.\n",
        args.address,
        infra_runtime::value::quote(&args.id)
    ));
    Report::ok()
}

/// A failed import writes nothing (`Session::import`), and its summary says so.
fn nothing_imported(report: Report) -> Report {
    let count = render::count_summary(report.diagnostics.len(), 0);
    report.with_summary(false, format!("{count}; nothing was imported, the state is unchanged"))
}
