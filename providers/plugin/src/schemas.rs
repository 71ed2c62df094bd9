//! The plugins' cached schemas over another source of schemas (the built-in providers
//! and functions): what `infra check`, `infra fmt` and the language server hand the
//! checker, so a plugin's provider, resources and data sources are checked like
//! built-in ones without starting the plugin. A plugin's name hides a built-in provider
//! of the same name, as its declaration asks.

use std::collections::BTreeMap;
use std::path::Path;

use infra_compiler::schema::{FunctionSignature, ProviderSchema, Schemas};

use crate::schema::SchemaCache;

pub struct WithPlugins<'a> {
    base: &'a dyn Schemas,
    plugins: BTreeMap<String, ProviderSchema>,
    /// The plugins' functions, by the name they are called with (`workato::asset_id`).
    functions: BTreeMap<String, FunctionSignature>,
}

impl<'a> WithPlugins<'a> {
    /// `base` with the plugins cached for the root module in `module_dir`, if any.
    pub fn new(base: &'a dyn Schemas, module_dir: &Path) -> WithPlugins<'a> {
        let cache = SchemaCache::read(module_dir).unwrap_or_default();
        WithPlugins { base, plugins: cache.providers(), functions: cache.functions() }
    }

    /// `base` with these plugin providers, by name.
    pub fn with(base: &'a dyn Schemas, plugins: BTreeMap<String, ProviderSchema>) -> WithPlugins<'a> {
        WithPlugins { base, plugins, functions: BTreeMap::new() }
    }

    /// The plugin provider `name`, if one is cached (not a built-in one).
    pub fn plugin(&self, name: &str) -> Option<&ProviderSchema> {
        self.plugins.get(name)
    }

    /// Whether any plugin schema is known.
    pub fn has_plugins(&self) -> bool {
        !self.plugins.is_empty()
    }
}

impl Schemas for WithPlugins<'_> {
    fn provider(&self, name: &str) -> Option<&ProviderSchema> {
        self.plugins.get(name).or_else(|| self.base.provider(name))
    }

    fn provider_names(&self) -> Vec<&str> {
        let mut names = self.base.provider_names();
        names.extend(self.plugins.keys().map(|k| k.as_str()));
        names.sort_unstable();
        names.dedup();
        names
    }

    fn function(&self, name: &str) -> Option<&FunctionSignature> {
        match name.contains("::") {
            true => self.functions.get(name),
            false => self.base.function(name),
        }
    }

    fn function_names(&self) -> Vec<&str> {
        let mut names = self.base.function_names();
        names.extend(self.functions.keys().map(|k| k.as_str()));
        names
    }
}
