//! `infra state list|show|mv|rm|pull|push|migrate|encrypt|decrypt`, `infra output` and
//! `infra force-unlock`: read the state, edit it by hand, copy it in and out, move it to
//! another backend or in and out of encryption, remove a lock its holder left behind.

pub mod backend_change;

use std::io::Read;
use std::path::{Path, PathBuf};
use std::time::Duration;

use crate::codes;
use clap::{Args, Subcommand};
use infra_backend_postgres::PostgresLocation;
use infra_compiler::resolve::Module;
use infra_compiler::syntax::ast::Item;
use infra_runtime::address::Address;
use infra_runtime::session::state_edit::{self, EditError, StateEdit};
use infra_runtime::state::document::{parse_snapshot, render_snapshot};
use infra_runtime::state::{LockHolder, MoveError, State, StateError, StateErrorKind};

use crate::output::Report;
use crate::render;
use crate::session::{BackendArgs, StateLocation, Store};
use infra_runtime::state::envelope::Encryption;

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
    /// Copy the state to another backend: a PostgreSQL URL, an S3 URL, `local` (the files
    /// beside the module) or a directory
    Migrate {
        /// `postgres://USER:PASSWORD@HOST:PORT/DB`, `s3://BUCKET/KEY`, `local`, or a
        /// directory path; with `--from`, the configured state without
        #[arg(long = "to", value_name = "URL|local|DIR", required_unless_present = "from")]
        to: Option<String>,
        /// Copy from the local files (`local`: beside the module; or those in DIR) instead
        /// of the configured state: after a `state` block was added or `--state-url`
        /// given, this moves the state left behind
        #[arg(long = "from", value_name = "local|DIR")]
        from: Option<String>,
        /// The schema at the target, for a PostgreSQL URL
        #[arg(long = "to-schema", value_name = "NAME")]
        to_schema: Option<String>,
        #[command(flatten)]
        place: Where,
    },
    /// Encrypt the state with the configured key (`INFRA_STATE_PASSPHRASE`, or the
    /// `state` block's `encryption`), or re-encrypt it with the current key
    Encrypt {
        #[command(flatten)]
        place: Where,
    },
    /// Store the state in the clear again, decrypted with the configured key
    Decrypt {
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
    #[arg(long, conflicts_with = "raw")]
    json: bool,

    /// Print NAME's text as it is, without quotes or a newline (`$(infra output --raw ip)`);
    /// NAME must be a string, number or bool, and not sensitive
    #[arg(long, requires = "name")]
    raw: bool,

    #[command(flatten)]
    backend: BackendArgs,
}

fn load(dir: &Path, backend: &BackendArgs) -> Result<State, Report> {
    let location = crate::session::location_for_dir(dir, backend)?;
    let loaded = location.backend().and_then(|backend| backend.load()).map_err(|e| Report::state_error(&e))?;
    Ok(loaded.state)
}

/// The state locked and loaded, for a command that changes it.
fn locked(place: &Where, command: &str) -> Result<StateEdit, Report> {
    let location = crate::session::location_for_dir(&place.module_dir, &place.backend)?;
    let timeout = Duration::from_secs(place.lock_timeout);
    let result = location.backend().and_then(|backend| StateEdit::open(backend, &LockHolder::new(command), timeout));
    result.map_err(|e| Report::state_error(&e))
}

/// An edit's refusal, in the words of the command that asked for it; `source` is what
/// `infra state mv` was asked to move.
fn edit_error(error: EditError, source: Option<&Address>) -> Report {
    let source = source.map(ToString::to_string).unwrap_or_default();
    match error {
        EditError::NotInState(address) => not_in_state(&address),
        EditError::State(error) => Report::state_error(&error),
        EditError::Move(MoveError::Collision { to }) => Report::error(
            codes::INVALID_ADDRESS,
            &format!("`{source}` names several instances, and more than one would move to `{to}`"),
            "give the destination without a key (`infra state mv web site`) so each instance keeps its own, \
             or move one instance (`infra state mv web[0] site[0]`)",
        ),
        EditError::Move(MoveError::Occupied { from, to }) => Report::error(
            codes::STATE_ADDRESS_TAKEN,
            &format!("cannot move `{from}` to `{to}`: the state already has `{to}`"),
            "remove or move that instance first (`infra state rm`, `infra state mv`); nothing was changed",
        ),
        EditError::TypeMismatch(mismatch) => {
            let source_of_type = if mismatch.declared {
                "the configuration declares it as"
            } else {
                "the state holds other instances of it of type"
            };
            Report::error(
                codes::INVALID_MOVE,
                &format!(
                    "cannot move `{}` (a `{}`) to `{}`: resource types don't match ({source_of_type} `{}`)",
                    mismatch.from, mismatch.instance_type, mismatch.to, mismatch.destination_type
                ),
                &format!(
                    "the next plan would replace it, deleting the object; move it to an address of a `{}` \
                     declaration (or declare one), or give the declaration a new name; nothing was changed",
                    mismatch.instance_type
                ),
            )
        }
        EditError::Move(MoveError::NothingToMove) => Report::error(
            codes::NOT_IN_STATE,
            &format!("no instance `{source}` in the state"),
            "`infra state list` shows what there is",
        ),
    }
}

/// What a state command did, or with `--dry-run` would do: "Moved" or "Would move".
fn done(dry_run: bool, past: &'static str, present: &'static str) -> String {
    if dry_run {
        format!("Would {present}")
    } else {
        past.to_string()
    }
}

fn parse_address(text: &str) -> Result<Address, Report> {
    text.parse().map_err(|error: infra_runtime::address::AddressError| {
        Report::error(
            codes::INVALID_ADDRESS,
            &format!("`{text}` is not an address: {} at byte {}", error.message, error.offset),
            "addresses look like `web`, `web[0]` or `site[\"blog\"]`",
        )
    })
}

pub fn run_state(args: &StateArgs) -> Report {
    let result = match &args.command {
        StateCommand::List { module_dir, backend } => list(module_dir, backend),
        StateCommand::Show { address, module_dir, backend } => show(address, module_dir, backend),
        StateCommand::Mv { source, destination, dry_run, place } => mv(source, destination, *dry_run, place),
        StateCommand::Rm { addresses, dry_run, place } => rm(addresses, *dry_run, place),
        StateCommand::Pull { place } => pull(place),
        StateCommand::Push { file, force, place } => push(file.as_deref(), *force, place),
        StateCommand::Migrate { to, from, to_schema, place } => {
            migrate(&Migration { to: to.as_deref(), from: from.as_deref(), to_schema: to_schema.as_deref() }, place)
        }
        StateCommand::Encrypt { place } => reencrypt(place, false),
        StateCommand::Decrypt { place } => reencrypt(place, true),
    };
    result.err().unwrap_or_else(Report::ok)
}

fn list(module_dir: &Path, backend: &BackendArgs) -> Result<(), Report> {
    let state = load(module_dir, backend)?;
    for (address, instance) in &state.instances {
        let pending = if instance.status.is_pending() { "  (pending: not confirmed)" } else { "" };
        render::to_stdout(&format!("{address}{pending}\n"));
    }
    Ok(())
}

fn show(address: &str, module_dir: &Path, backend: &BackendArgs) -> Result<(), Report> {
    let parsed = parse_address(address)?;
    let state = load(module_dir, backend)?;
    let Some(instance) = state.instances.get(&parsed) else {
        return Err(not_in_state(&parsed));
    };
    let width = instance.attributes.keys().map(|name| name.chars().count()).max().unwrap_or(0);
    let mut text = format!("# {} {parsed}\n", instance.resource_type);
    for (name, value) in &instance.attributes {
        // Padded by hand: `format!`'s width stops at 65,535, and a state edited by hand
        // may hold a longer name.
        let padding = " ".repeat(width - name.chars().count());
        text.push_str(&format!("{name}{padding} = {value}\n"));
    }
    render::to_stdout(&text);
    Ok(())
}

fn not_in_state(address: &Address) -> Report {
    Report::error(
        codes::NOT_IN_STATE,
        &format!("no instance `{address}` in the state"),
        "`infra state list` shows what there is",
    )
}

fn mv(source: &str, destination: &str, dry_run: bool, place: &Where) -> Result<(), Report> {
    let source = parse_address(source)?;
    let destination = parse_address(destination)?;
    if source == destination {
        return Err(Report::error(
            codes::INVALID_MOVE,
            &format!("`{source}` cannot be moved onto itself"),
            "give the address it should have now as the second argument; nothing was changed",
        ));
    }
    let mut edit = locked(place, "infra state mv")?;
    let modules = configuration(&place.module_dir);
    let declared = |address: &Address| declared_type(&modules, address);
    let moves =
        edit.move_instances(&source, &destination, dry_run, &declared).map_err(|e| edit_error(e, Some(&source)))?;
    for (from, to) in &moves {
        render::to_stdout(&format!("{} {from} to {to}\n", done(dry_run, "Moved", "move")));
    }
    Ok(())
}

/// The modules of the configuration in `dir` (the root first), as far as they load;
/// none when the directory holds no `.infra` files.
fn configuration(dir: &Path) -> Vec<Module> {
    let has_sources = std::fs::read_dir(dir)
        .map(|entries| entries.flatten().any(|entry| entry.path().extension().is_some_and(|e| e == "infra")))
        .unwrap_or(false);
    if has_sources {
        crate::check::analyze(dir).modules
    } else {
        Vec::new()
    }
}

/// The resource type (`local.file`) the configuration declares at `address`, following
/// its module calls from the root; `None` when it declares no resource there.
fn declared_type(modules: &[Module], address: &Address) -> Option<String> {
    let mut module = modules.first()?;
    let (last, calls) = address.steps.split_last()?;
    for step in calls {
        module = modules.get(*module.calls.get(step.name.as_str())?)?;
    }
    match module.item(module.decl(last.name.as_str())?.item) {
        Item::Resource(resource) => Some(format!("{}.{}", resource.ty.provider.name, resource.ty.kind.name)),
        _ => None,
    }
}

fn rm(addresses: &[String], dry_run: bool, place: &Where) -> Result<(), Report> {
    let parsed = addresses.iter().map(|text| parse_address(text)).collect::<Result<Vec<_>, _>>()?;
    let mut edit = locked(place, "infra state rm")?;
    let removed = edit.remove(&parsed, dry_run).map_err(|e| edit_error(e, None))?;
    for address in &removed {
        render::to_stdout(&format!("{} {address}\n", done(dry_run, "Removed", "remove")));
    }
    if !dry_run {
        render::to_stdout("The objects were not deleted; Infra no longer manages them.\n");
    }
    Ok(())
}

fn pull(place: &Where) -> Result<(), Report> {
    let state = load(&place.module_dir, &place.backend)?;
    let bytes = render_snapshot(&state, state.serial).map_err(|e| Report::state_error(&e))?;
    render::to_stdout(&String::from_utf8_lossy(&bytes));
    Ok(())
}

fn push(file: Option<&Path>, force: bool, place: &Where) -> Result<(), Report> {
    let mut bytes = Vec::new();
    let read = match file {
        Some(path) => std::fs::read(path).map(|b| bytes = b),
        None => std::io::stdin().read_to_end(&mut bytes).map(|_| ()),
    };
    let named = file.map_or_else(|| "stdin".to_string(), |path| path.display().to_string());
    if let Err(error) = read {
        return Err(Report::error(
            codes::COMMAND_FAILED,
            &format!("cannot read the state to push from `{named}`: {error}"),
            "give the path of a state document (`infra state pull > FILE` writes one), or pipe it to stdin",
        ));
    }
    let pushed = parse_snapshot(&bytes, &named).map_err(|error| {
        Report::error(
            codes::INVALID_STATE_DOCUMENT,
            &error.message,
            "push what `infra state pull` printed; nothing was changed",
        )
    })?;
    // What every later load would refuse (a type no provider offers, a value not of its
    // attribute's type) is refused now, before the state it would replace is touched.
    let providers = crate::session::providers(&place.module_dir);
    let invalid = infra_runtime::session::state_check::check(&pushed, &providers, &named);
    if !invalid.is_empty() {
        return Err(Report::failed(invalid, infra_compiler::SourceMap::new())
            .with_summary(false, "the document was not pushed; nothing was changed"));
    }
    let mut edit = locked(place, "infra state push")?;
    let serial = edit.replace(pushed, force).map_err(|e| Report::state_error(&e))?;
    render::to_stdout(&format!("Pushed the state to {} (serial {serial}).\n", edit.location()));
    Ok(())
}

/// `infra state encrypt` (`decrypt` false) and `infra state decrypt`: the state read
/// whether it is encrypted or not, and written again encrypted with the current key, or
/// in the clear.
fn reencrypt(place: &Where, decrypt: bool) -> Result<(), Report> {
    let mut location = crate::session::location_for_dir(&place.module_dir, &place.backend)?;
    let Some(encryption) = location.encryption.take() else {
        return Err(Report::error(
            codes::COMMAND_FAILED,
            "no state encryption key is configured",
            "set INFRA_STATE_PASSPHRASE (or INFRA_STATE_KEY), or `encryption` in the `state` block; nothing was \
             changed",
        ));
    };
    location.encryption = Some(Encryption { accept_plain: true, write_plain: decrypt, ..encryption });
    let command = if decrypt { "infra state decrypt" } else { "infra state encrypt" };
    let timeout = Duration::from_secs(place.lock_timeout);
    let result = location.backend().and_then(|backend| StateEdit::open(backend, &LockHolder::new(command), timeout));
    let mut edit = result.map_err(|e| Report::state_error(&e))?;
    let state = edit.state().clone();
    edit.replace(state, false).map_err(|e| Report::state_error(&e))?;
    // Written twice: the local backend keeps the version a write replaces as its backup.
    // After one write that is the plain state, secrets and all (encrypting), or a state
    // only the keys being given up can read (decrypting).
    let written = edit.state().clone();
    let serial = edit.replace(written, false).map_err(|e| Report::state_error(&e))?;
    let done = if decrypt { "Decrypted" } else { "Encrypted" };
    render::to_stdout(&format!("{done} the state at {} (serial {serial}).\n", edit.location()));
    Ok(())
}

/// What `infra state migrate` was asked to copy, and where.
struct Migration<'a> {
    /// The target; the configured state when `None` (only with `from`).
    to: Option<&'a str>,
    /// `local` or a directory: copy from those local files rather than the configured
    /// state.
    from: Option<&'a str>,
    to_schema: Option<&'a str>,
}

fn migrate(migration: &Migration<'_>, place: &Where) -> Result<(), Report> {
    let configured = crate::session::location_for_dir(&place.module_dir, &place.backend)?;
    // Moving a state is how a plain one comes under encryption: both ends read a state
    // in the clear, and the copy is written with the keys configured.
    let encryption = configured.encryption.clone().map(|encryption| Encryption { accept_plain: true, ..encryption });
    let workspace = configured.workspace().to_string();
    let source = match migration.from {
        Some(from) => StateLocation { store: local_store(from, place, &workspace)?, encryption: encryption.clone() },
        None => StateLocation { store: configured.store.clone(), encryption: encryption.clone() },
    };
    let target = match migration.to {
        Some(to) => target_store(to, migration.to_schema, place, &workspace).map_err(|e| Report::state_error(&e))?,
        None => configured.store.clone(),
    };
    let target = StateLocation { store: target, encryption };
    let result = copy_state(&source, &target, place);
    match result {
        Ok((from, to, count)) => {
            if matches!(&target.store, Store::Local { module_dir, .. } if module_dir == &place.module_dir) {
                backend_change::forget(&place.module_dir, target.workspace());
            }
            let next = next_step(migration, &target, place);
            let count = render::plural(count, "instance");
            render::to_stdout(&format!(
                "Copied the state ({count}) from {from} to {to}.\nThe old copy was left in place; {next}\n"
            ));
            Ok(())
        }
        Err(error) => Err(Report::state_error(&error)),
    }
}

/// The local files `from` names (`local`: beside the module), for `--from`.
fn local_store(from: &str, place: &Where, workspace: &str) -> Result<Store, Report> {
    let dir = if from == "local" { place.module_dir.clone() } else { PathBuf::from(from) };
    let files = backend_change::local_dir(&dir, workspace);
    if !infra_runtime::state::LocalBackend::new(&files).state_path().is_file() {
        let error = StateError::new(
            StateErrorKind::Workspace,
            format!("there is no local state to migrate in `{}`", files.display()),
        )
        .with_help(
            "`--from local` copies the `infra.state.json` beside the module; give `--from DIR` for another directory",
        );
        return Err(Report::state_error(&error));
    }
    Ok(Store::Local { module_dir: dir, workspace: workspace.to_string(), allow_empty: false })
}

/// The store `--to` names: a PostgreSQL or S3 URL, `local` or a directory (created).
fn target_store(to: &str, to_schema: Option<&str>, place: &Where, workspace: &str) -> Result<Store, StateError> {
    if to.starts_with("postgres://") || to.starts_with("postgresql://") {
        return PostgresLocation::new(to, to_schema, Some(workspace))
            .map(|location| Store::Postgres(Box::new(location)));
    }
    if to.starts_with("s3://") {
        return crate::session::url_location(to, Some(workspace));
    }
    let dir = if to == "local" { place.module_dir.clone() } else { PathBuf::from(to) };
    std::fs::create_dir_all(&dir).map_err(|error| {
        StateError::new(StateErrorKind::WriteFailed, format!("cannot create `{}`: {error}", dir.display()))
            .with_help("give a directory this user can write")
    })?;
    Ok(Store::Local { module_dir: dir, workspace: workspace.to_string(), allow_empty: false })
}

/// Copies the state from `source` to `target`, creating the workspace at the target
/// when it is not `default` and not there yet (the source's exists, so the name is no
/// typo). Returns both locations as shown and the number of instances copied.
fn copy_state(
    source: &StateLocation,
    target: &StateLocation,
    place: &Where,
) -> Result<(String, String, usize), StateError> {
    let from = source.backend()?;
    let workspace = target.workspace();
    if workspace != infra_runtime::state::workspace::DEFAULT_WORKSPACE {
        // Loaded first, so a source workspace that does not exist is reported as such.
        from.load()?;
        if !target.workspaces()?.iter().any(|name| name == workspace) {
            target.create_workspace(workspace)?;
        }
    }
    let to = target.backend()?;
    let holder = LockHolder::new("infra state migrate");
    let count = state_edit::migrate(from.as_ref(), to.as_ref(), &holder, Duration::from_secs(place.lock_timeout))?;
    Ok((from.location(), to.location(), count))
}

/// What to do after a migration so that the module uses the copy.
fn next_step(migration: &Migration<'_>, target: &StateLocation, place: &Where) -> String {
    let remove = "remove it once satisfied.";
    if migration.to.is_none() {
        return format!("the module already uses the new one; {remove}");
    }
    match &target.store {
        Store::Local { module_dir, .. } if module_dir == &place.module_dir => format!(
            "the module uses the local files when it has no `state` block (or `state local {{}}`) and no \
             `--state-url` or INFRA_STATE_URL is given: make it so before the next apply, and {remove}"
        ),
        Store::Local { module_dir, .. } => format!(
            "a module keeps its local state beside itself, so the copy in `{}` is used by a module in that \
             directory: move its `infra.state.*` files (or the module) so they are together, without a `state` \
             block, before the next apply; {remove}",
            module_dir.display()
        ),
        Store::Postgres(_) if migration.to_schema.is_some() => format!(
            "a URL cannot select a schema, so point the module at it with a block `state postgres {{ url = ..., \
             schema = \"{}\" }}` (and no `--state-url` or INFRA_STATE_URL) before the next apply; {remove}",
            migration.to_schema.unwrap_or_default()
        ),
        Store::Postgres(_) => format!(
            "point the module at the new one before the next apply: a `state postgres {{ url = ... }}` block, or \
             that URL as `--state-url` or INFRA_STATE_URL; {remove}"
        ),
        Store::S3(location) => format!(
            "point the module at the new one before the next apply: a `state s3 {{ bucket = \"{}\", key = ... }}` \
             block, or `--state-url {}` (or INFRA_STATE_URL); {remove}",
            location.bucket,
            migration.to.unwrap_or_default()
        ),
    }
}

#[derive(Args, Debug)]
pub struct ForceUnlockArgs {
    /// The lock ID, as the message that the state is locked gives it
    id: String,

    /// The root module
    #[arg(long = "module", value_name = "DIR", default_value = ".")]
    module_dir: PathBuf,

    #[command(flatten)]
    backend: BackendArgs,
}

/// `infra force-unlock ID`: removes a lock its holder left behind. Only an S3 state has
/// such locks; the local and PostgreSQL locks end with their holder's process.
pub fn run_force_unlock(args: &ForceUnlockArgs) -> Report {
    let location = match crate::session::location_for_dir(&args.module_dir, &args.backend) {
        Ok(location) => location,
        Err(report) => return report,
    };
    let Store::S3(s3) = &location.store else {
        let stop = match &location.store {
            Store::Postgres(_) => {
                "; a run that hangs is stopped by ending its database session, which a refused run names \
                 (`SELECT pg_terminate_backend(PID)`)"
            }
            _ => "",
        };
        return Report::error(
            codes::OPTION_NOT_SUPPORTED,
            "this state's lock cannot be left behind: it is released when its holder's process (or database \
             session) ends",
            &format!("nothing was removed; a state locked now is held by a live run: wait for it, or stop it{stop}"),
        );
    };
    let result =
        infra_backend_s3::S3Backend::new(s3.as_ref().clone()).and_then(|backend| backend.force_unlock(&args.id));
    match result {
        Ok(holder) => {
            render::to_stdout(&format!("Removed the lock of {} held by {holder}.\n", s3.display()));
            Report::ok()
        }
        Err(error) => Report::state_error(&error),
    }
}

pub fn run_output(args: &OutputArgs) -> Report {
    let state = match load(&args.module_dir, &args.backend) {
        Ok(state) => state,
        Err(report) => return report,
    };
    if let Some(name) = &args.name {
        let Some(value) = state.outputs.get(name) else {
            return Report::error(
                codes::NOT_IN_STATE,
                &format!("no output `{name}` in the state"),
                "`infra output` lists the saved outputs; outputs are saved by `infra apply`",
            );
        };
        if args.raw {
            return match raw_output(name, value) {
                Ok(text) => {
                    render::to_stdout(&text);
                    Report::ok()
                }
                Err((message, help)) => Report::error(codes::OPTION_NOT_SUPPORTED, &message, &help),
            };
        }
        if args.json {
            render::to_stdout(&format!("{}\n", output_json(value)));
        } else {
            render::to_stdout(&format!("{value}\n"));
        }
        return Report::ok();
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
    Report::ok()
}

/// An output's text for `--raw`: a string as it is, a number or bool as the language
/// writes it; anything else, or a secret, is refused with a message and a hint.
fn raw_output(name: &str, value: &infra_runtime::Value) -> Result<String, (String, String)> {
    use infra_runtime::Kind;
    if value.contains_sensitive() {
        return Err((
            format!("output `{name}` is sensitive: `--raw` prints only values that are not"),
            "a secret is not printed by Infra; pass it to what needs it inside the configuration (an input of a \
             resource), or drop `sensitive` from the output if it is not a secret"
                .to_string(),
        ));
    }
    match &value.kind {
        Kind::String(text) => Ok(text.to_string()),
        Kind::Number(_) | Kind::Bool(_) => Ok(value.to_string()),
        Kind::Null => Err((
            format!("output `{name}` is null: `--raw` has no text to print"),
            format!("`infra output --json {name}` prints it as JSON `null`"),
        )),
        _ => Err((
            format!("output `{name}` is a {}: `--raw` prints only a string, number or bool", value.type_name()),
            format!("print it as JSON with `infra output --json {name}`, or output one element of it"),
        )),
    }
}

/// An output as JSON: its value as JSON (a number JSON cannot hold, in the language's
/// syntax), or null when sensitive.
fn output_json(value: &infra_runtime::Value) -> serde_json::Value {
    let sensitive = value.contains_sensitive();
    let shown = if sensitive { serde_json::Value::Null } else { crate::json::value(value) };
    serde_json::json!({ "value": shown, "sensitive": sensitive })
}
