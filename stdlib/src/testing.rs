//! Evaluating a single expression with the whole built-in library: for the function
//! tables in `stdlib/tests/` and for documentation examples.

use std::path::Path;

use infra_runtime::eval::{Evaluator, Locals, NoGlobals};
use infra_runtime::Value;

/// Evaluates `src` with no module, no environment variables and the current directory
/// as the module directory. An error is the diagnostic's message (and help, after a
/// newline), so tests can match on either.
pub fn eval(src: &str) -> Result<Value, String> {
    eval_in(Path::new("."), &[], src)
}

/// Like [`eval`], with `dir` as the module directory and `env` as the only environment
/// variables.
pub fn eval_in(dir: &Path, env: &[(&str, &str)], src: &str) -> Result<Value, String> {
    let expr = infra_compiler::syntax::parse_expression(infra_compiler::FileId(0), src)
        .map_err(|diagnostics| diagnostics.iter().map(|d| d.message.clone()).collect::<Vec<_>>().join("; "))?;
    let lookup = |name: &str| env.iter().find(|(k, _)| *k == name).map(|(_, v)| v.to_string());
    let stdlib = crate::builtin();
    let evaluator =
        Evaluator { functions: stdlib, schemas: stdlib, globals: &NoGlobals, module_dir: dir, env: &lookup };
    evaluator.eval(&expr, &mut Locals::new()).map_err(|d| match d.help {
        Some(help) => format!("{}\n{help}", d.message),
        None => d.message,
    })
}

/// One case of a function table: the source of an expression, and either how its value
/// renders or a fragment of its error message.
pub type Case<'a> = (&'a str, Result<&'a str, &'a str>);

/// Asserts every case, evaluated as by [`eval`].
#[track_caller]
pub fn check(cases: &[Case<'_>]) {
    check_in(Path::new("."), &[], cases);
}

/// Asserts every case, evaluated as by [`eval_in`].
#[track_caller]
pub fn check_in(dir: &Path, env: &[(&str, &str)], cases: &[Case<'_>]) {
    for (src, expected) in cases {
        let actual = eval_in(dir, env, src).map(|v| v.to_string());
        match (expected, &actual) {
            (Ok(want), Ok(got)) => assert_eq!(got, want, "{src}"),
            (Err(want), Err(got)) => assert!(got.contains(want), "{src}: error {got:?} does not contain {want:?}"),
            _ => panic!("{src}: expected {expected:?}, got {actual:?}"),
        }
    }
}
