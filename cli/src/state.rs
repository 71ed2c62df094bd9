//! `infra state list|show` and `infra output`: read the state without changing it.

use std::path::{Path, PathBuf};

use clap::{Args, Subcommand};
use infra_runtime::address::Address;
use infra_runtime::state::{LocalBackend, State, StateBackend};

use crate::{render, Output, EXIT_ERRORS, EXIT_OK};

#[derive(Args, Debug)]
pub struct StateArgs {
    #[command(subcommand)]
    command: StateCommand,
}

#[derive(Subcommand, Debug)]
enum StateCommand {
    /// List every instance in the state, one address per line
    List {
        /// The root module
        #[arg(value_name = "DIR", default_value = ".")]
        module_dir: PathBuf,
    },
    /// Show one instance's attributes, secrets redacted
    Show {
        /// The instance, such as `web[0]` or `site["blog"]`
        address: String,
        /// The root module
        #[arg(value_name = "DIR", default_value = ".")]
        module_dir: PathBuf,
    },
}

#[derive(Args, Debug)]
pub struct OutputArgs {
    /// One output to print; all of them without
    name: Option<String>,

    /// The root module
    #[arg(long = "module", value_name = "DIR", default_value = ".")]
    module_dir: PathBuf,

    /// Print JSON: `{"name": {"value": ..., "sensitive": false}}`; sensitive values are null
    #[arg(long)]
    json: bool,
}

fn load(dir: &Path, out: Output) -> Result<State, u8> {
    match LocalBackend::new(dir.to_path_buf()).load() {
        Ok(loaded) => Ok(loaded.state),
        Err(error) => {
            render::print_diagnostics(out, &[error.to_diagnostic()], &infra_compiler::SourceMap::new());
            Err(EXIT_ERRORS)
        }
    }
}

pub fn run_state(args: &StateArgs, out: Output) -> u8 {
    match &args.command {
        StateCommand::List { module_dir } => {
            let state = match load(module_dir, out) {
                Ok(state) => state,
                Err(code) => return code,
            };
            for (address, instance) in &state.instances {
                let pending = if instance.status.is_pending() { "  (pending: not confirmed)" } else { "" };
                render::to_stdout(&format!("{address}{pending}\n"));
            }
            EXIT_OK
        }
        StateCommand::Show { address, module_dir } => {
            let parsed: Address = match address.parse() {
                Ok(parsed) => parsed,
                Err(error) => {
                    render::print_error(
                        out,
                        infra_compiler::diagnostic::codes::INVALID_ADDRESS,
                        &format!("`{address}` is not an address: {} at byte {}", error.message, error.offset),
                        "addresses look like `web`, `web[0]` or `site[\"blog\"]`",
                    );
                    return EXIT_ERRORS;
                }
            };
            let state = match load(module_dir, out) {
                Ok(state) => state,
                Err(code) => return code,
            };
            let Some(instance) = state.instances.get(&parsed) else {
                render::print_error(
                    out,
                    infra_compiler::diagnostic::codes::NOT_IN_STATE,
                    &format!("no instance `{parsed}` in the state"),
                    "`infra state list` shows what there is",
                );
                return EXIT_ERRORS;
            };
            let width = instance.attributes.keys().map(String::len).max().unwrap_or(0);
            let mut text = format!("# {} {parsed}\n", instance.resource_type);
            for (name, value) in &instance.attributes {
                text.push_str(&format!("{name:<width$} = {value}\n"));
            }
            render::to_stdout(&text);
            EXIT_OK
        }
    }
}

pub fn run_output(args: &OutputArgs, out: Output) -> u8 {
    let state = match load(&args.module_dir, out) {
        Ok(state) => state,
        Err(code) => return code,
    };
    if let Some(name) = &args.name {
        let Some(value) = state.outputs.get(name) else {
            render::print_error(
                out,
                infra_compiler::diagnostic::codes::NOT_IN_STATE,
                &format!("no output `{name}` in the state"),
                "`infra output` lists the saved outputs; outputs are saved by `infra apply`",
            );
            return EXIT_ERRORS;
        };
        if args.json {
            render::to_stdout(&format!("{}\n", output_json(value)));
        } else {
            render::to_stdout(&format!("{value}\n"));
        }
        return EXIT_OK;
    }
    if args.json {
        let document: serde_json::Map<String, serde_json::Value> =
            state.outputs.iter().map(|(name, value)| (name.clone(), output_json(value))).collect();
        render::to_stdout(&format!("{}\n", serde_json::Value::Object(document)));
    } else {
        for (name, value) in &state.outputs {
            render::to_stdout(&format!("{name} = {value}\n"));
        }
    }
    EXIT_OK
}

/// An output as JSON: its value in the language's syntax, or null when sensitive.
fn output_json(value: &infra_runtime::Value) -> serde_json::Value {
    let sensitive = value.contains_sensitive();
    let shown = if sensitive { serde_json::Value::Null } else { serde_json::Value::String(value.to_string()) };
    serde_json::json!({ "value": shown, "sensitive": sensitive })
}
