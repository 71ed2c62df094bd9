//! `infra state list|show|mv|rm|pull|push|migrate` and `infra output`: read the state,
//! edit it by hand, copy it in and out, move it to another backend.

use std::io::Read;
use std::path::{Path, PathBuf};
use std::time::Duration;

use clap::{Args, Subcommand};
use infra_compiler::diagnostic::{codes, Diagnostic};
use infra_compiler::SourceMap;
use infra_runtime::address::Address;
use infra_runtime::state::document::{parse_snapshot, render_snapshot};
use infra_runtime::state::{
    LockHolder, MoveError, PostgresLocation, State, StateBackend, StateError, StateErrorKind, StateLock,
};

use crate::session::{BackendArgs, StateLocation};
use crate::{render, Output, EXIT_ERRORS, EXIT_OK};

#[derive(Args, Debug)]
pub struct StateArgs {
    #[command(subcommand)]
    command: StateCommand,
}

/// The flags every state command shares: the module and where its state is.
#[derive(Args, Debug, Clone)]
struct Where {
    /// The root module
    #[arg(long = "module", value_name = "DIR", default_value = ".")]
    module_dir: PathBuf,

    #[command(flatten)]
    backend: BackendArgs,

    /// How long to wait for the state lock, in seconds
    #[arg(long, value_name = "SECONDS", default_value_t = 0)]
    lock_timeout: u64,
}

#[derive(Subcommand, Debug)]
enum StateCommand {
    /// List every instance in the state, one address per line
    List {
        /// The root module
        #[arg(value_name = "DIR", default_value = ".")]
        module_dir: PathBuf,
        #[command(flatten)]
        backend: BackendArgs,
    },
    /// Show one instance's attributes, secrets redacted
    Show {
        /// The instance, such as `web[0]` or `site["blog"]`
        address: String,
        /// The root module
        #[arg(value_name = "DIR", default_value = ".")]
        module_dir: PathBuf,
        #[command(flatten)]
        backend: BackendArgs,
    },
    /// Move an instance (or all instances of a declaration) to another address, without
    /// touching the object
    Mv {
        /// The address it has, such as `web[0]` or `web`
        source: String,
        /// The address it gets
        destination: String,
        /// Show what would move and change nothing
        #[arg(long)]
        dry_run: bool,
        #[command(flatten)]
        place: Where,
    },
    /// Forget instances (or all instances of a declaration), without deleting the objects
    Rm {
        /// The addresses, such as `web[0]` or `web`
        #[arg(required = true)]
        addresses: Vec<String>,
        /// Show what would be forgotten and change nothing
        #[arg(long)]
        dry_run: bool,
        #[command(flatten)]
        place: Where,
    },
    /// Print the state as JSON on stdout (secrets included: handle it with care)
    Pull {
        #[command(flatten)]
        place: Where,
    },
    /// Replace the state with a JSON state read from stdin (or FILE)
    Push {
        /// Read the state from FILE instead of stdin
        #[arg(value_name = "FILE")]
        file: Option<PathBuf>,
        /// Replace even a state of another lineage or a newer serial
        #[arg(long)]
        force: bool,
        #[command(flatten)]
        place: Where,
    },
    /// Copy the state to another backend: a PostgreSQL URL, `local` (the files beside the
    /// module) or a directory
    Migrate {
        /// `postgres://USER:PASSWORD@HOST:PORT/DB`, `local`, or a directory path
        #[arg(long = "to", value_name = "URL|local|DIR")]
        to: String,
        /// The schema at the target, for a PostgreSQL URL
        #[arg(long = "to-schema", value_name = "NAME")]
        to_schema: Option<String>,
        #[command(flatten)]
        place: Where,
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

    #[command(flatten)]
    backend: BackendArgs,
}

fn print_state_error(out: Output, error: &StateError) -> u8 {
    render::print_diagnostics(out, &[error.to_diagnostic()], &SourceMap::new());
    EXIT_ERRORS
}

fn load(dir: &Path, backend: &BackendArgs, out: Output) -> Result<State, u8> {
    let location = crate::session::location_for_dir(dir, backend, out)?;
    let loaded = location.backend().and_then(|backend| backend.load()).map_err(|e| print_state_error(out, &e))?;
    Ok(loaded.state)
}

/// The state locked and loaded, for a command that changes it.
fn locked(place: &Where, command: &str, out: Output) -> Result<(Box<dyn StateBackend>, StateLock, State), u8> {
    let location = crate::session::location_for_dir(&place.module_dir, &place.backend, out)?;
    let result = location.backend().and_then(|backend| {
        let lock = backend.lock(&LockHolder::new(command), Duration::from_secs(place.lock_timeout))?;
        let loaded = backend.load()?;
        Ok((backend, lock, loaded.state))
    });
    result.map_err(|e| print_state_error(out, &e))
}

fn parse_address(text: &str, out: Output) -> Result<Address, u8> {
    text.parse().map_err(|error: infra_runtime::address::AddressError| {
        render::print_error(
            out,
            codes::INVALID_ADDRESS,
            &format!("`{text}` is not an address: {} at byte {}", error.message, error.offset),
            "addresses look like `web`, `web[0]` or `site[\"blog\"]`",
        );
        EXIT_ERRORS
    })
}

pub fn run_state(args: &StateArgs, out: Output) -> u8 {
    let result = match &args.command {
        StateCommand::List { module_dir, backend } => list(module_dir, backend, out),
        StateCommand::Show { address, module_dir, backend } => show(address, module_dir, backend, out),
        StateCommand::Mv { source, destination, dry_run, place } => mv(source, destination, *dry_run, place, out),
        StateCommand::Rm { addresses, dry_run, place } => rm(addresses, *dry_run, place, out),
        StateCommand::Pull { place } => pull(place, out),
        StateCommand::Push { file, force, place } => push(file.as_deref(), *force, place, out),
        StateCommand::Migrate { to, to_schema, place } => migrate(to, to_schema.as_deref(), place, out),
    };
    result.unwrap_or_else(|code| code)
}

fn list(module_dir: &Path, backend: &BackendArgs, out: Output) -> Result<u8, u8> {
    let state = load(module_dir, backend, out)?;
    for (address, instance) in &state.instances {
        let pending = if instance.status.is_pending() { "  (pending: not confirmed)" } else { "" };
        render::to_stdout(&format!("{address}{pending}\n"));
    }
    Ok(EXIT_OK)
}

fn show(address: &str, module_dir: &Path, backend: &BackendArgs, out: Output) -> Result<u8, u8> {
    let parsed = parse_address(address, out)?;
    let state = load(module_dir, backend, out)?;
    let Some(instance) = state.instances.get(&parsed) else {
        return Err(not_in_state(&parsed, out));
    };
    let width = instance.attributes.keys().map(String::len).max().unwrap_or(0);
    let mut text = format!("# {} {parsed}\n", instance.resource_type);
    for (name, value) in &instance.attributes {
        text.push_str(&format!("{name:<width$} = {value}\n"));
    }
    render::to_stdout(&text);
    Ok(EXIT_OK)
}

fn not_in_state(address: &Address, out: Output) -> u8 {
    render::print_error(
        out,
        codes::NOT_IN_STATE,
        &format!("no instance `{address}` in the state"),
        "`infra state list` shows what there is",
    );
    EXIT_ERRORS
}

fn mv(source: &str, destination: &str, dry_run: bool, place: &Where, out: Output) -> Result<u8, u8> {
    let source = parse_address(source, out)?;
    let destination = parse_address(destination, out)?;
    let (backend, lock, mut state) = locked(place, "infra state mv", out)?;
    let moves = state.move_instances(&source, &destination).map_err(|error| match error {
        MoveError::NothingToMove => not_in_state(&source, out),
        MoveError::Collision { to } => {
            render::print_error(
                out,
                codes::INVALID_ADDRESS,
                &format!("`{source}` names several instances, and more than one would move to `{to}`"),
                "give the destination without a key (`infra state mv web site`) so each instance keeps its own, \
                 or move one instance (`infra state mv web[0] site[0]`)",
            );
            EXIT_ERRORS
        }
        MoveError::Occupied { from, to } => {
            render::print_error(
                out,
                codes::STATE_ADDRESS_TAKEN,
                &format!("cannot move `{from}` to `{to}`: the state already has `{to}`"),
                "remove or move that instance first (`infra state rm`, `infra state mv`); nothing was changed",
            );
            EXIT_ERRORS
        }
    })?;
    for (from, to) in &moves {
        render::to_stdout(&format!("{}Moved {from} to {to}\n", if dry_run { "Would have " } else { "" }));
    }
    if dry_run {
        return Ok(EXIT_OK);
    }
    backend.compact(&mut state).map_err(|e| print_state_error(out, &e))?;
    drop(lock);
    Ok(EXIT_OK)
}

fn rm(addresses: &[String], dry_run: bool, place: &Where, out: Output) -> Result<u8, u8> {
    let parsed = addresses.iter().map(|text| parse_address(text, out)).collect::<Result<Vec<_>, _>>()?;
    let (backend, lock, mut state) = locked(place, "infra state rm", out)?;
    let mut removed = Vec::new();
    for address in &parsed {
        let found = state.instances_within(address);
        if found.is_empty() {
            return Err(not_in_state(address, out));
        }
        removed.extend(found);
    }
    removed.sort();
    removed.dedup();
    for address in &removed {
        state.instances.remove(address);
        render::to_stdout(&format!("{}Removed {address}\n", if dry_run { "Would have " } else { "" }));
    }
    if dry_run {
        return Ok(EXIT_OK);
    }
    backend.compact(&mut state).map_err(|e| print_state_error(out, &e))?;
    drop(lock);
    render::to_stdout("The objects were not deleted; Infra no longer manages them.\n");
    Ok(EXIT_OK)
}

fn pull(place: &Where, out: Output) -> Result<u8, u8> {
    let state = load(&place.module_dir, &place.backend, out)?;
    let bytes = render_snapshot(&state, state.serial).map_err(|e| print_state_error(out, &e))?;
    render::to_stdout(&String::from_utf8_lossy(&bytes));
    Ok(EXIT_OK)
}

fn push(file: Option<&Path>, force: bool, place: &Where, out: Output) -> Result<u8, u8> {
    let mut bytes = Vec::new();
    let read = match file {
        Some(path) => std::fs::read(path).map(|b| bytes = b),
        None => std::io::stdin().read_to_end(&mut bytes).map(|_| ()),
    };
    if let Err(error) = read {
        render::print_error(
            out,
            codes::COMMAND_FAILED,
            &format!("cannot read the state to push: {error}"),
            "check the file",
        );
        return Err(EXIT_ERRORS);
    }
    let mut pushed = parse_snapshot(&bytes, "the pushed state").map_err(|error| {
        let diagnostic = Diagnostic::error(codes::INVALID_STATE_DOCUMENT, error.message.clone())
            .with_help("push what `infra state pull` printed; nothing was changed");
        render::print_diagnostics(out, &[diagnostic], &SourceMap::new());
        EXIT_ERRORS
    })?;
    let (backend, lock, current) = locked(place, "infra state push", out)?;
    if !force {
        current.check_continued_by(&pushed, &backend.location()).map_err(|e| print_state_error(out, &e))?;
    }
    // The pushed state becomes the newest: its serial goes past the stored one.
    pushed.serial = pushed.serial.max(current.serial);
    backend.replace_snapshot(&mut pushed).map_err(|e| print_state_error(out, &e))?;
    drop(lock);
    render::to_stdout(&format!("Pushed the state to {} (serial {}).\n", backend.location(), pushed.serial));
    Ok(EXIT_OK)
}

fn migrate(to: &str, to_schema: Option<&str>, place: &Where, out: Output) -> Result<u8, u8> {
    let source = crate::session::location_for_dir(&place.module_dir, &place.backend, out)?;
    let workspace = source.workspace().to_string();
    let target = if to.starts_with("postgres://") || to.starts_with("postgresql://") {
        PostgresLocation::new(to, to_schema, Some(&workspace))
            .map(|location| StateLocation::Postgres(Box::new(location)))
    } else {
        let dir = if to == "local" { place.module_dir.clone() } else { PathBuf::from(to) };
        if let Err(error) = std::fs::create_dir_all(&dir) {
            let error =
                StateError::new(StateErrorKind::WriteFailed, format!("cannot create `{}`: {error}", dir.display()))
                    .with_help("give a directory this user can write");
            return Err(print_state_error(out, &error));
        }
        Ok(StateLocation::Local { module_dir: dir, workspace: workspace.clone() })
    };
    let result = target.and_then(|target| {
        let (from, to) = (source.backend()?, target.backend()?);
        if from.location() == to.location() {
            return Err(StateError::new(StateErrorKind::InvalidLocation, "the state is already there")
                .with_help("give another location with --to"));
        }
        let holder = LockHolder::new("infra state migrate");
        let timeout = Duration::from_secs(place.lock_timeout);
        let from_lock = from.lock(&holder, timeout)?;
        let to_lock = to.lock(&holder, timeout)?;
        let mut state = from.load()?.state;
        let existing = to.load()?.state;
        existing.check_continued_by(&state, &to.location())?;
        state.serial = state.serial.max(existing.serial);
        to.replace_snapshot(&mut state)?;
        drop(to_lock);
        drop(from_lock);
        Ok((from.location(), to.location(), state.instances.len()))
    });
    match result {
        Ok((from, to, count)) => {
            render::to_stdout(&format!(
                "Copied the state ({count} instances) from {from} to {to}.\nThe old copy was left in place; point the \
                 module at the new one (its `state` block, `--state-url` or `INFRA_STATE_URL`) before the next apply.\n"
            ));
            Ok(EXIT_OK)
        }
        Err(error) => Err(print_state_error(out, &error)),
    }
}

pub fn run_output(args: &OutputArgs, out: Output) -> u8 {
    let state = match load(&args.module_dir, &args.backend, out) {
        Ok(state) => state,
        Err(code) => return code,
    };
    if let Some(name) = &args.name {
        let Some(value) = state.outputs.get(name) else {
            render::print_error(
                out,
                codes::NOT_IN_STATE,
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
