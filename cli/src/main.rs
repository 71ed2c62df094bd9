//! The `infra` command: parses flags, picks a command and turns its outcome into an exit code.
//!
//! Everything here is plumbing. Each command lives in its own module and returns a
//! report (its diagnostics, summary and exit status) that `output` renders once;
//! rendering lives in `output`, `render`, `json`, `dot` and `svg`. The command line is
//! described for users in `docs/cli.md`.

mod apply;
mod check;
mod codes;
mod console;
mod dot;
mod explain;
mod format;
mod graph;
mod import;
mod init;
mod inputs;
mod json;
mod lsp;
mod output;
mod paths;
mod plan;
mod progress;
mod refresh;
mod render;
mod render_plan;
mod selection;
mod session;
mod state;
mod svg;
mod workspace;

use std::path::PathBuf;
use std::process::ExitCode;

use clap::{Parser, Subcommand};

use output::{ColorChoice, Output, Report};

#[derive(Parser, Debug)]
#[command(
    name = "infra",
    version,
    about = "Infra: infrastructure as code, checked before it runs",
    propagate_version = true
)]
struct Cli {
    /// Change to DIR before doing anything else
    #[arg(short = 'C', long = "dir", value_name = "DIR", global = true)]
    chdir: Option<PathBuf>,

    /// When to colour output; `auto` colours a terminal unless NO_COLOR is set
    #[arg(long, value_enum, value_name = "WHEN", default_value_t = ColorChoice::Auto, global = true)]
    color: ColorChoice,

    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand, Debug)]
enum Command {
    /// Parse and type-check a module and report every problem found
    Check(check::CheckArgs),
    /// Install the provider plugins the configuration declares, and keep `.infra.lock`
    Init(init::InitArgs),
    /// Rewrite .infra files in the canonical style
    Fmt(format::FmtArgs),
    /// Print a module's dependency graph as Graphviz DOT or SVG
    Graph(graph::GraphArgs),
    /// Explain a diagnostic code such as E0201
    Explain(explain::ExplainArgs),
    /// Evaluate expressions against a module, interactively or from a pipe
    Console(console::ConsoleArgs),
    /// Show what apply would change, reading the state and refreshing it first
    Plan(plan::PlanArgs),
    /// Make the infrastructure match the configuration, after showing the plan
    Apply(apply::ApplyArgs),
    /// Delete everything the state holds, after showing what will go
    Destroy(apply::ApplyArgs),
    /// Record an existing object in the state as an instance of the configuration
    Import(import::ImportArgs),
    /// Read every managed object and record what it is now in the state, changing none
    Refresh(refresh::RefreshArgs),
    /// Read and edit the state: list, show, mv, rm, pull, push, migrate
    State(state::StateArgs),
    /// Manage workspaces: several isolated states of one configuration
    Workspace(workspace::WorkspaceArgs),
    /// Print the outputs saved by the last apply
    Output(state::OutputArgs),
    /// Remove a state lock whose holder is gone (an S3 state's lock outlives a killed run)
    ForceUnlock(state::ForceUnlockArgs),
    /// Run the language server on stdio, for editors
    Lsp(lsp::LspArgs),
}

/// A long option written with one dash, as Terraform spells them (`-auto-approve`,
/// `-var`, `-out=FILE`): refused with the spelling Infra takes. Left to the argument
/// parser, `-out=p.plan` would be `-o` with the value `ut=p.plan`.
fn single_dash_long_option(args: impl Iterator<Item = std::ffi::OsString>) -> Option<Report> {
    use clap::CommandFactory;
    fn long_names(command: &clap::Command, names: &mut std::collections::BTreeSet<String>) {
        names.extend(command.get_arguments().filter_map(|a| a.get_long()).map(str::to_string));
        command.get_subcommands().for_each(|sub| long_names(sub, names));
    }
    let mut names = std::collections::BTreeSet::new();
    for arg in args {
        let Some(arg) = arg.to_str() else { continue };
        if arg == "--" {
            return None;
        }
        let Some(rest) = arg.strip_prefix('-').filter(|rest| !rest.starts_with('-')) else { continue };
        let name = rest.split('=').next().unwrap_or(rest);
        if name.len() < 2 {
            continue;
        }
        if names.is_empty() {
            long_names(&Cli::command(), &mut names);
        }
        if names.contains(name) {
            let written = rest.replacen(name, "", 1);
            return Some(Report::error(
                codes::COMMAND_FAILED,
                &format!("`{arg}` is not an option: Infra's long options take two dashes"),
                &format!("write `--{name}{written}`"),
            ));
        }
    }
    None
}

#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;

fn main() -> ExitCode {
    // Transparent huge pages off for this process: where the system turns them on for
    // every mapping, each first touch of a 2 MiB region zeroes all of it, which made a
    // plan of 100 resources take 5 or 20 ms by where its allocations fell, and held
    // memory it never used (bench/RESULTS.md). Failing to turn them off changes nothing.
    #[cfg(target_os = "linux")]
    let _ = rustix::thread::disable_transparent_huge_pages(true);
    if let Some(report) = single_dash_long_option(std::env::args_os().skip(1)) {
        // The command line itself is wrong: the argument parser's exit code.
        let _ = Output::new(ColorChoice::Auto).finish(report);
        return ExitCode::from(2);
    }
    let cli = Cli::parse();
    let out = Output::new(cli.color);
    if let Some(dir) = &cli.chdir {
        if let Err(err) = std::env::set_current_dir(dir) {
            let report = Report::error(
                crate::codes::COMMAND_FAILED,
                &format!("cannot change to directory `{}`: {err}", dir.display()),
                "check the path given to -C",
            );
            return ExitCode::from(out.finish(report));
        }
    }
    let report = match &cli.command {
        Command::Check(args) => check::run(args, out),
        Command::Init(args) => init::run(args),
        Command::Fmt(args) => format::run(args, out),
        Command::Graph(args) => graph::run(args),
        Command::Explain(args) => explain::run(args),
        Command::Console(args) => console::run(args, out),
        Command::Plan(args) => plan::run(args, out),
        Command::Apply(args) => apply::run(args, out, false),
        Command::Destroy(args) => apply::run(args, out, true),
        Command::Import(args) => import::run(args, out),
        Command::Refresh(args) => refresh::run(args, out),
        Command::State(args) => state::run_state(args),
        Command::Output(args) => state::run_output(args),
        Command::ForceUnlock(args) => state::run_force_unlock(args),
        Command::Workspace(args) => workspace::run(args),
        Command::Lsp(args) => lsp::run(args),
    };
    // The engine's memory, with the plugins it started, is left to the operating system.
    infra_provider_plugin::handshake::stop_all();
    ExitCode::from(out.finish(report))
}

#[cfg(test)]
mod tests {
    use super::*;
    use clap::CommandFactory;

    #[test]
    fn command_line_is_well_formed() {
        Cli::command().debug_assert();
    }

    /// Regression: `-C DIR` and the `DIR` argument of `check` and `graph` once shared an
    /// argument id, which hid `-C` from those commands' help.
    #[test]
    fn global_dir_and_module_dir_are_distinct() {
        let cli = Cli::try_parse_from(["infra", "graph", "-C", "outer", "inner"]);
        let Ok(Cli { chdir, command: Command::Graph(args), .. }) = cli else {
            panic!("does not parse: {cli:?}");
        };
        assert_eq!(chdir, Some(PathBuf::from("outer")));
        assert!(format!("{args:?}").contains("\"inner\""), "{args:?}");
    }
}
