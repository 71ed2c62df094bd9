//! JSON var files holding a sensitive input's value, against the real binary: the
//! secret's text is masked and never printed, and errors about the other members are
//! shown whole.

mod common;

use common::{outcome, write_module};

const SECRET: &str = "JsonSecret4Vq7";

const MODULE: &str = r#"
input db_password: string {
  sensitive = true
}
input replicas: number = 2

resource null.resource r {
  input = "x${replicas}"
}
"#;

/// `infra plan --var-file FILE` with `FILE` holding `text`: exit code and everything
/// printed, which must not hold the secret.
#[track_caller]
fn plan_with(text: &str) -> String {
    let dir = tempfile::tempdir().expect("temp dir");
    write_module(dir.path(), MODULE);
    std::fs::write(dir.path().join("v.json"), text).expect("write var file");
    let (code, printed) = outcome(dir.path(), &["plan", "--var-file", "v.json"]);
    assert_eq!(code, 1, "{printed}");
    assert!(!printed.contains(SECRET), "the secret leaked:\n{printed}");
    assert!(!printed.contains("the message is hidden"), "an error that quotes no secret was hidden:\n{printed}");
    printed
}

/// Bug: on a one-line JSON var file, everything after the sensitive input's name was
/// masked and taken for words of the secret, so an error about `replicas` (after the
/// secret on the same line) was hidden as if it quoted the secret, its help spoke of the
/// sensitive input, and its excerpt showed only stars. Only the secret's own string
/// token is masked now.
#[test]
fn an_error_beside_a_secret_on_one_json_line_is_shown() {
    let printed = plan_with(&format!("{{\"db_password\": \"{SECRET}\", \"replicas\": \"x\"}}"));
    assert!(printed.contains("error[E0605]"), "{printed}");
    assert!(printed.contains("the value of `replicas` is not a `number`"), "{printed}");
    assert!(printed.contains("help: give `replicas` a `number`"), "{printed}");
    let stars = "*".repeat(SECRET.len() + 2);
    assert!(printed.contains(&format!("{{\"db_password\": {stars}, \"replicas\": \"x\"}}")), "{printed}");
}

/// The same bug for a member that is no input: it is named, with the inputs there are.
#[test]
fn an_unknown_member_after_a_secret_on_one_json_line_is_named() {
    let printed = plan_with(&format!("{{\"db_password\": \"{SECRET}\", \"nope\": 1}}"));
    assert!(printed.contains("no input named `nope`"), "{printed}");
    assert!(printed.contains("the inputs are `db_password`, `replicas`"), "{printed}");
}

/// A secret written with JSON escapes, or as a member named like the input inside
/// another member, is still kept out of everything printed; the error names `replicas`.
#[test]
fn a_secret_written_with_escapes_is_still_hidden() {
    let escaped = SECRET.replacen('S', "\\u0053", 1);
    let printed = plan_with(&format!("{{\"replicas\": \"x\", \"db_password\": \"{escaped}\"}}"));
    assert!(printed.contains("the value of `replicas` is not a `number`"), "{printed}");
    assert!(!printed.contains(&escaped), "the secret leaked as written:\n{printed}");
}

/// A sensitive value of the wrong type: the error about it does not quote it; the other
/// member's error on the same line is shown.
#[test]
fn the_secrets_own_error_stays_hidden() {
    let dir = tempfile::tempdir().expect("temp dir");
    write_module(dir.path(), "input pin: number {\n  sensitive = true\n}\ninput replicas: number = 2\n");
    std::fs::write(dir.path().join("v.json"), format!("{{\"pin\": \"{SECRET}\", \"replicas\": \"x\"}}"))
        .expect("write");
    let (code, printed) = outcome(dir.path(), &["plan", "--var-file", "v.json"]);
    assert_eq!(code, 1, "{printed}");
    assert!(!printed.contains(SECRET), "the secret leaked:\n{printed}");
    assert!(
        printed.contains("the value of `pin` is not a `number`: the sensitive value does not convert"),
        "{printed}"
    );
    assert!(printed.contains("the value of `replicas` is not a `number`"), "{printed}");
}
