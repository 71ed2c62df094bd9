//! The `null` provider: a resource that does nothing but hold a value, for wiring and tests.

use infra_compiler::schema::{AttributeSchema, ProviderSchema};
use infra_compiler::types::Type;

use super::{kind, provider};

pub fn schema() -> ProviderSchema {
    let resource = kind(
        "Stores a value in state and passes it on, like Terraform's `terraform_data`.",
        "A random identifier chosen when the resource is created.",
        vec![
            AttributeSchema::optional("input", Type::Any, "A value to store; it is copied to `output`."),
            AttributeSchema::optional(
                "triggers",
                Type::map(Type::Any),
                "Values that replace the resource whenever any of them changes.",
            )
            .force_new(),
            AttributeSchema::computed("output", Type::Any, "The value of `input` as of the last apply."),
        ],
    );
    provider(
        "null",
        "Resources that manage nothing outside Infra, for ordering, triggers and tests.",
        vec![("resource", resource)],
        vec![],
    )
}
