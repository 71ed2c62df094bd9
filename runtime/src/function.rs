//! The interface between the evaluator and the built-in functions.
//!
//! The evaluator handles unknown and sensitive arguments before a function is called:
//! when any argument is not wholly known the result is unknown (of the signature's
//! return type), and when any argument contains a sensitive value the result is marked
//! sensitive. A function therefore only ever sees known values without marks.
//! `try`, `can`, `sensitive`, `nonsensitive` and `issensitive` are special forms of the evaluator and
//! never reach this interface.

use std::path::Path;

use crate::value::Value;

/// Renders a template text with the given variables (for `templatefile`).
pub type RenderTemplate<'a> = dyn Fn(&str, &crate::value::ValueMap) -> Result<Value, String> + 'a;

/// What a function may know about where it is called.
pub struct CallContext<'a> {
    /// The directory of the module the call is in: relative paths start there.
    pub module_dir: &'a Path,
    /// Reads an environment variable; tests substitute their own.
    pub env: &'a dyn Fn(&str) -> Option<String>,
    /// Renders a template text (for `templatefile`) with the given variables.
    pub render_template: &'a RenderTemplate<'a>,
    /// The time the plan being made was started (RFC 3339, UTC), for `plantimestamp`;
    /// `None` outside a plan (the console, the checker), where it is unknown.
    pub plan_timestamp: Option<&'a str>,
}

/// A function's failure. `argument` is the zero-based index of the argument at fault,
/// so the diagnostic can point at it; `None` points at the whole call.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct FunctionError {
    pub message: String,
    pub argument: Option<usize>,
    pub help: Option<String>,
}

impl FunctionError {
    pub fn new(message: impl Into<String>) -> FunctionError {
        FunctionError { message: message.into(), argument: None, help: None }
    }

    /// The error is about argument `index` (zero-based).
    pub fn at(mut self, index: usize) -> FunctionError {
        self.argument = Some(index);
        self
    }

    pub fn with_help(mut self, help: impl Into<String>) -> FunctionError {
        self.help = Some(help.into());
        self
    }
}

pub type FunctionResult = Result<Value, FunctionError>;

/// The built-in function implementations.
pub trait Functions: Sync {
    /// Calls `name`, or returns `None` when there is no such function.
    fn call(&self, name: &str, args: &[Value], context: &CallContext<'_>) -> Option<FunctionResult>;
}

/// The functions as a plan calls them: every call's context has the plan's time, so
/// `plantimestamp()` is one value for the whole plan, in every module.
pub struct AtPlanTime<'a> {
    pub functions: &'a dyn Functions,
    /// RFC 3339, UTC, to the second.
    pub timestamp: String,
}

impl Functions for AtPlanTime<'_> {
    fn call(&self, name: &str, args: &[Value], context: &CallContext<'_>) -> Option<FunctionResult> {
        let context = CallContext { plan_timestamp: Some(&self.timestamp), ..*context };
        self.functions.call(name, args, &context)
    }
}
