//! The language's diagnostic codes, with a one-line title: loading, syntax, names,
//! types, schemas, the graph and evaluation (E00xx–E06xx), the `state` block's checks
//! (E0717, E0718), `plugin` declarations (E0900–E0904) and the warnings about source
//! (W0xxx).
//!
//! Each crate owns the codes it reports and lists them with [`codes!`](crate::codes) in
//! the same form: the runtime its state codes (`infra_runtime::codes`), each state
//! backend its own (`infra_backend_postgres::codes`), the CLI the invocation's (E08xx).
//! The CLI assembles them into the one registry `infra explain` serves. Each code has a
//! longer explanation in `docs/errors/<CODE>.md`; a test checks the two lists agree.

use std::fmt;

#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Code(pub &'static str);

impl Code {
    pub fn as_str(self) -> &'static str {
        self.0
    }
}

impl fmt::Display for Code {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.0)
    }
}

/// Declares a crate's codes: a constant per code, `ALL` (every code with its title, in
/// code order) and `title`. Invoked once per crate, in a module named `codes`.
#[macro_export]
macro_rules! codes {
    ($($name:ident = $code:literal, $title:literal;)*) => {
        $(pub const $name: $crate::diagnostic::Code = $crate::diagnostic::Code($code);)*
        /// Every code with its title, in code order.
        pub const ALL: &[($crate::diagnostic::Code, &str)] = &[$(($name, $title),)*];

        /// The title of a code, if it is one of this list's.
        pub fn title(code: &str) -> Option<&'static str> {
            ALL.iter().find(|(c, _)| c.as_str().eq_ignore_ascii_case(code)).map(|(_, t)| *t)
        }
    };
}

crate::codes! {
    // Loading: E00xx
    INVALID_UTF8 = "E0001", "source file is not valid UTF-8";
    READ_FAILED = "E0002", "source file or directory cannot be read";
    NO_SOURCE_FILES = "E0003", "directory has no `.infra` files";
    // Syntax: E01xx
    SYNTAX = "E0100", "syntax error";
    UNTERMINATED_STRING = "E0101", "unterminated string";
    UNTERMINATED_HEREDOC = "E0102", "unterminated heredoc";
    UNTERMINATED_COMMENT = "E0103", "unterminated block comment";
    TOO_DEEP = "E0104", "nesting too deep";
    INVALID_ESCAPE = "E0105", "invalid escape sequence";
    INVALID_NUMBER = "E0106", "invalid number literal";
    DUPLICATE_ATTRIBUTE = "E0107", "attribute set twice";
    UNKNOWN_TYPE = "E0108", "unknown type";
    INVALID_ITEM_BODY = "E0109", "setting not allowed here";
    TERRAFORM_SYNTAX = "E0110", "written the Terraform way";
    // Names and modules: E02xx
    DUPLICATE_NAME = "E0200", "name declared twice";
    UNDEFINED_NAME = "E0201", "undefined name";
    RECURSIVE_FUNCTION = "E0202", "recursive function";
    MODULE_NOT_FOUND = "E0203", "module directory not found";
    MISSING_MODULE_INPUT = "E0204", "required module input missing";
    UNKNOWN_MODULE_INPUT = "E0205", "unknown module input";
    UNKNOWN_MODULE_OUTPUT = "E0206", "unknown module output";
    MODULE_CYCLE = "E0207", "module calls itself";
    UNKNOWN_PROVIDER_CONFIG = "E0208", "unknown provider configuration";
    UNKNOWN_FUNCTION = "E0209", "unknown function";
    WRONG_ARGUMENT_COUNT = "E0210", "wrong number of arguments";
    INVALID_ADDRESS = "E0211", "invalid address";
    DUPLICATE_STATE = "E0212", "more than one `state` block";
    NOT_A_VALUE = "E0213", "name is not a value";
    RESOURCE_ONLY_FUNCTION = "E0214", "function only allowed in resource bodies";
    // Types: E03xx
    TYPE_MISMATCH = "E0300", "type mismatch";
    INVALID_OPERAND = "E0301", "invalid operand";
    INVALID_DEFAULT = "E0302", "input default does not match its type";
    INVALID_RETURN = "E0303", "function body does not match its return type";
    INVALID_ARGUMENT = "E0304", "argument has the wrong type";
    CONDITION_NOT_BOOL = "E0305", "condition is not a bool";
    NO_SUCH_ATTRIBUTE = "E0306", "value has no such attribute";
    NOT_INDEXABLE = "E0307", "value cannot be indexed";
    // Schemas: E04xx
    UNKNOWN_RESOURCE_TYPE = "E0400", "unknown resource type";
    UNKNOWN_ATTRIBUTE = "E0401", "unknown attribute";
    MISSING_ATTRIBUTE = "E0402", "required attribute missing";
    COMPUTED_ATTRIBUTE = "E0403", "computed attribute cannot be set";
    UNKNOWN_BLOCK = "E0404", "unknown nested block";
    UNKNOWN_PROVIDER = "E0405", "unknown provider";
    INVALID_ATTRIBUTE_VALUE = "E0406", "attribute value not accepted";
    // Graph: E05xx
    DEPENDENCY_CYCLE = "E0500", "dependency cycle";
    // Evaluation: E06xx
    FUNCTION_FAILED = "E0600", "function call failed";
    DIVISION_BY_ZERO = "E0601", "division by zero";
    INDEX_OUT_OF_RANGE = "E0602", "index out of range";
    MISSING_KEY = "E0603", "key not found";
    INVALID_VALUE = "E0604", "value has the wrong type";
    INVALID_INPUT = "E0605", "invalid input value";
    MISSING_INPUT = "E0606", "required input not set";
    CHECK_FAILED = "E0607", "check failed";
    UNKNOWN_REPETITION = "E0608", "repetition not known at plan time";
    DUPLICATE_INSTANCE_KEY = "E0609", "two instances with the same key";
    PROVIDER_FAILED = "E0610", "provider operation failed";
    INVALID_MOVE = "E0611", "`moved` or `forget` cannot be applied";
    PLAN_CHANGED = "E0612", "change differs from the approved plan";
    SENSITIVE_KEY = "E0613", "instance key from a sensitive value";
    // The `state` block: E0717, E0718 (the other E07xx codes are the state backends')
    STATE_BLOCK_EXPRESSION = "E0717", "value not allowed in a `state` block";
    STATE_BLOCK_INVALID = "E0718", "`state` block is not valid";
    // Plugin declarations: E0900–E0909 (installing and running plugins: E0910 on, in
    // `infra_provider_plugin::codes`)
    PLUGIN_INVALID = "E0900", "`plugin` declaration is not valid";
    PLUGIN_SOURCE = "E0901", "invalid plugin source address";
    PLUGIN_VERSION = "E0902", "invalid plugin version constraint";
    PLUGIN_DUPLICATE = "E0903", "plugin declared twice";
    PLUGIN_SCHEMA_UNKNOWN = "E0904", "plugin schema not known";
    // Warnings: W0xxx
    UNUSED = "W0001", "declared but never used";
    SHADOWED = "W0002", "binding shadows a declaration";
    DEPRECATED = "W0003", "deprecated attribute";
    PROVIDER_WARNING = "W0610", "provider warning";
}
