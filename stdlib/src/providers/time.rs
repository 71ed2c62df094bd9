//! The `time` provider: a resource that waits, for things that settle after they are created.

use infra_compiler::schema::{AttributeSchema, ProviderSchema};
use infra_compiler::types::Type;

use super::{kind, provider};

pub fn schema() -> ProviderSchema {
    let sleep = kind(
        "Waits for a while when created or destroyed, to give other systems time to settle.",
        "The time the resource was created, in RFC 3339 format.",
        vec![
            AttributeSchema::optional(
                "create_duration",
                Type::String,
                "How long to wait on create, as a duration such as \"100ms\", \"2s\" or \"1m\".",
            ),
            AttributeSchema::optional(
                "destroy_duration",
                Type::String,
                "How long to wait on destroy, as a duration such as \"100ms\", \"2s\" or \"1m\".",
            ),
            AttributeSchema::optional(
                "triggers",
                Type::map(Type::String),
                "Values that replace the resource, and so wait again, whenever one changes.",
            )
            .force_new(),
        ],
    );
    provider("time", "Resources that wait, to order operations in time.", vec![("sleep", sleep)], vec![])
}
