//! `infra console`: evaluate expressions against a module, interactively with history
//! on a terminal, or one line at a time from a pipe.

use std::io::{BufRead, IsTerminal};
use std::path::PathBuf;

use clap::Args;
use infra_compiler::diagnostic::Diagnostic;
use infra_compiler::SourceMap;
use infra_runtime::module::ModuleScope;

use crate::codes;
use crate::inputs::InputArgs;
use crate::output::{Output, Report, EXIT_ERRORS, EXIT_OK};
use crate::render;

#[derive(Args, Debug)]
pub struct ConsoleArgs {
    /// The module whose inputs, lets and functions are in scope
    #[arg(value_name = "DIR", default_value = ".")]
    module_dir: PathBuf,

    #[command(flatten)]
    inputs: InputArgs,

    #[command(flatten)]
    backend: crate::session::BackendArgs,
}

pub fn run(args: &ConsoleArgs, out: Output) -> Report {
    let (analysis, inputs) = match crate::inputs::checked_module(
        &args.module_dir,
        &args.inputs,
        "the module has errors; fix them to use the console",
    ) {
        Ok(loaded) => loaded,
        Err(report) => return report,
    };
    let module = &analysis.modules[0];
    let env = |name: &str| std::env::var(name).ok();
    let stdlib = infra_stdlib::builtin();
    let scope_inputs = &inputs.clone();
    let scope = ModuleScope::new(module, inputs, stdlib, stdlib, &env);
    // After an apply, resources have the attributes the state recorded.
    let location = crate::session::location(Some(module), scope_inputs, &module.dir, &args.backend);
    match location.and_then(|location| {
        location.backend().and_then(|backend| backend.load()).map_err(|error| vec![error.to_diagnostic()])
    }) {
        Ok(loaded) => scope.load_state(&loaded.state),
        Err(diagnostics) => out.show(&diagnostics, &analysis.sources),
    }
    let mut sources = analysis.sources.clone();
    Report::exit(if std::io::stdin().is_terminal() {
        interactive(&scope, &mut sources, out)
    } else {
        piped(&scope, &mut sources, out)
    })
}

/// Evaluates one line; prints the value on stdout or the diagnostics on stderr.
/// Returns false on an error.
fn evaluate_line(scope: &ModuleScope<'_>, sources: &mut SourceMap, line: &str, out: Output) -> bool {
    let id = sources.add(PathBuf::from("<console>"), line.to_string());
    let result = infra_compiler::syntax::parse_expression(id, line)
        .and_then(|expr| scope.eval(&expr).map_err(|diagnostic| vec![diagnostic]));
    match result {
        Ok(value) => {
            render::to_stdout(&format!("{value}\n"));
            true
        }
        Err(diagnostics) => {
            // Each line's answer is due before the next line is read.
            out.show(&diagnostics, sources);
            false
        }
    }
}

fn is_blank(line: &str) -> bool {
    let line = line.trim();
    line.is_empty() || line.starts_with('#') || line.starts_with("//")
}

/// Evaluates each line of piped input. A line that is not UTF-8 is reported (the exit
/// status says so) and the rest are still evaluated; a read error ends the input.
fn piped(scope: &ModuleScope<'_>, sources: &mut SourceMap, out: Output) -> u8 {
    let mut ok = true;
    for (number, line) in std::io::stdin().lock().split(b'\n').enumerate() {
        let line = match line {
            Ok(line) => line,
            Err(error) => {
                let failed = Diagnostic::error(codes::COMMAND_FAILED, format!("cannot read standard input: {error}"))
                    .with_help("the lines before were evaluated");
                out.show(&[failed], sources);
                return EXIT_ERRORS;
            }
        };
        match String::from_utf8(line) {
            Ok(line) if !is_blank(&line) => ok &= evaluate_line(scope, sources, line.trim_end_matches('\r'), out),
            Ok(_) => {}
            Err(error) => {
                let offset = error.utf8_error().valid_up_to();
                let invalid = Diagnostic::error(
                    codes::INVALID_UTF8,
                    format!("line {} is not valid UTF-8 (at byte {offset})", number + 1),
                )
                .with_help("the line was skipped; the others are evaluated");
                out.show(&[invalid], sources);
                ok = false;
            }
        }
    }
    if ok {
        EXIT_OK
    } else {
        EXIT_ERRORS
    }
}

fn interactive(scope: &ModuleScope<'_>, sources: &mut SourceMap, out: Output) -> u8 {
    let Ok(mut editor) = rustyline::DefaultEditor::new() else {
        return piped(scope, sources, out);
    };
    let history = std::env::var_os("HOME").map(|home| PathBuf::from(home).join(".infra_console_history"));
    if let Some(path) = &history {
        let _ = editor.load_history(path);
    }
    render::to_stderr("Evaluate expressions against the module; `exit` or Ctrl-D quits.\n");
    loop {
        match editor.readline("> ") {
            Ok(line) if line.trim() == "exit" => break,
            Ok(line) => {
                if !is_blank(&line) {
                    let _ = editor.add_history_entry(line.as_str());
                    evaluate_line(scope, sources, &line, out);
                }
            }
            // Ctrl-C clears the line, as in a shell; Ctrl-D ends.
            Err(rustyline::error::ReadlineError::Interrupted) => continue,
            Err(_) => break,
        }
    }
    if let Some(path) = &history {
        let _ = editor.save_history(path);
    }
    EXIT_OK
}
