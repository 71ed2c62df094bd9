//! What `plan`, `apply` and `destroy` share before planning: the state locked and
//! loaded (its warnings shown), and an async runtime for the providers.

use std::path::Path;
use std::time::Duration;

use infra_compiler::diagnostic::codes;
use infra_compiler::SourceMap;
use infra_runtime::state::{Loaded, LocalBackend, LockHolder, StateBackend, StateLock};

use crate::{render, Output, EXIT_ERRORS};

/// The local state of the module in `dir`, locked for `holder` (waiting up to
/// `lock_timeout` seconds) and loaded. Errors are printed; the exit status is returned.
pub fn locked_state(
    dir: &Path,
    holder: &LockHolder,
    lock_timeout: u64,
    sources: &SourceMap,
    out: Output,
) -> Result<(LocalBackend, StateLock, Loaded), u8> {
    let backend = LocalBackend::new(dir.to_path_buf());
    let failed = |error: infra_runtime::state::StateError| {
        render::print_diagnostics(out, &[error.to_diagnostic()], sources);
        EXIT_ERRORS
    };
    let lock = backend.lock(holder, Duration::from_secs(lock_timeout)).map_err(failed)?;
    let loaded = backend.load().map_err(failed)?;
    let warnings: Vec<_> = loaded.warnings.iter().map(|w| w.to_diagnostic()).collect();
    render::print_diagnostics(out, &warnings, sources);
    Ok((backend, lock, loaded))
}

/// A multi-threaded tokio runtime for provider operations.
pub fn runtime(out: Output) -> Result<tokio::runtime::Runtime, u8> {
    tokio::runtime::Builder::new_multi_thread().enable_all().build().map_err(|error| {
        render::print_error(
            out,
            codes::COMMAND_FAILED,
            &format!("cannot start the async runtime: {error}"),
            "the system refused to start threads; check its resource limits",
        );
        EXIT_ERRORS
    })
}
