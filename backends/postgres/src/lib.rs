//! The PostgreSQL backend: states shared by a team, in one database.
//!
//! Tables live in one schema (`infra` unless configured), made on first use by versioned
//! migrations recorded in `schema_version`; a schema from a newer version is refused.
//!
//! - `workspaces`: the named states; `default` always exists.
//! - `snapshots`: one row per written snapshot (workspace, serial, lineage, the document
//!   as the local backend writes it). The newest is the state; the previous
//!   [`KEPT_SNAPSHOTS`] are kept for recovery. A write checks lineage and serial against
//!   the newest row inside the transaction that inserts the new one.
//! - `journal`: one row per journal entry (the local backend's line), each inserted in
//!   its own committed transaction before the engine goes on. Compaction writes the
//!   snapshot and deletes the journal rows in one transaction.
//! - `locks`: the holder of each workspace's lock (user, host, pid, command, since) and
//!   the server process of its session. The lock itself is a session-level advisory
//!   lock keyed by schema and workspace: it ends with the session, so a holder that
//!   crashed (or lost its connection) holds nothing, while a live holder is named to
//!   the next caller by its row.
//!
//! The connection is never re-established behind the caller's back: a lost connection
//! has lost the lock too, so every later write fails (the journal already holds every
//! operation confirmed before). The synchronous `postgres` client drives its own
//! single-threaded runtime and must not be called from inside another; each backend
//! therefore owns one thread that owns the connection, and methods send it jobs.
//!
//! `location.rs` parses where the state is (connection string, schema, workspace, TLS);
//! [`codes`] lists the failures only this backend has, reported through
//! `StateErrorKind::Backend`. The runtime knows none of this: it sees a `StateBackend`.

use std::fmt::Write as _;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::mpsc;
use std::sync::{Arc, Mutex, PoisonError};
use std::thread;
use std::time::{Duration, Instant, SystemTime};

use postgres::error::SqlState;
use postgres::{Client, NoTls};
use tokio_postgres_rustls::MakeRustlsConnect;

use infra_runtime::state::document::{parse_header, parse_snapshot, render_snapshot};
use infra_runtime::state::envelope::{open_journal, open_snapshot, seal_journal, seal_snapshot, Encryption};
use infra_runtime::state::journal::{parse_journal, render_line, replay, JournalEntry, JournalRead};
use infra_runtime::state::lock::{rfc3339, LockHolder};
use infra_runtime::state::workspace::{check_workspace_name, DEFAULT_WORKSPACE};
use infra_runtime::state::{Loaded, State, StateBackend, StateError, StateErrorKind, StateLock};

pub use location::{PostgresLocation, DEFAULT_SCHEMA};

pub mod codes;
mod location;

/// The schema version this Infra creates and understands.
pub const SCHEMA_VERSION: i32 = 1;
/// How many snapshots before the newest are kept per workspace.
pub const KEPT_SNAPSHOTS: i64 = 10;

const MAX_LOCK_POLL: Duration = Duration::from_millis(250);

/// Migrations, in order; migration `n` (1-based) brings the schema to version `n`.
/// `{schema}` is replaced by the quoted schema name.
const MIGRATIONS: &[&str] = &["
    CREATE TABLE {schema}.workspaces (
        name text PRIMARY KEY,
        created_at timestamptz NOT NULL DEFAULT now()
    );
    INSERT INTO {schema}.workspaces (name) VALUES ('default');
    CREATE TABLE {schema}.snapshots (
        workspace text NOT NULL REFERENCES {schema}.workspaces (name) ON DELETE CASCADE,
        serial bigint NOT NULL,
        lineage text NOT NULL,
        document text NOT NULL,
        written_at timestamptz NOT NULL DEFAULT now(),
        PRIMARY KEY (workspace, serial)
    );
    CREATE TABLE {schema}.journal (
        workspace text NOT NULL REFERENCES {schema}.workspaces (name) ON DELETE CASCADE,
        seq bigserial NOT NULL,
        entry text NOT NULL,
        PRIMARY KEY (workspace, seq)
    );
    CREATE TABLE {schema}.locks (
        workspace text PRIMARY KEY REFERENCES {schema}.workspaces (name) ON DELETE CASCADE,
        holder text NOT NULL,
        server_pid integer NOT NULL,
        since timestamptz NOT NULL DEFAULT now()
    );
"];

type Job = Box<dyn FnOnce(&mut Client) + Send>;

/// The thread that owns the connection; dropping the last sender ends it and closes
/// the connection.
#[derive(Clone)]
struct Connection {
    jobs: mpsc::Sender<Job>,
}

impl Connection {
    fn open(location: &PostgresLocation) -> Result<Connection, StateError> {
        let (jobs, receiver) = mpsc::channel::<Job>();
        let (ready, opened) = mpsc::sync_channel(1);
        let config = location.config.clone();
        let tls = location.tls.clone();
        let shown = location.display();
        thread::Builder::new()
            .name("infra-state-postgres".to_string())
            .spawn(move || {
                let connected = match tls {
                    Some(tls) => config.connect(MakeRustlsConnect::new((*tls).clone())),
                    None => config.connect(NoTls),
                };
                let mut client = match connected {
                    Ok(client) => {
                        let _ = ready.send(Ok(()));
                        client
                    }
                    Err(error) => {
                        let _ = ready.send(Err(connect_error(&error, &shown)));
                        return;
                    }
                };
                while let Ok(job) = receiver.recv() {
                    job(&mut client);
                }
            })
            .map_err(|e| {
                StateError::new(
                    codes::kind(codes::STATE_UNREACHABLE),
                    format!("cannot start the connection thread: {e}"),
                )
            })?;
        let result = opened.recv().map_err(|_| lost("the connection thread stopped"))?;
        result.map(|()| Connection { jobs })
    }

    /// Runs `job` on the connection's thread and waits for its result.
    fn call<T: Send + 'static>(
        &self,
        job: impl FnOnce(&mut Client) -> Result<T, StateError> + Send + 'static,
    ) -> Result<T, StateError> {
        let (sender, receiver) = mpsc::sync_channel(1);
        self.jobs
            .send(Box::new(move |client| {
                let _ = sender.send(job(client));
            }))
            .map_err(|_| lost("the connection is closed"))?;
        receiver.recv().map_err(|_| lost("the connection is closed"))?
    }
}

pub struct PostgresBackend {
    location: PostgresLocation,
    /// Opened, migrated and checked on first use.
    connection: Mutex<Option<Connection>>,
    /// Set while a lock taken through this value is held; writes check it.
    lock_held: Arc<AtomicBool>,
    /// Set once the workspace was found, so a journal append is one statement. (A
    /// workspace deleted since makes writes fail on its foreign keys.)
    workspace_found: Arc<AtomicBool>,
    /// How snapshots and journal rows are encrypted, if they are.
    encryption: Option<Encryption>,
}

impl PostgresBackend {
    /// The state at `location`; nothing is contacted until it is used.
    pub fn new(location: PostgresLocation) -> PostgresBackend {
        PostgresBackend {
            location,
            connection: Mutex::new(None),
            lock_held: Arc::default(),
            workspace_found: Arc::default(),
            encryption: None,
        }
    }

    /// Encrypts what is written and decrypts what is read (see
    /// `infra_runtime::state::envelope`).
    pub fn with_encryption(mut self, encryption: Option<Encryption>) -> PostgresBackend {
        self.encryption = encryption;
        self
    }

    pub fn location_config(&self) -> &PostgresLocation {
        &self.location
    }

    /// The connection, opened and migrated on first use.
    fn connection(&self) -> Result<Connection, StateError> {
        let mut connection = self.connection.lock().unwrap_or_else(PoisonError::into_inner);
        if let Some(open) = connection.as_ref() {
            return Ok(open.clone());
        }
        let open = Connection::open(&self.location)?;
        let schema = self.location.schema.clone();
        open.call(move |client| migrate(client, &schema))?;
        Ok(connection.insert(open).clone())
    }

    /// Runs `job` with the quoted schema and the workspace, after checking the workspace
    /// exists.
    fn with_workspace<T: Send + 'static>(
        &self,
        job: impl FnOnce(&mut Client, &str, &str) -> Result<T, StateError> + Send + 'static,
    ) -> Result<T, StateError> {
        let schema = quoted(&self.location.schema);
        let workspace = self.location.workspace.clone();
        let shown = self.location.display();
        let found = Arc::clone(&self.workspace_found);
        self.connection()?.call(move |client| {
            if found.load(Ordering::SeqCst) {
                return job(client, &schema, &workspace);
            }
            let exists = client
                .query_opt(&format!("SELECT 1 FROM {schema}.workspaces WHERE name = $1"), &[&workspace])
                .map_err(|e| query_error(&e))?;
            if exists.is_none() {
                return Err(StateError::new(
                    StateErrorKind::Workspace,
                    format!("workspace `{workspace}` does not exist in {shown}"),
                )
                .with_help(format!(
                    "create it with `infra workspace new {workspace}`, or list them with `infra workspace list`"
                )));
            }
            found.store(true, Ordering::SeqCst);
            job(client, &schema, &workspace)
        })
    }

    fn require_lock(&self) -> Result<(), StateError> {
        if self.lock_held.load(Ordering::SeqCst) {
            return Ok(());
        }
        Err(StateError::new(StateErrorKind::NotLocked, "the state was written without holding its lock")
            .with_help("this is a bug in Infra: take the lock before writing"))
    }

    /// The workspaces in this database, sorted.
    pub fn workspaces(&self) -> Result<Vec<String>, StateError> {
        let schema = quoted(&self.location.schema);
        self.connection()?.call(move |client| {
            let rows = client
                .query(&format!("SELECT name FROM {schema}.workspaces ORDER BY name"), &[])
                .map_err(|e| query_error(&e))?;
            Ok(rows.iter().map(|row| row.get(0)).collect())
        })
    }

    /// Creates workspace `name`; fails if it exists.
    pub fn create_workspace(&self, name: &str) -> Result<(), StateError> {
        check_workspace_name(name)?;
        let schema = quoted(&self.location.schema);
        let name = name.to_string();
        self.connection()?.call(move |client| {
            let inserted = client
                .execute(
                    &format!("INSERT INTO {schema}.workspaces (name) VALUES ($1) ON CONFLICT DO NOTHING"),
                    &[&name],
                )
                .map_err(|e| query_error(&e))?;
            if inserted == 0 {
                return Err(StateError::new(StateErrorKind::Workspace, format!("workspace `{name}` already exists"))
                    .with_help(format!("select it with `--workspace {name}`")));
            }
            Ok(())
        })
    }

    /// Deletes workspace `name` with its snapshots and journal. Refuses `default`, a
    /// locked workspace, and (unless `force`) one whose state holds instances. Returns
    /// how many instances it held (and no longer manages).
    pub fn delete_workspace(&self, name: &str, force: bool) -> Result<usize, StateError> {
        check_workspace_name(name)?;
        if name == DEFAULT_WORKSPACE {
            return Err(StateError::new(StateErrorKind::Workspace, "the `default` workspace cannot be deleted")
                .with_help("destroy what it holds with `infra destroy` if it is no longer needed"));
        }
        let target = PostgresBackend::new(self.location.with_workspace(name)?).with_encryption(self.encryption.clone());
        let holder = LockHolder::new(format!("infra workspace delete {name}"));
        let lock = target.lock(&holder, Duration::ZERO)?;
        let loaded = target.load()?;
        if !force && !loaded.state.instances.is_empty() {
            return Err(StateError::workspace_not_empty(name, loaded.state.instances.len()));
        }
        let schema = quoted(&self.location.schema);
        let name = name.to_string();
        target.connection()?.call(move |client| {
            client
                .execute(&format!("DELETE FROM {schema}.workspaces WHERE name = $1"), &[&name])
                .map_err(|e| query_error(&e))?;
            Ok(())
        })?;
        drop(lock);
        Ok(loaded.state.instances.len())
    }

    /// The serial of every kept snapshot of this workspace, newest first.
    pub fn snapshot_serials(&self) -> Result<Vec<u64>, StateError> {
        self.with_workspace(|client, schema, workspace| {
            let rows = client
                .query(
                    &format!("SELECT serial FROM {schema}.snapshots WHERE workspace = $1 ORDER BY serial DESC"),
                    &[&workspace],
                )
                .map_err(|e| query_error(&e))?;
            Ok(rows.iter().map(|row| row.get::<_, i64>(0) as u64).collect())
        })
    }

    /// The lock is held: by the holder the `locks` row names, with the database
    /// session (server process id) that holds it.
    fn locked_error(&self, row: Option<(String, i32)>, timeout: Duration) -> StateError {
        let (holder, server_pid) = row.unzip();
        let who = holder
            .and_then(|text| serde_json::from_str::<LockHolder>(&text).ok())
            .map_or_else(|| "another session".to_string(), |holder| holder.to_string());
        let mut message = format!("the state is locked by {who}");
        if !timeout.is_zero() {
            let _ = write!(message, "; gave up after waiting {:.1}s", timeout.as_secs_f64());
        }
        // A run that hangs keeps its session, and the lock with it: ending the session
        // on the server is the way out, and the session is known.
        let hung = match server_pid {
            Some(pid) => format!(
                "; if that run hangs and cannot be stopped, end its database session with `SELECT \
                 pg_terminate_backend({pid})` (as a superuser or its role): the lock goes with it, and what the run \
                 completed is in its journal"
            ),
            None => String::new(),
        };
        StateError::new(StateErrorKind::Locked, message).with_help(format!(
            "wait for that run to finish and try again, or give a lock timeout to wait for it; the lock of {} is \
             released when its holder's database session ends, so it never needs removing by hand{hung}",
            self.location.display()
        ))
    }
}

impl StateBackend for PostgresBackend {
    fn location(&self) -> String {
        self.location.display()
    }

    fn encryption(&self) -> Option<&Encryption> {
        self.encryption.as_ref()
    }

    fn load(&self) -> Result<Loaded, StateError> {
        let shown = self.location.display();
        let (document, journal) = self.with_workspace(move |client, schema, workspace| {
            let mut transaction = client
                .build_transaction()
                .isolation_level(postgres::IsolationLevel::RepeatableRead)
                .read_only(true)
                .start()
                .map_err(|e| query_error(&e))?;
            let document: Option<String> = transaction
                .query_opt(
                    &format!(
                        "SELECT document FROM {schema}.snapshots WHERE workspace = $1 ORDER BY serial DESC LIMIT 1"
                    ),
                    &[&workspace],
                )
                .map_err(|e| query_error(&e))?
                .map(|row| row.get(0));
            let journal = read_journal_rows(&mut transaction, schema, workspace)?;
            transaction.commit().map_err(|e| query_error(&e))?;
            Ok((document, journal))
        })?;
        let snapshot = match document {
            Some(text) => open_snapshot(self.encryption.as_ref(), text.into_bytes(), &shown)
                .and_then(|bytes| parse_snapshot(&bytes, &shown))
                .map_err(|e| match e.kind {
                    StateErrorKind::Corrupt => e.with_help(
                        "nothing was changed; earlier snapshots are kept in the `snapshots` table (see docs/state.md, \
                     recovery)",
                    ),
                    _ => e,
                })?,
            None => State::new(),
        };
        let journal = open_journal(self.encryption.as_ref(), journal.as_bytes(), &shown)?;
        replay(snapshot, parse_journal(&journal, &shown)?)
    }

    fn lock(&self, holder: &LockHolder, timeout: Duration) -> Result<StateLock, StateError> {
        let connection = self.connection()?;
        let holder = LockHolder { since: rfc3339(SystemTime::now()), ..holder.clone() };
        let record = serde_json::to_string(&holder).unwrap_or_default();
        let key = format!("{}/{}", self.location.schema, self.location.workspace);
        let start = Instant::now();
        let mut pause = Duration::from_millis(10);
        loop {
            let key_now = key.clone();
            let record_now = record.clone();
            let attempt = self.with_workspace(move |client, schema, workspace| {
                let taken: bool = client
                    .query_one("SELECT pg_try_advisory_lock(hashtextextended($1, 0))", &[&key_now])
                    .map_err(|e| query_error(&e))?
                    .get(0);
                if taken {
                    client
                        .execute(
                            &format!(
                                "INSERT INTO {schema}.locks (workspace, holder, server_pid, since) \
                                 VALUES ($1, $2, pg_backend_pid(), now()) ON CONFLICT (workspace) DO UPDATE \
                                 SET holder = EXCLUDED.holder, server_pid = EXCLUDED.server_pid, since = now()"
                            ),
                            &[&workspace, &record_now],
                        )
                        .map_err(|e| query_error(&e))?;
                    return Ok(None);
                }
                let row = client
                    .query_opt(
                        &format!("SELECT holder, server_pid FROM {schema}.locks WHERE workspace = $1"),
                        &[&workspace],
                    )
                    .map_err(|e| query_error(&e))?;
                Ok(Some(row.map(|row| (row.get::<_, String>(0), row.get::<_, i32>(1)))))
            })?;
            let Some(current) = attempt else { break };
            let waited = start.elapsed();
            if waited >= timeout {
                return Err(self.locked_error(current, timeout));
            }
            thread::sleep(pause.min(timeout - waited));
            pause = (pause * 2).min(MAX_LOCK_POLL);
        }
        self.lock_held.store(true, Ordering::SeqCst);
        let guard = PostgresLock {
            connection,
            key,
            schema: quoted(&self.location.schema),
            workspace: self.location.workspace.clone(),
            held: Arc::clone(&self.lock_held),
        };
        Ok(StateLock::new(holder, guard))
    }

    fn write_snapshot(&self, state: &mut State) -> Result<(), StateError> {
        self.store_snapshot(state, true, false)
    }

    fn append_journal(&self, entry: &JournalEntry) -> Result<(), StateError> {
        self.append_journal_batch(std::slice::from_ref(entry))
    }

    /// Every entry of the batch as one row each, committed in one transaction: one
    /// round of durability for operations that ran together, and all or none recorded.
    fn append_journal_batch(&self, entries: &[JournalEntry]) -> Result<(), StateError> {
        self.require_lock()?;
        let texts = entries
            .iter()
            .map(|entry| {
                let line = seal_journal(self.encryption.as_ref(), render_line(entry)?, entry.serial)?;
                Ok(String::from_utf8_lossy(line.strip_suffix(b"\n").unwrap_or(&line)).into_owned())
            })
            .collect::<Result<Vec<String>, StateError>>()?;
        self.with_workspace(move |client, schema, workspace| {
            let insert = format!("INSERT INTO {schema}.journal (workspace, entry) VALUES ($1, $2)");
            if let [text] = texts.as_slice() {
                client.execute(&insert, &[&workspace, text]).map_err(|e| query_error(&e))?;
                return Ok(());
            }
            let mut transaction = client.transaction().map_err(|e| query_error(&e))?;
            for text in &texts {
                transaction.execute(&insert, &[&workspace, text]).map_err(|e| query_error(&e))?;
            }
            transaction.commit().map_err(|e| query_error(&e))
        })
    }

    fn read_journal(&self) -> Result<JournalRead, StateError> {
        let shown = self.location.display();
        let text = self.with_workspace(|client, schema, workspace| {
            let mut transaction = client.transaction().map_err(|e| query_error(&e))?;
            let text = read_journal_rows(&mut transaction, schema, workspace)?;
            transaction.commit().map_err(|e| query_error(&e))?;
            Ok(text)
        })?;
        parse_journal(&open_journal(self.encryption.as_ref(), text.as_bytes(), &shown)?, &shown)
    }

    fn compact(&self, state: &mut State) -> Result<(), StateError> {
        self.store_snapshot(state, true, true)
    }

    fn replace_snapshot(&self, state: &mut State) -> Result<(), StateError> {
        self.store_snapshot(state, false, true)
    }
}

impl PostgresBackend {
    /// Writes the snapshot, and with `clear_journal` deletes the journal rows, in one
    /// transaction; `check` refuses another lineage or a newer stored serial.
    fn store_snapshot(&self, state: &mut State, check: bool, clear_journal: bool) -> Result<(), StateError> {
        self.require_lock()?;
        let serial = state.next_serial()?;
        let document =
            seal_snapshot(self.encryption.as_ref(), render_snapshot(state, serial)?, &state.lineage, serial)?;
        let (lineage, loaded_serial) = (state.lineage.clone(), state.serial);
        self.with_workspace(move |client, schema, workspace| {
            let mut transaction = client.transaction().map_err(|e| query_error(&e))?;
            write_snapshot_row(&mut transaction, schema, workspace, &document, &lineage, loaded_serial, check)?;
            if clear_journal {
                transaction
                    .execute(&format!("DELETE FROM {schema}.journal WHERE workspace = $1"), &[&workspace])
                    .map_err(|e| query_error(&e))?;
            }
            transaction.commit().map_err(|e| query_error(&e))
        })?;
        state.serial = serial;
        Ok(())
    }
}

/// Releases the lock when dropped: the holder row is deleted and the advisory lock
/// released (both end with the session anyway if the connection is gone).
struct PostgresLock {
    connection: Connection,
    key: String,
    schema: String,
    workspace: String,
    held: Arc<AtomicBool>,
}

impl Drop for PostgresLock {
    fn drop(&mut self) {
        self.held.store(false, Ordering::SeqCst);
        let (key, schema, workspace) = (self.key.clone(), self.schema.clone(), self.workspace.clone());
        let _ = self.connection.call(move |client| {
            let _ = client.execute(
                &format!("DELETE FROM {schema}.locks WHERE workspace = $1 AND server_pid = pg_backend_pid()"),
                &[&workspace],
            );
            let _ = client.execute("SELECT pg_advisory_unlock(hashtextextended($1, 0))", &[&key]);
            Ok(())
        });
    }
}

/// Brings the schema to [`SCHEMA_VERSION`], under a transaction-level advisory lock so
/// two first uses at once do not both migrate; refuses a newer schema.
fn migrate(client: &mut Client, schema: &str) -> Result<(), StateError> {
    let quoted_schema = quoted(schema);
    // Already at this version: nothing to create, so a role without CREATE on the
    // database (one that may only read and write the state) gets on with it.
    if schema_version(client, schema)? == Some(SCHEMA_VERSION) {
        return Ok(());
    }
    let mut transaction = client.transaction().map_err(|e| query_error(&e))?;
    transaction
        .execute("SELECT pg_advisory_xact_lock(hashtextextended($1, 0))", &[&format!("{schema}/migrate")])
        .map_err(|e| query_error(&e))?;
    transaction
        .batch_execute(&format!(
            "CREATE SCHEMA IF NOT EXISTS {quoted_schema}; \
             CREATE TABLE IF NOT EXISTS {quoted_schema}.schema_version (\
                 version integer PRIMARY KEY, applied_at timestamptz NOT NULL DEFAULT now())"
        ))
        .map_err(|e| query_error(&e))?;
    let current: i32 = transaction
        .query_one(&format!("SELECT coalesce(max(version), 0) FROM {quoted_schema}.schema_version"), &[])
        .map_err(|e| query_error(&e))?
        .get(0);
    if current > SCHEMA_VERSION {
        return Err(StateError::new(
            codes::kind(codes::STATE_NEWER_SCHEMA),
            format!(
                "schema `{schema}` has version {current}; this version of Infra knows versions up to {SCHEMA_VERSION}"
            ),
        )
        .with_help("a newer version of Infra set up this database; upgrade Infra to use it (nothing was changed)"));
    }
    for (index, migration) in MIGRATIONS.iter().enumerate().skip(current as usize) {
        let version = index as i32 + 1;
        transaction.batch_execute(&migration.replace("{schema}", &quoted_schema)).map_err(|e| query_error(&e))?;
        transaction
            .execute(&format!("INSERT INTO {quoted_schema}.schema_version (version) VALUES ($1)"), &[&version])
            .map_err(|e| query_error(&e))?;
    }
    transaction.commit().map_err(|e| query_error(&e))
}

/// The schema's version, when its `schema_version` table exists.
fn schema_version(client: &mut Client, schema: &str) -> Result<Option<i32>, StateError> {
    let table = format!("{}.schema_version", quoted(schema));
    let exists = client
        .query_one("SELECT to_regclass($1) IS NOT NULL", &[&table])
        .map_err(|e| query_error(&e))?
        .get::<_, bool>(0);
    if !exists {
        return Ok(None);
    }
    let version = client
        .query_one(&format!("SELECT coalesce(max(version), 0) FROM {table}"), &[])
        .map_err(|e| query_error(&e))?
        .get(0);
    Ok(Some(version))
}

/// Inserts a snapshot row after checking the newest one (locked for the transaction)
/// has the same lineage and no larger serial; prunes old rows.
fn write_snapshot_row(
    transaction: &mut postgres::Transaction<'_>,
    schema: &str,
    workspace: &str,
    document: &[u8],
    lineage: &str,
    loaded_serial: u64,
    check: bool,
) -> Result<(), StateError> {
    let newest = transaction
        .query_opt(
            &format!(
                "SELECT serial, lineage, document FROM {schema}.snapshots WHERE workspace = $1 \
                 ORDER BY serial DESC LIMIT 1 FOR UPDATE"
            ),
            &[&workspace],
        )
        .map_err(|e| query_error(&e))?;
    if let Some(row) = newest.filter(|_| check) {
        let stored_lineage: String = row.get(1);
        let stored_serial = row.get::<_, i64>(0) as u64;
        // The document's own header is what `load` trusts; check it parses, so a
        // damaged newest row is never silently buried under a new one.
        let stored: String = row.get(2);
        parse_header(stored.as_bytes(), "the stored snapshot")?;
        if stored_lineage != lineage {
            return Err(StateError::new(
                StateErrorKind::Conflict,
                format!(
                    "the workspace holds another state (lineage `{stored_lineage}`; the state being written has \
                     `{lineage}`)"
                ),
            )
            .with_help("the state was replaced since it was loaded; nothing was written, run the command again"));
        }
        if stored_serial > loaded_serial {
            return Err(StateError::new(
                StateErrorKind::Conflict,
                format!(
                    "the stored state has serial {stored_serial}, newer than the state being written (loaded at \
                     serial {loaded_serial})"
                ),
            )
            .with_help(
                "another run changed the state since it was loaded; nothing was written, run the command again",
            ));
        }
    }
    let text = String::from_utf8_lossy(document).into_owned();
    let serial = loaded_serial as i64 + 1;
    if !check {
        // A replacement is the newest snapshot whatever its serial: rows it would sort
        // under go.
        transaction
            .execute(
                &format!("DELETE FROM {schema}.snapshots WHERE workspace = $1 AND serial >= $2"),
                &[&workspace, &serial],
            )
            .map_err(|e| query_error(&e))?;
    }
    transaction
        .execute(
            &format!(
                "INSERT INTO {schema}.snapshots (workspace, serial, lineage, document) VALUES ($1, $2, $3, $4) \
                 ON CONFLICT (workspace, serial) DO UPDATE SET lineage = EXCLUDED.lineage, \
                 document = EXCLUDED.document, written_at = now()"
            ),
            &[&workspace, &serial, &lineage, &text],
        )
        .map_err(|e| query_error(&e))?;
    transaction
        .execute(
            &format!("DELETE FROM {schema}.snapshots WHERE workspace = $1 AND serial < $2"),
            &[&workspace, &(serial - KEPT_SNAPSHOTS)],
        )
        .map_err(|e| query_error(&e))?;
    Ok(())
}

/// The workspace's journal rows, in order, as journal lines.
fn read_journal_rows(
    transaction: &mut postgres::Transaction<'_>,
    schema: &str,
    workspace: &str,
) -> Result<String, StateError> {
    let rows = transaction
        .query(&format!("SELECT entry FROM {schema}.journal WHERE workspace = $1 ORDER BY seq"), &[&workspace])
        .map_err(|e| query_error(&e))?;
    let mut text = String::new();
    for row in rows {
        text.push_str(row.get::<_, &str>(0));
        text.push('\n');
    }
    Ok(text)
}

fn quoted(identifier: &str) -> String {
    format!("\"{identifier}\"")
}

fn lost(why: &str) -> StateError {
    StateError::new(
        codes::kind(codes::STATE_CONNECTION_LOST),
        format!("lost the connection to the state server: {why}"),
    )
    .with_help(LOST_HELP)
}

const LOST_HELP: &str = "every operation confirmed before the failure is in the journal; once the server is back, \
                         run `infra plan` to see where things stand (an operation in flight shows as pending)";

/// A failure while connecting, by cause.
fn connect_error(error: &postgres::Error, shown: &str) -> StateError {
    if let Some(db) = error.as_db_error() {
        let code = db.code();
        if *code == SqlState::INVALID_PASSWORD || *code == SqlState::INVALID_AUTHORIZATION_SPECIFICATION {
            return StateError::new(
                codes::kind(codes::STATE_AUTH_FAILED),
                format!("{shown} refused the credentials: {}", db.message()),
            )
            .with_help("check the user and password in the state URL (`PGPASSWORD` and `~/.pgpass` are not read)");
        }
        if *code == SqlState::INVALID_CATALOG_NAME {
            return StateError::new(codes::kind(codes::STATE_DATABASE_MISSING), format!("{shown}: {}", db.message()))
                .with_help("create the database first (`createdb NAME`), or fix its name in the state URL");
        }
        return StateError::new(
            codes::kind(codes::STATE_UNREACHABLE),
            format!("{shown} refused the connection: {}", db.message()),
        )
        .with_help("check the server's configuration and the state URL");
    }
    // The client library tells TLS failures only by their message.
    let text = error.to_string();
    if text.starts_with("error performing TLS handshake") {
        let mut detail = String::new();
        let mut source = std::error::Error::source(error);
        while let Some(cause) = source {
            detail = cause.to_string();
            source = cause.source();
        }
        let not_offered = detail.contains("does not support TLS");
        let message = if not_offered {
            format!("{shown} does not offer TLS, and the state URL requires it")
        } else {
            format!("TLS with {shown} failed: {detail}")
        };
        let help = if not_offered {
            "turn on `ssl` in the server's configuration, or drop `sslmode=require` on a trusted network"
        } else {
            "if the server's certificate is signed by a private CA, name that CA's PEM file with \
             `sslrootcert=PATH` in the state URL; `sslmode=disable` turns TLS off (only on a trusted network)"
        };
        return StateError::new(codes::kind(codes::STATE_TLS), message).with_help(help);
    }
    StateError::new(codes::kind(codes::STATE_UNREACHABLE), format!("cannot connect to {shown}: {error}"))
        .with_help("check that the server is running and reachable, and the host and port in the state URL")
}

/// A failure of a statement on an open connection.
fn query_error(error: &postgres::Error) -> StateError {
    if error.is_closed() {
        return lost("the server closed the connection");
    }
    match error.as_db_error() {
        Some(db) if db.code().code().starts_with("57") || db.code().code().starts_with("08") => lost(db.message()),
        Some(db) => StateError::new(
            codes::kind(codes::STATE_CONNECTION_LOST),
            format!("the state server failed a statement: {}", db.message()),
        )
        .with_help("nothing was changed by the failed statement; check the server's log"),
        None => lost(&error.to_string()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_migration_mentions_only_the_schema_placeholder() {
        // Tables are always qualified, so a migration never lands in another schema on
        // the search path.
        for migration in MIGRATIONS {
            for table in ["workspaces", "snapshots", "journal", "locks"] {
                let bare = format!("TABLE {table}");
                assert!(!migration.contains(&bare), "unqualified `{table}`");
            }
        }
        assert_eq!(MIGRATIONS.len(), SCHEMA_VERSION as usize);
    }
}
