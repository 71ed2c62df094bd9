//! `infra check`: analyse a module and report its diagnostics.

use std::path::PathBuf;

use clap::{Args, ValueEnum};
use infra_compiler::{Analysis, FsLoader};

use crate::output::{Output, Report, EXIT_ERRORS, EXIT_OK};
use crate::{json, render};

#[derive(Args, Debug)]
pub struct CheckArgs {
    /// The module directory to check
    #[arg(value_name = "DIR", default_value = ".")]
    module_dir: PathBuf,

    /// How to print diagnostics: `human` (to stderr) or `json` (to stdout)
    #[arg(long, value_enum, default_value_t = CheckFormat::Human)]
    format: CheckFormat,

    /// Fail (exit 1) when there are warnings, not only errors
    #[arg(long)]
    deny_warnings: bool,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, ValueEnum)]
enum CheckFormat {
    /// Rendered diagnostics and a summary line, on stderr
    Human,
    /// One JSON document on stdout (see docs/cli.md)
    Json,
}

pub fn run(args: &CheckArgs, out: Output) -> Report {
    let mut analysis = analyze(&args.module_dir);
    // A `plugin` declaration edited since `infra init` locked and installed it.
    analysis.diagnostics.extend(infra_provider_plugin::declared::check(&args.module_dir, &analysis.modules));
    infra_compiler::diagnostic::sort(&mut analysis.diagnostics);
    let errors = analysis.diagnostics.iter().filter(|d| d.is_error()).count();
    let warnings = analysis.diagnostics.len() - errors;
    let failed = errors > 0 || (args.deny_warnings && warnings > 0);
    let exit = if failed { EXIT_ERRORS } else { EXIT_OK };
    let report = match args.format {
        CheckFormat::Json => {
            let document = json::document(&analysis.diagnostics, &analysis.sources);
            render::to_stdout(&format!("{}\n", json::to_string(&document)));
            Report::exit(exit)
        }
        CheckFormat::Human => {
            let summary = summary(&analysis, errors, warnings, failed);
            let diagnostics = std::mem::take(&mut analysis.diagnostics);
            let sources = std::mem::take(&mut analysis.sources);
            Report { diagnostics, sources, summary: Some((!failed, summary)), exit }
        }
    };
    // The process ends next; freeing the syntax trees one allocation at a time would
    // cost a twentieth of checking a large module.
    std::mem::forget(analysis);
    let _ = out;
    report
}

/// Analyses the module in `dir` with the built-in providers and functions, and the
/// schemas of the plugins `infra init` cached for it (`.infra/plugins/schemas.json`).
pub fn analyze(dir: &std::path::Path) -> Analysis {
    let schemas = infra_provider_plugin::schemas::WithPlugins::new(infra_stdlib::builtin(), dir);
    infra_compiler::analyze(dir, &FsLoader, &schemas)
}

fn summary(analysis: &Analysis, errors: usize, warnings: usize, failed: bool) -> String {
    if failed && errors == 0 {
        return format!("{} (denied by --deny-warnings)", render::plural(warnings, "warning"));
    }
    if failed {
        return render::count_summary(errors, warnings);
    }
    let mut text = format!("{} checked", render::plural(analysis.sources.len(), "file"));
    if warnings > 0 {
        text.push_str(&format!(", {}", render::plural(warnings, "warning")));
    }
    text
}
