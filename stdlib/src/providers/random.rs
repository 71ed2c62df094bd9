//! The `random` provider: random values generated once and then kept in state.

use infra_compiler::schema::{AttributeSchema, ProviderSchema, Schema};
use infra_compiler::types::Type;

use super::{kind, provider};

pub fn schema() -> ProviderSchema {
    provider(
        "random",
        "Random values that are generated once, kept in state and regenerated only when replaced.",
        vec![("id", id()), ("integer", integer()), ("password", password())],
        vec![],
    )
}

/// Values that force a new random value whenever any of them changes.
fn keepers() -> AttributeSchema {
    AttributeSchema::optional(
        "keepers",
        Type::map(Type::String),
        "Values that generate a new random value whenever any of them changes.",
    )
    .force_new()
}

fn password() -> Schema {
    kind(
        "A random password, kept secret in plans and outputs.",
        "A fixed placeholder; the password itself is in `result`.",
        vec![
            AttributeSchema::required("length", Type::Number, "The number of characters in the password.").force_new(),
            AttributeSchema::optional(
                "special",
                Type::Bool,
                "Whether to include punctuation characters such as `!@#$%&*`; true by default.",
            )
            .force_new(),
            keepers(),
            AttributeSchema::computed("result", Type::String, "The generated password.").sensitive(),
        ],
    )
}

fn integer() -> Schema {
    kind(
        "A random whole number within a range.",
        "The generated number, as a string.",
        vec![
            AttributeSchema::required("min", Type::Number, "The smallest number to generate.").force_new(),
            AttributeSchema::required("max", Type::Number, "The largest number to generate.").force_new(),
            keepers(),
            AttributeSchema::computed("result", Type::Number, "The generated number."),
        ],
    )
}

fn id() -> Schema {
    kind(
        "Random bytes for naming things uniquely, in several encodings.",
        "The random bytes in URL-safe Base64 without padding.",
        vec![
            AttributeSchema::required("byte_length", Type::Number, "The number of random bytes to generate.")
                .force_new(),
            keepers(),
            AttributeSchema::computed("hex", Type::String, "The random bytes in lower-case hexadecimal."),
            AttributeSchema::computed("b64", Type::String, "The random bytes in URL-safe Base64 without padding."),
        ],
    )
}
