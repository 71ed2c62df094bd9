//! The functions plugins define, callable from expressions as `NAME::FUNCTION(...)`
//! (Terraform's `provider::NAME::FUNCTION(...)`), over the built-in library.
//!
//! The checker knows them from the schema cache (`schemas.rs`). A call starts the
//! plugin the first time one of its functions is called, unconfigured (functions need no
//! provider configuration, as in Terraform), and keeps it for the rest of the run; its
//! standard error goes to the plugin's log. Arguments cross as MessagePack of each
//! parameter's type (a variadic parameter's arguments one by one); the evaluator has
//! already made the result unknown when an argument is, and sensitive when one is.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::sync::Mutex;

use infra_runtime::function::{CallContext, FunctionError, FunctionResult, Functions};
use infra_runtime::Value;

use crate::convert::{to_plugin, value_from_plugin};
use crate::host::{installed_program, Running};
use crate::schema::{Function, SchemaCache};
use crate::values::{self, PluginValue};

/// The plugins' functions over `base`.
pub struct PluginFunctions<'a> {
    base: &'a dyn Functions,
    plugins: BTreeMap<String, FunctionPlugin>,
}

/// One cached plugin's functions, and its process once a call started it.
struct FunctionPlugin {
    program: Result<PathBuf, String>,
    log: PathBuf,
    functions: BTreeMap<String, Function>,
    running: Mutex<Option<Running>>,
}

impl<'a> PluginFunctions<'a> {
    /// `base` with the functions of every plugin cached for the root module in
    /// `module_dir`.
    pub fn cached(base: &'a dyn Functions, module_dir: &Path) -> PluginFunctions<'a> {
        let cache = SchemaCache::read(module_dir).unwrap_or_default();
        let plugins = cache
            .plugins
            .into_iter()
            .filter(|(_, cached)| !cached.schema.functions.is_empty())
            .map(|(name, cached)| {
                let plugin = FunctionPlugin {
                    program: installed_program(module_dir, &cached),
                    log: crate::handshake::log_path(module_dir, &name),
                    functions: cached.schema.functions,
                    running: Mutex::new(None),
                };
                (name, plugin)
            })
            .collect();
        PluginFunctions { base, plugins }
    }
}

impl Functions for PluginFunctions<'_> {
    fn call(&self, name: &str, args: &[Value], context: &CallContext<'_>) -> Option<FunctionResult> {
        let Some((plugin, function)) = name.split_once("::") else { return self.base.call(name, args, context) };
        let plugin = self.plugins.get(plugin)?;
        let definition = plugin.functions.get(function)?;
        Some(plugin.call(name, function, definition, args))
    }
}

impl FunctionPlugin {
    fn call(&self, full_name: &str, name: &str, definition: &Function, args: &[Value]) -> FunctionResult {
        let mut arguments = Vec::with_capacity(args.len());
        for (index, arg) in args.iter().enumerate() {
            let parameter = definition.parameters.get(index).or(definition.variadic.as_ref());
            let Some(parameter) = parameter else {
                return Err(FunctionError::new(format!(
                    "`{full_name}` takes {} arguments",
                    definition.parameters.len()
                )));
            };
            if arg.is_null() && !parameter.allow_null {
                return Err(FunctionError::new(format!("`{}` cannot be null", parameter.name)).at(index));
            }
            let value = to_plugin(arg).map_err(|e| FunctionError::new(e).at(index))?;
            let encoded = values::encode_typed(&value, &parameter.ty)
                .map_err(|e| FunctionError::new(format!("`{}`: {e}", parameter.name)).at(index))?;
            arguments.push(encoded);
        }
        let mut running = self.running.lock().unwrap_or_else(|e| e.into_inner());
        let process = match &mut *running {
            Some(process) => process,
            slot @ None => slot.insert(self.start()?),
        };
        let mut connection = process.connection.clone();
        let name = name.to_string();
        let answer = process
            .block(async move { connection.call_function(&name, arguments).await })
            .and_then(|answer| answer)
            .map_err(|e| self.failed(&e.to_string()))?;
        match answer {
            Ok(bytes) => {
                let result = match bytes.is_empty() {
                    true => PluginValue::Null,
                    false => values::decode_typed(&bytes, &definition.returns)
                        .map_err(|e| self.failed(&format!("its result does not fit its return type: {e}")))?,
                };
                value_from_plugin(&result, &definition.returns).map_err(|e| self.failed(&e))
            }
            Err((text, argument)) => {
                let error = FunctionError::new(text);
                Err(match argument {
                    Some(index) => error.at(index),
                    None => error,
                })
            }
        }
    }

    /// Starts the plugin, unconfigured, for its functions.
    fn start(&self) -> Result<Running, FunctionError> {
        let program = self.program.clone().map_err(|problem| {
            FunctionError::new(format!("the plugin is not installed: {problem}"))
                .with_help("run `infra init` to install the plugins the configuration declares")
        })?;
        if let Some(parent) = self.log.parent() {
            let _ = std::fs::create_dir_all(parent);
        }
        Running::start(&program, &self.log).map_err(|e| self.failed(&e.to_string()))
    }

    fn failed(&self, problem: &str) -> FunctionError {
        FunctionError::new(format!("the plugin failed: {problem}"))
            .with_help(format!("the plugin's log is {}", self.log.display()))
    }
}
