//! Schemas of the built-in providers, one module per provider, and the helpers they share.
//!
//! Every resource kind and data source is built with [`kind`], which adds the computed `id`
//! that the language relies on (`main.id`) and that state keys instances by.

use infra_compiler::schema::{AttributeSchema, ProviderSchema, Schema};
use infra_compiler::types::Type;

pub mod aws;
pub mod exec;
pub mod local;
pub mod null;
pub mod random;
mod stateless;
pub mod time;
pub mod tls;

/// Every built-in provider's schema.
pub fn all() -> Vec<ProviderSchema> {
    vec![
        aws::schema(),
        exec::schema(),
        local::schema(),
        null::schema(),
        random::schema(),
        time::schema(),
        tls::schema(),
    ]
}

/// Every built-in provider, ready to configure; in the same order as [`all`].
pub fn factories() -> Vec<std::sync::Arc<dyn infra_runtime::provider::ProviderFactory>> {
    vec![
        aws::factory(),
        exec::factory(),
        local::factory(),
        null::factory(),
        random::factory(),
        time::factory(),
        tls::factory(),
    ]
}

/// A provider that takes no configuration.
fn provider(
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
fn kind(description: &str, id: &str, attributes: Vec<AttributeSchema>) -> Schema {
    let mut all = vec![AttributeSchema::computed("id", Type::String, id)];
    all.extend(attributes);
    Schema { description: description.to_string(), attributes: all, blocks: Vec::new() }
}
