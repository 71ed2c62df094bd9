//! Whether each `plugin` declaration is still the plugin `infra init` locked and
//! installed: a declaration edited since (another `source`, a `version` the locked one
//! no longer meets) must not go on running the old plugin, as Terraform refuses a
//! configuration its dependency lock file does not match ("locked provider ... does not
//! match configured version constraint"; "required by this configuration but no version
//! is selected").
//!
//! This reads the lock file and the schema cache only, never the packages: `infra
//! check` stays as quick as it is and works without the plugin (the host says when a
//! program is missing as it starts it). A module never initialised (neither file) is
//! left to the checker's E0904 at the uses.

use std::path::Path;

use infra_compiler::check::plugin::{check_plugin, PluginRequirement};
use infra_compiler::plugin::Version;
use infra_compiler::resolve::Module;
use infra_compiler::syntax::ast::{BodyItem, Item, PluginDecl};
use infra_compiler::{Diagnostic, Span};

use crate::codes;
use crate::lock::{LockFile, LockedPlugin, LOCK_FILE};
use crate::schema::{CachedPlugin, SchemaCache};

/// The declarations of `modules` (the root module in `module_dir` first) that the lock
/// file or the installed plugins do not match, as diagnostics on their `source` or
/// `version`. Invalid declarations are the checker's (E0900–E0903) and skipped here.
pub fn check(module_dir: &Path, modules: &[Module]) -> Vec<Diagnostic> {
    let cache = SchemaCache::read(module_dir);
    let lock_exists = LockFile::path(module_dir).exists();
    if cache.is_none() && !lock_exists {
        return Vec::new();
    }
    let lock = match LockFile::read(module_dir) {
        Ok(lock) => lock,
        Err(problem) => {
            return vec![Diagnostic::error(codes::LOCK_FILE_INVALID, problem)
                .with_help("repair the file, or remove it and run `infra init` to choose the versions again")]
        }
    };
    let installed = Installed { cache: cache.unwrap_or_default(), lock, lock_exists };
    let mut diagnostics = Vec::new();
    for module in modules {
        for (_, item) in module.items() {
            let Item::Plugin(decl) = item else { continue };
            diagnostics.extend(installed.mismatch(decl));
        }
    }
    diagnostics
}

/// What `infra init` left: the lock file and the schema cache.
struct Installed {
    cache: SchemaCache,
    lock: LockFile,
    lock_exists: bool,
}

impl Installed {
    /// Why `decl` is not what is locked and installed, if it is not.
    fn mismatch(&self, decl: &PluginDecl) -> Option<Diagnostic> {
        let declared = check_plugin(decl, &mut Vec::new())?;
        let spans = Spans::of(decl);
        let address = declared.source.to_string();
        let cached = self.cache.plugins.get(&declared.name);
        let Some(locked) = self.lock.plugins.get(&address) else {
            return Some(self.not_locked(&declared, spans.source, cached));
        };
        let version = Version::parse(&locked.version).ok()?;
        if !declared.version.allows(&version) {
            return Some(version_refused(&declared, &address, locked, spans.version.unwrap_or(declared.span)));
        }
        let cached = cached?;
        if cached.source != address || cached.version != locked.version {
            return Some(not_installed(&declared, &address, locked, cached, spans.source));
        }
        None
    }

    /// E0919: the declared source address has no entry in the lock file.
    fn not_locked(&self, declared: &PluginRequirement, span: Span, cached: Option<&CachedPlugin>) -> Diagnostic {
        let what = match self.lock_exists {
            true => format!("`{LOCK_FILE}` has no entry for it"),
            false => format!("there is no `{LOCK_FILE}`"),
        };
        let diagnostic = Diagnostic::error(
            codes::DECLARATION_NOT_INSTALLED,
            format!("plugin `{}` declares `{}`, which is not locked", declared.name, declared.source),
        )
        .with_label(span, what)
        .with_help("run `infra init` to install the plugin the declaration names and lock it");
        match cached {
            Some(cached) => diagnostic.with_note(format!(
                "`infra init` locked and installed {} {} as `{}`",
                cached.source, cached.version, declared.name
            )),
            None => diagnostic,
        }
    }
}

/// E0912, as `infra init` reports it: the locked version is one the declaration refuses.
fn version_refused(declared: &PluginRequirement, address: &str, locked: &LockedPlugin, span: Span) -> Diagnostic {
    Diagnostic::error(
        codes::LOCKED_VERSION_REFUSED,
        format!("`{LOCK_FILE}` selects {address} {}, which this declaration does not allow", locked.version),
    )
    .with_label(span, format!("allows `{}`", declared.version))
    .with_help("run `infra init --upgrade` to choose a version the declaration allows, and commit the new lock file")
}

/// E0919: the lock file names the declared plugin, but the one installed under its name
/// is another (the lock file was edited or replaced since `infra init`).
fn not_installed(
    declared: &PluginRequirement,
    address: &str,
    locked: &LockedPlugin,
    cached: &CachedPlugin,
    span: Span,
) -> Diagnostic {
    let label = match cached.source == address {
        true => format!("`{LOCK_FILE}` selects {}; {} is installed", locked.version, cached.version),
        false => format!(
            "`{LOCK_FILE}` selects {address} {}; {} {} is installed",
            locked.version, cached.source, cached.version
        ),
    };
    Diagnostic::error(
        codes::DECLARATION_NOT_INSTALLED,
        format!("the installed plugin `{}` is not the one `{LOCK_FILE}` selects", declared.name),
    )
    .with_label(span, label)
    .with_help("run `infra init` to install the locked plugin")
}

/// Where a declaration's `source` and `version` values are.
struct Spans {
    source: Span,
    version: Option<Span>,
}

impl Spans {
    fn of(decl: &PluginDecl) -> Spans {
        let value = |name: &str| {
            decl.body.items.iter().find_map(|item| match item {
                BodyItem::Attribute(attribute) if attribute.name.name == name => Some(attribute.value.span),
                _ => None,
            })
        };
        Spans { source: value("source").unwrap_or(decl.span), version: value("version") }
    }
}
