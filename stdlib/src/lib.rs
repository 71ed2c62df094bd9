//! Infra's built-in providers and functions, offered to the checker through [`Schemas`].
//!
//! This crate holds the built-in functions (signatures and implementations), the small
//! built-in providers (`null`, `time`, `local`, `exec`, `random`, `tls`) and the registry
//! of every provider, including those of provider crates such as `infra-provider-aws`.

use std::collections::BTreeMap;
use std::sync::OnceLock;

use infra_compiler::schema::{FunctionSignature, ProviderSchema, Schemas};

pub mod functions;
pub mod library;
pub mod providers;
pub mod testing;

/// The built-in providers and functions, keyed by name.
#[derive(Clone, Debug)]
pub struct Stdlib {
    providers: BTreeMap<String, ProviderSchema>,
    functions: BTreeMap<String, FunctionSignature>,
}

impl Stdlib {
    pub fn new() -> Stdlib {
        let providers = providers::all().into_iter().map(|p| (p.name.clone(), p)).collect();
        let functions = functions::all().into_iter().map(|f| (f.name.clone(), f)).collect();
        Stdlib { providers, functions }
    }
}

impl Default for Stdlib {
    fn default() -> Stdlib {
        Stdlib::new()
    }
}

/// One shared [`Stdlib`], built on first use; the schemas never change while running.
pub fn builtin() -> &'static Stdlib {
    static BUILTIN: OnceLock<Stdlib> = OnceLock::new();
    BUILTIN.get_or_init(Stdlib::new)
}

impl Schemas for Stdlib {
    fn provider(&self, name: &str) -> Option<&ProviderSchema> {
        self.providers.get(name)
    }

    /// Sorted, because the map is a `BTreeMap`.
    fn provider_names(&self) -> Vec<&str> {
        self.providers.keys().map(|k| k.as_str()).collect()
    }

    fn function(&self, name: &str) -> Option<&FunctionSignature> {
        self.functions.get(name)
    }

    /// Sorted, because the map is a `BTreeMap`.
    fn function_names(&self) -> Vec<&str> {
        self.functions.keys().map(|k| k.as_str()).collect()
    }
}

impl infra_runtime::function::Functions for Stdlib {
    fn call(
        &self,
        name: &str,
        args: &[infra_runtime::Value],
        context: &infra_runtime::function::CallContext<'_>,
    ) -> Option<infra_runtime::function::FunctionResult> {
        library::implementation(name).map(|implementation| implementation(args, context))
    }
}
