//! The `null` provider: a resource that does nothing but hold a value, for wiring and tests.
//!
//! This file also holds the helpers that the providers managing nothing outside Infra
//! (`null`, `time`, `random`, `tls`) share: a factory that needs no configuration, and the
//! planning rule for computed attributes.

use std::sync::Arc;

use infra_compiler::schema::{AttributeSchema, ProviderSchema};
use infra_compiler::types::Type;
use infra_runtime::provider::{Attributes, Provider, ProviderFactory, ProviderResult, ReadResult};
use infra_runtime::Value;
use rand::RngCore;

use infra_provider_kit::{attribute, keep_computed, kind, plan_attributes, provider, resource_schema};

use super::stateless::unconfigured_factory;

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
            AttributeSchema::computed("output", Type::Any, "The value of `input` as of the last apply.")
                .derived_from(&["input"]),
        ],
    );
    provider(
        "null",
        "Resources that manage nothing outside Infra, for ordering, triggers and tests.",
        vec![("resource", resource)],
        vec![],
    )
}

/// The `null` provider type.
pub fn factory() -> Arc<dyn ProviderFactory> {
    unconfigured_factory(schema(), Arc::new(NullProvider { schema: schema() }))
}

struct NullProvider {
    schema: ProviderSchema,
}

#[async_trait::async_trait]
impl Provider for NullProvider {
    /// `output` is `input` as planned: known when `input` is, and unknown (of the same
    /// type) when it is not, so downstream values are as precise as they can be.
    fn plan(&self, kind: &str, prior: Option<&Attributes>, config: &Attributes) -> ProviderResult<Attributes> {
        let mut planned = plan_attributes(resource_schema(&self.schema, kind)?, prior, config, &[]);
        let input = attribute(&planned, "input").clone();
        planned.insert("output".to_string(), input);
        Ok(planned)
    }

    async fn create(&self, kind: &str, planned: &Attributes) -> ProviderResult<Attributes> {
        resource_schema(&self.schema, kind)?;
        let mut attributes = mirror_input(planned);
        attributes.insert("id".to_string(), Value::string(random_uuid()));
        Ok(attributes)
    }

    async fn read(&self, kind: &str, current: &Attributes) -> ProviderResult<ReadResult> {
        resource_schema(&self.schema, kind)?;
        Ok(ReadResult::Found(current.clone()))
    }

    async fn update(&self, kind: &str, prior: &Attributes, planned: &Attributes) -> ProviderResult<Attributes> {
        let schema = resource_schema(&self.schema, kind)?;
        Ok(mirror_input(&keep_computed(schema, prior, planned)))
    }

    async fn delete(&self, kind: &str, _current: &Attributes) -> ProviderResult<()> {
        resource_schema(&self.schema, kind)?;
        Ok(())
    }
}

/// The planned attributes with `output` set to `input`.
fn mirror_input(planned: &Attributes) -> Attributes {
    let mut attributes = planned.clone();
    let input = attribute(planned, "input").clone();
    attributes.insert("output".to_string(), input);
    attributes
}

/// A random version 4 UUID in its usual hyphenated lower-case form: unique enough to tell
/// instances apart, and a shape people recognise as an identifier.
fn random_uuid() -> String {
    let mut bytes = [0u8; 16];
    rand::rngs::OsRng.fill_bytes(&mut bytes);
    bytes[6] = (bytes[6] & 0x0f) | 0x40;
    bytes[8] = (bytes[8] & 0x3f) | 0x80;
    let hex = hex::encode(bytes);
    format!("{}-{}-{}-{}-{}", &hex[..8], &hex[8..12], &hex[12..16], &hex[16..20], &hex[20..])
}
