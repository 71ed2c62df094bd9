//! `plugin NAME { source = "...", version = "..." }`: the body holds only those two
//! attributes, each a plain string (`infra init` reads them without evaluating
//! anything), the source address and the version constraint parse as Terraform's do,
//! and a module declares each plugin once (E0900–E0903). A provider of a declared
//! plugin whose schema is not known is E0904, which says to run `infra init`.

use rustc_hash::FxHashMap as HashMap;

use crate::diagnostic::{codes, Diagnostic};
use crate::plugin::{SourceAddress, VersionConstraints};
use crate::resolve::Module;
use crate::span::Span;
use crate::syntax::ast::{Attribute, BodyItem, ExprKind, Ident, Item, PluginDecl};

use super::Checker;

/// What a `plugin` declaration says, once checked.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct PluginRequirement {
    /// The name `provider`, `resource` and `data` items use (`digitalocean`).
    pub name: String,
    pub source: SourceAddress,
    /// No `version` allows every version.
    pub version: VersionConstraints,
    /// The declaration, for diagnostics about it.
    pub span: Span,
}

/// Every `plugin` declaration of `module`, checked; the valid ones are returned.
pub fn module_plugins(module: &Module, diagnostics: &mut Vec<Diagnostic>) -> Vec<PluginRequirement> {
    let mut seen: HashMap<&str, Span> = HashMap::default();
    let mut plugins = Vec::new();
    for (_, item) in module.items() {
        let Item::Plugin(decl) = item else { continue };
        if let Some(first) = seen.insert(&decl.name.name, decl.name.span) {
            diagnostics.push(
                Diagnostic::error(codes::PLUGIN_DUPLICATE, format!("plugin `{}` declared twice", decl.name.name))
                    .with_label(decl.name.span, "declared again here")
                    .with_secondary(first, "first declared here")
                    .with_help("a module names each plugin once; remove one of them"),
            );
            continue;
        }
        plugins.extend(check_plugin(decl, diagnostics));
    }
    plugins
}

/// The valid `plugin` declarations of every module, in module order, for `infra init`
/// (the checker has reported the invalid ones).
pub fn requirements(modules: &[Module]) -> Vec<PluginRequirement> {
    let mut ignored = Vec::new();
    modules.iter().flat_map(|module| module_plugins(module, &mut ignored)).collect()
}

/// One declaration: its attributes, then its source and version.
pub fn check_plugin(decl: &PluginDecl, diagnostics: &mut Vec<Diagnostic>) -> Option<PluginRequirement> {
    let mut source = None;
    let mut version = None;
    for item in &decl.body.items {
        match item {
            BodyItem::Attribute(attribute) if attribute.name.name == "source" => source = Some(attribute),
            BodyItem::Attribute(attribute) if attribute.name.name == "version" => version = Some(attribute),
            BodyItem::Attribute(attribute) => diagnostics.push(
                invalid(format!("`plugin` has no attribute `{}`", attribute.name.name))
                    .with_label(attribute.name.span, "unknown attribute"),
            ),
            // The checker reports an elided body wherever it is.
            BodyItem::Placeholder(_) => {}
            BodyItem::Block(_) | BodyItem::Check(_) => diagnostics.push(
                invalid("a `plugin` declaration holds only attributes")
                    .with_label(decl.body.span, "not an attribute here"),
            ),
        }
    }
    let Some(source) = source else {
        diagnostics.push(
            invalid(format!("plugin `{}` has no `source`", decl.name.name))
                .with_label(decl.name.span, "no `source`")
                .with_help(format!(
                    "say where it comes from, as Terraform does: `source = \"NAMESPACE/{}\"`",
                    decl.name.name
                )),
        );
        return None;
    };
    let source = parse_attribute(source, SourceAddress::parse, codes::PLUGIN_SOURCE, diagnostics);
    let version = match version {
        Some(version) => parse_attribute(version, VersionConstraints::parse, codes::PLUGIN_VERSION, diagnostics),
        None => Some(VersionConstraints::default()),
    };
    Some(PluginRequirement { name: decl.name.name.to_string(), source: source?, version: version?, span: decl.span })
}

impl Checker<'_> {
    /// Where the module declares the plugin `name`, if it does.
    pub(super) fn declared_plugin(&mut self, name: &str) -> Option<Span> {
        let module = self.module;
        let declared = self.declared_plugins.get_or_insert_with(|| {
            let plugins = module.items().filter_map(|(_, item)| match item {
                Item::Plugin(decl) => Some((decl.name.name.to_string(), decl.name.span)),
                _ => None,
            });
            plugins.collect()
        });
        declared.get(name).copied()
    }
}

/// A provider, resource or data source of a declared plugin whose schema is not known:
/// `infra init` has not installed it (or not since it was declared), or — until the
/// plugin host runs plugins — could not ask it.
pub(super) fn not_installed(used: &Ident, declared: Span) -> Diagnostic {
    Diagnostic::error(codes::PLUGIN_SCHEMA_UNKNOWN, format!("plugin `{}` has no known schema", used.name))
        .with_label(used.span, "`infra init` has not learned its schema")
        .with_secondary(declared, "declared here")
        .with_help("run `infra init` to install the plugin and learn its schema")
}

fn invalid(message: impl Into<String>) -> Diagnostic {
    Diagnostic::error(codes::PLUGIN_INVALID, message).with_help(
        "a `plugin` declaration takes `source` (`[HOSTNAME/]NAMESPACE/TYPE`) and `version` (such as `~> 2.40`)",
    )
}

/// The attribute's value, a plain string, parsed by `parse`; a diagnostic when it is not
/// a plain string or does not parse.
fn parse_attribute<T>(
    attribute: &Attribute,
    parse: fn(&str) -> Result<T, String>,
    code: crate::diagnostic::Code,
    diagnostics: &mut Vec<Diagnostic>,
) -> Option<T> {
    let name = &attribute.name.name;
    let literal = match &attribute.value.kind {
        ExprKind::Text(text) => Some(text.to_string()),
        _ => None,
    };
    let Some(text) = literal else {
        diagnostics.push(
            invalid(format!("a plugin's `{name}` is a plain string"))
                .with_label(attribute.value.span, "not a plain string")
                .with_note("`infra init` reads it before anything is evaluated, so it cannot use inputs, lets or interpolations"),
        );
        return None;
    };
    match parse(&text) {
        Ok(value) => Some(value),
        Err(problem) => {
            let help = match name.as_str() {
                "source" => "write `NAMESPACE/TYPE` (such as `digitalocean/digitalocean`), or `HOSTNAME/NAMESPACE/TYPE` for another registry",
                _ => "write comparisons joined by commas, such as `~> 2.40` or `>= 1.0, < 2.0`",
            };
            diagnostics.push(
                Diagnostic::error(code, format!("invalid plugin `{name}`"))
                    .with_label(attribute.value.span, problem)
                    .with_help(help),
            );
            None
        }
    }
}
