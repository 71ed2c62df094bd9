//! The `exec` provider running real processes: `exec.command` through create, update
//! and delete in a temporary module directory, and the data source `exec.json`.

use std::collections::BTreeMap;
use std::fs;
use std::os::unix::fs::PermissionsExt;
use std::path::Path;
use std::sync::Arc;

use infra_runtime::provider::{Attributes, Provider, ProviderContext, ReadResult};
use infra_runtime::Value;

fn provider(module_dir: &Path) -> Arc<dyn Provider> {
    let context = ProviderContext { module_dir: module_dir.to_path_buf() };
    infra_stdlib::providers::exec::factory().configure(&Attributes::new(), &context).expect("configure")
}

fn attributes(pairs: &[(&str, &str)]) -> Attributes {
    pairs.iter().map(|(k, v)| (k.to_string(), Value::string(*v))).collect()
}

fn string_map(pairs: &[(&str, &str)]) -> Value {
    Value::map(pairs.iter().map(|(k, v)| (k.to_string(), Value::string(*v))).collect())
}

fn strings(items: &[&str]) -> Value {
    Value::list(items.iter().map(|s| Value::string(*s)).collect())
}

/// Plans and creates a command from `config`, as the engine would.
async fn create(exec: &dyn Provider, config: &Attributes) -> Attributes {
    assert!(exec.validate("command", config).is_empty());
    let planned = exec.plan("command", None, config).unwrap();
    assert!(!planned["stdout"].is_known() && !planned["id"].is_known());
    exec.create("command", &planned).await.unwrap()
}

#[tokio::test]
async fn create_captures_stdout_and_exit_code() {
    let dir = tempfile::tempdir().unwrap();
    let exec = provider(dir.path());
    let created = create(&*exec, &attributes(&[("create", "echo hello; echo world")])).await;
    assert_eq!(created["stdout"], Value::string("hello\nworld\n"));
    assert_eq!(created["exit_code"], Value::number(0.0));
    let id = created["id"].as_str().unwrap();
    assert_eq!(id.len(), 16);
    assert!(id.chars().all(|c| c.is_ascii_hexdigit()));
    assert_eq!(exec.read("command", &created).await.unwrap(), ReadResult::Found(created.clone()));
}

#[tokio::test]
async fn two_resources_get_different_ids() {
    let dir = tempfile::tempdir().unwrap();
    let exec = provider(dir.path());
    let config = attributes(&[("create", "true")]);
    let first = create(&*exec, &config).await;
    let second = create(&*exec, &config).await;
    assert_ne!(first["id"], second["id"]);
}

#[tokio::test]
async fn environment_is_added_and_working_dir_is_relative_to_the_module() {
    let dir = tempfile::tempdir().unwrap();
    fs::create_dir(dir.path().join("work")).unwrap();
    let exec = provider(dir.path());
    let mut config = attributes(&[("create", "printf '%s' \"$GREETING\" > out.txt; pwd"), ("working_dir", "work")]);
    config.insert("environment", string_map(&[("GREETING", "hi there")]));
    let created = create(&*exec, &config).await;
    assert_eq!(fs::read_to_string(dir.path().join("work/out.txt")).unwrap(), "hi there");
    let pwd = created["stdout"].as_str().unwrap().trim().to_string();
    assert_eq!(fs::canonicalize(pwd).unwrap(), fs::canonicalize(dir.path().join("work")).unwrap());
}

#[tokio::test]
async fn the_inherited_environment_stays() {
    let dir = tempfile::tempdir().unwrap();
    let exec = provider(dir.path());
    let created = create(&*exec, &attributes(&[("create", "test -n \"$PATH\" && echo ok")])).await;
    assert_eq!(created["stdout"], Value::string("ok\n"));
}

#[tokio::test]
async fn runs_in_the_module_directory_by_default() {
    let dir = tempfile::tempdir().unwrap();
    let exec = provider(dir.path());
    create(&*exec, &attributes(&[("create", "touch here")])).await;
    assert!(dir.path().join("here").exists());
}

#[tokio::test]
async fn a_missing_working_dir_is_an_error_on_working_dir() {
    let dir = tempfile::tempdir().unwrap();
    let exec = provider(dir.path());
    let planned = exec.plan("command", None, &attributes(&[("create", "true"), ("working_dir", "absent")])).unwrap();
    let error = exec.create("command", &planned).await.unwrap_err();
    assert_eq!(error.attribute.as_deref(), Some("working_dir"));
}

#[tokio::test]
async fn a_failing_command_reports_its_exit_code_and_the_end_of_stderr() {
    let dir = tempfile::tempdir().unwrap();
    let exec = provider(dir.path());
    let script = "for i in $(seq 1 50); do echo \"line $i\" >&2; done; echo out; exit 3";
    let planned = exec.plan("command", None, &attributes(&[("create", script)])).unwrap();
    let error = exec.create("command", &planned).await.unwrap_err();
    assert_eq!(error.attribute.as_deref(), Some("create"));
    assert!(error.message.contains("exit code 3"), "{}", error.message);
    assert!(error.message.contains("line 50"), "{}", error.message);
    assert!(error.message.contains("line 31"), "{}", error.message);
    assert!(!error.message.contains("line 30\n"), "at most 20 lines: {}", error.message);
    assert!(!error.message.contains("seq"), "the command itself is not quoted: {}", error.message);
    assert!(error.help.unwrap().contains("not created"));
}

#[tokio::test]
async fn a_huge_stderr_is_cut_to_a_few_kilobytes() {
    let dir = tempfile::tempdir().unwrap();
    let exec = provider(dir.path());
    let script = "head -c 100000 /dev/zero | tr '\\0' x >&2; exit 1";
    let planned = exec.plan("command", None, &attributes(&[("create", script)])).unwrap();
    let error = exec.create("command", &planned).await.unwrap_err();
    assert!(error.message.len() < 5000, "{} bytes", error.message.len());
    assert!(error.message.contains("exit code 1"));
}

#[tokio::test]
async fn update_runs_the_update_command_only_when_something_changed() {
    let dir = tempfile::tempdir().unwrap();
    let exec = provider(dir.path());
    let mut config = attributes(&[("create", "echo created"), ("update", "echo \"updated $V\"")]);
    config.insert("environment", string_map(&[("V", "1")]));
    let prior = create(&*exec, &config).await;
    assert_eq!(exec.plan("command", Some(&prior), &config).unwrap(), prior, "nothing changed");

    config.insert("environment", string_map(&[("V", "2")]));
    let planned = exec.plan("command", Some(&prior), &config).unwrap();
    assert_eq!(planned["id"], prior["id"]);
    assert!(!planned["stdout"].is_known());
    let updated = exec.update("command", &prior, &planned).await.unwrap();
    assert_eq!(updated["stdout"], Value::string("updated 2\n"));
    assert_eq!(updated["id"], prior["id"]);
}

#[tokio::test]
async fn without_an_update_command_an_update_only_records_attributes() {
    let dir = tempfile::tempdir().unwrap();
    let exec = provider(dir.path());
    let prior = create(&*exec, &attributes(&[("create", "echo created")])).await;
    let config = attributes(&[("create", "echo created"), ("destroy", "touch destroyed")]);
    let planned = exec.plan("command", Some(&prior), &config).unwrap();
    assert_eq!(planned["stdout"], Value::string("created\n"));
    let updated = exec.update("command", &prior, &planned).await.unwrap();
    assert_eq!(updated, planned);
    assert!(!dir.path().join("destroyed").exists());
}

#[tokio::test]
async fn delete_runs_destroy_and_without_one_does_nothing() {
    let dir = tempfile::tempdir().unwrap();
    let exec = provider(dir.path());
    let mut config = attributes(&[("create", "touch made"), ("destroy", "rm made; echo \"$WHO\" > destroyed")]);
    config.insert("environment", string_map(&[("WHO", "infra")]));
    let created = create(&*exec, &config).await;
    assert!(dir.path().join("made").exists());
    exec.delete("command", &created).await.unwrap();
    assert!(!dir.path().join("made").exists());
    assert_eq!(fs::read_to_string(dir.path().join("destroyed")).unwrap(), "infra\n");

    let plain = create(&*exec, &attributes(&[("create", "true")])).await;
    exec.delete("command", &plain).await.unwrap();
}

#[tokio::test]
async fn a_failing_destroy_is_an_error() {
    let dir = tempfile::tempdir().unwrap();
    let exec = provider(dir.path());
    let created = create(&*exec, &attributes(&[("create", "true"), ("destroy", "echo busy >&2; exit 7")])).await;
    let error = exec.delete("command", &created).await.unwrap_err();
    assert_eq!(error.attribute.as_deref(), Some("destroy"));
    assert!(error.message.contains("exit code 7") && error.message.contains("busy"), "{}", error.message);
}

#[tokio::test]
async fn dropping_a_running_command_kills_it() {
    let dir = tempfile::tempdir().unwrap();
    let exec = provider(dir.path());
    let planned = exec.plan("command", None, &attributes(&[("create", "sleep 0.5 && touch late")])).unwrap();
    let outcome = tokio::time::timeout(std::time::Duration::from_millis(100), exec.create("command", &planned)).await;
    assert!(outcome.is_err(), "the command should still be running");
    tokio::time::sleep(std::time::Duration::from_millis(800)).await;
    assert!(!dir.path().join("late").exists(), "the command ran on after it was dropped");
}

/// Whether process `pid` has ended: it is gone, or a zombie waiting for a parent that
/// does not reap (PID 1 in some containers).
fn ended(pid: &str) -> bool {
    match fs::read_to_string(format!("/proc/{pid}/stat")) {
        Err(_) => true,
        Ok(stat) => stat.rsplit(')').next().is_some_and(|rest| rest.trim_start().starts_with('Z')),
    }
}

/// Waits up to two seconds for `pid` to end.
async fn wait_until_ended(pid: &str) -> bool {
    for _ in 0..40 {
        if ended(pid) {
            return true;
        }
        tokio::time::sleep(std::time::Duration::from_millis(50)).await;
    }
    false
}

/// A command that outlives `timeout` fails, naming the timeout, and takes every process
/// it started with it: the background `sleep` (a grandchild of Infra, holding standard
/// output open) is killed too, so the apply does not hang on it.
#[tokio::test]
async fn a_timeout_kills_the_commands_whole_process_group() {
    let dir = tempfile::tempdir().unwrap();
    let exec = provider(dir.path());
    let config = attributes(&[("create", "sleep 100 & echo $! > background.pid; sleep 100"), ("timeout", "500ms")]);
    let planned = exec.plan("command", None, &config).unwrap();
    let started = std::time::Instant::now();
    let error = exec.create("command", &planned).await.unwrap_err();
    assert!(started.elapsed() < std::time::Duration::from_secs(10), "took {:?}", started.elapsed());
    assert_eq!(error.message, "the `create` command timed out after 500ms; its process group was killed");
    assert_eq!(error.attribute.as_deref(), Some("timeout"));
    let help = error.help.unwrap_or_default();
    assert!(help.contains("the resource was not created") && help.contains("raise `timeout`"), "{help}");
    let pid = fs::read_to_string(dir.path().join("background.pid")).unwrap();
    assert!(wait_until_ended(pid.trim()).await, "the background process {} survived", pid.trim());
}

/// The timeout bounds `destroy` too; the resource then stays (the error says so).
#[tokio::test]
async fn a_timeout_applies_to_destroy() {
    let dir = tempfile::tempdir().unwrap();
    let exec = provider(dir.path());
    let config = attributes(&[("create", "true"), ("destroy", "sleep 100"), ("timeout", "200ms")]);
    let created = create(&*exec, &config).await;
    let error = exec.delete("command", &created).await.unwrap_err();
    assert_eq!(error.message, "the `destroy` command timed out after 200ms; its process group was killed");
    assert!(error.help.unwrap_or_default().contains("stays in the state"));
}

/// Without a timeout Infra waits for the command however long it runs; with one it has
/// not reached, the command finishes as usual.
#[tokio::test]
async fn without_a_timeout_or_within_it_a_command_runs_to_its_end() {
    let dir = tempfile::tempdir().unwrap();
    let exec = provider(dir.path());
    let unbounded = create(&*exec, &attributes(&[("create", "sleep 0.6; echo done")])).await;
    assert_eq!(unbounded["stdout"], Value::string("done\n"));
    let bounded = create(&*exec, &attributes(&[("create", "sleep 0.2; echo ok"), ("timeout", "30s")])).await;
    assert_eq!(bounded["stdout"], Value::string("ok\n"));
    assert_eq!(bounded["timeout"], Value::string("30s"));
}

#[test]
fn empty_commands_and_bad_variable_names_are_refused() {
    let dir = tempfile::tempdir().unwrap();
    let exec = provider(dir.path());
    let errors = exec.validate("command", &attributes(&[("create", "  ")]));
    assert_eq!(errors.len(), 1);
    assert_eq!(errors[0].attribute.as_deref(), Some("create"));

    let mut config = attributes(&[("create", "true")]);
    config.insert("environment", string_map(&[("A=B", "x")]));
    let errors = exec.validate("command", &config);
    assert_eq!(errors.len(), 1);
    assert_eq!(errors[0].attribute.as_deref(), Some("environment"));
}

fn json_config(program: &[&str], query: &[(&str, &str)]) -> Attributes {
    let mut config = Attributes::new();
    config.insert("program", strings(program));
    config.insert("query", string_map(query));
    config
}

#[tokio::test]
async fn exec_json_sends_the_query_and_returns_the_object() {
    let dir = tempfile::tempdir().unwrap();
    let exec = provider(dir.path());
    let program = r#"cat > query.json; printf '{"name": "%s", "count": "2"}' "$1""#;
    let config = json_config(&["sh", "-c", program, "sh", "web"], &[("name", "web"), ("zone", "a")]);
    assert!(exec.validate("json", &config).is_empty());
    let data = exec.read_data("json", &config).await.unwrap();
    let sent: serde_json::Value = serde_json::from_slice(&fs::read(dir.path().join("query.json")).unwrap()).unwrap();
    assert_eq!(sent, serde_json::json!({ "name": "web", "zone": "a" }));
    let expected: BTreeMap<String, Value> =
        [("name".to_string(), Value::string("web")), ("count".to_string(), Value::string("2"))].into_iter().collect();
    assert_eq!(data["result"], Value::map(expected));
    assert_eq!(data["id"].as_str().unwrap().len(), 64);
    let again = exec.read_data("json", &config).await.unwrap();
    assert_eq!(again["id"], data["id"], "the id is a hash of the program and the query");
}

#[tokio::test]
async fn exec_json_runs_a_relative_program_in_working_dir() {
    let dir = tempfile::tempdir().unwrap();
    fs::create_dir(dir.path().join("scripts")).unwrap();
    let script = dir.path().join("scripts/answer.sh");
    fs::write(&script, "#!/bin/sh\ncat > /dev/null\nprintf '{\"dir\": \"%s\"}' \"$(pwd)\"\n").unwrap();
    fs::set_permissions(&script, fs::Permissions::from_mode(0o755)).unwrap();
    let exec = provider(dir.path());
    let mut config = json_config(&["./answer.sh"], &[]);
    config.insert("working_dir", Value::string("scripts"));
    let data = exec.read_data("json", &config).await.unwrap();
    let dir_seen = data["result"].as_map().unwrap()["dir"].as_str().unwrap().to_string();
    assert_eq!(fs::canonicalize(dir_seen).unwrap(), fs::canonicalize(dir.path().join("scripts")).unwrap());
}

#[tokio::test]
async fn exec_json_refuses_output_that_is_not_a_json_object_of_strings() {
    let dir = tempfile::tempdir().unwrap();
    let exec = provider(dir.path());
    for (output, expected) in [
        ("not json", "did not write JSON"),
        ("[1, 2]", "an array, not a JSON object"),
        ("{\"n\": 3}", "a number for `n`"),
        ("", "did not write JSON"),
    ] {
        let config = json_config(&["printf", "%s", output], &[]);
        let error = exec.read_data("json", &config).await.unwrap_err();
        assert!(error.message.contains(expected), "{output:?}: {}", error.message);
        assert_eq!(error.attribute.as_deref(), Some("program"));
        assert!(error.help.is_some());
    }
}

#[tokio::test]
async fn exec_json_reports_a_failing_or_missing_program() {
    let dir = tempfile::tempdir().unwrap();
    let exec = provider(dir.path());
    let failing = json_config(&["sh", "-c", "cat > /dev/null; echo 'no such host' >&2; exit 2"], &[("q", "x")]);
    let error = exec.read_data("json", &failing).await.unwrap_err();
    assert!(error.message.contains("exit code 2") && error.message.contains("no such host"), "{}", error.message);

    let missing = json_config(&["infra-test-no-such-program"], &[]);
    let error = exec.read_data("json", &missing).await.unwrap_err();
    assert!(error.message.contains("cannot run `infra-test-no-such-program`"), "{}", error.message);
    assert!(error.help.is_some());
}

#[test]
fn an_empty_program_is_refused() {
    let dir = tempfile::tempdir().unwrap();
    let exec = provider(dir.path());
    let errors = exec.validate("json", &json_config(&[], &[]));
    assert_eq!(errors.len(), 1);
    assert_eq!(errors[0].attribute.as_deref(), Some("program"));
}
