//! `infra import ADDR ID`: records an existing object in state as the instance `ADDR`,
//! through its provider's import, without changing anything else.

use std::path::PathBuf;

use clap::Args;
use infra_runtime::address::Address;
use infra_runtime::module::ModuleScope;
use infra_runtime::plan::{apply, ApplyOptions, Event, PlanContext, Selection};
use infra_runtime::state::LockHolder;

use crate::inputs::InputArgs;
use crate::{render, Output, EXIT_ERRORS, EXIT_OK};

#[derive(Args, Debug)]
pub struct ImportArgs {
    /// The instance to import into, such as `web` or `env["prod"].web[0]`
    #[arg(value_name = "ADDR", value_parser = crate::selection::parse_address)]
    address: Address,

    /// The object's id, as the provider's documentation describes it
    #[arg(value_name = "ID")]
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

pub fn run(args: &ImportArgs, out: Output) -> u8 {
    let (analysis, inputs) = match crate::inputs::checked_module(
        &args.module_dir,
        &args.inputs,
        out,
        "the module has errors; nothing was imported",
    ) {
        Ok(loaded) => loaded,
        Err(code) => return code,
    };
    let module = &analysis.modules[0];
    let (backend, lock, loaded) = match crate::session::locked_state(
        module,
        &inputs,
        &args.backend,
        &LockHolder::new("infra import"),
        args.lock_timeout,
        &analysis.sources,
        out,
    ) {
        Ok(state) => state,
        Err(code) => return code,
    };
    if loaded.state.instances.contains_key(&args.address) {
        render::print_error(
            out,
            crate::codes::STATE_ADDRESS_TAKEN,
            &format!("{} is already in the state", args.address),
            "`infra state rm` it first to import another object in its place",
        );
        return EXIT_ERRORS;
    }
    let env = |name: &str| std::env::var(name).ok();
    let stdlib = infra_stdlib::builtin();
    let scope = ModuleScope::new(module, inputs, stdlib, stdlib, &env);
    let providers = infra_stdlib::providers::factories();
    let context = PlanContext {
        scope: &scope,
        modules: &analysis.modules,
        graphs: &analysis.graphs,
        state: &loaded.state,
        providers: &providers,
        refresh: false,
        selection: Selection { targets: vec![args.address.clone()], ..Selection::default() },
        imports: vec![(args.address.clone(), args.id.clone())],
        exiting: true,
    };
    let runtime = match crate::session::runtime(out) {
        Ok(runtime) => runtime,
        Err(code) => return code,
    };
    let cancelled = std::sync::atomic::AtomicBool::new(false);
    let options = ApplyOptions {
        backend: backend.as_ref(),
        parallelism: 10,
        events: &|_: Event| {},
        destroy: false,
        cancelled: &cancelled,
        import_only: true,
        approved: None,
    };
    let report = runtime.block_on(apply(&context, &options));
    drop(lock);
    if !report.errors.is_empty() {
        render::print_diagnostics(out, &report.errors, &analysis.sources);
        render::print_summary(out, false, &render::count_summary(report.errors.len(), 0));
        return EXIT_ERRORS;
    }
    render::to_stdout(&format!(
        "Imported {} from id {}. Run `infra plan` to see how it differs from the configuration.\n",
        args.address,
        infra_runtime::value::quote(&args.id)
    ));
    EXIT_OK
}
