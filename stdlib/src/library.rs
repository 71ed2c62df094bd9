//! Implementations of the built-in functions, grouped by category. Each group module
//! exports a `FUNCTIONS` table of `(name, implementation)`; [`call`] dispatches on it.
//! Signatures (and so the checker's view of each function) are in `functions.rs`.

pub(crate) mod args;
mod collections;
mod encoding;
mod files;
mod hashing;
mod network;
mod numbers;
mod paths;
mod re2;
mod strings;
mod time;
mod yaml;

pub use files::{content_digest, FileReads};

use infra_runtime::function::{CallContext, FunctionResult};
use infra_runtime::Value;

/// One function's implementation. Arguments are known and unmarked (the evaluator
/// handles unknown and sensitive values before the call).
pub(crate) type Implementation = fn(&[Value], &CallContext<'_>) -> FunctionResult;

fn tables() -> [&'static [(&'static str, Implementation)]; 10] {
    [
        strings::FUNCTIONS,
        collections::FUNCTIONS,
        numbers::FUNCTIONS,
        encoding::FUNCTIONS,
        hashing::FUNCTIONS,
        network::FUNCTIONS,
        files::FUNCTIONS,
        paths::FUNCTIONS,
        time::FUNCTIONS,
        yaml::FUNCTIONS,
    ]
}

/// The implementation of `name`, if there is one.
pub(crate) fn implementation(name: &str) -> Option<Implementation> {
    tables().into_iter().flatten().find(|(n, _)| *n == name).map(|(_, f)| *f)
}

/// Every implemented function name, for the test that signatures and implementations
/// agree.
pub fn implemented() -> Vec<&'static str> {
    let mut names: Vec<&str> = tables().into_iter().flatten().map(|(n, _)| *n).collect();
    names.sort_unstable();
    names
}
