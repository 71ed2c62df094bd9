//! `infra console`: evaluate expressions against a module (an empty one where there
//! are no `.infra` files), interactively with history on a terminal, or one line at a
//! time from a pipe.

use std::io::{BufRead, IsTerminal};
use std::path::PathBuf;

use clap::Args;
use infra_compiler::diagnostic::Diagnostic;
use infra_compiler::resolve::Module;
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
    let (analysis, configured) = analyze(&args.module_dir);
    let (analysis, inputs) = match crate::inputs::checked_module(
        analysis,
        &args.inputs,
        "the module has errors; fix them to use the console",
    ) {
        Ok(loaded) => loaded,
        Err(report) => return report,
    };
    let module = &analysis.modules[0];
    // Without a configuration nothing can read the state, so none is looked for.
    let stored = if configured { stored_state(args, &analysis, &inputs, out) } else { None };
    let env = |name: &str| std::env::var(name).ok();
    let stdlib = infra_stdlib::builtin();
    let mut scope = ModuleScope::new(module, inputs, stdlib, stdlib, &env);
    if let Some(state) = &stored {
        scope.load_state_and_calls(state, &analysis.modules);
    }
    let mut sources = analysis.sources.clone();
    Report::exit(if std::io::stdin().is_terminal() {
        interactive(&scope, &mut sources, configured, out)
    } else {
        piped(&scope, &mut sources, out)
    })
}

/// The state of the module, to evaluate against: after an apply, resources have the
/// attributes the state recorded, and module calls the outputs their modules compute
/// from them. A state that cannot be read is reported, and everything stays unknown.
fn stored_state(
    args: &ConsoleArgs,
    analysis: &infra_compiler::Analysis,
    inputs: &std::collections::BTreeMap<String, infra_runtime::Value>,
    out: Output,
) -> Option<infra_runtime::state::State> {
    let module = &analysis.modules[0];
    let location = crate::session::location(Some(module), inputs, &module.dir, &args.backend);
    let loaded = location.and_then(|location| {
        location.backend().and_then(|backend| backend.load()).map_err(|error| vec![error.to_diagnostic()])
    });
    match loaded {
        Ok(loaded) => Some(loaded.state),
        Err(diagnostics) => {
            out.show(&diagnostics, &analysis.sources);
            None
        }
    }
}

/// The module in `dir`, and whether there is one. A directory without `.infra` files is
/// an empty module, as Terraform's console works in an empty directory: built-in
/// functions and literals are still worth trying. Every other problem (a directory that
/// cannot be read, a module with errors) is the analysis' to report.
fn analyze(dir: &std::path::Path) -> (infra_compiler::Analysis, bool) {
    let mut analysis = crate::check::analyze(dir);
    let no_files = |d: &Diagnostic| d.code == infra_compiler::diagnostic::codes::NO_SOURCE_FILES;
    if !analysis.modules.is_empty() || analysis.diagnostics.is_empty() || !analysis.diagnostics.iter().all(no_files) {
        return (analysis, true);
    }
    analysis.diagnostics.clear();
    analysis.modules.push(Module {
        dir: dir.to_path_buf(),
        files: Vec::new(),
        decls: Default::default(),
        outputs: Default::default(),
        providers: Default::default(),
        calls: Default::default(),
    });
    (analysis, false)
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

fn interactive(scope: &ModuleScope<'_>, sources: &mut SourceMap, configured: bool, out: Output) -> u8 {
    let Ok(mut editor) = rustyline::DefaultEditor::new() else {
        return piped(scope, sources, out);
    };
    let history = std::env::var_os("HOME").map(|home| PathBuf::from(home).join(".infra_console_history"));
    if let Some(path) = &history {
        let _ = editor.load_history(path);
    }
    render::to_stderr(if configured {
        "Evaluate expressions against the module; `exit` or Ctrl-D quits.\n"
    } else {
        "Evaluate expressions (no `.infra` files here: built-in functions and literals); `exit` or Ctrl-D quits.\n"
    });
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
