//! `infra console` against the real binary: where there is no configuration, and what a
//! module call's value is after an apply.

use std::path::Path;
use std::process::{Command, Output, Stdio};

mod common;

use common::{outcome, text};

/// Runs `infra ARGS` in `dir` with `input` piped to stdin and `env` set.
fn infra(dir: &Path, args: &[&str], env: &[(&str, &str)], input: &str) -> Output {
    use std::io::Write;
    let mut child = Command::new(env!("CARGO_BIN_EXE_infra"))
        .args(args)
        .current_dir(dir)
        .env("NO_COLOR", "1")
        .env_remove("COLUMNS")
        .envs(env.iter().copied())
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap_or_else(|err| panic!("cannot run infra: {err}"));
    if let Some(mut stdin) = child.stdin.take() {
        // The console may exit before reading everything (a module with errors).
        let _ = stdin.write_all(input.as_bytes());
    }
    child.wait_with_output().unwrap_or_else(|err| panic!("infra did not finish: {err}"))
}

fn console(dir: &Path, input: &str) -> Output {
    infra(dir, &["console"], &[], input)
}

fn stdout(output: &Output) -> String {
    String::from_utf8_lossy(&output.stdout).into_owned()
}

/// Bug: the README's first example, `echo 'cidrsubnet(...)' | infra console` in a
/// directory without `.infra` files, failed with E0003. The console now evaluates
/// against an empty module there, as Terraform's does; the commands that need a
/// configuration still say E0003.
#[test]
fn console_works_in_a_directory_without_infra_files() {
    let dir = tempfile::tempdir().expect("temp dir");
    let output = console(dir.path(), "cidrsubnet(\"10.0.0.0/16\", 8, 2)\n[for i in range(3) : i * 2]\nupper(\"a\")\n");
    assert_eq!(output.status.code(), Some(0), "{}", text(&output));
    assert_eq!(stdout(&output), "\"10.0.2.0/24\"\n[0, 2, 4]\n\"A\"\n");
    assert_eq!(String::from_utf8_lossy(&output.stderr), "");
    // Nothing is written where there is no configuration.
    let left: Vec<_> = std::fs::read_dir(dir.path()).expect("read dir").collect();
    assert!(left.is_empty(), "{left:?}");

    // A name is still an error, with its code.
    let output = console(dir.path(), "region\n");
    assert_eq!(output.status.code(), Some(1));
    assert!(text(&output).contains("error[E0201]"), "{}", text(&output));

    for command in [&["check"][..], &["plan"]] {
        let (code, printed) = outcome(dir.path(), command);
        assert_eq!(code, 1, "{printed}");
        assert!(printed.contains("error[E0003]"), "{command:?}: {printed}");
    }
}

/// A directory that does not exist is still an error, not an empty module.
#[test]
fn console_refuses_a_directory_that_does_not_exist() {
    let dir = tempfile::tempdir().expect("temp dir");
    let output = Command::new(env!("CARGO_BIN_EXE_infra"))
        .args(["console", "no-such-dir"])
        .current_dir(dir.path())
        .env("NO_COLOR", "1")
        .stdin(Stdio::null())
        .output()
        .expect("run");
    assert_eq!(output.status.code(), Some(1), "{}", text(&output));
    assert!(text(&output).contains("error[E0002]"), "{}", text(&output));
}

const SECRET: &str = "consoleSecret5Zt9";

const ROOT: &str = r#"
input services: map(number) = { api = 8080, worker = 9090 }
input secret: string {
  sensitive = true
}

module svc "./svc" for name, port in services {
  name   = name
  port   = port
  secret = secret
}

module single "./svc" {
  name = "single"
}

resource local.file index {
  path    = "out/index.txt"
  content = join(",", [for k, m in svc : m.unit_path])
}
"#;

const SVC: &str = r#"
input name: string
input port: number = 7070
input secret: string = "none" {
  sensitive = true
}

resource local.file unit {
  path    = "out/${name}/${name}.service"
  content = "port=${port}\n"
}

module inner "../inner" {
  label = "${name}:${port}"
}

output unit_path = unit.path
output port = port
output secret_echo = secret
output inner_file = inner.file
"#;

const INNER: &str = r#"
input label: string

resource local.file f {
  path    = "out/inner/${replace(label, ":", "-")}.txt"
  content = label
}

output file = f.path
"#;

/// Bug: a module call's outputs were always `(known after apply)` in the console, even
/// after the module was applied, while the root's resources showed their stored values.
/// Now each instance's outputs are computed by its module from the objects the state
/// holds for it (nested calls too); sensitive ones stay hidden.
#[test]
fn console_shows_module_outputs_from_the_state() {
    let dir = tempfile::tempdir().expect("temp dir");
    let dir = dir.path();
    for (path, text) in [("main.infra", ROOT), ("svc/main.infra", SVC), ("inner/main.infra", INNER)] {
        std::fs::create_dir_all(dir.join(path).parent().expect("parent")).expect("mkdir");
        std::fs::write(dir.join(path), text).expect("write");
    }
    let secret = [("INFRA_VAR_secret", SECRET)];
    let applied = infra(dir, &["apply", "--auto-approve"], &secret, "");
    assert_eq!(applied.status.code(), Some(0), "{}", text(&applied));

    let lines = [
        "svc[\"api\"].unit_path",
        "svc[\"worker\"].port",
        "single.unit_path",
        "single.port",
        "svc[\"api\"].inner_file",
        "svc[\"api\"].secret_echo",
        "svc",
        "index.content",
    ];
    let output = infra(dir, &["console"], &secret, &lines.join("\n"));
    assert_eq!(output.status.code(), Some(0), "{}", text(&output));
    let expected = [
        "\"out/api/api.service\"",
        "9090",
        "\"out/single/single.service\"",
        "7070",
        "\"out/inner/api-8080.txt\"",
        "(sensitive value)",
        "{ api = { inner_file = \"out/inner/api-8080.txt\", port = 8080, secret_echo = (sensitive value), unit_path = \
         \"out/api/api.service\" }, worker = { inner_file = \"out/inner/worker-9090.txt\", port = 9090, secret_echo = \
         (sensitive value), unit_path = \"out/worker/worker.service\" } }",
        "\"out/api/api.service,out/worker/worker.service\"",
    ];
    assert_eq!(stdout(&output).lines().collect::<Vec<_>>(), expected, "{}", text(&output));
    assert!(!text(&output).contains(SECRET), "the secret leaked: {}", text(&output));

    // Before any apply, what comes from resources is unknown again; what comes from
    // inputs alone is known.
    let destroyed = infra(dir, &["destroy", "--auto-approve"], &secret, "");
    assert_eq!(destroyed.status.code(), Some(0), "{}", text(&destroyed));
    let fresh = infra(dir, &["console"], &secret, "svc[\"api\"].unit_path\nsvc[\"api\"].port\n");
    assert_eq!(stdout(&fresh), "(known after apply)\n8080\n", "{}", text(&fresh));
    assert!(!text(&fresh).contains(SECRET), "the secret leaked: {}", text(&fresh));
}
