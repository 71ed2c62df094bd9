//! The S3 state backend end to end: the `infra` binary keeping its state in a bucket of
//! moto (the AWS emulator, started on 127.0.0.1 by each test, see `support/moto.rs`),
//! with what is in the bucket checked through the real AWS CLI.

use std::path::Path;
use std::process::{Child, Output, Stdio};
use std::time::{Duration, Instant};

mod common;
#[path = "support/moto.rs"]
mod moto;
#[path = "support/postgres.rs"]
mod pg;

use common::{command, text, write_module};
use moto::Moto;

#[track_caller]
fn assert_exit(output: &Output, code: i32) {
    assert_eq!(output.status.code(), Some(code), "{}", text(output));
}

impl Moto {
    /// `infra ARGS` in `dir`, reaching this moto through the standard AWS environment.
    fn infra(&self, dir: &Path, args: &[&str]) -> Output {
        self.command(dir, args).output().expect("infra runs")
    }

    fn command(&self, dir: &Path, args: &[&str]) -> std::process::Command {
        let mut command = command(dir, args);
        command
            .envs(self.environment())
            .env("AWS_CONFIG_FILE", "/dev/null")
            .env("AWS_SHARED_CREDENTIALS_FILE", "/dev/null")
            .env_remove("AWS_PROFILE")
            .env_remove("INFRA_STATE_URL");
        command
    }

    /// Starts `infra ARGS` in the background.
    fn spawn(&self, dir: &Path, args: &[&str]) -> Child {
        self.command(dir, args).stdout(Stdio::piped()).stderr(Stdio::piped()).spawn().expect("start infra")
    }

    fn bucket(&self, name: &str) {
        self.aws(&["s3api", "create-bucket", "--bucket", name]);
    }

    /// Every key in `bucket`, sorted.
    fn keys(&self, bucket: &str) -> Vec<String> {
        let listed = self.aws(&["s3api", "list-objects-v2", "--bucket", bucket]);
        let mut keys: Vec<String> = listed["Contents"]
            .as_array()
            .map(|objects| objects.iter().filter_map(|o| o["Key"].as_str().map(str::to_string)).collect())
            .unwrap_or_default();
        keys.sort();
        keys
    }

    /// The object at `key`, as text.
    fn object(&self, bucket: &str, key: &str) -> String {
        let file = tempfile::NamedTempFile::new().expect("temp file");
        let path = file.path().display().to_string();
        self.aws(&["s3api", "get-object", "--bucket", bucket, "--key", key, &path]);
        std::fs::read_to_string(file.path()).expect("read the object")
    }
}

/// Waits until `done` says so, for at most 30 seconds.
fn wait_until(what: &str, mut done: impl FnMut() -> bool) {
    let start = Instant::now();
    while !done() {
        assert!(start.elapsed() < Duration::from_secs(30), "timed out waiting for {what}");
        std::thread::sleep(Duration::from_millis(100));
    }
}

/// Two resources with nothing outside Infra, so another checkout sees no drift.
fn null_module(state_block: &str) -> String {
    format!(
        "{state_block}\nresource null.resource a {{\n  input = \"a\"\n}}\nresource null.resource b {{\n  input = \"b \
         after ${{a.id}}\"\n}}\noutput b_input = b.input\n"
    )
}

/// A resource, then a wait of `wait_for` (an input), then one that depends on the wait.
const SLOW_MODULE: &str = r#"
input wait_for: string = "3s"
resource null.resource first {
  input = "first"
}
resource time.sleep wait {
  create_duration = wait_for
  triggers        = { after = first.id }
}
resource null.resource last {
  input = "last after ${wait.id}"
}
"#;

const STATE_BLOCK: &str = "state s3 {\n  bucket   = \"team-state\"\n  key      = \"prod/infra.state.json\"\n  \
                           endpoint = env(\"MOTO_ENDPOINT\")\n  region   = \"eu-west-1\"\n}\n";

#[test]
fn two_checkouts_share_one_state_in_the_bucket() {
    let moto = Moto::start();
    moto.bucket("team-state");
    let (first, second) = (tempfile::tempdir().expect("temp dir"), tempfile::tempdir().expect("temp dir"));
    for dir in [first.path(), second.path()] {
        write_module(dir, &null_module(STATE_BLOCK));
    }
    let run = |dir: &Path, args: &[&str]| {
        moto.command(dir, args).env("MOTO_ENDPOINT", &moto.endpoint).output().expect("infra runs")
    };
    let applied = run(first.path(), &["apply", "--auto-approve"]);
    assert_exit(&applied, 0);
    assert!(text(&applied).contains("2 added"), "{}", text(&applied));
    assert!(!first.path().join("infra.state.json").exists(), "the state went to a local file");
    // Compacted and unlocked: the snapshot alone is left.
    assert_eq!(moto.keys("team-state"), ["prod/infra.state.json"]);
    let snapshot: serde_json::Value =
        serde_json::from_str(&moto.object("team-state", "prod/infra.state.json")).expect("a state document");
    assert_eq!(snapshot["instances"].as_array().map(Vec::len), Some(2));

    // The other checkout sees the same state: nothing to do, and the same outputs.
    let plan = run(second.path(), &["plan", "--detailed-exitcode"]);
    assert_exit(&plan, 0);
    assert!(text(&plan).contains("No changes."), "{}", text(&plan));
    let output = run(second.path(), &["output", "b_input"]);
    assert_exit(&output, 0);
    assert_eq!(text(&output), text(&run(first.path(), &["output", "b_input"])));
    assert!(text(&output).starts_with("\"b after "), "{}", text(&output));
    assert_eq!(text(&run(second.path(), &["state", "list"])), "a\nb\n");

    // Destroyed from the second checkout, the first sees it gone.
    assert_exit(&run(second.path(), &["destroy", "--auto-approve"]), 0);
    assert_eq!(text(&run(first.path(), &["state", "list"])), "");
    assert_exit(&run(first.path(), &["plan", "--detailed-exitcode"]), 2);
}

#[test]
fn a_second_apply_is_refused_naming_the_holder_or_waits_for_it() {
    let moto = Moto::start();
    moto.bucket("contended");
    let dir = tempfile::tempdir().expect("temp dir");
    let dir = dir.path();
    write_module(dir, SLOW_MODULE);
    let url = "s3://contended/infra.state.json";
    // Long enough that the first apply still holds the lock however slow the machine.
    let first = moto.spawn(dir, &["apply", "--auto-approve", "--state-url", url, "--var", "wait_for=20s"]);
    wait_until("the lock object", || moto.keys("contended").contains(&"infra.state.json.lock".to_string()));
    let lock = moto.object("contended", "infra.state.json.lock");
    assert!(lock.contains(&format!("\"pid\": {}", first.id())), "{lock}");

    let second = moto.infra(dir, &["apply", "--auto-approve", "--state-url", url]);
    assert_exit(&second, 1);
    let message = text(&second);
    assert!(message.contains("E0702"), "{message}");
    assert!(message.contains("running `infra apply`") && message.contains(&format!("pid {}", first.id())), "{message}");
    assert!(message.contains("lock ID `") && message.contains("infra force-unlock"), "{message}");
    // Regression: the hint's command was wrapped in the middle of the lock ID's UUID.
    let id = lock_id(&message);
    assert!(!id.contains('-'), "a hyphen is where the renderer may break the ID: {id}");
    assert!(message.contains(&format!("`infra force-unlock {id}`")), "the command on one line: {message}");

    let waiting = moto.infra(
        dir,
        &["plan", "--lock-timeout", "120", "--detailed-exitcode", "--state-url", url, "--var", "wait_for=20s"],
    );
    let first = first.wait_with_output().expect("first apply");
    assert_exit(&first, 0);
    assert_exit(&waiting, 0);
    assert!(text(&waiting).contains("No changes."), "{}", text(&waiting));
    assert_eq!(moto.keys("contended"), ["infra.state.json"], "lock released, journal compacted");
}

/// The lock ID a refusal names.
fn lock_id(message: &str) -> String {
    let start = message.find("lock ID `").expect("a lock ID") + "lock ID `".len();
    message[start..].split('`').next().unwrap_or_default().to_string()
}

#[test]
fn a_killed_apply_keeps_its_journal_and_its_lock_is_removed_by_force_unlock() {
    let moto = Moto::start();
    moto.bucket("killed");
    let dir = tempfile::tempdir().expect("temp dir");
    let dir = dir.path();
    write_module(dir, SLOW_MODULE);
    let url = "s3://killed/state/infra.state.json";
    let at = |args: &[&str]| {
        let mut all = args.to_vec();
        all.extend(["--state-url", url]);
        moto.infra(dir, &all)
    };
    let mut apply = moto.spawn(dir, &["apply", "--auto-approve", "--state-url", url, "--var", "wait_for=60s"]);
    wait_until("the wait to begin", || text(&at(&["state", "list"])).contains("wait  (pending"));
    apply.kill().expect("kill -9");
    let _ = apply.wait();
    let keys = moto.keys("killed");
    assert!(keys.iter().any(|k| k.starts_with("state/infra.state.json.journal/")), "{keys:?}");

    // Everything the provider confirmed is there; the wait is pending.
    assert_eq!(text(&at(&["state", "list"])), "first\nwait  (pending: not confirmed)\n");
    // The lock outlived its holder: refused, naming it and the ID to remove it with.
    let refused = at(&["plan"]);
    assert_exit(&refused, 1);
    assert!(text(&refused).contains(&format!("pid {}", apply.id())), "{}", text(&refused));
    let id = lock_id(&text(&refused));

    let wrong = at(&["force-unlock", "not-the-id"]);
    assert_exit(&wrong, 1);
    assert!(text(&wrong).contains("E0744") && text(&wrong).contains(&id), "{}", text(&wrong));
    let unlocked = at(&["force-unlock", &id]);
    assert_exit(&unlocked, 0);
    assert!(text(&unlocked).contains("running `infra apply"), "{}", text(&unlocked));
    assert!(!moto.keys("killed").contains(&"state/infra.state.json.lock".to_string()));

    let plan = at(&["plan"]);
    assert_exit(&plan, 0);
    assert!(text(&plan).contains("began but was never confirmed"), "{}", text(&plan));
    let again = at(&["apply", "--auto-approve", "--var", "wait_for=10ms"]);
    assert_exit(&again, 0);
    let settled = at(&["plan", "--detailed-exitcode", "--var", "wait_for=10ms"]);
    assert_exit(&settled, 0);
    assert_eq!(moto.keys("killed"), ["state/infra.state.json"], "compacted and unlocked");
}

#[test]
fn workspaces_hold_isolated_states_under_the_prefix() {
    let moto = Moto::start();
    moto.bucket("spaces");
    let dir = tempfile::tempdir().expect("temp dir");
    let dir = dir.path();
    let block = "state s3 {\n  bucket               = \"spaces\"\n  key                  = \"app.json\"\n  \
                 workspace_key_prefix = \"ws\"\n}\n";
    write_module(
        dir,
        &format!("{block}input name: string = \"prod\"\nresource null.resource r {{\n  input = name\n}}\n"),
    );
    let missing = moto.infra(dir, &["plan", "--workspace", "staging", "--var", "name=staging"]);
    assert_exit(&missing, 1);
    assert!(text(&missing).contains("E0719") && text(&missing).contains("infra workspace new staging"));

    assert_exit(&moto.infra(dir, &["workspace", "new", "staging"]), 0);
    assert_exit(&moto.infra(dir, &["workspace", "new", "staging"]), 1);
    assert_exit(&moto.infra(dir, &["apply", "--auto-approve", "--var", "name=prod"]), 0);
    let staging = moto.infra(dir, &["apply", "--auto-approve", "--workspace", "staging", "--var", "name=staging"]);
    assert_exit(&staging, 0);
    assert!(text(&staging).contains("1 added"), "staging saw default's state: {}", text(&staging));
    assert_eq!(moto.keys("spaces"), ["app.json", "ws/staging/app.json"]);
    assert!(moto.object("spaces", "ws/staging/app.json").contains("\"staging\""));
    assert!(!moto.object("spaces", "app.json").contains("\"staging\""));

    let listed = moto.infra(dir, &["workspace", "list", "--workspace", "staging"]);
    assert_eq!(text(&listed), "  default\n* staging\n");
    let refused = moto.infra(dir, &["workspace", "delete", "staging"]);
    assert_exit(&refused, 1);
    assert!(text(&refused).contains("holds 1 instance"), "{}", text(&refused));
    let forced = moto.infra(dir, &["workspace", "delete", "staging", "--force"]);
    assert_exit(&forced, 0);
    // What `--force` let go is said: the object is still there, unmanaged.
    assert!(text(&forced).contains("it held 1 instance: their objects still exist"), "{}", text(&forced));
    assert_eq!(moto.keys("spaces"), ["app.json"]);
    assert_eq!(text(&moto.infra(dir, &["workspace", "list"])), "* default\n");
}

/// The state as pulled, without its serial.
fn pulled(output: &Output) -> serde_json::Value {
    assert_exit(output, 0);
    let mut json: serde_json::Value = serde_json::from_slice(&output.stdout).expect("state JSON");
    json.as_object_mut().expect("an object").remove("serial");
    json
}

#[test]
fn migrate_round_trip_local_postgres_s3_local_keeps_the_state() {
    let moto = Moto::start();
    moto.bucket("moved");
    let postgres = pg::database("s3_migrate");
    let s3 = "s3://moved/infra.state.json";
    let dir = tempfile::tempdir().expect("temp dir");
    let dir = dir.path();
    write_module(dir, &null_module(""));
    assert_exit(&moto.infra(dir, &["apply", "--auto-approve"]), 0);
    let local = pulled(&moto.infra(dir, &["state", "pull"]));
    assert_eq!(local["instances"].as_array().map(Vec::len), Some(2));

    assert_exit(&moto.infra(dir, &["state", "migrate", "--to", &postgres]), 0);
    assert_eq!(pulled(&moto.infra(dir, &["state", "pull", "--state-url", &postgres])), local);
    assert_exit(&moto.infra(dir, &["state", "migrate", "--state-url", &postgres, "--to", s3]), 0);
    assert_eq!(pulled(&moto.infra(dir, &["state", "pull", "--state-url", s3])), local);
    assert_exit(&moto.infra(dir, &["plan", "--detailed-exitcode", "--state-url", s3]), 0);

    let back = tempfile::tempdir().expect("temp dir");
    let back_dir = back.path().display().to_string();
    assert_exit(&moto.infra(dir, &["state", "migrate", "--state-url", s3, "--to", &back_dir]), 0);
    assert_eq!(pulled(&moto.infra(back.path(), &["state", "pull"])), local);

    // Regression: a workspace other than `default` was refused (E0719) with a hint
    // that created it at the source; it is created at the target.
    assert_exit(&moto.infra(dir, &["workspace", "new", "p2"]), 0);
    assert_exit(&moto.infra(dir, &["apply", "--auto-approve", "--workspace", "p2"]), 0);
    assert_exit(&moto.infra(dir, &["state", "migrate", "--workspace", "p2", "--to", s3]), 0);
    let listed = moto.infra(dir, &["state", "list", "--workspace", "p2", "--state-url", s3]);
    assert_eq!(text(&listed), "a\nb\n");

    // A different state is never overwritten.
    let other = tempfile::tempdir().expect("temp dir");
    write_module(other.path(), &null_module(""));
    assert_exit(&moto.infra(other.path(), &["apply", "--auto-approve"]), 0);
    let refused = moto.infra(other.path(), &["state", "migrate", "--to", s3]);
    assert_exit(&refused, 1);
    assert!(text(&refused).contains("E0720"), "{}", text(&refused));
    assert_eq!(pulled(&moto.infra(dir, &["state", "pull", "--state-url", s3])), local);
}

#[test]
fn bucket_faults_are_coded_diagnostics() {
    let moto = Moto::start();
    let dir = tempfile::tempdir().expect("temp dir");
    let dir = dir.path();
    write_module(dir, &null_module(""));
    let missing = moto.infra(dir, &["plan", "--state-url", "s3://no-such-bucket/infra.state.json"]);
    assert_exit(&missing, 1);
    assert!(text(&missing).contains("E0742") && text(&missing).contains("aws s3 mb"), "{}", text(&missing));

    let invalid = moto.infra(dir, &["plan", "--state-url", "s3://Bad_Bucket/key"]);
    assert_exit(&invalid, 1);
    assert!(text(&invalid).contains("not a valid S3 bucket name"), "{}", text(&invalid));

    let no_region = command(dir, &["plan", "--state-url", "s3://some-bucket/key"])
        .env("AWS_ACCESS_KEY_ID", "testing")
        .env("AWS_SECRET_ACCESS_KEY", "testing")
        .env("AWS_CONFIG_FILE", "/dev/null")
        .env("AWS_SHARED_CREDENTIALS_FILE", "/dev/null")
        .env("HOME", dir)
        .env_remove("AWS_REGION")
        .env_remove("AWS_DEFAULT_REGION")
        .output()
        .expect("infra runs");
    assert_exit(&no_region, 1);
    assert!(text(&no_region).contains("E0743") && text(&no_region).contains("no AWS region"), "{}", text(&no_region));

    let unreachable = command(dir, &["plan", "--state-url", "s3://some-bucket/key"])
        .envs(moto.environment())
        .env("AWS_ENDPOINT_URL", "http://127.0.0.1:1")
        .output()
        .expect("infra runs");
    assert_exit(&unreachable, 1);
    assert!(text(&unreachable).contains("E0740"), "{}", text(&unreachable));

    // A lock that is not the backend's own cannot be left behind, so there is none to remove.
    let local = moto.infra(dir, &["force-unlock", "some-id"]);
    assert_exit(&local, 1);
    assert!(text(&local).contains("E0801"), "{}", text(&local));
}
