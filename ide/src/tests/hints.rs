//! Inlay hints: the types of `let`s and `for` variables, and what unkeyed instances are
//! keyed by.

use insta::assert_snapshot;

use super::Fixture;
use crate::{Position, Range};

/// Every hint in the whole file, as `line:col label`.
fn check(fixture: &str) -> String {
    let everything = Range::new(Position::new(0, 0), Position::new(10_000, 0));
    check_in(fixture, everything)
}

fn check_in(fixture: &str, range: Range) -> String {
    let mut fixture = Fixture::new(fixture);
    match crate::inlay_hints(&mut fixture.workspace, &fixture.path, range) {
        Ok(hints) => hints
            .iter()
            .map(|h| format!("{}:{} {:?}", h.position.line + 1, h.position.character + 1, h.label))
            .collect::<Vec<_>>()
            .join("\n"),
        Err(error) => format!("error: {}", error.message),
    }
}

#[test]
fn lets_and_for_variables_have_their_types() {
    let fixture = r#"
input environments: map(object({ size = number }))
let names = [for name, settings in environments : "${name}-${settings.size}"]
let count = length(names)
"#;
    assert_snapshot!(check(fixture), @r#"
        2:10 ": list(string)"
        2:22 ": string"
        2:32 ": object({ size = number })"
        3:10 ": number"
        "#);
}

#[test]
fn unkeyed_repetitions_say_what_keys_their_instances() {
    let fixture = r#"
input users: list(string)
input shards: number
input by_name: map(string)
resource local.file home for user in users {
  path = "home/${user}"
}
resource random.id shard for i in range(shards) {
  byte_length = 4
}
resource local.file named for v in by_name {
  path = v
}
resource local.file keyed for user, file in by_name {
  path = file
}
"#;
    assert_snapshot!(check(fixture), @r#"
        4:34 ": string"
        4:34 " (key: the element)"
        7:31 ": number"
        7:31 " (key: its position)"
        10:32 ": string"
        10:32 " (key: the map key)"
        13:35 ": string"
        13:41 ": string"
        "#);
}

#[test]
fn only_hints_inside_the_range() {
    let range = Range::new(Position::new(1, 0), Position::new(2, 0));
    assert_snapshot!(check_in("let a = 1\nlet b = \"x\"\nlet c = true\n", range), @r#"2:6 ": string""#);
}

#[test]
fn a_broken_file_keeps_the_hints_of_what_is_known() {
    assert_snapshot!(check("let a = undefined_name\nlet c = 1\nlet b = [\n"), @r#"2:6 ": number""#);
}

/// A parameter's type is written beside it: a hint repeated it (`who: string: string`).
#[test]
fn annotated_parameters_have_no_hint() {
    let fixture = "fn greet(who: string, n: number): string = \"hi ${who} ${n}\"\nlet a = [for x in [1] : x]\n";
    assert_snapshot!(check(fixture), @r#"
        2:6 ": list(number)"
        2:15 ": number"
        "#);
}
