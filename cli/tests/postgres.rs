//! The PostgreSQL state backend end to end: the `infra` binary against a real
//! PostgreSQL 15 that the tests start on 127.0.0.1 (see `support/postgres.rs`).

use std::path::Path;
use std::process::{Child, Output, Stdio};
use std::time::{Duration, Instant};

mod common;
#[path = "support/postgres.rs"]
mod pg;

use common::{command, run as infra, text, write_module};

#[track_caller]
fn assert_exit(output: &Output, code: i32) {
    assert_eq!(output.status.code(), Some(code), "{}", text(output));
}

/// `infra ARGS` with the state at `url`.
fn infra_at(dir: &Path, url: &str, args: &[&str]) -> Output {
    let mut all: Vec<&str> = args.to_vec();
    all.extend(["--state-url", url]);
    infra(dir, &all)
}

/// Starts `infra ARGS` in the background.
fn spawn(dir: &Path, args: &[&str]) -> Child {
    command(dir, args).stdout(Stdio::piped()).stderr(Stdio::piped()).spawn().expect("start infra")
}

/// Waits until `sql` (run on `database`) prints something other than nothing or `0`;
/// until Infra has created its tables, it fails, which counts as not yet.
fn wait_for(server: &pg::Postgres, database: &str, sql: &str) {
    let start = Instant::now();
    loop {
        let answer = server.try_sql(database, sql).unwrap_or_default();
        if !answer.trim().is_empty() && answer.trim() != "0" {
            return;
        }
        assert!(start.elapsed() < Duration::from_secs(30), "timed out waiting for: {sql}");
        std::thread::sleep(Duration::from_millis(50));
    }
}

fn files_module() -> &'static str {
    r#"
resource local.file a {
  path    = "out/a.txt"
  content = "a"
}
resource local.file b {
  path    = "out/b.txt"
  content = "b after ${a.id}"
}
output b_path = b.path
"#
}

/// A file, then a wait of `seconds` (an input), then a file that depends on the wait.
fn slow_module() -> &'static str {
    r#"
input wait_for: string = "3s"
resource local.file first {
  path    = "out/first.txt"
  content = "first"
}
resource time.sleep wait {
  create_duration = wait_for
  triggers        = { after = first.id }
}
resource local.file last {
  path    = "out/last.txt"
  content = "last after ${wait.id}"
}
"#
}

#[test]
fn apply_plan_and_destroy_through_a_state_block() {
    let url = pg::database("round_trip");
    let dir = tempfile::tempdir().expect("temp dir");
    let dir = dir.path();
    let module =
        format!("state postgres {{\n  url    = env(\"ROUND_TRIP_URL\")\n  schema = \"team\"\n}}\n{}", files_module());
    write_module(dir, &module);
    let run = |args: &[&str]| command(dir, args).env("ROUND_TRIP_URL", &url).output().expect("run infra");
    let applied = run(&["apply", "--auto-approve"]);
    assert_exit(&applied, 0);
    assert!(text(&applied).contains("2 added"), "{}", text(&applied));
    assert!(!dir.join("infra.state.json").exists(), "the state went to a local file");
    let stored = pg::shared().sql("round_trip", "SELECT count(*) FROM team.snapshots");
    assert_eq!(stored.trim(), "1", "one snapshot in the configured schema");
    assert_eq!(text(&run(&["state", "list"])), "a\nb\n");
    assert_eq!(text(&run(&["output", "b_path"])), "\"out/b.txt\"\n");

    let plan = run(&["plan", "--detailed-exitcode"]);
    assert_exit(&plan, 0);
    assert!(text(&plan).contains("No changes."), "{}", text(&plan));

    let destroyed = run(&["destroy", "--auto-approve"]);
    assert_exit(&destroyed, 0);
    assert!(!dir.join("out/a.txt").exists() && !dir.join("out/b.txt").exists());
    assert_eq!(text(&run(&["state", "list"])), "");
    let plan = run(&["plan", "--detailed-exitcode"]);
    assert_exit(&plan, 2);
}

#[test]
fn a_second_apply_fails_naming_the_holder_or_waits_for_it() {
    let url = pg::database("concurrent");
    let dir = tempfile::tempdir().expect("temp dir");
    let dir = dir.path();
    write_module(dir, slow_module());
    let first = spawn(dir, &["apply", "--auto-approve", "--state-url", &url]);
    wait_for(pg::shared(), "concurrent", "SELECT count(*) FROM infra.locks");

    let second = infra_at(dir, &url, &["apply", "--auto-approve"]);
    assert_exit(&second, 1);
    let message = text(&second);
    assert!(message.contains("E0702"), "{message}");
    assert!(message.contains("running `infra apply`") && message.contains(&format!("pid {}", first.id())), "{message}");

    let waiting = infra_at(dir, &url, &["plan", "--lock-timeout", "60", "--detailed-exitcode"]);
    let first = first.wait_with_output().expect("first apply");
    assert_exit(&first, 0);
    // It waited for the first apply, so it sees everything that one made.
    assert_exit(&waiting, 0);
    assert!(text(&waiting).contains("No changes."), "{}", text(&waiting));
}

#[test]
fn a_killed_apply_releases_the_lock_and_its_journal_keeps_completed_operations() {
    let url = pg::database("killed");
    let server = pg::shared();
    let dir = tempfile::tempdir().expect("temp dir");
    let dir = dir.path();
    write_module(dir, slow_module());
    let mut apply = spawn(dir, &["apply", "--auto-approve", "--state-url", &url, "--var", "wait_for=60s"]);
    wait_for(server, "killed", "SELECT count(*) FROM infra.journal WHERE entry LIKE '%\"begin\"%\"wait\"%'");
    apply.kill().expect("kill -9");
    let _ = apply.wait();
    assert!(dir.join("out/first.txt").exists());

    // The lock went with the killed process's session: a plan takes it (waiting only
    // for the server to notice the closed connection).
    let listed = infra_at(dir, &url, &["state", "list"]);
    assert_eq!(text(&listed), "first\nwait  (pending: not confirmed)\n");
    let plan = infra_at(dir, &url, &["plan", "--lock-timeout", "10"]);
    assert_exit(&plan, 0);
    assert!(text(&plan).contains("began but was never confirmed"), "{}", text(&plan));

    let again = infra_at(dir, &url, &["apply", "--auto-approve", "--var", "wait_for=10ms", "--lock-timeout", "10"]);
    assert_exit(&again, 0);
    assert!(dir.join("out/last.txt").exists());
    let settled = infra_at(dir, &url, &["plan", "--detailed-exitcode", "--var", "wait_for=10ms"]);
    assert_exit(&settled, 0);
    assert_eq!(server.sql("killed", "SELECT count(*) FROM infra.journal").trim(), "0", "compacted");
}

#[test]
fn a_hung_holder_is_named_by_its_session_and_ending_that_session_frees_the_lock() {
    let url = pg::database("hung");
    let server = pg::shared();
    let dir = tempfile::tempdir().expect("temp dir");
    let dir = dir.path();
    write_module(dir, slow_module());
    let mut apply = spawn(dir, &["apply", "--auto-approve", "--state-url", &url, "--var", "wait_for=60s"]);
    wait_for(server, "hung", "SELECT count(*) FROM infra.journal WHERE entry LIKE '%\"begin\"%\"wait\"%'");
    // A run that hangs: stopped, so its process lives and its session keeps the lock.
    let stop = std::process::Command::new("kill").args(["-STOP", &apply.id().to_string()]).status();
    assert!(stop.is_ok_and(|s| s.success()), "kill -STOP");

    let refused = infra_at(dir, &url, &["plan"]);
    assert_exit(&refused, 1);
    let message = text(&refused);
    let session = server.sql("hung", "SELECT server_pid FROM infra.locks").trim().to_string();
    assert!(message.contains("E0702") && message.contains(&format!("pg_terminate_backend({session})")), "{message}");

    // `force-unlock` has nothing to remove here, and says what does stop it.
    let unlock = infra_at(dir, &url, &["force-unlock", "any-id"]);
    assert_exit(&unlock, 1);
    assert!(text(&unlock).contains("E0801") && text(&unlock).contains("pg_terminate_backend"), "{}", text(&unlock));

    // What the hint says to do frees the lock.
    server.sql("hung", &format!("SELECT pg_terminate_backend({session})"));
    let plan = infra_at(dir, &url, &["plan", "--lock-timeout", "10"]);
    assert_exit(&plan, 0);
    assert!(text(&plan).contains("began but was never confirmed"), "{}", text(&plan));
    let _ = apply.kill();
    let _ = apply.wait();
}

#[test]
fn a_server_stopped_mid_apply_stops_the_apply_and_loses_nothing() {
    let mut server = pg::Postgres::start();
    let url = server.url("postgres");
    let dir = tempfile::tempdir().expect("temp dir");
    let dir = dir.path();
    write_module(dir, slow_module());
    let apply = spawn(dir, &["apply", "--auto-approve", "--state-url", &url, "--var", "wait_for=2s"]);
    wait_for(&server, "postgres", "SELECT count(*) FROM infra.journal WHERE entry LIKE '%\"begin\"%\"wait\"%'");
    server.stop();
    let output = apply.wait_with_output().expect("apply");
    assert_exit(&output, 1);
    let message = text(&output);
    assert!(message.contains("E0715"), "{message}");
    assert!(!message.contains("panicked"), "{message}");
    // Nobody pressed Ctrl-C: what was not started says why.
    assert!(!message.contains("the run was interrupted"), "{message}");
    assert!(!dir.join("out/last.txt").exists(), "an operation ran after the state stopped being recorded");

    // Unreachable while it is down: a clear error, nothing changed.
    let down = infra_at(dir, &url, &["plan"]);
    assert_exit(&down, 1);
    assert!(text(&down).contains("E0711"), "{}", text(&down));

    server.resume();
    let listed = infra_at(dir, &url, &["state", "list"]);
    assert_eq!(text(&listed), "first\nwait  (pending: not confirmed)\n");
    let again = infra_at(dir, &url, &["apply", "--auto-approve", "--var", "wait_for=10ms"]);
    assert_exit(&again, 0);
    assert!(dir.join("out/last.txt").exists());
    let settled = infra_at(dir, &url, &["plan", "--detailed-exitcode", "--var", "wait_for=10ms"]);
    assert_exit(&settled, 0);
}

#[test]
fn workspaces_hold_isolated_states() {
    let url = pg::database("workspaces");
    let dir = tempfile::tempdir().expect("temp dir");
    let dir = dir.path();
    write_module(
        dir,
        "input name: string\nresource local.file f {\n  path    = \"out/${name}.txt\"\n  content = name\n}\n",
    );
    let missing = infra_at(dir, &url, &["plan", "--workspace", "staging", "--var", "name=staging"]);
    assert_exit(&missing, 1);
    assert!(text(&missing).contains("E0719") && text(&missing).contains("infra workspace new staging"));

    assert_exit(&infra_at(dir, &url, &["workspace", "new", "staging"]), 0);
    assert_exit(&infra_at(dir, &url, &["workspace", "new", "staging"]), 1);
    assert_exit(&infra_at(dir, &url, &["apply", "--auto-approve", "--var", "name=prod"]), 0);
    let staging = infra_at(dir, &url, &["apply", "--auto-approve", "--workspace", "staging", "--var", "name=staging"]);
    assert_exit(&staging, 0);
    assert!(text(&staging).contains("1 added"), "staging saw default's state: {}", text(&staging));
    assert!(dir.join("out/prod.txt").exists() && dir.join("out/staging.txt").exists());

    let listed = infra_at(dir, &url, &["workspace", "list", "--workspace", "staging"]);
    assert_eq!(text(&listed), "  default\n* staging\n");
    let show = |workspace: &str| {
        text(&infra_at(dir, &url, &["state", "show", "f", "--workspace", workspace]))
            .lines()
            .find(|line| line.starts_with("path"))
            .map(str::to_string)
    };
    assert_eq!(show("default").as_deref(), Some("path    = \"out/prod.txt\""));
    assert_eq!(show("staging").as_deref(), Some("path    = \"out/staging.txt\""));

    let refused = infra_at(dir, &url, &["workspace", "delete", "staging"]);
    assert_exit(&refused, 1);
    assert!(text(&refused).contains("holds 1 instance"), "{}", text(&refused));
    assert_exit(
        &infra_at(dir, &url, &["destroy", "--auto-approve", "--workspace", "staging", "--var", "name=staging"]),
        0,
    );
    assert_exit(&infra_at(dir, &url, &["workspace", "delete", "staging"]), 0);
    assert_eq!(text(&infra_at(dir, &url, &["workspace", "list"])), "* default\n");
    assert!(dir.join("out/prod.txt").exists(), "default's file was touched");
}

/// The state as pulled, without its serial.
fn pulled(output: &Output) -> serde_json::Value {
    assert_exit(output, 0);
    let mut json: serde_json::Value = serde_json::from_slice(&output.stdout).expect("state JSON");
    json.as_object_mut().expect("an object").remove("serial");
    json
}

#[test]
fn migrate_local_to_postgres_and_back_keeps_the_state() {
    let url = pg::database("migrate");
    let dir = tempfile::tempdir().expect("temp dir");
    let dir = dir.path();
    write_module(dir, files_module());
    assert_exit(&infra(dir, &["apply", "--auto-approve"]), 0);
    let local = pulled(&infra(dir, &["state", "pull"]));
    assert_eq!(local["instances"].as_array().map(Vec::len), Some(2));

    let moved = infra(dir, &["state", "migrate", "--to", &url]);
    assert_exit(&moved, 0);
    assert_eq!(pulled(&infra_at(dir, &url, &["state", "pull"])), local);
    assert_exit(&infra_at(dir, &url, &["plan", "--detailed-exitcode"]), 0);

    // Back to local files in another directory, from the database.
    let back = tempfile::tempdir().expect("temp dir");
    let back_dir = back.path().display().to_string();
    assert_exit(&infra_at(dir, &url, &["state", "migrate", "--to", &back_dir]), 0);
    assert_eq!(pulled(&infra(back.path(), &["state", "pull"])), local);

    // A different state is never overwritten.
    let other = tempfile::tempdir().expect("temp dir");
    write_module(other.path(), files_module());
    assert_exit(&infra(other.path(), &["apply", "--auto-approve"]), 0);
    let refused = infra(other.path(), &["state", "migrate", "--to", &url]);
    assert_exit(&refused, 1);
    assert!(text(&refused).contains("E0720"), "{}", text(&refused));
    assert_eq!(pulled(&infra_at(dir, &url, &["state", "pull"])), local);
}

#[test]
fn state_surgery_on_the_database() {
    let url = pg::database("surgery");
    let dir = tempfile::tempdir().expect("temp dir");
    let dir = dir.path();
    write_module(dir, files_module());
    assert_exit(&infra_at(dir, &url, &["apply", "--auto-approve"]), 0);
    let before = infra_at(dir, &url, &["state", "pull"]);
    assert_exit(&before, 0);

    assert_exit(&infra_at(dir, &url, &["state", "rm", "b"]), 0);
    assert_eq!(text(&infra_at(dir, &url, &["state", "list"])), "a\n");
    let unknown = infra_at(dir, &url, &["state", "rm", "nothing"]);
    assert_exit(&unknown, 1);
    assert!(text(&unknown).contains("E0802"), "{}", text(&unknown));

    // Pushing the pulled state back: refused as older, accepted with --force.
    let file = dir.join("pulled.json");
    std::fs::write(&file, &before.stdout).expect("write");
    let file = file.display().to_string();
    let refused = infra_at(dir, &url, &["state", "push", &file]);
    assert_exit(&refused, 1);
    assert!(text(&refused).contains("E0721"), "{}", text(&refused));
    assert_exit(&infra_at(dir, &url, &["state", "push", "--force", &file]), 0);
    assert_eq!(text(&infra_at(dir, &url, &["state", "list"])), "a\nb\n");
    assert_exit(&infra_at(dir, &url, &["plan", "--detailed-exitcode"]), 0);

    // `infra import` records into the same database.
    assert_exit(&infra_at(dir, &url, &["state", "rm", "a"]), 0);
    let imported = infra_at(dir, &url, &["import", "a", "out/a.txt"]);
    assert_exit(&imported, 0);
    assert!(!dir.join("infra.state.json").exists(), "import wrote a local state");
    assert_eq!(text(&infra_at(dir, &url, &["state", "list"])), "a\nb\n");
}

#[test]
fn connection_faults_are_coded_diagnostics() {
    let dir = tempfile::tempdir().expect("temp dir");
    let dir = dir.path();
    write_module(dir, files_module());
    let server = pg::shared();
    let check = |url: &str, code: &str| {
        let output = infra_at(dir, url, &["plan"]);
        assert_exit(&output, 1);
        assert!(text(&output).contains(code), "{url}: {}", text(&output));
        assert!(!text(&output).contains("panicked"), "{}", text(&output));
        text(&output)
    };
    let closed = std::net::TcpListener::bind("127.0.0.1:0").and_then(|l| l.local_addr()).expect("port").port();
    check(&format!("postgres://postgres@127.0.0.1:{closed}/postgres?connect_timeout=5"), "E0711");
    check(&server.url("no_such_database"), "E0713");
    check("postgres://postgres@127.0.0.1:notaport/x", "E0716");
    check(&format!("postgres://postgres@127.0.0.1:{}/postgres?sslrootcert=/nonexistent/ca.pem", server.port), "E0716");
    let no_tls = check(&format!("postgres://postgres@127.0.0.1:{}/postgres?sslmode=require", server.port), "E0723");
    assert!(no_tls.contains("offer TLS") && no_tls.contains("requires it"), "{no_tls}");

    let url = pg::database("newer_schema");
    assert_exit(&infra_at(dir, &url, &["plan"]), 0);
    server.sql("newer_schema", "INSERT INTO infra.schema_version (version) VALUES (99)");
    let newer = check(&url, "E0714");
    assert!(newer.contains("version 99"), "{newer}");

    // The password never appears in what is printed.
    let locked = pg::Postgres::start_with_password("right-password");
    let wrong = format!("postgres://postgres:hunter2-wrong@127.0.0.1:{}/postgres", locked.port);
    let refused = check(&wrong, "E0712");
    assert!(!refused.contains("hunter2-wrong"), "{refused}");
    let right = format!("postgres://postgres:right-password@127.0.0.1:{}/postgres", locked.port);
    assert_exit(&infra_at(dir, &right, &["plan"]), 0);
}

#[test]
fn a_state_block_may_use_only_literals_inputs_and_env() {
    let dir = tempfile::tempdir().expect("temp dir");
    let dir = dir.path();
    let module =
        format!("let base = \"postgres://x@127.0.0.1/db\"\nstate postgres {{\n  url = base\n}}\n{}", files_module());
    write_module(dir, &module);
    let output = infra(dir, &["plan"]);
    assert_exit(&output, 1);
    let message = text(&output);
    assert!(message.contains("E0717") && message.contains("url = base"), "{message}");
    assert!(!dir.join("out").exists());

    write_module(dir, &format!("state postgres {{\n  host = \"x\"\n}}\n{}", files_module()));
    let unknown = infra(dir, &["plan"]);
    assert_exit(&unknown, 1);
    assert!(text(&unknown).contains("E0718"), "{}", text(&unknown));
}

#[test]
fn tls_is_used_when_offered_and_the_certificate_is_verified() {
    // This server rejects every TCP connection without TLS, so a working command
    // proves the state travelled over TLS.
    let (server, ca) = pg::Postgres::start_with_tls();
    let dir = tempfile::tempdir().expect("temp dir");
    let dir = dir.path();
    write_module(dir, files_module());
    let base = format!("postgres://postgres@127.0.0.1:{}/postgres", server.port);

    let plain = infra_at(dir, &format!("{base}?sslmode=disable"), &["plan"]);
    assert_exit(&plain, 1);
    assert!(text(&plain).contains("no encryption"), "{}", text(&plain));

    // Encrypted to a server whose certificate nothing vouches for: refused.
    let untrusted = infra_at(dir, &base, &["plan"]);
    assert_exit(&untrusted, 1);
    assert!(text(&untrusted).contains("E0723") && text(&untrusted).contains("sslrootcert"), "{}", text(&untrusted));
    assert!(!text(&untrusted).contains("panicked"), "{}", text(&untrusted));

    let trusted = format!("{base}?sslmode=require&sslrootcert={}", ca.display());
    let applied = infra_at(dir, &trusted, &["apply", "--auto-approve"]);
    assert_exit(&applied, 0);
    assert!(text(&applied).contains("2 added"), "{}", text(&applied));
    assert_eq!(server.sql("postgres", "SELECT count(*) FROM infra.snapshots").trim(), "1");
    // libpq's strictest mode, and the default mode with the CA: both verify and connect.
    let full = format!("{base}?sslmode=verify-full&sslrootcert={}", ca.display());
    assert_exit(&infra_at(dir, &full, &["plan", "--detailed-exitcode"]), 0);
    let preferred = format!("{base}?sslrootcert={}", ca.display());
    assert_exit(&infra_at(dir, &preferred, &["plan", "--detailed-exitcode"]), 0);

    // The right CA, but a certificate for another name: `localhost` (still connecting to
    // 127.0.0.1) is not the `127.0.0.1` the certificate names.
    let renamed = format!(
        "postgres://postgres@localhost:{}/postgres?hostaddr=127.0.0.1&sslmode=require&sslrootcert={}",
        server.port,
        ca.display()
    );
    let mismatch = infra_at(dir, &renamed, &["plan"]);
    assert_exit(&mismatch, 1);
    assert!(text(&mismatch).contains("E0723"), "{}", text(&mismatch));
}

#[test]
fn a_state_block_chooses_schema_and_workspace_and_the_flag_overrides_it() {
    let url = pg::database("block_workspace");
    let dir = tempfile::tempdir().expect("temp dir");
    let dir = dir.path();
    let module = format!(
        "input state_schema: string = \"teamstate\"\nstate postgres {{\n  url       = env(\"BLOCK_URL\")\n  schema    = state_schema\n  workspace = \"staging\"\n}}\n{}",
        files_module()
    );
    write_module(dir, &module);
    let run = |args: &[&str]| command(dir, args).env("BLOCK_URL", &url).output().expect("run infra");
    let missing = run(&["plan"]);
    assert_exit(&missing, 1);
    assert!(text(&missing).contains("E0719"), "{}", text(&missing));
    assert_exit(&run(&["workspace", "new", "staging"]), 0);
    assert_exit(&run(&["apply", "--auto-approve"]), 0);
    let stored = pg::shared().sql("block_workspace", "SELECT workspace FROM teamstate.snapshots");
    assert_eq!(stored.trim(), "staging");
    assert_eq!(text(&run(&["state", "list"])), "a\nb\n");
    assert_eq!(text(&run(&["state", "list", "--workspace", "default"])), "");
    assert_eq!(text(&run(&["workspace", "list"])), "  default\n* staging\n");
}

/// Regression: adding a `state postgres` block to a module applied with local state
/// silently started a new, empty state, so the next apply created every object a second
/// time; removing the block did the same the other way. Both are refused (E0728) until
/// `infra state migrate` moves the state.
#[test]
fn a_backend_changed_without_moving_the_state_is_refused_until_it_is_migrated() {
    let url = pg::database("backend_change");
    let dir = tempfile::tempdir().expect("temp dir");
    let dir = dir.path();
    write_module(dir, files_module());
    assert_exit(&infra(dir, &["apply", "--auto-approve"]), 0);
    let with_block =
        format!("state postgres {{\n  url    = env(\"CHANGE_URL\")\n  schema = \"p6\"\n}}\n{}", files_module());
    write_module(dir, &with_block);
    let run = |args: &[&str]| command(dir, args).env("CHANGE_URL", &url).output().expect("run infra");
    for refused in [run(&["plan"]), run(&["apply", "--auto-approve"]), run(&["destroy", "--auto-approve"])] {
        assert_exit(&refused, 1);
        let message = text(&refused);
        assert!(message.contains("E0728") && message.contains("infra state migrate --from local"), "{message}");
    }
    assert_eq!(pg::shared().sql("backend_change", "SELECT count(*) FROM p6.snapshots").trim(), "0");

    let moved = run(&["state", "migrate", "--from", "local"]);
    assert_exit(&moved, 0);
    assert!(text(&moved).contains("Copied the state (2 instances)"), "{}", text(&moved));
    assert_exit(&run(&["plan", "--detailed-exitcode"]), 0);

    // The block removed once the local copy is gone: the marker names the state's place.
    std::fs::rename(dir.join("infra.state.json"), dir.join("infra.state.json.old")).expect("rename");
    std::fs::remove_file(dir.join("infra.state.json.backup")).ok();
    write_module(dir, files_module());
    let refused = run(&["plan"]);
    assert_exit(&refused, 1);
    let message = text(&refused);
    assert!(message.contains("E0728") && message.contains("infra state migrate --to local"), "{message}");
    write_module(dir, &with_block);
    assert_exit(&run(&["state", "migrate", "--to", "local"]), 0);
    write_module(dir, files_module());
    assert_exit(&run(&["plan", "--detailed-exitcode"]), 0);
}

/// Regressions: `--state-url` still evaluated the `state` block, so an unset
/// `env("...")` in its `url` failed the run (E0600) although the flag overrides it; and
/// the hint after migrating to `--to-schema` said to point the module at the URL, which
/// cannot select a schema.
#[test]
fn the_flag_overrides_an_unevaluable_state_block_and_a_schema_target_is_named_in_the_hint() {
    let url = pg::database("flag_override");
    let dir = tempfile::tempdir().expect("temp dir");
    let dir = dir.path();
    write_module(dir, files_module());
    assert_exit(&infra(dir, &["apply", "--auto-approve"]), 0);
    let moved = infra(dir, &["state", "migrate", "--to", &url, "--to-schema", "team_b"]);
    assert_exit(&moved, 0);
    let message = text(&moved);
    assert!(message.contains("cannot select a schema") && message.contains("schema = \"team_b\""), "{message}");

    let block = format!("state postgres {{\n  url = env(\"FLAG_OVERRIDE_UNSET\")\n}}\n{}", files_module());
    write_module(dir, &block);
    let plan = command(dir, &["plan", "--detailed-exitcode", "--state-url", &url])
        .env_remove("FLAG_OVERRIDE_UNSET")
        .output()
        .expect("run infra");
    assert!(!text(&plan).contains("E0600"), "{}", text(&plan));
    // The default schema of that database is empty; the local files hold the state.
    assert!(text(&plan).contains("E0728"), "{}", text(&plan));
}

/// Bug: every command ran `CREATE SCHEMA IF NOT EXISTS` and `CREATE TABLE IF NOT EXISTS`,
/// which need CREATE on the database even when everything exists, so a role given only
/// what the docs say (USAGE on the schema; SELECT, INSERT, UPDATE and DELETE on its
/// tables) could not even list the state.
#[test]
fn a_role_without_create_uses_a_schema_that_is_set_up() {
    let server = pg::shared();
    let owner = pg::database("restricted");
    let dir = tempfile::tempdir().expect("temp dir");
    let dir = dir.path();
    write_module(dir, files_module());
    assert_exit(&infra_at(dir, &owner, &["apply", "--auto-approve"]), 0);
    server.sql(
        "restricted",
        "CREATE ROLE keeper LOGIN; REVOKE CREATE ON DATABASE restricted FROM PUBLIC; \
         GRANT CONNECT ON DATABASE restricted TO keeper; GRANT USAGE ON SCHEMA infra TO keeper; \
         GRANT SELECT, INSERT, UPDATE, DELETE ON ALL TABLES IN SCHEMA infra TO keeper; \
         GRANT USAGE ON ALL SEQUENCES IN SCHEMA infra TO keeper",
    );
    let keeper = owner.replacen("postgres://postgres@", "postgres://keeper@", 1);
    let listed = infra_at(dir, &keeper, &["state", "list"]);
    assert_exit(&listed, 0);
    assert_eq!(text(&listed), "a\nb\n");
    assert_exit(&infra_at(dir, &keeper, &["plan", "--detailed-exitcode"]), 0);
    std::fs::remove_file(dir.join("out/a.txt")).expect("remove");
    assert_exit(&infra_at(dir, &keeper, &["apply", "--auto-approve"]), 0);
    assert!(dir.join("out/a.txt").exists());
}
