//! A plugin's schema: what `GetProviderSchema` (protocol 6) or `GetSchema` (protocol 5)
//! answers, kept as the protocol says it (types as Terraform writes them in JSON,
//! nesting modes, deprecation), cached in `.infra/plugins/schemas.json` by `infra init`,
//! and turned into Infra's provider schema for the checker, the formatter and the
//! language server, so none of them starts a plugin.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use infra_compiler::schema::{
    AttributeSchema, BlockSchema, Comparison, FunctionSignature, ParamSignature, ProviderSchema, Returns, Schema,
};
use infra_compiler::types::{ObjectField, Type};
use serde::{Deserialize, Serialize};

use infra_compiler::Diagnostic;

use crate::codes;
use crate::protocol::{tfplugin5, tfplugin6};

/// Everything a plugin declares.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct PluginSchema {
    /// The body of `provider NAME { ... }`.
    pub provider: Block,
    /// Resource types by Terraform's name (`workato_folder`).
    pub resources: BTreeMap<String, Versioned>,
    /// Data source types by Terraform's name.
    pub data_sources: BTreeMap<String, Versioned>,
    /// Functions the plugin defines, by name (`asset_id`): called as
    /// `workato::asset_id(...)`.
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub functions: BTreeMap<String, Function>,
}

/// A function a plugin defines.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct Function {
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub parameters: Vec<Parameter>,
    /// A last parameter taking any number of arguments (sent to the plugin as a list).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub variadic: Option<Parameter>,
    /// The result's type, as Terraform writes types in JSON.
    pub returns: serde_json::Value,
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub summary: String,
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub description: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub deprecated: Option<String>,
}

#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct Parameter {
    pub name: String,
    #[serde(rename = "type")]
    pub ty: serde_json::Value,
    /// A null argument may be passed (else a null is an error before the call).
    #[serde(default, skip_serializing_if = "is_false")]
    pub allow_null: bool,
    /// An unknown argument may be passed (else the result is unknown, uncalled).
    #[serde(default, skip_serializing_if = "is_false")]
    pub allow_unknown: bool,
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub description: String,
}

/// A resource or data source schema and its version (state written under an older one
/// is upgraded by the plugin).
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct Versioned {
    pub version: i64,
    pub block: Block,
}

/// A body: attributes and nested blocks.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct Block {
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub attributes: Vec<Attribute>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub blocks: Vec<NestedBlock>,
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub description: String,
    /// Deprecated, with the plugin's message (which may be empty).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub deprecated: Option<String>,
}

#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct Attribute {
    pub name: String,
    /// Terraform's JSON type (`"string"`, `["list","number"]`, `["object",{...}]`);
    /// absent when the attribute holds nested attributes.
    #[serde(default, rename = "type", skip_serializing_if = "Option::is_none")]
    pub ty: Option<serde_json::Value>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub nested: Option<NestedAttributes>,
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub description: String,
    #[serde(default, skip_serializing_if = "is_false")]
    pub required: bool,
    #[serde(default, skip_serializing_if = "is_false")]
    pub optional: bool,
    #[serde(default, skip_serializing_if = "is_false")]
    pub computed: bool,
    #[serde(default, skip_serializing_if = "is_false")]
    pub sensitive: bool,
    #[serde(default, skip_serializing_if = "is_false")]
    pub write_only: bool,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub deprecated: Option<String>,
}

/// Attributes nested in an attribute (protocol 6 only).
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct NestedAttributes {
    pub nesting: Nesting,
    pub attributes: Vec<Attribute>,
}

#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct NestedBlock {
    pub name: String,
    pub nesting: Nesting,
    pub block: Block,
    #[serde(default, skip_serializing_if = "is_zero")]
    pub min_items: i64,
    #[serde(default, skip_serializing_if = "is_zero")]
    pub max_items: i64,
}

/// How often a nested block or nested attribute occurs, as the protocol says.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Nesting {
    /// At most once.
    #[default]
    Single,
    /// Exactly once; absent means every attribute null.
    Group,
    List,
    Set,
    /// Keyed by a label.
    Map,
}

fn is_false(value: &bool) -> bool {
    !value
}

fn is_zero(value: &i64) -> bool {
    *value == 0
}

fn deprecation(deprecated: bool, message: &str) -> Option<String> {
    deprecated.then(|| message.to_string())
}

fn block_nesting(mode: i32) -> Result<Nesting, String> {
    match mode {
        1 => Ok(Nesting::Single),
        2 => Ok(Nesting::List),
        3 => Ok(Nesting::Set),
        4 => Ok(Nesting::Map),
        5 => Ok(Nesting::Group),
        other => Err(format!("nesting mode {other} of a block")),
    }
}

fn parse_type(name: &str, bytes: &[u8]) -> Result<Option<serde_json::Value>, String> {
    if bytes.is_empty() {
        return Ok(None);
    }
    serde_json::from_slice(bytes).map(Some).map_err(|e| format!("the type of `{name}` is not JSON: {e}"))
}

/// The protocol's two versions have the same shape of blocks, differently typed.
macro_rules! blocks {
    ($block:ident, $attribute:ident, $version:ident) => {
        fn $block(block: Option<$version::schema::Block>) -> Result<Block, String> {
            let block = block.unwrap_or_default();
            let attributes = block.attributes.into_iter().map($attribute).collect::<Result<Vec<_>, _>>()?;
            let mut blocks = Vec::new();
            for nested in block.block_types {
                blocks.push(NestedBlock {
                    nesting: block_nesting(nested.nesting)
                        .map_err(|e| format!("{e} `{}` is not one Infra knows", nested.type_name))?,
                    name: nested.type_name,
                    block: $block(nested.block)?,
                    min_items: nested.min_items,
                    max_items: nested.max_items,
                });
            }
            Ok(Block {
                attributes,
                blocks,
                description: block.description,
                deprecated: deprecation(block.deprecated, &block.deprecation_message),
            })
        }
    };
}

blocks!(block_v6, attribute_v6, tfplugin6);
blocks!(block_v5, attribute_v5, tfplugin5);

/// The protocol's two versions declare functions alike, differently typed.
macro_rules! functions {
    ($functions:ident, $version:ident) => {
        fn $functions(
            functions: std::collections::HashMap<String, $version::Function>,
        ) -> Result<BTreeMap<String, Function>, String> {
            let parameter = |name: &str, p: $version::function::Parameter| -> Result<Parameter, String> {
                Ok(Parameter {
                    ty: parse_type(&format!("{name}({})", p.name), &p.r#type)?
                        .ok_or_else(|| format!("parameter `{}` of function `{name}` has no type", p.name))?,
                    name: p.name,
                    allow_null: p.allow_null_value,
                    allow_unknown: p.allow_unknown_values,
                    description: p.description,
                })
            };
            functions
                .into_iter()
                .map(|(name, f)| {
                    let parameters =
                        f.parameters.into_iter().map(|p| parameter(&name, p)).collect::<Result<Vec<_>, _>>()?;
                    let variadic = f.variadic_parameter.map(|p| parameter(&name, p)).transpose()?;
                    let returns = f.r#return.and_then(|r| parse_type(&name, &r.r#type).transpose()).transpose()?;
                    let returns = returns.ok_or_else(|| format!("function `{name}` has no return type"))?;
                    let deprecated = (!f.deprecation_message.is_empty()).then_some(f.deprecation_message);
                    let function = Function {
                        parameters,
                        variadic,
                        returns,
                        summary: f.summary,
                        description: f.description,
                        deprecated,
                    };
                    Ok((name, function))
                })
                .collect()
        }
    };
}

functions!(functions_v6, tfplugin6);
functions!(functions_v5, tfplugin5);

fn attribute_v6(attribute: tfplugin6::schema::Attribute) -> Result<Attribute, String> {
    let nested = match attribute.nested_type {
        Some(object) => {
            let nesting = match object.nesting {
                1 => Nesting::Single,
                2 => Nesting::List,
                3 => Nesting::Set,
                4 => Nesting::Map,
                other => return Err(format!("nesting mode {other} of attribute `{}`", attribute.name)),
            };
            let attributes = object.attributes.into_iter().map(attribute_v6).collect::<Result<_, _>>()?;
            Some(NestedAttributes { nesting, attributes })
        }
        None => None,
    };
    Ok(Attribute {
        ty: parse_type(&attribute.name, &attribute.r#type)?,
        name: attribute.name,
        nested,
        description: attribute.description,
        required: attribute.required,
        optional: attribute.optional,
        computed: attribute.computed,
        sensitive: attribute.sensitive,
        write_only: attribute.write_only,
        deprecated: deprecation(attribute.deprecated, &attribute.deprecation_message),
    })
}

fn attribute_v5(attribute: tfplugin5::schema::Attribute) -> Result<Attribute, String> {
    Ok(Attribute {
        ty: parse_type(&attribute.name, &attribute.r#type)?,
        name: attribute.name,
        nested: None,
        description: attribute.description,
        required: attribute.required,
        optional: attribute.optional,
        computed: attribute.computed,
        sensitive: attribute.sensitive,
        write_only: attribute.write_only,
        deprecated: deprecation(attribute.deprecated, &attribute.deprecation_message),
    })
}

/// The schema a protocol 6 plugin answered.
pub fn from_v6(response: tfplugin6::get_provider_schema::Response) -> Result<PluginSchema, String> {
    let provider = block_v6(response.provider.and_then(|s| s.block))?;
    let versioned = |schemas: std::collections::HashMap<String, tfplugin6::Schema>| {
        schemas
            .into_iter()
            .map(|(name, schema)| Ok((name, Versioned { version: schema.version, block: block_v6(schema.block)? })))
            .collect::<Result<BTreeMap<_, _>, String>>()
    };
    Ok(PluginSchema {
        provider,
        resources: versioned(response.resource_schemas)?,
        data_sources: versioned(response.data_source_schemas)?,
        functions: functions_v6(response.functions)?,
    })
}

/// The schema a protocol 5 plugin answered.
pub fn from_v5(response: tfplugin5::get_provider_schema::Response) -> Result<PluginSchema, String> {
    let provider = block_v5(response.provider.and_then(|s| s.block))?;
    let versioned = |schemas: std::collections::HashMap<String, tfplugin5::Schema>| {
        schemas
            .into_iter()
            .map(|(name, schema)| Ok((name, Versioned { version: schema.version, block: block_v5(schema.block)? })))
            .collect::<Result<BTreeMap<_, _>, String>>()
    };
    Ok(PluginSchema {
        provider,
        resources: versioned(response.resource_schemas)?,
        data_sources: versioned(response.data_source_schemas)?,
        functions: functions_v5(response.functions)?,
    })
}

/// The error diagnostics of an answer, each as `summary: detail`.
pub fn v6_errors(diagnostics: &[tfplugin6::Diagnostic]) -> Vec<String> {
    let errors = diagnostics.iter().filter(|d| d.severity == tfplugin6::diagnostic::Severity::Error as i32);
    errors.map(|d| summary(&d.summary, &d.detail)).collect()
}

pub fn v5_errors(diagnostics: &[tfplugin5::Diagnostic]) -> Vec<String> {
    let errors = diagnostics.iter().filter(|d| d.severity == tfplugin5::diagnostic::Severity::Error as i32);
    errors.map(|d| summary(&d.summary, &d.detail)).collect()
}

fn summary(summary: &str, detail: &str) -> String {
    match detail.is_empty() {
        true => summary.to_string(),
        false => format!("{summary}: {detail}"),
    }
}

// ---- Infra's view -------------------------------------------------------------------

/// Terraform's JSON type as Infra's type. A type Infra has no word for (`dynamic`, or
/// one it does not know) is `any`, which the checker accepts everywhere.
pub fn infra_type(ty: &serde_json::Value) -> Type {
    use serde_json::Value as J;
    match ty {
        J::String(name) => match name.as_str() {
            "string" => Type::String,
            "number" => Type::Number,
            "bool" => Type::Bool,
            _ => Type::Any,
        },
        J::Array(parts) => match (parts.first().and_then(J::as_str), parts.get(1)) {
            (Some("list"), Some(element)) => Type::list(infra_type(element)),
            (Some("set"), Some(element)) => Type::set(infra_type(element)),
            (Some("map"), Some(element)) => Type::map(infra_type(element)),
            (Some("tuple"), Some(J::Array(elements))) => Type::Tuple(elements.iter().map(infra_type).collect()),
            (Some("object"), Some(J::Object(fields))) => {
                let optional: Vec<&str> = parts
                    .get(2)
                    .and_then(J::as_array)
                    .map(|o| o.iter().filter_map(J::as_str).collect())
                    .unwrap_or_default();
                Type::object_of(fields.iter().map(|(name, ty)| {
                    let field = ObjectField { ty: infra_type(ty), optional: optional.contains(&name.as_str()) };
                    (name.clone(), field)
                }))
            }
            _ => Type::Any,
        },
        _ => Type::Any,
    }
}

/// A `map` nested block as Infra writes it: an attribute holding a map of objects, keyed
/// as Terraform labels the blocks (`rule "web" { ... }` is `rule = { web = { ... } }`),
/// since Infra's blocks take no label.
fn map_block_attribute(nested: &NestedBlock) -> AttributeSchema {
    let description = described(&nested.block.description, &nested.block.deprecated);
    let mut schema = AttributeSchema::optional(&nested.name, Type::map(block_object_type(&nested.block)), &description);
    schema.deprecated = nested.block.deprecated.clone();
    schema
}

/// A block's body as an object type: its attributes, and its nested blocks as the values
/// they are written as (an object, a list of objects, a map of objects).
fn block_object_type(block: &Block) -> Type {
    let attributes =
        block.attributes.iter().map(|a| (a.name.clone(), ObjectField { ty: attribute_type(a), optional: !a.required }));
    let blocks = block.blocks.iter().map(|b| {
        let body = block_object_type(&b.block);
        let ty = match b.nesting {
            Nesting::Single | Nesting::Group => body,
            Nesting::List => Type::list(body),
            Nesting::Set => Type::set(body),
            Nesting::Map => Type::map(body),
        };
        (b.name.clone(), ObjectField { ty, optional: true })
    });
    Type::object_of(attributes.chain(blocks))
}

/// The type of an attribute holding nested attributes.
fn nested_type(nested: &NestedAttributes) -> Type {
    let object = Type::object_of(
        nested
            .attributes
            .iter()
            .map(|a| (a.name.clone(), ObjectField { ty: attribute_type(a), optional: !a.required })),
    );
    match nested.nesting {
        Nesting::Single | Nesting::Group => object,
        Nesting::List => Type::list(object),
        Nesting::Set => Type::set(object),
        Nesting::Map => Type::map(object),
    }
}

pub(crate) fn attribute_type(attribute: &Attribute) -> Type {
    match (&attribute.nested, &attribute.ty) {
        (Some(nested), _) => nested_type(nested),
        (None, Some(ty)) => infra_type(ty),
        (None, None) => Type::Any,
    }
}

/// A description with the deprecation, if any, after it.
fn described(description: &str, deprecated: &Option<String>) -> String {
    match deprecated {
        None => description.to_string(),
        Some(message) => {
            let note = match message.is_empty() {
                true => "Deprecated.".to_string(),
                false => format!("Deprecated: {message}"),
            };
            match description.is_empty() {
                true => note,
                false => format!("{description}\n\n{note}"),
            }
        }
    }
}

/// One body as Infra's schema.
pub fn infra_schema(block: &Block) -> Schema {
    let attributes = block
        .attributes
        .iter()
        .map(|a| {
            let ty = attribute_type(a);
            let description = described(&a.description, &a.deprecated);
            let mut schema = match (a.required, a.optional, a.computed) {
                (true, _, _) => AttributeSchema::required(&a.name, ty, &description),
                (false, true, true) => AttributeSchema::optional(&a.name, ty, &description).also_computed(),
                (false, false, true) => AttributeSchema::computed(&a.name, ty, &description),
                _ => AttributeSchema::optional(&a.name, ty, &description),
            };
            schema.sensitive = a.sensitive;
            schema.deprecated = a.deprecated.clone();
            schema
        })
        .chain(block.blocks.iter().filter(|b| b.nesting == Nesting::Map).map(map_block_attribute))
        .collect();
    let blocks = block
        .blocks
        .iter()
        .filter(|b| b.nesting != Nesting::Map)
        .map(|b| BlockSchema {
            name: b.name.clone(),
            description: described(&b.block.description, &b.block.deprecated),
            schema: infra_schema(&b.block),
            repeated: matches!(b.nesting, Nesting::List | Nesting::Set),
            compare: match b.nesting {
                Nesting::Set => Comparison::Set,
                _ => Comparison::Exact,
            },
        })
        .collect();
    Schema { description: described(&block.description, &block.deprecated), attributes, blocks }
}

/// The whole plugin as an Infra provider named `name`: resource kinds drop the
/// provider type's prefix (`workato_folder` is `workato.folder`).
pub fn infra_provider(name: &str, provider_type: &str, description: &str, schema: &PluginSchema) -> ProviderSchema {
    let prefix = format!("{provider_type}_");
    let kind = |full: &String| full.strip_prefix(&prefix).unwrap_or(full).to_string();
    ProviderSchema {
        name: name.to_string(),
        description: description.to_string(),
        config: infra_schema(&schema.provider),
        resources: schema.resources.iter().map(|(n, s)| (kind(n), infra_schema(&s.block))).collect(),
        data_sources: schema.data_sources.iter().map(|(n, s)| (kind(n), infra_schema(&s.block))).collect(),
    }
}

/// A plugin's function as the checker knows it: `NAME::FUNCTION`, with Infra's types.
pub fn function_signature(plugin: &str, name: &str, function: &Function) -> FunctionSignature {
    let param = |p: &Parameter| ParamSignature { name: p.name.clone(), ty: infra_type(&p.ty) };
    let mut description = function.summary.clone();
    if !function.description.is_empty() && function.description != function.summary {
        if !description.is_empty() {
            description.push_str("\n\n");
        }
        description.push_str(&function.description);
    }
    if let Some(message) = &function.deprecated {
        description.push_str(&format!("\n\nDeprecated: {message}"));
    }
    FunctionSignature {
        name: format!("{plugin}::{name}"),
        params: function.parameters.iter().map(param).collect(),
        optional_params: 0,
        variadic: function.variadic.as_ref().map(param),
        returns: Returns::Type(infra_type(&function.returns)),
        description,
        resource_only: false,
    }
}

// ---- The cache ----------------------------------------------------------------------

/// `.infra/plugins/schemas.json` beside the root module: the schema of every plugin
/// `infra init` installed, keyed by the name the configuration declares it under.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct SchemaCache {
    /// What the cache holds ([`SchemaCache::FORMAT`]); a cache of another format is
    /// learned again by `infra init` (0: written before the format was recorded, without
    /// functions).
    #[serde(default)]
    pub format: u32,
    pub plugins: BTreeMap<String, CachedPlugin>,
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct CachedPlugin {
    /// The source address (`registry.terraform.io/local/workato`).
    pub source: String,
    /// Terraform's provider type, the last part of the source (`workato`).
    #[serde(rename = "type")]
    pub provider_type: String,
    pub version: String,
    /// The plugin protocol version it speaks.
    pub protocol: u32,
    pub schema: PluginSchema,
}

impl SchemaCache {
    /// The format this version writes: 1 holds schemas with functions.
    pub const FORMAT: u32 = 1;

    /// Where the cache of the root module in `module_dir` lives.
    pub fn path(module_dir: &Path) -> PathBuf {
        module_dir.join(".infra/plugins/schemas.json")
    }

    /// The cache, or `None` when there is none, it cannot be read, or it is of another
    /// format (then every plugin's schema is unknown, and the checker says to run
    /// `infra init`, which learns them again).
    pub fn read(module_dir: &Path) -> Option<SchemaCache> {
        let text = std::fs::read(SchemaCache::path(module_dir)).ok()?;
        serde_json::from_slice(&text).ok().filter(|cache: &SchemaCache| cache.format == SchemaCache::FORMAT)
    }

    /// Writes the cache whole (beside its place first, then renamed there).
    pub fn write(&self, module_dir: &Path) -> std::io::Result<()> {
        let path = SchemaCache::path(module_dir);
        if let Some(parent) = path.parent() {
            std::fs::create_dir_all(parent)?;
        }
        let partial = path.with_extension("json.partial");
        std::fs::write(&partial, serde_json::to_vec(self).map_err(std::io::Error::other)?)?;
        std::fs::rename(&partial, &path)
    }

    /// Every cached plugin's functions, by the name they are called with
    /// (`workato::asset_id`).
    pub fn functions(&self) -> BTreeMap<String, FunctionSignature> {
        let mut signatures = BTreeMap::new();
        for (plugin, cached) in &self.plugins {
            for (name, function) in &cached.schema.functions {
                let signature = function_signature(plugin, name, function);
                signatures.insert(signature.name.clone(), signature);
            }
        }
        signatures
    }

    /// Every cached plugin as an Infra provider, by name.
    pub fn providers(&self) -> BTreeMap<String, ProviderSchema> {
        self.plugins
            .iter()
            .map(|(name, plugin)| {
                let description = format!(
                    "Terraform provider plugin {} {} (protocol {})",
                    plugin.source, plugin.version, plugin.protocol
                );
                (name.clone(), infra_provider(name, &plugin.provider_type, &description, &plugin.schema))
            })
            .collect()
    }
}

/// What `infra init` learned of one installed plugin's schema.
pub struct Learned {
    pub name: String,
    pub protocol: u32,
    /// The cache held it for this version already, so the plugin was not started.
    pub reused: bool,
}

/// Learns the schema of every installed plugin (starting each whose source and version
/// the cache does not hold yet) and writes the cache anew, holding exactly these.
/// A plugin that cannot answer is E0915, naming its log; the cache is then left as it
/// was.
pub fn cache_schemas(module_dir: &Path, installed: &[crate::Installed]) -> Result<Vec<Learned>, Vec<Diagnostic>> {
    let before = SchemaCache::read(module_dir).unwrap_or_default();
    let mut cache = SchemaCache { format: SchemaCache::FORMAT, ..SchemaCache::default() };
    let mut learned = Vec::new();
    let mut errors = Vec::new();
    for plugin in installed {
        let source = plugin.address.to_string();
        let version = plugin.version.to_string();
        let held = before.plugins.values().find(|p| p.source == source && p.version == version);
        if let Some(held) = held {
            learned.push(Learned { name: plugin.name.clone(), protocol: held.protocol, reused: true });
            cache.plugins.insert(plugin.name.clone(), held.clone());
            continue;
        }
        let log = crate::handshake::log_path(module_dir, &plugin.name);
        let outcome = program(&plugin.dir, &plugin.address.type_name).and_then(|program| {
            let _ = std::fs::create_dir_all(log.parent().unwrap_or(module_dir));
            crate::client::learn_schema(&program, &log).map_err(|e| e.to_string())
        });
        match outcome {
            Ok(answer) => {
                learned.push(Learned { name: plugin.name.clone(), protocol: answer.protocol, reused: false });
                let provider_type = plugin.address.type_name.clone();
                let entry =
                    CachedPlugin { source, provider_type, version, protocol: answer.protocol, schema: answer.schema };
                cache.plugins.insert(plugin.name.clone(), entry);
            }
            Err(problem) => errors.push(
                Diagnostic::error(
                    codes::SCHEMA_FAILED,
                    format!("plugin `{}` ({source} {version}) did not give its schema", plugin.name),
                )
                .with_note(format!("{problem}; its log is {}", log.display()))
                .with_help("the plugin must run on this machine: check its log, or install another version"),
            ),
        }
    }
    if !errors.is_empty() {
        return Err(errors);
    }
    cache.write(module_dir).map_err(|e| {
        vec![Diagnostic::error(
            codes::SCHEMA_FAILED,
            format!("{} cannot be written: {e}", SchemaCache::path(module_dir).display()),
        )
        .with_help("check that the module's directory is writable")]
    })?;
    Ok(learned)
}

/// The plugin program in an installed package: `terraform-provider-TYPE[_vVERSION]`.
pub(crate) fn program(dir: &Path, provider_type: &str) -> Result<PathBuf, String> {
    let prefix = format!("terraform-provider-{provider_type}");
    let entries = std::fs::read_dir(dir).map_err(|e| format!("{} cannot be read: {e}", dir.display()))?;
    let mut found: Vec<PathBuf> = entries
        .filter_map(Result::ok)
        .map(|e| e.path())
        .filter(|p| p.is_file() && p.file_name().and_then(|n| n.to_str()).is_some_and(|n| n.starts_with(&prefix)))
        .collect();
    found.sort();
    found.into_iter().next().ok_or_else(|| format!("its package in {} holds no `{prefix}` program", dir.display()))
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn terraform_types_as_infra_types() {
        assert_eq!(infra_type(&json!("string")), Type::String);
        assert_eq!(infra_type(&json!(["list", "number"])), Type::list(Type::Number));
        assert_eq!(infra_type(&json!(["set", ["map", "bool"]])), Type::set(Type::map(Type::Bool)));
        assert_eq!(infra_type(&json!("dynamic")), Type::Any);
        assert_eq!(infra_type(&json!(["tuple", ["string", "number"]])), Type::Tuple(vec![Type::String, Type::Number]));
        let object = infra_type(&json!(["object", {"a": "string", "b": "number"}, ["b"]]));
        let Type::Object(fields) = object else { panic!("{object:?}") };
        assert_eq!(fields["a"], ObjectField { ty: Type::String, optional: false });
        assert_eq!(fields["b"], ObjectField { ty: Type::Number, optional: true });
    }
}
