//! The command line's own diagnostic codes (E08xx: about the invocation, not about
//! source), and the one registry of every crate's codes that `infra explain` serves.
//!
//! Each crate declares the codes it reports in the same form (`infra_compiler::codes!`):
//! the language's in `infra_compiler::diagnostic::codes`, the runtime's in
//! `infra_runtime::codes`, the PostgreSQL backend's in `infra_backend_postgres::codes`, the S3 backend's in
//! `infra_backend_s3::codes`, the state encryption's in `infra_state_encryption::codes`,
//! the plugin installer's in `infra_provider_plugin::codes`.
//! The CLI is the one crate that sees them all, so the registry is assembled here. The
//! language's and the runtime's codes are re-exported beside the CLI's, so a command
//! names any code it reports as `codes::NAME`; the lists' own `ALL` and `title` are
//! ambiguous here and therefore named by their module.

pub use self::cli::*;
pub use infra_compiler::diagnostic::codes::*;
pub use infra_runtime::codes::*;

/// The CLI's own codes.
pub mod cli {
    infra_compiler::codes! {
        NOT_CONFIRMED = "E0800", "changes not confirmed";
        OPTION_NOT_SUPPORTED = "E0801", "option not supported here";
        NOT_IN_STATE = "E0802", "not in the state";
        COMMAND_FAILED = "E0803", "command cannot run";
        UNKNOWN_CODE = "E0804", "unknown diagnostic code";
        INTERRUPTED = "E0805", "interrupted";
        INVALID_STATE_DOCUMENT = "E0807", "input is not a state document";
    }
}

/// Every code of every crate with its title, in code order (errors before warnings).
pub fn registry() -> Vec<(Code, &'static str)> {
    let lists = [
        infra_compiler::diagnostic::codes::ALL,
        infra_runtime::codes::ALL,
        infra_backend_postgres::codes::ALL,
        infra_backend_s3::codes::ALL,
        infra_state_encryption::codes::ALL,
        infra_provider_plugin::codes::ALL,
        cli::ALL,
    ];
    let mut every: Vec<(Code, &'static str)> = lists.into_iter().flatten().copied().collect();
    every.sort_by_key(|(code, _)| *code);
    every
}
