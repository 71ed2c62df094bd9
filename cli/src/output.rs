//! Where a command's outcome is rendered: the output settings, the exit statuses, and the
//! [`Report`] every command returns, which [`Output::finish`] renders once.
//!
//! A command writes its result (a plan, a list, a diff) to stdout as it goes, and returns
//! its diagnostics and the closing summary line in a `Report`; nothing else prints them.
//! The one exception is [`Output::show`], for what must be seen before the command goes
//! on: the state's warnings before a confirmation prompt, a second Ctrl-C.

use std::io::IsTerminal;

use clap::ValueEnum;
use infra_compiler::diagnostic::Code;

use crate::codes;
use infra_compiler::{Diagnostic, SourceMap};

use crate::render;

/// Exit status when everything is fine.
pub const EXIT_OK: u8 = 0;
/// Exit status when the input has errors (or could not be read).
pub const EXIT_ERRORS: u8 = 1;
// Exit status 2 (a command line clap rejects) is clap's own; see docs/cli.md.
/// `infra plan --detailed-exitcode`: the plan has changes.
pub const EXIT_CHANGES: u8 = 2;
/// Exit status of `infra fmt --check` when some file is not formatted.
pub const EXIT_UNFORMATTED: u8 = 3;
/// The exit status of a run stopped by Ctrl-C, as shells report SIGINT.
pub const EXIT_INTERRUPTED: u8 = 130;

/// Ends when Ctrl-C is pressed while a plan is being made, with what to say: planning
/// changes nothing, so the run just stops (see [`Report::planned`]).
pub async fn planning_interrupted() -> Diagnostic {
    if tokio::signal::ctrl_c().await.is_err() {
        // No signal handling here: never interrupted.
        std::future::pending::<()>().await;
    }
    Diagnostic::error(codes::INTERRUPTED, "interrupted while planning: nothing was changed")
        .with_help("run the command again; planning only reads, so nothing is left half done")
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
    pub fn new(choice: ColorChoice) -> Output {
        Output {
            stderr_color: use_color(choice, std::io::stderr().is_terminal()),
            stdout_color: use_color(choice, std::io::stdout().is_terminal()),
        }
    }

    /// Renders `report`'s diagnostics and summary on stderr; returns its exit status.
    pub fn finish(self, report: Report) -> u8 {
        self.show(&report.diagnostics, &report.sources);
        if let Some((ok, text)) = &report.summary {
            render::print_summary(self, *ok, text);
        }
        report.exit
    }

    /// Renders diagnostics now, for what must be seen before the command goes on.
    pub fn show(self, diagnostics: &[Diagnostic], sources: &SourceMap) {
        render::print_diagnostics(self, diagnostics, sources);
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

/// What a command did, for [`Output::finish`]: the diagnostics to show (their spans point
/// into `sources`), the closing summary line, and the exit status.
#[derive(Debug)]
pub struct Report {
    pub diagnostics: Vec<Diagnostic>,
    pub sources: SourceMap,
    /// `ok: ...` when true, `error: ...` when false.
    pub summary: Option<(bool, String)>,
    pub exit: u8,
}

impl Report {
    /// Done, nothing to say.
    pub fn ok() -> Report {
        Report::exit(EXIT_OK)
    }

    /// Done with this exit status, nothing to say.
    pub fn exit(exit: u8) -> Report {
        Report { diagnostics: Vec::new(), sources: SourceMap::new(), summary: None, exit }
    }

    /// Failed with these diagnostics.
    pub fn failed(diagnostics: Vec<Diagnostic>, sources: SourceMap) -> Report {
        Report { diagnostics, sources, summary: None, exit: EXIT_ERRORS }
    }

    /// A plan that failed: as [`Report::failed`], but with Ctrl-C's exit status when it
    /// was interrupted ([`planning_interrupted`]).
    pub fn planned(diagnostics: Vec<Diagnostic>, sources: SourceMap) -> Report {
        let interrupted = diagnostics.iter().any(|d| d.code == codes::INTERRUPTED);
        let exit = if interrupted { EXIT_INTERRUPTED } else { EXIT_ERRORS };
        Report { exit, ..Report::failed(diagnostics, sources) }
    }

    /// Failed for a reason that is not about a span of source (the command line, the
    /// terminal, the file system): a diagnostic with its code and hint.
    pub fn error(code: Code, message: &str, help: &str) -> Report {
        Report::failed(vec![Diagnostic::error(code, message).with_help(help)], SourceMap::new())
    }

    /// A state backend's error.
    pub fn state_error(error: &infra_runtime::state::StateError) -> Report {
        Report::failed(vec![error.to_diagnostic()], SourceMap::new())
    }

    /// The async runtime did not start.
    pub fn no_runtime(error: &std::io::Error) -> Report {
        Report::error(
            codes::COMMAND_FAILED,
            &format!("cannot start the async runtime: {error}"),
            "the system refused the runtime its timers, signals or I/O; check its resource limits",
        )
    }

    /// With a closing summary line.
    pub fn with_summary(mut self, ok: bool, text: impl Into<String>) -> Report {
        self.summary = Some((ok, text.into()));
        self
    }

    /// With `error: N errors` as its summary.
    pub fn with_count(self) -> Report {
        let text = render::count_summary(self.diagnostics.len(), 0);
        self.with_summary(false, text)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn never_and_always_override_the_terminal() {
        assert!(!use_color(ColorChoice::Never, true));
        assert!(use_color(ColorChoice::Always, false));
        assert!(!use_color(ColorChoice::Auto, false));
    }
}
