//! The input flags every evaluating command shares (`--var`, `--var-file`), and
//! turning them, the environment and prompts into input values.

use std::collections::BTreeMap;
use std::io::{BufRead, IsTerminal, Write};
use std::path::PathBuf;

use clap::Args;
use infra_compiler::diagnostic::Diagnostic;

use crate::codes;
use infra_compiler::resolve::Module;
use infra_compiler::SourceMap;
use infra_runtime::inputs::{
    mask_var_file, parse_json_var_file, resolve_inputs, GivenText, GivenValue, InputContext, Origin, Secrets,
};
use infra_runtime::Value;

use crate::output::Report;

#[derive(Args, Debug, Clone, Default)]
pub struct InputArgs {
    /// Set an input: `--var name=value` (repeatable; later wins)
    #[arg(long = "var", value_name = "NAME=VALUE", value_parser = parse_var)]
    vars: Vec<(String, String)>,

    /// Read inputs from a file of `name = expression` lines, or a JSON object when FILE ends in `.json` (repeatable; later wins)
    #[arg(long = "var-file", value_name = "FILE")]
    var_files: Vec<PathBuf>,
}

fn parse_var(text: &str) -> Result<(String, String), String> {
    match text.split_once('=') {
        Some((name, value)) if !name.trim().is_empty() => Ok((name.trim().to_string(), value.to_string())),
        _ => Err(format!("expected NAME=VALUE, found `{text}`")),
    }
}

/// Resolves the root module's inputs. Var files are added to `sources` so their
/// diagnostics can be shown.
pub fn resolve(
    args: &InputArgs,
    module: &Module,
    sources: &mut SourceMap,
) -> Result<BTreeMap<String, Value>, Vec<Diagnostic>> {
    let mut given = Vec::new();
    let mut diagnostics = Vec::new();
    // What diagnostics show of a var file has the sensitive inputs' values masked, and
    // their messages lose the words of those values.
    let sensitive = infra_runtime::inputs::sensitive_inputs(module);
    let mut secrets = Secrets::default();
    for path in &args.var_files {
        match std::fs::read_to_string(path) {
            Ok(text) => {
                let masked = mask_var_file(&text, &sensitive);
                secrets.extend(masked.secrets);
                let id = sources.add(path.clone(), masked.shown);
                if path.extension().is_some_and(|e| e == "json") {
                    match parse_json_var_file(id, path, &text) {
                        Ok(values) => given.extend(values),
                        Err(error) => diagnostics.push(error),
                    }
                    continue;
                }
                match infra_compiler::syntax::parse_var_file(id, &text) {
                    Ok(attributes) => given.extend(attributes.into_iter().map(|a| GivenValue {
                        name: a.name.name.to_string(),
                        origin: Origin::VarFile(a.span),
                        value: GivenText::Expr(a.value),
                    })),
                    Err(errors) => diagnostics.extend(errors),
                }
            }
            Err(error) => diagnostics.push(
                Diagnostic::error(codes::READ_FAILED, format!("cannot read var file `{}`: {error}", path.display()))
                    .with_help("check the path given to `--var-file`"),
            ),
        }
    }
    given.extend(args.vars.iter().map(|(name, value)| GivenValue {
        name: name.clone(),
        value: GivenText::Text(value.clone()),
        origin: Origin::Flag,
    }));
    // `INFRA_VAR_NAME` that is not UTF-8 cannot be read as text: an error, not an input
    // silently left to its default.
    for (key, _) in std::env::vars_os().filter(|(_, value)| value.to_str().is_none()) {
        let Some(name) = key.to_str().and_then(|key| key.strip_prefix("INFRA_VAR_")) else { continue };
        if module.decl(name).is_some_and(|decl| decl.kind == infra_compiler::resolve::DeclKind::Input) {
            diagnostics.push(
                Diagnostic::error(
                    codes::READ_FAILED,
                    format!("the environment variable `INFRA_VAR_{name}` is not UTF-8"),
                )
                .with_help(format!("set it to UTF-8 text, or unset it and give `--var {name}=VALUE`")),
            );
        }
    }
    let redacted = |diagnostics: Vec<Diagnostic>| diagnostics.into_iter().map(|d| secrets.redact(d)).collect();
    if !diagnostics.is_empty() {
        return Err(redacted(diagnostics));
    }
    let env = |name: &str| std::env::var(name).ok();
    let stdlib = infra_stdlib::builtin();
    let context = InputContext { module, functions: stdlib, schemas: stdlib, env: &env };
    let interactive = std::io::stdin().is_terminal() && std::io::stderr().is_terminal();
    let mut prompt = |name: &str, input: &infra_compiler::syntax::ast::Input| -> Option<String> {
        if !interactive {
            return None;
        }
        let description =
            input.body.as_ref().and_then(|b| b.attribute("description")).and_then(|a| match &a.value.kind {
                infra_compiler::syntax::ast::ExprKind::Text(text) => Some(text.to_string()),
                _ => None,
            });
        let mut stderr = std::io::stderr();
        if let Some(description) = description {
            let _ = writeln!(stderr, "{description}");
        }
        let _ = write!(stderr, "Enter a value for `{name}`: ");
        let _ = stderr.flush();
        let mut line = String::new();
        std::io::stdin().lock().read_line(&mut line).ok()?;
        Some(line.trim_end_matches(['\n', '\r']).to_string())
    };
    resolve_inputs(&context, &given, &mut prompt).map_err(redacted)
}

/// Checks that the root module of `analysis` has no errors and resolves its inputs: what
/// `console` starts with. On failure the report has the diagnostics (and `refusal` as its
/// summary when the module has errors).
pub fn checked_module(
    mut analysis: infra_compiler::Analysis,
    args: &InputArgs,
    refusal: &str,
) -> Result<(infra_compiler::Analysis, BTreeMap<String, Value>), Report> {
    if analysis.has_errors() || analysis.modules.is_empty() {
        return Err(Report::failed(analysis.diagnostics, analysis.sources).with_summary(false, refusal));
    }
    // The checker's side tables (types of every declaration, every reference) serve
    // the language server; evaluation does not read them.
    drop(std::mem::take(&mut analysis.tables));
    let mut sources = std::mem::take(&mut analysis.sources);
    let result = resolve(args, &analysis.modules[0], &mut sources);
    analysis.sources = sources;
    match result {
        Ok(inputs) => Ok((analysis, inputs)),
        Err(diagnostics) => Err(Report::failed(diagnostics, analysis.sources)),
    }
}
