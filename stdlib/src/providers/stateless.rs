//! The factory shared by the providers that manage nothing outside Infra (`null`, `time`,
//! `random`, `tls`). They have no configuration and nothing to read back, so one factory
//! shape serves them all (and one planning rule, `infra_provider_kit::plan_attributes`).

use infra_compiler::schema::ProviderSchema;
use infra_runtime::provider::{Attributes, Provider, ProviderContext, ProviderFactory, ProviderResult};
use std::sync::Arc;

/// A provider type that takes no configuration: configuring it always hands out the same
/// provider.
struct UnconfiguredFactory {
    schema: ProviderSchema,
    provider: Arc<dyn Provider>,
}

/// The factory of a provider type that takes no configuration.
pub(super) fn unconfigured_factory(schema: ProviderSchema, provider: Arc<dyn Provider>) -> Arc<dyn ProviderFactory> {
    Arc::new(UnconfiguredFactory { schema, provider })
}

impl ProviderFactory for UnconfiguredFactory {
    fn name(&self) -> &str {
        &self.schema.name
    }

    fn schema(&self) -> &ProviderSchema {
        &self.schema
    }

    fn configure(&self, _config: &Attributes, _context: &ProviderContext) -> ProviderResult<Arc<dyn Provider>> {
        Ok(Arc::clone(&self.provider))
    }
}
