//! The `infra` command: parses flags, picks a command and turns its outcome into an exit code.
//!
//! Everything here is plumbing. Each command lives in its own module and returns its
//! exit status; rendering lives in `render`, `json`, `dot` and `svg`. The command line is
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
mod inputs;
mod json;
mod lsp;
mod paths;
mod plan;
mod progress;
mod render;
mod render_plan;
mod saved_plan;
mod selection;
mod session;
mod state;
mod svg;
mod workspace;

use std::io::IsTerminal;
use std::path::PathBuf;
use std::process::ExitCode;

use clap::{Parser, Subcommand, ValueEnum};

/// Exit status when everything is fine.
pub const EXIT_OK: u8 = 0;
/// Exit status when the input has errors (or could not be read).
pub const EXIT_ERRORS: u8 = 1;
// Exit status 2 (a command line clap rejects) is clap's own; see docs/cli.md.
/// Exit status of `infra fmt --check` when some file is not formatted.
pub const EXIT_UNFORMATTED: u8 = 3;

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
    /// Read and edit the state: list, show, mv, rm, pull, push, migrate
    State(state::StateArgs),
    /// Manage workspaces: several isolated states of one configuration
    Workspace(workspace::WorkspaceArgs),
    /// Print the outputs saved by the last apply
    Output(state::OutputArgs),
    /// Run the language server on stdio, for editors
    Lsp(lsp::LspArgs),
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, ValueEnum)]
pub enum ColorChoice {
    Auto,
    Always,
    Never,
}

/// Output settings every command shares.
#[derive(Clone, Copy, Debug)]
pub struct Output {
    /// Whether diagnostics and summaries written to stderr may use colour.
    pub stderr_color: bool,
    /// Whether text written to stdout (diffs) may use colour.
    pub stdout_color: bool,
}

impl Output {
    fn new(choice: ColorChoice) -> Output {
        Output {
            stderr_color: use_color(choice, std::io::stderr().is_terminal()),
            stdout_color: use_color(choice, std::io::stdout().is_terminal()),
        }
    }
}

/// `auto` colours only a terminal, and only when neither `NO_COLOR` (https://no-color.org)
/// nor `TERM=dumb` asks otherwise; `always` and `never` override both.
fn use_color(choice: ColorChoice, is_terminal: bool) -> bool {
    match choice {
        ColorChoice::Always => true,
        ColorChoice::Never => false,
        ColorChoice::Auto => {
            let no_color = std::env::var_os("NO_COLOR").is_some_and(|v| !v.is_empty());
            let dumb = std::env::var_os("TERM").is_some_and(|t| t == "dumb");
            is_terminal && !no_color && !dumb
        }
    }
}

#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;

fn main() -> ExitCode {
    let cli = Cli::parse();
    if let Some(dir) = &cli.chdir {
        if let Err(err) = std::env::set_current_dir(dir) {
            let out = Output::new(cli.color);
            render::print_error(
                out,
                crate::codes::COMMAND_FAILED,
                &format!("cannot change to directory `{}`: {err}", dir.display()),
                "check the path given to -C",
            );
            return ExitCode::from(EXIT_ERRORS);
        }
    }
    let out = Output::new(cli.color);
    let code = match &cli.command {
        Command::Check(args) => check::run(args, out),
        Command::Fmt(args) => format::run(args, out),
        Command::Graph(args) => graph::run(args, out),
        Command::Explain(args) => explain::run(args, out),
        Command::Console(args) => console::run(args, out),
        Command::Plan(args) => plan::run(args, out),
        Command::Apply(args) => apply::run(args, out, false),
        Command::Destroy(args) => apply::run(args, out, true),
        Command::Import(args) => import::run(args, out),
        Command::State(args) => state::run_state(args, out),
        Command::Output(args) => state::run_output(args, out),
        Command::Workspace(args) => workspace::run(args, out),
        Command::Lsp(args) => lsp::run(args, out),
    };
    ExitCode::from(code)
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

    #[test]
    fn never_and_always_override_the_terminal() {
        assert!(!use_color(ColorChoice::Never, true));
        assert!(use_color(ColorChoice::Always, false));
        assert!(!use_color(ColorChoice::Auto, false));
    }
}
