//! `infra init`: installs the provider plugins the configuration declares (`plugin`
//! items, in the root module and the modules it calls) from the filesystem mirrors
//! given with `--plugin-dir` and the network mirrors given with `--plugin-mirror`, or,
//! when neither is given, from the registry each source address names; and from the
//! shared cache (`INFRA_PLUGIN_CACHE_DIR`). It keeps
//! `.infra.lock`, then asks each plugin for its schema (once per version) and caches it
//! in `.infra/plugins/schemas.json`. The choosing, hashing, locking and asking are
//! `infra_provider_plugin`'s.

use std::path::PathBuf;

use clap::Args;
use infra_compiler::check::plugin::requirements;
use infra_compiler::diagnostic::codes as language;
use infra_compiler::Diagnostic;
use infra_provider_plugin::schema::{cache_schemas, Learned};
use infra_provider_plugin::{
    current_platform, init, FilesystemMirror, InitOptions, Installed, NetworkMirror, Origin, PackageSource, Registry,
    SourceError,
};

use crate::output::Report;
use crate::{check, render};

#[derive(Args, Debug)]
pub struct InitArgs {
    /// The root module's directory
    #[arg(value_name = "DIR", default_value = ".")]
    module_dir: PathBuf,

    /// A filesystem mirror in Terraform's layout, unpacked (HOSTNAME/NAMESPACE/TYPE/VERSION/OS_ARCH/) or packed (HOSTNAME/NAMESPACE/TYPE/terraform-provider-TYPE_VERSION_OS_ARCH.zip); repeat to search several, in order
    #[arg(long = "plugin-dir", value_name = "DIR")]
    plugin_dirs: Vec<PathBuf>,

    /// A network mirror (Terraform's provider network mirror protocol) at this base URL; repeat to search several, in order, after the --plugin-dir ones. Given either flag, no registry is asked (as `terraform init -plugin-dir`)
    #[arg(long = "plugin-mirror", value_name = "URL")]
    plugin_mirrors: Vec<String>,

    /// Choose the newest versions the declarations allow, whatever `.infra.lock` selects
    #[arg(long)]
    upgrade: bool,
}

/// The environment variable naming the plugin cache shared between modules.
const CACHE_VARIABLE: &str = "INFRA_PLUGIN_CACHE_DIR";

pub fn run(args: &InitArgs) -> Report {
    let analysis = check::analyze(&args.module_dir);
    // Only what keeps the declarations from being read stops `init`: a configuration that
    // uses a plugin does not check until the plugin is installed.
    let blocking: Vec<Diagnostic> = analysis.diagnostics.iter().filter(|d| blocks_init(d)).cloned().collect();
    if !blocking.is_empty() {
        return Report::failed(blocking, analysis.sources);
    }
    let wanted = requirements(&analysis.modules);
    // No source is set up (nor a registry client) for a configuration without plugins.
    let sources = match wanted.is_empty() {
        true => Ok(Vec::new()),
        false => sources(args),
    };
    let sources = match sources {
        Ok(sources) => sources,
        Err(error) => return Report::failed(vec![error.into_diagnostic()], analysis.sources),
    };
    let cache = std::env::var_os(CACHE_VARIABLE).filter(|dir| !dir.is_empty()).map(PathBuf::from);
    let platform = current_platform();
    let options = InitOptions {
        module_dir: &args.module_dir,
        sources: &sources,
        cache_dir: cache.as_deref(),
        upgrade: args.upgrade,
        platform: &platform,
    };
    match init(&wanted, &options) {
        Ok(installed) => {
            render::to_stdout(&installed.iter().map(line).collect::<String>());
            // Each plugin's schema, for `check`, `fmt` and the editor: asked of the plugin
            // once per version and cached beside the lock file.
            match cache_schemas(&args.module_dir, &installed) {
                Ok(learned) => render::to_stdout(&learned.iter().map(schema_line).collect::<String>()),
                Err(diagnostics) => return Report::failed(diagnostics, analysis.sources),
            }
            let summary = match installed.len() {
                0 => "no plugins declared".to_string(),
                n => format!("{} installed and locked in .infra.lock", render::plural(n, "plugin")),
            };
            Report { summary: Some((true, summary)), ..Report::ok() }
        }
        Err(diagnostics) => Report::failed(diagnostics, analysis.sources),
    }
}

/// Where packages come from, in order: the filesystem mirrors, then the network
/// mirrors; when neither is given, the registry each source address names.
fn sources(args: &InitArgs) -> Result<Vec<Box<dyn PackageSource>>, SourceError> {
    let mut sources: Vec<Box<dyn PackageSource>> = Vec::new();
    for root in &args.plugin_dirs {
        sources.push(Box::new(FilesystemMirror { root: root.clone() }));
    }
    for url in &args.plugin_mirrors {
        sources.push(Box::new(NetworkMirror::new(url)?));
    }
    if sources.is_empty() {
        sources.push(Box::new(Registry::new()?));
    }
    Ok(sources)
}

/// Errors that keep the module's `plugin` declarations from being read: loading,
/// syntax, called modules, and the declarations themselves.
fn blocks_init(diagnostic: &Diagnostic) -> bool {
    let code = diagnostic.code.as_str();
    let loading_or_syntax = code.starts_with("E00") || code.starts_with("E01");
    let blocking = [
        language::MODULE_NOT_FOUND,
        language::MODULE_CYCLE,
        language::PLUGIN_INVALID,
        language::PLUGIN_SOURCE,
        language::PLUGIN_VERSION,
        language::PLUGIN_DUPLICATE,
    ];
    diagnostic.is_error() && (loading_or_syntax || blocking.contains(&diagnostic.code))
}

/// `- workato: registry.terraform.io/local/workato 0.16.0 (from the mirror at DIR)`.
fn line(installed: &Installed) -> String {
    let origin = match &installed.origin {
        Origin::AlreadyInstalled => "already installed".to_string(),
        Origin::Cache => "from the plugin cache".to_string(),
        Origin::Source(source) => format!("from {source}"),
    };
    format!("- {}: {} {} ({origin})\n", installed.name, installed.address, installed.version)
}

/// `- workato: schema learned over plugin protocol 6`.
fn schema_line(learned: &Learned) -> String {
    match learned.reused {
        true => format!("- {}: schema already cached (plugin protocol {})\n", learned.name, learned.protocol),
        false => format!("- {}: schema learned over plugin protocol {}\n", learned.name, learned.protocol),
    }
}
