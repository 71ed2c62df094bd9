//! The `exec` provider: shell commands run on the machine that runs Infra.

use infra_compiler::schema::{AttributeSchema, ProviderSchema, Schema};
use infra_compiler::types::Type;

use super::{kind, provider};

pub fn schema() -> ProviderSchema {
    provider(
        "exec",
        "Commands run on the machine that runs Infra, as resources or as data sources.",
        vec![("command", command())],
        vec![("json", json())],
    )
}

fn working_dir() -> AttributeSchema {
    AttributeSchema::optional(
        "working_dir",
        Type::String,
        "The directory to run in, relative to the module's directory, which is the default.",
    )
}

fn command() -> Schema {
    let string_map = Type::map(Type::String);
    kind(
        "Runs a shell command on create, and optionally on update and destroy.",
        "A random identifier chosen when the resource is created.",
        vec![
            AttributeSchema::required("create", Type::String, "The shell command that creates the resource."),
            AttributeSchema::optional("destroy", Type::String, "The shell command that destroys the resource."),
            AttributeSchema::optional(
                "update",
                Type::String,
                "The shell command to run when an attribute changes in place; none by default.",
            ),
            AttributeSchema::optional(
                "environment",
                string_map.clone(),
                "Environment variables for the commands, on top of Infra's own.",
            ),
            working_dir(),
            AttributeSchema::optional(
                "triggers",
                string_map,
                "Values that replace the resource (`destroy`, then `create`) whenever one changes.",
            )
            .force_new(),
            AttributeSchema::computed("stdout", Type::String, "The standard output of the last command run."),
            AttributeSchema::computed("exit_code", Type::Number, "The exit status of the last command run."),
        ],
    )
}

fn json() -> Schema {
    kind(
        "Runs a program that reads a JSON object on stdin and writes one on stdout.",
        "A hash of the program and query.",
        vec![
            AttributeSchema::required(
                "program",
                Type::list(Type::String),
                "The program and its arguments, run without a shell.",
            ),
            AttributeSchema::optional(
                "query",
                Type::map(Type::String),
                "A map of strings sent to the program as a JSON object on standard input.",
            ),
            working_dir(),
            AttributeSchema::computed(
                "result",
                Type::map(Type::String),
                "The JSON object of strings the program wrote to standard output.",
            ),
        ],
    )
}
