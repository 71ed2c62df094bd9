//! The state layer: the document format and value conversion, the local backend's
//! atomic writes, backup, lock and journal, and recovery from crashes and bad files.
//!
//! Two tests re-run this test binary as a child process (see `child_process_role`): one
//! holds the lock and is killed, one appends journal entries and is killed at a random
//! moment.

use std::collections::hash_map::RandomState;
use std::fmt::Debug;
use std::fs;
use std::hash::BuildHasher;
use std::io::{BufRead, BufReader};
use std::path::Path;
use std::process::{Child, Command, Stdio};
use std::thread;
use std::time::{Duration, Instant};

use infra_compiler::types::Type;
use infra_runtime::address::Address;
use infra_runtime::provider::Attributes;
use infra_runtime::state::{
    attributes_from_json, attributes_to_json, stored_attributes, Action, Instance, JournalEntry, LocalBackend,
    LockHolder, Marked, Mode, PathStep, State, StateBackend, StateError, StateErrorKind, StateWarningKind, Status,
};
use infra_runtime::Value;

#[track_caller]
fn ok<T, E: Debug>(result: Result<T, E>) -> T {
    result.unwrap_or_else(|e| panic!("{e:?}"))
}

#[track_caller]
fn err<T: Debug>(result: Result<T, StateError>) -> StateError {
    match result {
        Ok(value) => panic!("expected an error, got {value:?}"),
        Err(error) => error,
    }
}

fn temp_dir() -> tempfile::TempDir {
    ok(tempfile::tempdir())
}

fn address(text: &str) -> Address {
    ok(text.parse())
}

fn holder() -> LockHolder {
    LockHolder::new("infra apply")
}

fn attrs(entries: Vec<(&str, Value)>) -> Attributes {
    entries.into_iter().map(|(k, v)| (k.to_string(), v)).collect()
}

fn map(entries: Vec<(&str, Value)>) -> Value {
    Value::map(entries.into_iter().map(|(k, v)| (k.to_string(), v)).collect())
}

fn file_instance(content: &str) -> Instance {
    Instance::new(Mode::Managed, "local.file", "local").with_attributes(attrs(vec![
        ("filename", Value::string("out.txt")),
        ("content", Value::string(content).mark_sensitive()),
    ]))
}

fn names(dir: &Path) -> Vec<String> {
    let mut names: Vec<String> =
        ok(fs::read_dir(dir)).map(|entry| ok(entry).file_name().to_string_lossy().into_owned()).collect();
    names.sort();
    names
}

/// Attributes with every kind of value and sensitive marks at several depths (including
/// a mark inside a marked value).
fn every_kind() -> Attributes {
    attrs(vec![
        ("nothing", Value::null()),
        ("enabled", Value::bool(true)),
        ("count", Value::number(3.0)),
        ("ratio", Value::number(2.5)),
        ("huge", Value::number(1e300)),
        ("negative", Value::number(-42.0)),
        ("name", Value::string("web \"one\"\n")),
        ("password", Value::string("hunter2").mark_sensitive()),
        ("ports", Value::list(vec![Value::number(80.0), Value::number(443.0).mark_sensitive()])),
        ("zones", Value::set(vec![Value::string("b"), Value::string("a")])),
        (
            "tags",
            map(vec![
                ("Name", Value::string("web")),
                ("token", Value::string("t0k3n").mark_sensitive()),
                ("nested", map(vec![("deep", Value::list(vec![Value::string("x").mark_sensitive()]))])),
            ]),
        ),
        ("keys", map(vec![("private", Value::string("-----BEGIN").mark_sensitive())]).mark_sensitive()),
        ("empty", map(vec![])),
    ])
}

#[test]
fn attributes_convert_to_json_with_sensitive_paths() {
    let (json, marked) = ok(attributes_to_json(&every_kind()));
    assert_eq!(json["count"].to_string(), "3", "whole numbers are integers");
    assert_eq!(json["ratio"].to_string(), "2.5");
    assert_eq!(json["zones"], serde_json::json!(["a", "b"]), "sets are arrays, in set order");
    assert_eq!(json["password"], "hunter2", "values are stored as they are; only the marks move");
    let shown: Vec<String> = marked.sensitive.iter().map(|p| ok(serde_json::to_string(p))).collect();
    assert_eq!(
        shown,
        [
            r#"["keys"]"#,
            r#"["keys","private"]"#,
            r#"["password"]"#,
            r#"["ports",1]"#,
            r#"["tags","nested","deep",0]"#,
            r#"["tags","token"]"#,
        ]
    );
    let sets: Vec<String> = marked.sets.iter().map(|p| ok(serde_json::to_string(p))).collect();
    assert_eq!(sets, [r#"["zones"]"#], "where the sets are");
    // Sets come back sets, with no schema to say so.
    assert_eq!(ok(attributes_from_json(&json, &marked)), every_kind());
}

#[test]
fn sets_come_back_sets_inside_lists_maps_and_other_sets() {
    let set = |items: Vec<Value>| Value::set(items);
    let s = Value::string;
    let attributes = attrs(vec![
        ("input", set(vec![s("b"), s("a")])),
        (
            "triggers",
            map(vec![
                ("zones", Value::list(vec![set(vec![s("z"), s("y")]), Value::list(vec![s("x")])])),
                ("nested", set(vec![set(vec![s("2"), s("1")]), set(vec![s("0")])])),
                ("secret", set(vec![s("k").mark_sensitive()]).mark_sensitive()),
            ]),
        ),
    ]);
    let (json, marked) = ok(attributes_to_json(&attributes));
    assert_eq!(json["input"], serde_json::json!(["a", "b"]));
    assert_eq!(ok(attributes_from_json(&json, &marked)), attributes);
    // Without the paths (a state written before they were stored) they are lists.
    let plain = ok(attributes_from_json(&json, &Marked::default()));
    assert!(matches!(plain["input"].kind, infra_runtime::Kind::List(_)));
}

/// The journal and the snapshot serialize attributes straight from the values: the
/// JSON text they write, the sensitive paths, and the errors of values that cannot be
/// stored.
#[test]
fn attributes_serialize_directly() {
    let attributes = every_kind();
    let (direct, paths) = ok(stored_attributes(&attributes));
    assert_eq!(
        ok(serde_json::to_string(&direct)),
        concat!(
            r#"{"count":3,"empty":{},"enabled":true,"huge":1e+300,"keys":{"private":"-----BEGIN"},"#,
            r#""name":"web \"one\"\n","negative":-42,"nothing":null,"password":"hunter2","ports":[80,443],"#,
            r#""ratio":2.5,"tags":{"Name":"web","nested":{"deep":["x"]},"token":"t0k3n"},"zones":["a","b"]}"#
        )
    );
    assert_eq!((paths.sensitive.len(), paths.sets.len()), (6, 1), "{paths:?}");
    let unknown = attrs(vec![("tags", map(vec![("id", Value::unknown(Type::String))]))]);
    let infinite = attrs(vec![("ports", Value::list(vec![Value::number(1.0), Value::number(f64::INFINITY)]))]);
    let messages: Vec<String> = [unknown, infinite]
        .iter()
        .map(|attributes| match stored_attributes(attributes) {
            Ok(_) => panic!("{attributes:?} is unstorable"),
            Err(error) => error.message,
        })
        .collect();
    assert_eq!(
        messages,
        [
            "cannot store `tags.id` in the state: its value is not known yet",
            "cannot store `ports[1]` in the state: it is not a finite number",
        ]
    );
}

#[test]
fn unknown_values_cannot_be_stored() {
    let attributes = attrs(vec![("tags", map(vec![("id", Value::unknown(Type::String))]))]);
    let error = err(attributes_to_json(&attributes));
    assert_eq!((error.kind, error.code()), (StateErrorKind::Unstorable, "E0706"));
    assert_eq!(error.message, "cannot store `tags.id` in the state: its value is not known yet");
}

#[test]
fn sensitive_paths_that_lead_nowhere_mark_nothing() {
    let json = serde_json::json!({ "a": [1], "b": "x" });
    let paths = vec![
        vec![PathStep::Key("a".into()), PathStep::Index(5)],
        vec![PathStep::Key("b".into()), PathStep::Key("c".into())],
        vec![PathStep::Key("missing".into())],
        vec![],
    ];
    let attributes = ok(attributes_from_json(&json, &Marked { sensitive: paths.clone(), sets: paths }));
    assert!(attributes.values().all(|v| !v.contains_sensitive()));
    assert!(matches!(attributes["a"].kind, infra_runtime::Kind::List(_)), "a list at a set's path leading nowhere");
}

#[test]
fn state_round_trips_through_the_file() {
    let dir = temp_dir();
    let backend = LocalBackend::new(dir.path());
    let _lock = ok(backend.lock(&holder(), Duration::ZERO));
    let mut state = ok(backend.load()).state;
    assert_eq!(state.serial, 0, "no file yet: a new state");
    let instance = Instance::new(Mode::Managed, "local.file", "local.alt")
        .with_attributes(every_kind())
        .with_dependencies(vec![address("dir"), address("env[\"prod\"].web[0]")]);
    state.instances.insert(address("env[\"prod\"].web[\"a\"]"), instance);
    let data =
        Instance::new(Mode::Data, "local.file", "local").with_attributes(attrs(vec![("id", Value::string("1"))]));
    state.instances.insert(address("config"), data);
    state.outputs.insert("path".into(), Value::string("out.txt"));
    state.outputs.insert("secret".into(), map(vec![("key", Value::string("k").mark_sensitive())]));
    let zones = Value::set(vec![Value::string("b"), Value::string("a")]);
    state.outputs.insert("zones".into(), map(vec![("all", zones.clone()), ("lists", Value::list(vec![zones]))]));
    ok(backend.write_snapshot(&mut state));
    assert_eq!(state.serial, 1);

    let loaded = ok(LocalBackend::new(dir.path()).load());
    assert!(loaded.warnings.is_empty(), "{:?}", loaded.warnings);
    let mut expected = state.clone();
    // An output's marks are kept as one flag: a sensitive output is marked as a whole.
    expected.outputs.insert("secret".into(), map(vec![("key", Value::string("k"))]).mark_sensitive());
    assert_eq!(loaded.state, expected);

    let text = ok(fs::read_to_string(backend.state_path()));
    let json: serde_json::Value = ok(serde_json::from_str(&text));
    assert_eq!(json["format_version"], 1);
    assert_eq!(json["instances"][1]["address"], "env[\"prod\"].web[\"a\"]");
    assert_eq!(json["instances"][1]["type"], "local.file");
    assert_eq!(json["instances"][1]["provider"], "local.alt");
    assert_eq!(json["instances"][1]["status"], "created");
    assert_eq!(json["instances"][0]["mode"], "data");
    assert_eq!(json["outputs"]["secret"]["sensitive"], true);

    // The document's fields one per line, each instance and each output on a line of its
    // own: the file diffs an instance at a time, without a line per attribute.
    let lines: Vec<&str> = text.lines().collect();
    assert_eq!(lines[0], "{");
    assert_eq!(lines[1], "  \"format_version\": 1,");
    assert_eq!(lines[4], "  \"instances\": [");
    assert!(lines[5].starts_with("    {\"address\":\"config\",") && lines[5].ends_with("},"), "{}", lines[5]);
    assert!(lines[6].starts_with("    {\"address\":\"env[\\\"prod\\\"].web[\\\"a\\\"]\","), "{}", lines[6]);
    assert_eq!(lines[7], "  ],");
    assert_eq!(lines[8], "  \"outputs\": {");
    assert_eq!(lines[9], "    \"path\": {\"value\":\"out.txt\",\"sensitive\":false},");
    assert_eq!(
        lines[11],
        r#"    "zones": {"value":{"all":["a","b"],"lists":[["a","b"]]},"sensitive":false,"sets":[["all"],["lists",0]]}"#
    );
    assert!(lines[6].contains(r#""set_attributes":[["zones"]]"#), "{}", lines[6]);
    assert!(!lines[5].contains("set_attributes"), "left out where there are none: {}", lines[5]);
    assert_eq!(lines[12..], ["  }", "}"]);
    assert!(text.ends_with("}\n"));
}

#[test]
fn instances_read_from_a_file_share_their_type_and_provider_names() {
    let dir = temp_dir();
    let backend = LocalBackend::new(dir.path());
    let _lock = ok(backend.lock(&holder(), Duration::ZERO));
    let mut state = ok(backend.load()).state;
    for i in 0..50 {
        state.instances.insert(address(&format!("f{i}")), file_instance(&format!("text {i}")));
    }
    ok(backend.write_snapshot(&mut state));
    let bytes = ok(fs::read(backend.state_path()));
    let read_whole = ok(infra_runtime::state::document::parse_snapshot(&bytes, "infra.state.json"));
    let read_by_lines = infra_runtime::state::document::parse_snapshot_lines(&bytes[..], "infra.state.json");
    for read in [Some(read_whole), read_by_lines] {
        let Some(read) = read else { panic!("the snapshot is laid out as this version writes it") };
        assert_eq!(read.instances.len(), 50);
        let text = |name: &str| name.as_ptr();
        let types: std::collections::HashSet<_> = read.instances.values().map(|i| text(&i.resource_type)).collect();
        let providers: std::collections::HashSet<_> = read.instances.values().map(|i| text(&i.provider)).collect();
        assert_eq!((types.len(), providers.len()), (1, 1), "each distinct name is held once");
        assert!(read.instances.values().all(|i| i.resource_type == "local.file" && i.provider == "local"));
    }
}

/// Each declaration's name is held once however many addresses name it: the instances
/// of `web` and every dependency on `db` share their step's name with one another.
#[test]
fn addresses_read_from_a_file_share_their_names() {
    let mut state = State::new();
    state.instances.insert(address("db"), file_instance("db"));
    for i in 0..20 {
        let mut instance = file_instance(&format!("web {i}"));
        instance.dependencies = vec![address("db")];
        state.instances.insert(address(&format!("web[{i}]")), instance);
    }
    let bytes = ok(infra_runtime::state::document::render_snapshot(&state, 1));
    let read_whole = ok(infra_runtime::state::document::parse_snapshot(&bytes, "infra.state.json"));
    let read_by_lines = infra_runtime::state::document::parse_snapshot_lines(&bytes[..], "infra.state.json");
    for read in [Some(read_whole), read_by_lines] {
        let Some(read) = read else { panic!("the snapshot is laid out as this version writes it") };
        assert_eq!(read.instances, state.instances);
        let name_of = |address: &Address| address.steps[0].name.as_ptr();
        let webs: std::collections::HashSet<_> =
            read.instances.keys().filter(|a| a.steps[0].name == "web").map(name_of).collect();
        let mut dbs: std::collections::HashSet<_> =
            read.instances.values().flat_map(|i| i.dependencies.iter().map(name_of)).collect();
        dbs.extend(read.instances.keys().filter(|a| a.steps[0].name == "db").map(name_of));
        assert_eq!((webs.len(), dbs.len()), (1, 1), "each name is held once");
    }
}

#[test]
fn the_same_state_serializes_to_the_same_bytes() {
    let mut state = State::new();
    for i in [10, 2, 1] {
        state.instances.insert(address(&format!("web[{i}]")), file_instance("x"));
    }
    let write = |state: &State| {
        let dir = temp_dir();
        let backend = LocalBackend::new(dir.path());
        let _lock = ok(backend.lock(&holder(), Duration::ZERO));
        ok(backend.write_snapshot(&mut state.clone()));
        ok(fs::read_to_string(backend.state_path()))
    };
    let text = write(&state);
    assert_eq!(write(&state), text);
    let order: Vec<usize> = ["web[1]", "web[2]", "web[10]"].iter().filter_map(|a| text.find(a)).collect();
    assert_eq!(order.len(), 3);
    assert!(order.windows(2).all(|w| w[0] < w[1]), "instances in address order: {order:?}");
}

#[test]
fn every_write_increments_the_serial_and_keeps_a_backup() {
    let dir = temp_dir();
    let backend = LocalBackend::new(dir.path());
    let _lock = ok(backend.lock(&holder(), Duration::ZERO));
    let mut state = ok(backend.load()).state;
    let lineage = state.lineage.clone();
    for expected in 1..=3 {
        state.outputs.insert("n".into(), Value::number(expected as f64));
        ok(backend.write_snapshot(&mut state));
        assert_eq!(state.serial, expected);
        assert_eq!(ok(backend.load()).state.serial, expected);
    }
    let backup: serde_json::Value = ok(serde_json::from_slice(&ok(fs::read(backend.backup_path()))));
    assert_eq!(backup["serial"], 2);
    assert_eq!(backup["outputs"]["n"]["value"], 2);
    assert_eq!(backup["lineage"], lineage.as_str());
}

#[test]
fn writes_are_whole_and_leave_no_temporary_files() {
    let dir = temp_dir();
    let backend = LocalBackend::new(dir.path());
    let _lock = ok(backend.lock(&holder(), Duration::ZERO));
    let mut state = ok(backend.load()).state;
    ok(backend.write_snapshot(&mut state));
    // A write interrupted before its rename leaves a temp file behind; the state file is
    // still the old one, and the next write replaces the leftover.
    ok(fs::write(dir.path().join("infra.state.json.tmp"), "{\"format_version\": 1, \"ser"));
    assert_eq!(ok(backend.load()).state.serial, 1);
    for _ in 0..5 {
        state.instances.insert(address(&format!("web[{}]", state.serial)), file_instance("x"));
        ok(backend.write_snapshot(&mut state));
        let on_disk = ok(LocalBackend::new(dir.path()).load()).state;
        assert_eq!(on_disk, state);
    }
    assert_eq!(names(dir.path()), ["infra.state.json", "infra.state.json.backup", "infra.state.lock"]);
}

#[cfg(unix)]
#[test]
fn state_files_are_private_to_their_owner() {
    use std::os::unix::fs::PermissionsExt;
    let dir = temp_dir();
    let backend = LocalBackend::new(dir.path());
    let _lock = ok(backend.lock(&holder(), Duration::ZERO));
    let mut state = ok(backend.load()).state;
    ok(backend.append_journal(&JournalEntry::begin(0, address("a"), Action::Create, Some(file_instance("x")))));
    ok(backend.write_snapshot(&mut state));
    for path in [backend.state_path(), backend.journal_path()] {
        assert_eq!(ok(fs::metadata(&path)).permissions().mode() & 0o777, 0o600, "{}", path.display());
    }
}

#[test]
fn a_held_lock_names_its_holder() {
    let dir = temp_dir();
    let first = LocalBackend::new(dir.path());
    let lock = ok(first.lock(&LockHolder::new("infra apply -auto"), Duration::ZERO));
    assert_eq!(lock.holder().pid, std::process::id());
    let second = LocalBackend::new(dir.path());
    let error = err(second.lock(&holder(), Duration::ZERO));
    assert_eq!((error.kind, error.code()), (StateErrorKind::Locked, "E0702"));
    let expected = format!(
        "the state is locked by `{}` on `{}` (pid {}, running `infra apply -auto`) since {}",
        lock.holder().user,
        lock.holder().host,
        std::process::id(),
        lock.holder().since
    );
    assert_eq!(error.message, expected);
    assert!(error.help.as_deref().is_some_and(|h| h.contains("released when its process exits")));
    drop(lock);
    assert_eq!(ok(fs::read_to_string(first.lock_path())), "", "the holder record is cleared on release");
    ok(second.lock(&holder(), Duration::ZERO));
}

#[test]
fn a_lock_timeout_waits_for_the_holder_to_release() {
    let dir = temp_dir();
    let lock = ok(LocalBackend::new(dir.path()).lock(&holder(), Duration::ZERO));
    let start = Instant::now();
    let releaser = thread::spawn(move || {
        thread::sleep(Duration::from_millis(300));
        drop(lock);
    });
    let waiter = LocalBackend::new(dir.path());
    ok(waiter.lock(&holder(), Duration::from_secs(20)));
    assert!(start.elapsed() >= Duration::from_millis(300), "took the lock before it was released");
    ok(releaser.join());

    let _held = ok(LocalBackend::new(dir.path()).lock(&holder(), Duration::ZERO));
    let start = Instant::now();
    let error = err(waiter.lock(&holder(), Duration::from_millis(200)));
    assert!(start.elapsed() >= Duration::from_millis(200));
    assert!(error.message.contains("gave up after waiting"), "{}", error.message);
}

#[test]
fn writing_requires_the_lock() {
    let dir = temp_dir();
    let backend = LocalBackend::new(dir.path());
    let mut state = ok(backend.load()).state;
    let error = err(backend.write_snapshot(&mut state));
    assert_eq!((error.kind, error.code()), (StateErrorKind::NotLocked, "E0707"));
    let entry = JournalEntry::complete(0, address("a"), Action::Create, Some(file_instance("x")));
    assert_eq!(err(backend.append_journal(&entry)).kind, StateErrorKind::NotLocked);
    let lock = ok(backend.lock(&holder(), Duration::ZERO));
    ok(backend.append_journal(&entry));
    drop(lock);
    assert_eq!(err(backend.compact(&mut state)).kind, StateErrorKind::NotLocked);
    assert_eq!(state.serial, 0);
    assert_eq!(names(dir.path()), ["infra.state.journal", "infra.state.lock"]);
}

#[test]
fn a_killed_holder_releases_the_lock() {
    let dir = temp_dir();
    let (mut child, mut lines) = spawn_child("lock", dir.path());
    let started = lines.by_ref().any(|line| line == "locked");
    assert!(started, "the child did not take the lock");
    let backend = LocalBackend::new(dir.path());
    let error = err(backend.lock(&holder(), Duration::ZERO));
    assert!(error.message.contains(&format!("pid {}", child.id())), "{}", error.message);

    child.kill_and_wait(); // SIGKILL: the child gets no chance to clean up
    let record = ok(fs::read_to_string(backend.lock_path()));
    assert!(record.contains(&child.id().to_string()), "the dead holder's record is still there: {record}");
    let lock = ok(backend.lock(&holder(), Duration::from_secs(10)));
    assert_eq!(lock.holder().pid, std::process::id());
}

#[test]
fn a_torn_last_journal_line_is_ignored_with_a_warning() {
    let dir = temp_dir();
    let backend = LocalBackend::new(dir.path());
    {
        let _lock = ok(backend.lock(&holder(), Duration::ZERO));
        for name in ["a", "b"] {
            let entry = JournalEntry::complete(0, address(name), Action::Create, Some(file_instance(name)));
            ok(backend.append_journal(&entry));
        }
    }
    // The process died in the middle of appending a third entry.
    let mut bytes = ok(fs::read(backend.journal_path()));
    bytes.extend_from_slice(br#"{"op":"complete","action":"create","address":"c","ser"#);
    ok(fs::write(backend.journal_path(), &bytes));

    let loaded = ok(backend.load());
    let addresses: Vec<String> = loaded.state.instances.keys().map(ToString::to_string).collect();
    assert_eq!(addresses, ["a", "b"]);
    assert_eq!(loaded.state.instances[&address("b")], file_instance("b"));
    assert_eq!(loaded.warnings.len(), 1);
    let warning = &loaded.warnings[0];
    assert_eq!((warning.kind, warning.code()), (StateWarningKind::TornJournal, "W0700"));
    assert_eq!(warning.message, "line 3 of `infra.state.journal` is incomplete and was ignored");
    assert_eq!(ok(fs::read(backend.journal_path())), bytes, "loading changes nothing");

    // The next append cuts the torn line off and starts a line of its own.
    let _lock = ok(backend.lock(&holder(), Duration::ZERO));
    ok(backend.append_journal(&JournalEntry::complete(0, address("d"), Action::Create, Some(file_instance("d")))));
    let loaded = ok(backend.load());
    assert!(loaded.warnings.is_empty(), "{:?}", loaded.warnings);
    assert_eq!(loaded.state.instances.len(), 3);
    assert_eq!(ok(backend.read_journal()).entries.len(), 3);
}

#[test]
fn a_bad_line_before_the_last_is_an_error() {
    let dir = temp_dir();
    let backend = LocalBackend::new(dir.path());
    let good = r#"{"op":"complete","action":"delete","address":"a","serial":0}"#;
    let journal = format!("{good}\nnot json\n{good}\n");
    ok(fs::write(backend.journal_path(), &journal));
    let error = err(backend.load());
    assert_eq!((error.kind, error.code()), (StateErrorKind::CorruptJournal, "E0705"));
    assert!(error.message.starts_with("line 2 of `infra.state.journal` is not valid: "), "{}", error.message);
    assert_eq!(ok(fs::read_to_string(backend.journal_path())), journal);
}

#[test]
fn an_operation_begun_and_not_confirmed_is_pending() {
    let dir = temp_dir();
    let backend = LocalBackend::new(dir.path());
    let _lock = ok(backend.lock(&holder(), Duration::ZERO));
    let mut state = ok(backend.load()).state;
    for name in ["kept", "changed", "gone", "failed"] {
        state.instances.insert(address(name), file_instance("v1"));
    }
    ok(backend.compact(&mut state));
    let serial = state.serial;
    let entries = [
        JournalEntry::begin(serial, address("new"), Action::Create, Some(file_instance("planned"))),
        JournalEntry::begin(serial, address("changed"), Action::Update, None),
        JournalEntry::begin(serial, address("gone"), Action::Delete, None),
        JournalEntry::begin(serial, address("failed"), Action::Update, None),
        JournalEntry::fail(serial, address("failed"), Action::Update, "the disk is full"),
        JournalEntry::begin(serial, address("never"), Action::Create, Some(file_instance("x"))),
        JournalEntry::fail(serial, address("never"), Action::Create, "quota exceeded"),
    ];
    for entry in &entries {
        ok(backend.append_journal(entry));
    }
    let loaded = ok(backend.load()).state;
    let status = |name: &str| loaded.instances.get(&address(name)).map(|i| i.status);
    assert_eq!(status("new"), Some(Status::PendingCreate));
    assert_eq!(status("changed"), Some(Status::PendingUpdate));
    assert_eq!(status("gone"), Some(Status::PendingDelete));
    assert_eq!(status("failed"), Some(Status::Created));
    assert_eq!(status("kept"), Some(Status::Created));
    assert_eq!(status("never"), None);
    assert_eq!(loaded.instances[&address("new")].attributes, file_instance("planned").attributes);
    assert_eq!(loaded.instances[&address("changed")].attributes, file_instance("v1").attributes);
    let pending: Vec<String> = loaded.pending().map(|(a, i)| format!("{a} {:?}", i.status)).collect();
    assert_eq!(pending, ["changed PendingUpdate", "gone PendingDelete", "new PendingCreate"]);

    // Applying the same entries in memory gives what a reload gives.
    for entry in &entries {
        state.apply(entry);
    }
    assert_eq!(state, loaded);

    // A pending status survives compaction, so the next plan still sees it.
    ok(backend.compact(&mut state));
    let text = ok(fs::read_to_string(backend.state_path()));
    assert!(text.contains("\"status\":\"pending-create\""), "{text}");
    assert_eq!(ok(backend.load()).state, state);
}

#[test]
fn a_create_that_reported_its_object_keeps_it_through_a_crash_or_a_failure() {
    let dir = temp_dir();
    let backend = LocalBackend::new(dir.path());
    let _lock = ok(backend.lock(&holder(), Duration::ZERO));
    let mut state = ok(backend.load()).state;
    ok(backend.compact(&mut state));
    let serial = state.serial;
    let entries = [
        JournalEntry::begin(serial, address("stopped"), Action::Create, Some(file_instance("planned"))),
        JournalEntry::progress(serial, address("stopped"), file_instance("made")),
        JournalEntry::begin(serial, address("failed"), Action::Create, Some(file_instance("planned"))),
        JournalEntry::progress(serial, address("failed"), file_instance("made")),
        JournalEntry::fail(serial, address("failed"), Action::Create, "it never came up"),
        JournalEntry::begin(serial, address("finished"), Action::Create, Some(file_instance("planned"))),
        JournalEntry::progress(serial, address("finished"), file_instance("made")),
        JournalEntry::complete(serial, address("finished"), Action::Create, Some(file_instance("done"))),
    ];
    for entry in &entries {
        ok(backend.append_journal(entry));
    }
    let loaded = ok(backend.load()).state;
    let status = |name: &str| loaded.instances.get(&address(name)).map(|i| i.status);
    assert_eq!(status("stopped"), Some(Status::PartlyCreated));
    assert_eq!(status("failed"), Some(Status::PartlyCreated), "a failed create does not lose a made object");
    assert_eq!(status("finished"), Some(Status::Created));
    assert_eq!(loaded.instances[&address("stopped")].attributes, file_instance("made").attributes);
    assert_eq!(loaded.instances[&address("finished")].attributes, file_instance("done").attributes);
    for entry in &entries {
        state.apply(entry);
    }
    assert_eq!(state, loaded);
    ok(backend.compact(&mut state));
    assert!(ok(fs::read_to_string(backend.state_path())).contains("\"status\":\"partly-created\""));
    assert_eq!(ok(backend.load()).state, state);
}

/// A create's completion is journaled as what differs from its `begin` (the configured
/// attributes are not written twice), and a reload completes it from the `begin`: the
/// same instance, secrets' marks included, as a whole `complete` gives, even where the
/// state already held an older instance at the address.
#[test]
fn a_create_completion_is_journaled_as_its_changes_and_replays_whole() {
    let planned = |content: &str| {
        Instance::new(Mode::Managed, "local.file", "local").with_attributes(attrs(vec![
            ("filename", Value::string("out.txt")),
            ("content", Value::string(content).mark_sensitive()),
            ("tags", map(vec![("Team", Value::string("infra")), ("key", Value::string("k3y").mark_sensitive())])),
            ("mode", Value::string("0644")),
            ("dropped", Value::string("the provider does not keep this")),
        ]))
    };
    let made = |content: &str| {
        let mut instance = planned(content).with_dependencies(vec![address("other")]);
        instance.attributes.remove("dropped");
        instance.attributes.insert("mode", Value::string("0600"));
        instance.attributes.insert("id", Value::string("9f8e"));
        instance
    };
    let dir = temp_dir();
    let backend = LocalBackend::new(dir.path());
    let _lock = ok(backend.lock(&holder(), Duration::ZERO));
    let mut state = ok(backend.load()).state;
    // `replaced` is in state already: a new object is made at its address.
    state.instances.insert(address("replaced"), file_instance("old"));
    ok(backend.compact(&mut state));
    let serial = state.serial;
    let mut changes = Vec::new();
    let mut whole = Vec::new();
    for name in ["fresh", "replaced"] {
        let begin = JournalEntry::begin(serial, address(name), Action::Create, Some(planned(name)));
        let begun = planned(name).attributes;
        changes.extend([begin.clone(), JournalEntry::complete_create(serial, address(name), &begun, made(name))]);
        whole.extend([begin, JournalEntry::complete(serial, address(name), Action::Create, Some(made(name)))]);
    }
    for entry in &changes {
        ok(backend.append_journal(entry));
    }

    let text = ok(fs::read_to_string(backend.journal_path()));
    let lines: Vec<serde_json::Value> = text.lines().map(|line| ok(serde_json::from_str(line))).collect();
    let completion = &lines[1];
    assert_eq!(completion["op"], "complete-changes", "{text}");
    let written: Vec<&String> = ok(completion["attributes"].as_object().ok_or("attributes")).keys().collect();
    assert_eq!(written, ["id", "mode"], "only what the begin did not say: {text}");
    assert_eq!(completion["removed_attributes"], serde_json::json!(["dropped"]));
    assert_eq!(completion["dependencies"], serde_json::json!(["other"]));

    let loaded = ok(backend.load()).state;
    for name in ["fresh", "replaced"] {
        let instance = &loaded.instances[&address(name)];
        assert_eq!(instance.status, Status::Created);
        assert_eq!(*instance, made(name), "{name}");
    }
    // The same as a journal of whole completions, and as applying the entries in memory.
    let mut from_whole = state.clone();
    for entry in &whole {
        from_whole.apply(entry);
    }
    assert_eq!(from_whole, loaded);
    let mut fresh_only = state.clone();
    for entry in &changes[..2] {
        fresh_only.apply(entry);
    }
    assert_eq!(fresh_only.instances[&address("fresh")], made("fresh"));

    // Compacted, the snapshot holds the whole instance.
    let mut compacted = loaded.clone();
    ok(backend.compact(&mut compacted));
    assert_eq!(ok(backend.load()).state.instances, loaded.instances);

    // When nothing is the same, the completion is written whole.
    let other = JournalEntry::complete_create(serial, address("x"), &attrs(vec![]), made("x"));
    assert_eq!(other, JournalEntry::complete(serial, address("x"), Action::Create, Some(made("x"))));
}

/// A `complete-changes` replayed without its `begin` cannot be made whole: the journal
/// was damaged, and loading says so instead of storing a partial instance. One for an
/// older snapshot (folded in already) is skipped like any other entry.
#[test]
fn a_completion_of_changes_without_its_begin_is_an_error() {
    let dir = temp_dir();
    let backend = LocalBackend::new(dir.path());
    let _lock = ok(backend.lock(&holder(), Duration::ZERO));
    let mut state = ok(backend.load()).state;
    ok(backend.compact(&mut state));
    let begun = file_instance("planned").attributes;
    let mut made = file_instance("planned");
    made.attributes.insert("id", Value::string("1"));
    let orphan = JournalEntry::complete_create(state.serial, address("a"), &begun, made.clone());
    ok(backend.append_journal(&orphan));
    let error = err(backend.load());
    assert_eq!((error.kind, error.code()), (StateErrorKind::CorruptJournal, "E0705"));
    assert_eq!(error.message, "the journal completes the create of `a` without its `begin`");
    assert_eq!(error.path.as_deref(), Some(backend.journal_path().as_path()));

    fs::remove_file(backend.journal_path()).unwrap_or_else(|e| panic!("{e}"));
    ok(backend.compact(&mut state));
    let older = JournalEntry::complete_create(state.serial - 1, address("a"), &begun, made);
    ok(backend.append_journal(&older));
    let loaded = ok(backend.load());
    assert!(loaded.state.instances.is_empty());
    assert_eq!(loaded.replayed, 0);
}

#[test]
fn a_completed_operation_replaces_the_instance() {
    let mut state = State::new();
    state.instances.insert(address("a"), file_instance("v1"));
    let updated = file_instance("v2").with_dependencies(vec![address("b")]);
    state.apply(&JournalEntry::begin(0, address("a"), Action::Update, None));
    state.apply(&JournalEntry::complete(0, address("a"), Action::Update, Some(updated.clone())));
    assert_eq!(state.instances[&address("a")], updated);
    state.apply(&JournalEntry::begin(0, address("a"), Action::Delete, None));
    state.apply(&JournalEntry::complete(0, address("a"), Action::Delete, None));
    assert!(state.instances.is_empty());
}

#[test]
fn a_newer_format_version_is_refused() {
    let dir = temp_dir();
    let backend = LocalBackend::new(dir.path());
    let text = r#"{"format_version": 2, "serial": 9, "lineage": "x", "resources": {}}"#;
    ok(fs::write(backend.state_path(), text));
    let error = err(backend.load());
    assert_eq!((error.kind, error.code()), (StateErrorKind::NewerFormat, "E0701"));
    assert_eq!(error.message, "`infra.state.json` has format version 2; this version of Infra reads version 1");
    assert_eq!(error.help.as_deref(), Some("a newer version of Infra wrote this state; upgrade Infra to use it"));

    let _lock = ok(backend.lock(&holder(), Duration::ZERO));
    let error = err(backend.write_snapshot(&mut State::new()));
    assert_eq!(error.kind, StateErrorKind::NewerFormat, "not overwritten by an older Infra");
    assert_eq!(ok(fs::read_to_string(backend.state_path())), text);
}

#[test]
fn a_corrupted_state_file_is_refused_and_left_as_it_is() {
    let dir = temp_dir();
    let backend = LocalBackend::new(dir.path());
    let _lock = ok(backend.lock(&holder(), Duration::ZERO));
    let mut state = ok(backend.load()).state;
    ok(backend.write_snapshot(&mut state));
    ok(backend.write_snapshot(&mut state));
    let text = "{\"format_version\": 1, \"serial\": 3, \"lin";
    ok(fs::write(backend.state_path(), text));

    let error = err(backend.load());
    assert_eq!((error.kind, error.code()), (StateErrorKind::Corrupt, "E0700"));
    assert!(
        error.message.starts_with("`infra.state.json` is not a valid state: not valid JSON ("),
        "{}",
        error.message
    );
    let help = error.help.clone().unwrap_or_default();
    assert!(help.contains("infra.state.json.backup"), "{help}");
    assert_eq!(error.path.as_deref(), Some(backend.state_path().as_path()));
    let diagnostic = error.to_diagnostic();
    assert_eq!(diagnostic.code.as_str(), "E0700");
    assert_eq!(diagnostic.help, Some(help));

    assert_eq!(err(backend.write_snapshot(&mut state)).kind, StateErrorKind::Corrupt);
    assert_eq!(ok(fs::read_to_string(backend.state_path())), text, "never overwritten");

    // Valid JSON that is not a state is refused the same way.
    ok(fs::write(backend.state_path(), r#"{"format_version": 1, "serial": "three"}"#));
    assert_eq!(err(backend.load()).kind, StateErrorKind::Corrupt);
    ok(fs::write(backend.state_path(), "[]"));
    assert_eq!(
        err(backend.load()).message,
        "`infra.state.json` is not a valid state: no `format_version`; this is not an Infra state"
    );
}

#[test]
fn an_unreadable_state_file_is_an_error() {
    let dir = temp_dir();
    let backend = LocalBackend::new(dir.path());
    // A directory in the file's place cannot be read, even by root; it is refused before
    // any attempt, as not a state file.
    ok(fs::create_dir(backend.state_path()));
    let error = err(backend.load());
    assert_eq!((error.kind, error.code()), (StateErrorKind::NotAFile, "E0724"));
    assert!(error.message.ends_with("is a directory"), "{}", error.message);
}

/// Bug: with the state file gone but its backup present, `plan` proposed to create
/// everything again, without a word.
#[test]
fn a_missing_state_beside_its_backup_is_refused_unless_allowed() {
    let dir = temp_dir();
    let backend = LocalBackend::new(dir.path());
    {
        let _lock = ok(backend.lock(&holder(), Duration::ZERO));
        let mut state = ok(backend.load()).state;
        state.instances.insert(address("web"), file_instance("x"));
        ok(backend.write_snapshot(&mut state));
        ok(backend.write_snapshot(&mut state));
    }
    ok(fs::remove_file(backend.state_path()));
    let error = err(backend.load());
    assert_eq!((error.kind, error.code()), (StateErrorKind::Missing, "E0725"));
    assert!(error.help.as_deref().is_some_and(|h| h.contains("cp infra.state.json.backup infra.state.json")));
    assert!(error.help.as_deref().is_some_and(|h| h.contains("--allow-empty-state")));
    let allowed = LocalBackend::new(dir.path()).allowing_empty_state(true);
    assert!(ok(allowed.load()).state.instances.is_empty());
    // Restoring the backup brings the instances back.
    ok(fs::copy(backend.backup_path(), backend.state_path()));
    assert_eq!(ok(backend.load()).state.instances.len(), 1);
}

/// Bug: a dangling symbolic link as the state loaded as an empty state, and the next
/// write replaced the link with a file.
#[cfg(unix)]
#[test]
fn a_dangling_symlink_state_is_refused() {
    let dir = temp_dir();
    let backend = LocalBackend::new(dir.path());
    ok(std::os::unix::fs::symlink(dir.path().join("elsewhere.json"), backend.state_path()));
    let error = err(backend.load());
    assert_eq!((error.kind, error.code()), (StateErrorKind::NotAFile, "E0724"));
    assert!(error.message.contains("is a symbolic link to"), "{}", error.message);
    assert!(ok(fs::symlink_metadata(backend.state_path())).file_type().is_symlink(), "the link is left alone");
}

/// A state kept elsewhere through a symbolic link is read and written through it: the
/// file it points to changes, the link stays, and the backup is a real copy.
#[cfg(unix)]
#[test]
fn a_symlinked_state_is_written_through_the_link() {
    let dir = temp_dir();
    let store = temp_dir();
    let target = store.path().join("web.state.json");
    let backend = LocalBackend::new(dir.path());
    {
        let _lock = ok(backend.lock(&holder(), Duration::ZERO));
        let mut state = ok(backend.load()).state;
        ok(backend.write_snapshot(&mut state));
        ok(fs::rename(backend.state_path(), &target));
        ok(std::os::unix::fs::symlink(&target, backend.state_path()));
        state.instances.insert(address("web"), file_instance("x"));
        ok(backend.write_snapshot(&mut state));
    }
    assert!(ok(fs::symlink_metadata(backend.state_path())).file_type().is_symlink(), "the link survives");
    let stored: serde_json::Value = ok(serde_json::from_slice(&ok(fs::read(&target))));
    assert_eq!(stored["serial"], 2);
    assert_eq!(ok(backend.load()).state.instances.len(), 1);
    let backup: serde_json::Value = ok(serde_json::from_slice(&ok(fs::read(backend.backup_path()))));
    assert_eq!(backup["serial"], 1, "the backup holds the previous version");
    assert!(!ok(fs::symlink_metadata(backend.backup_path())).file_type().is_symlink(), "the backup is a file");
}

/// Bug: a FIFO as the state file hung `plan`, and a link to `/dev/zero` ran out of
/// memory.
#[cfg(unix)]
#[test]
fn a_fifo_or_device_as_the_state_is_refused_without_reading_it() {
    let dir = temp_dir();
    let backend = LocalBackend::new(dir.path());
    let status = ok(Command::new("mkfifo").arg(backend.state_path()).status());
    assert!(status.success());
    let error = err(backend.load());
    assert_eq!((error.kind, error.code()), (StateErrorKind::NotAFile, "E0724"));
    ok(fs::remove_file(backend.state_path()));
    ok(std::os::unix::fs::symlink("/dev/zero", backend.state_path()));
    let error = err(backend.load());
    assert_eq!((error.kind, error.code()), (StateErrorKind::NotAFile, "E0724"));
    assert!(error.message.contains("not a regular file"), "{}", error.message);
}

#[test]
fn a_state_with_another_lineage_is_not_overwritten() {
    let dir = temp_dir();
    let backend = LocalBackend::new(dir.path());
    let _lock = ok(backend.lock(&holder(), Duration::ZERO));
    let mut stored = ok(backend.load()).state;
    ok(backend.write_snapshot(&mut stored));
    let mut other = State::new();
    let error = err(backend.write_snapshot(&mut other));
    assert_eq!((error.kind, error.code()), (StateErrorKind::Conflict, "E0708"));
    let mut stale = stored.clone();
    ok(backend.write_snapshot(&mut stored));
    assert_eq!(err(backend.write_snapshot(&mut stale)).kind, StateErrorKind::Conflict);
    assert_eq!(ok(backend.load()).state.serial, 2);
}

#[test]
fn compaction_folds_the_journal_into_the_snapshot() {
    let dir = temp_dir();
    let backend = LocalBackend::new(dir.path());
    let _lock = ok(backend.lock(&holder(), Duration::ZERO));
    let mut state = ok(backend.load()).state;
    for name in ["a", "b"] {
        let entry = JournalEntry::complete(state.serial, address(name), Action::Create, Some(file_instance(name)));
        ok(backend.append_journal(&entry));
        state.apply(&entry);
    }
    state.outputs.insert("count".into(), Value::number(2.0));
    ok(backend.compact(&mut state));
    assert_eq!(state.serial, 1);
    assert_eq!(ok(fs::read(backend.journal_path())).len(), 0, "the journal is emptied");
    let loaded = ok(backend.load()).state;
    assert_eq!(loaded, state);

    // Appending goes on after compaction, on top of the new snapshot.
    let entry = JournalEntry::complete(state.serial, address("a"), Action::Delete, None);
    ok(backend.append_journal(&entry));
    let loaded = ok(backend.load()).state;
    assert_eq!(loaded.instances.keys().map(ToString::to_string).collect::<Vec<_>>(), ["b"]);
}

#[test]
fn concurrent_appends_keep_whole_lines() {
    // The apply executor runs several provider operations at once; each journals its own.
    let dir = temp_dir();
    let backend = std::sync::Arc::new(LocalBackend::new(dir.path()));
    let _lock = ok(backend.lock(&holder(), Duration::ZERO));
    let workers: Vec<_> = (0..8u64)
        .map(|worker| {
            let backend = std::sync::Arc::clone(&backend);
            thread::spawn(move || {
                for i in 0..25 {
                    let index = worker * 100 + i;
                    let entry = JournalEntry::complete(
                        0,
                        address(&format!("item[{index}]")),
                        Action::Create,
                        Some(journal_instance(index)),
                    );
                    ok(backend.append_journal(&entry));
                }
            })
        })
        .collect();
    for worker in workers {
        ok(worker.join());
    }
    let loaded = ok(backend.load());
    assert!(loaded.warnings.is_empty(), "{:?}", loaded.warnings);
    assert_eq!((loaded.replayed, loaded.state.instances.len()), (200, 200));
}

/// The pattern the tokio-based executor uses: the blocking backend behind an `Arc<dyn
/// StateBackend>`, called through `spawn_blocking`.
#[tokio::test]
async fn the_backend_is_called_from_async_code_through_spawn_blocking() {
    let dir = temp_dir();
    let backend: std::sync::Arc<dyn StateBackend> = std::sync::Arc::new(LocalBackend::new(dir.path()));
    let lock = ok(backend.lock(&holder(), Duration::ZERO));
    let entry = JournalEntry::complete(0, address("a"), Action::Create, Some(file_instance("x")));
    let appender = std::sync::Arc::clone(&backend);
    ok(ok(tokio::task::spawn_blocking(move || appender.append_journal(&entry)).await));
    let loaded = ok(ok(tokio::task::spawn_blocking(move || backend.load()).await));
    assert_eq!(loaded.replayed, 1);
    drop(lock);
}

#[test]
fn entries_already_in_the_snapshot_are_skipped() {
    // A compaction that wrote the snapshot and stopped before emptying the journal.
    let dir = temp_dir();
    let backend = LocalBackend::new(dir.path());
    let _lock = ok(backend.lock(&holder(), Duration::ZERO));
    let mut state = ok(backend.load()).state;
    let created = JournalEntry::complete(0, address("a"), Action::Create, Some(file_instance("v1")));
    ok(backend.append_journal(&created));
    state.apply(&created);
    state.instances.insert(address("a"), file_instance("v2"));
    ok(backend.write_snapshot(&mut state));
    let loaded = ok(backend.load());
    assert!(loaded.warnings.is_empty());
    assert_eq!(loaded.state.instances[&address("a")], file_instance("v2"), "the old entry is not replayed");

    // Entries for a newer snapshot than the stored one (a state file restored by hand)
    // are applied, with a warning.
    ok(backend.append_journal(&JournalEntry::complete(7, address("b"), Action::Create, Some(file_instance("b")))));
    let loaded = ok(backend.load());
    assert!(loaded.state.instances.contains_key(&address("b")));
    assert_eq!(loaded.warnings.iter().map(|w| w.code()).collect::<Vec<_>>(), ["W0701"]);
}

#[test]
fn lineages_are_unique() {
    let lineages: Vec<String> = (0..100).map(|_| State::new().lineage).collect();
    let mut unique = lineages.clone();
    unique.sort();
    unique.dedup();
    assert_eq!(unique.len(), lineages.len());
    let lineage = &lineages[0];
    let groups: Vec<usize> = lineage.split('-').map(str::len).collect();
    assert_eq!(groups, [8, 4, 4, 4, 12], "{lineage}");
    assert!(lineage.chars().all(|c| c == '-' || c.is_ascii_hexdigit()));
}

/// `kill -9` of a process appending to the journal, at a random moment, leaves a
/// journal that loads with every entry whose append had returned.
#[test]
fn killing_a_journal_writer_loses_no_completed_entry() {
    let random = RandomState::new();
    for round in 0..10u64 {
        let dir = temp_dir();
        let (mut child, mut lines) = spawn_child("journal", dir.path());
        let mut reported: Option<u64> = None;
        for line in lines.by_ref() {
            if let Some(index) = line.strip_prefix("appended ") {
                reported = Some(ok(index.parse()));
                break;
            }
        }
        assert!(reported.is_some(), "round {round}: the child appended nothing");
        thread::sleep(Duration::from_millis(1 + random.hash_one(round) % 50));
        child.kill_and_wait();
        for line in lines {
            if let Some(index) = line.strip_prefix("appended ") {
                reported = Some(ok(index.parse()));
            }
        }
        let last = reported.unwrap_or_default();

        let loaded = ok(LocalBackend::new(dir.path()).load());
        for index in 0..=last {
            let instance = loaded.state.instances.get(&address(&format!("item[{index}]")));
            assert_eq!(instance, Some(&journal_instance(index)), "round {round}: entry {index} of {last}");
        }
        assert!(loaded.warnings.iter().all(|w| w.kind == StateWarningKind::TornJournal), "{:?}", loaded.warnings);
    }
}

fn journal_instance(index: u64) -> Instance {
    Instance::new(Mode::Managed, "local.file", "local").with_attributes(attrs(vec![
        ("index", Value::number(index as f64)),
        ("secret", Value::string(format!("s{index}")).mark_sensitive()),
    ]))
}

const ROLE: &str = "INFRA_STATE_TEST_ROLE";
const DIR: &str = "INFRA_STATE_TEST_DIR";

/// A child process, killed (if still running) when dropped, so a failing test leaves
/// no process behind.
struct ChildProcess(Child);

impl ChildProcess {
    fn id(&self) -> u32 {
        self.0.id()
    }

    /// Sends SIGKILL (on Unix) and reaps the process.
    fn kill_and_wait(&mut self) {
        ok(self.0.kill());
        ok(self.0.wait());
    }
}

impl Drop for ChildProcess {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

/// Runs this test binary again as `role` (only `child_process_role` runs), in `dir`.
/// Returns the child and the messages it prints (lines starting with `@@ `, without
/// it; the test harness prints its own text around them).
fn spawn_child(role: &str, dir: &Path) -> (ChildProcess, impl Iterator<Item = String>) {
    let mut child = ok(Command::new(ok(std::env::current_exe()))
        .args(["child_process_role", "--exact", "--nocapture", "--test-threads=1"])
        .env(ROLE, role)
        .env(DIR, dir)
        .stdout(Stdio::piped())
        .spawn());
    let stdout = child.stdout.take().unwrap_or_else(|| panic!("no stdout"));
    let messages = BufReader::new(stdout)
        .lines()
        .map_while(Result::ok)
        .filter_map(|line| line.split_once("@@ ").map(|(_, message)| message.to_string()));
    (ChildProcess(child), messages)
}

/// What a child process does; a test that passes at once when not run as a child.
/// `lock`: takes the lock, says `locked`, and sleeps until killed (a minute at most).
/// `journal`: takes the lock and appends entries, saying `appended N` after each append
/// returns, until killed (or done).
#[test]
fn child_process_role() {
    let (Ok(role), Ok(dir)) = (std::env::var(ROLE), std::env::var(DIR)) else { return };
    let backend = LocalBackend::new(dir);
    let _lock = ok(backend.lock(&LockHolder::new(format!("state test child ({role})")), Duration::ZERO));
    match role.as_str() {
        "lock" => {
            println!("\n@@ locked");
            thread::sleep(Duration::from_secs(60));
        }
        "journal" => {
            for index in 0..20_000 {
                let entry = JournalEntry::complete(
                    0,
                    address(&format!("item[{index}]")),
                    Action::Create,
                    Some(journal_instance(index)),
                );
                ok(backend.append_journal(&entry));
                println!("\n@@ appended {index}");
            }
        }
        other => panic!("unknown role {other}"),
    }
}

#[test]
fn state_files_have_their_documented_names() {
    let root = Path::new("root");
    let backend = LocalBackend::new(root);
    assert_eq!(backend.state_path(), root.join("infra.state.json"));
    assert_eq!(backend.backup_path(), root.join("infra.state.json.backup"));
    assert_eq!(backend.journal_path(), root.join("infra.state.journal"));
    assert_eq!(backend.lock_path(), root.join("infra.state.lock"));
    assert_eq!(backend.location(), root.join("infra.state.json").display().to_string());
}

/// Every state error and warning code is registered, with the same title, in the
/// runtime's code list (which `infra explain` and `docs/errors/` follow).
#[test]
fn state_codes_are_registered() {
    use infra_runtime::state::{StateErrorKind, StateWarningKind};
    let kinds = [
        StateErrorKind::Corrupt,
        StateErrorKind::NewerFormat,
        StateErrorKind::Locked,
        StateErrorKind::ReadFailed,
        StateErrorKind::WriteFailed,
        StateErrorKind::CorruptJournal,
        StateErrorKind::Unstorable,
        StateErrorKind::NotLocked,
        StateErrorKind::Conflict,
        StateErrorKind::LockFailed,
    ];
    for kind in kinds {
        assert_eq!(infra_runtime::codes::title(kind.code()), Some(kind.title()), "{}", kind.code());
    }
    for kind in [StateWarningKind::TornJournal, StateWarningKind::JournalAhead] {
        assert_eq!(infra_runtime::codes::title(kind.code()), Some(kind.title()), "{}", kind.code());
    }
}

/// Bug: a state whose serial was 2^64 − 1 (edited by hand) was written with serial 0,
/// the oldest a state can be.
#[test]
fn the_largest_serial_is_not_wrapped_around() {
    let dir = temp_dir();
    let backend = LocalBackend::new(dir.path());
    let _lock = ok(backend.lock(&holder(), Duration::ZERO));
    let mut state = ok(backend.load()).state;
    ok(backend.write_snapshot(&mut state));
    let text =
        ok(fs::read_to_string(backend.state_path())).replace("\"serial\": 1", &format!("\"serial\": {}", u64::MAX));
    ok(fs::write(backend.state_path(), text));
    let mut state = ok(backend.load()).state;
    assert_eq!(state.serial, u64::MAX);
    let error = err(backend.write_snapshot(&mut state));
    assert_eq!((error.kind, error.code()), (StateErrorKind::Unstorable, "E0706"));
    assert!(error.message.contains("the largest there is"), "{}", error.message);
    assert_eq!(ok(backend.load()).state.serial, u64::MAX, "nothing was written");
}

/// A state large enough that its instances are parsed on several threads reads back
/// exactly as written, and a damaged instance late in it is reported at its line of the
/// file, as the whole document's parse places it.
#[test]
fn a_large_state_parsed_on_several_threads_reads_back_the_same() {
    use infra_runtime::state::document::{parse_snapshot, render_snapshot};
    let mut state = State::new();
    state.lineage = "a-lineage".to_string();
    for i in 0..6_000 {
        let mut attributes = every_kind();
        attributes.insert("index", Value::number(f64::from(i)));
        let mut instance = Instance::new(Mode::Managed, "local.file", "local").with_attributes(attributes);
        if i > 0 {
            instance.dependencies = vec![address(&format!("r{}", i - 1))];
        }
        state.instances.insert(address(&format!("r{i}")), instance);
    }
    state.outputs.insert("first".into(), Value::string("r0").mark_sensitive());
    let bytes = ok(render_snapshot(&state, 7));
    let read = ok(parse_snapshot(&bytes, "infra.state.json"));
    // Each instance as a state of its own reads it (on one thread); a set reads back as
    // a list, as in every state.
    let alone = |address: &Address, instance: &Instance| {
        let mut one = State { serial: 0, lineage: state.lineage.clone(), ..State::new() };
        one.instances.insert(address.clone(), instance.clone());
        ok(parse_snapshot(&ok(render_snapshot(&one, 1)), "one.json")).instances.remove(address)
    };
    assert_eq!((read.serial, &read.lineage, &read.outputs), (7, &state.lineage, &state.outputs));
    assert_eq!(read.instances.len(), state.instances.len());
    for (address, instance) in &state.instances {
        assert!(read.instances.get(address) == alone(address, instance).as_ref(), "{address} reads back otherwise");
    }

    // The instances are one a line, after the document's four opening lines.
    let text = ok(String::from_utf8(bytes));
    let damaged: Vec<String> = text
        .lines()
        .enumerate()
        .map(|(i, line)| if i == 4 + 5_500 { line.replacen("\"managed\"", "42", 1) } else { line.to_string() })
        .collect();
    let error = err(parse_snapshot(damaged.join("\n").as_bytes(), "infra.state.json"));
    assert_eq!(error.kind, StateErrorKind::Corrupt);
    assert!(error.to_string().contains(&format!("line {}", 4 + 5_500 + 1)), "{error}");
}

/// A snapshot listing one address twice (edited by hand, or merged badly) is refused,
/// naming the address, rather than one record silently winning; also when the two are
/// apart and out of order.
#[test]
fn an_instance_listed_twice_is_refused() {
    use infra_runtime::state::document::{parse_snapshot, render_snapshot};
    let mut state = State::new();
    for name in ["api", "db", "web"] {
        state.instances.insert(address(name), file_instance(name));
    }
    let text = ok(String::from_utf8(ok(render_snapshot(&state, 1))));
    let line_of = |name: &str| {
        let quoted = format!("\"address\":\"{name}\"");
        text.lines().find(|line| line.contains(&quoted)).map(|line| line.trim_end_matches(',').to_string())
    };
    let (Some(api), Some(web)) = (line_of("api"), line_of("web")) else { panic!("no lines for api and web:\n{text}") };
    let twice = [
        (text.replacen(&web, &format!("{web},\n{web}"), 1), "entries 3 and 4"),
        (text.replacen(&api, &format!("{web},\n{api}"), 1), "entries 1 and 4"),
    ];
    for (twice, entries) in twice {
        let error = err(parse_snapshot(twice.as_bytes(), "infra.state.json"));
        assert_eq!(error.kind, StateErrorKind::Corrupt);
        // Where: the two entries, counted in the document's order.
        let message = error.to_string();
        assert!(message.contains(&format!("instance `web` is listed twice, as {entries} of `instances`")), "{message}");
    }
}
