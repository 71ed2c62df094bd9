//! Building provider schemas, and finding a resource kind's schema in one.
//!
//! Every resource kind and data source is built with [`kind`], which adds the computed `id`
//! that the language relies on (`main.id`) and that state keys instances by.

use infra_compiler::schema::{AttributeSchema, BlockSchema, Comparison, ProviderSchema, Schema, Validator};
use infra_compiler::types::Type;
use infra_runtime::provider::{ProviderError, ProviderResult};

/// A provider that takes no configuration.
pub fn provider(
    name: &str,
    description: &str,
    resources: Vec<(&str, Schema)>,
    data_sources: Vec<(&str, Schema)>,
) -> ProviderSchema {
    let by_name = |kinds: Vec<(&str, Schema)>| kinds.into_iter().map(|(k, s)| (k.to_string(), s)).collect();
    ProviderSchema {
        name: name.to_string(),
        description: description.to_string(),
        config: Schema::default(),
        resources: by_name(resources),
        data_sources: by_name(data_sources),
    }
}

/// A resource kind or data source: a computed `id`, described by `id`, then `attributes`.
pub fn kind(description: &str, id: &str, attributes: Vec<AttributeSchema>) -> Schema {
    let mut all = vec![AttributeSchema::computed("id", Type::String, id)];
    all.extend(attributes);
    Schema { description: description.to_string(), attributes: all, blocks: Vec::new() }
}

/// The schema of the resource kind `kind`.
pub fn resource_schema<'a>(schema: &'a ProviderSchema, kind: &str) -> ProviderResult<&'a Schema> {
    schema.resources.get(kind).ok_or_else(|| unknown_kind(schema, kind))
}

/// The error for a resource kind the provider does not have, naming the kinds it has.
pub fn unknown_kind(schema: &ProviderSchema, kind: &str) -> ProviderError {
    let kinds: Vec<String> = schema.resources.keys().map(|k| format!("`{}.{k}`", schema.name)).collect();
    ProviderError::new(format!("the `{}` provider has no resource kind `{kind}`", schema.name))
        .with_help(format!("its resource kinds are {}", kinds.join(", ")))
}

/// Terraform's `timeouts` block: how long each of `operations` (`("create",
/// description)`, ...) may wait, as durations such as `"15m"`. A single block, never
/// sent to an API; read it with [`crate::attributes::timeout`].
pub fn timeouts_block(description: &str, operations: &[(&str, &str)]) -> BlockSchema {
    let attributes = operations
        .iter()
        .map(|(name, about)| AttributeSchema::optional(name, Type::String, about).validate(Validator::Duration))
        .collect();
    BlockSchema {
        name: "timeouts".to_string(),
        description: description.to_string(),
        schema: Schema { description: description.to_string(), attributes, blocks: Vec::new() },
        repeated: false,
        compare: Comparison::Exact,
    }
}

/// What a block the configuration leaves out plans and reads as: no repeated blocks (an
/// empty list), or no single one (null).
pub fn absent_block(block: &BlockSchema) -> infra_runtime::Value {
    if block.repeated {
        infra_runtime::Value::list(Vec::new())
    } else {
        infra_runtime::Value::null()
    }
}
