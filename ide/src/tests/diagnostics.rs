//! Diagnostics, code actions and formatting.

use std::collections::BTreeSet;
use std::path::PathBuf;

use insta::assert_snapshot;

use super::Fixture;
use crate::{Position, Range};

/// Every file's diagnostics: range, severity, code, message and related labels.
fn check(fixture: &str) -> String {
    let mut fixture = Fixture::new(fixture);
    let published = crate::diagnostics(&mut fixture.workspace, &BTreeSet::new());
    let mut lines = Vec::new();
    for (path, diagnostics) in &published {
        lines.push(format!("{}:", path.display()));
        for d in diagnostics {
            lines.push(format!(
                "  {:?} {} at {}: {}",
                d.severity,
                d.code,
                fixture.range(path, d.range),
                d.message.replace('\n', "\n    ")
            ));
            for related in &d.related {
                lines.push(format!("    related {}: {}", fixture.location(&related.location), related.message));
            }
        }
    }
    lines.join("\n")
}

/// The fixes offered for the whole file, with their edits.
fn actions(fixture: &str) -> String {
    let mut fixture = Fixture::new(fixture);
    let everything = Range::new(Position::new(0, 0), Position::new(10_000, 0));
    let actions = match crate::code_actions(&mut fixture.workspace, &fixture.path, everything, &[]) {
        Ok(actions) => actions,
        Err(error) => return format!("error: {}", error.message),
    };
    let mut lines = Vec::new();
    for action in actions {
        lines.push(format!("{} (for {})", action.title, action.diagnostic.code));
        for edit in action.edits {
            lines.push(format!("  {} -> {:?}", fixture.range(&fixture.path, edit.range), edit.new_text));
        }
    }
    lines.join("\n")
}

#[test]
fn errors_and_warnings_with_their_help() {
    assert_snapshot!(check("let greeting = uper(shared)\n"), @r#"
        /fixture/main.infra:
          Warning W0001 at 1:5-1:13 "greeting": the let `greeting` is never used: declared here
            help: remove it, or rename it to `_greeting` to keep it
          Error E0209 at 1:16-1:20 "uper": unknown function `uper`: no such function
            help: did you mean `upper`?
          Error E0201 at 1:21-1:27 "shared": undefined name `shared`: not found in this module
            help: declare it with `let`, `input`, `resource`, `data` or `module`
        "#);
}

/// The `state` block is checked with the rest, not only when a command opens the state.
#[test]
fn a_state_block_using_a_let_is_reported() {
    assert_snapshot!(check("let host = \"db\"\nstate postgres {\n  url = host\n}\n"), @r#"
        /fixture/main.infra:
          Error E0717 at 3:9-3:13 "host": a `state` block may use only literals, inputs and `env()`: evaluated before anything else, so this cannot be used here
            help: the state's location is needed before resources, lets and other functions are known; pass the value as an input or through `env("NAME")`
        "#);
}

#[test]
fn a_syntax_error_is_reported_and_the_other_items_are_checked() {
    assert_snapshot!(check("let a = 1\nresource local.file {\n  path = \noutput b = a + nope\n"), @r#"
        /fixture/main.infra:
          Error E0100 at 2:21-2:22 "{": expected a name, found `{`: unexpected here
            help: see docs/language.md for the syntax of each declaration
          Error E0201 at 4:16-4:20 "nope": undefined name `nope`: not found in this module
            help: declare it with `let`, `input`, `resource`, `data` or `module`
        "#);
}

#[test]
fn an_unsaved_file_declares_names_for_the_others() {
    assert_snapshot!(check("//- /main.infra\noutput greeting = upper(shared)\n//- /names.infra\nlet shared = \"a\"\n"), @r#"
        /fixture/main.infra:
        /fixture/names.infra:
        "#);
}

#[test]
fn a_file_that_had_diagnostics_gets_an_empty_list() {
    let mut fixture = Fixture::new("output a = 1\n");
    let gone = PathBuf::from("/fixture/old/main.infra");
    let published = crate::diagnostics(&mut fixture.workspace, &BTreeSet::from([gone.clone()]));
    assert_eq!(published.get(&gone), Some(&Vec::new()));
    assert_eq!(published.get(&fixture.path), Some(&Vec::new()));
}

#[test]
fn did_you_mean_becomes_a_replacement() {
    assert_snapshot!(actions("output shout = uper(\"a\")\n"), @r#"
        Replace with `upper` (for E0209)
          1:16-1:20 "uper" -> "upper"
        "#);
}

#[test]
fn missing_required_attributes_are_added() {
    assert_snapshot!(actions("resource random.id extra {\n}\n"), @r#"
        Add missing attribute `byte_length` (for E0402)
          2:1-2:1 "" -> "  byte_length = 0\n"
        "#);
    assert_snapshot!(actions("resource local.file f { mode = \"0644\" }\n"), @r#"
        Add missing attribute `path` (for E0402)
          1:39-1:39 "" -> "\n  path = \"\"\n"
        "#);
}

/// The titles of the fixes at the cursor (an empty range there, as an editor sends it)
/// given the client's diagnostics.
fn actions_at_cursor(fixture: &str, client_diagnostics: &[Range]) -> Vec<String> {
    let mut fixture = Fixture::new(fixture);
    let cursor = Range::new(fixture.position, fixture.position);
    let actions = crate::code_actions(&mut fixture.workspace, &fixture.path, cursor, client_diagnostics);
    actions.map(|actions| actions.into_iter().map(|a| a.title).collect()).unwrap_or_else(|e| vec![e.message])
}

/// Regression: with the cursor at column 0 of the diagnostic's line there were no code
/// actions, because only the request's range was matched and the diagnostics the client
/// sends with it were ignored.
#[test]
fn code_actions_come_from_the_diagnostics_the_client_sends() {
    let fixture = "$0output shout = uper(\"a\")\n";
    assert_eq!(actions_at_cursor(fixture, &[]), Vec::<String>::new(), "the cursor is not on the diagnostic");
    let uper = Range::new(Position::new(0, 15), Position::new(0, 19));
    assert_eq!(actions_at_cursor(fixture, &[uper]), ["Replace with `upper`"]);
    // A diagnostic the client still shows past the end of the text is ignored.
    let stale = Range::new(Position::new(40, 0), Position::new(40, 3));
    assert_eq!(actions_at_cursor(fixture, &[stale, uper]), ["Replace with `upper`"]);
}

#[test]
fn code_actions_at_the_cursor_on_the_diagnostic() {
    assert_eq!(actions_at_cursor("output shout = up$0er(\"a\")\n", &[]), ["Replace with `upper`"]);
}

#[test]
fn formatting_replaces_the_whole_text_or_nothing() {
    let mut fixture = Fixture::new("let  a =   1\n");
    let edit = crate::formatting(&mut fixture.workspace, &fixture.path).map(|e| e.map(|e| e.new_text));
    assert_eq!(edit, Ok(Some("let a = 1\n".to_string())));
    let mut fixture = Fixture::new("let a = 1\n");
    assert_eq!(crate::formatting(&mut fixture.workspace, &fixture.path), Ok(None));
}

#[test]
fn formatting_refuses_a_file_with_syntax_errors() {
    let mut fixture = Fixture::new("let a = \n");
    let error = crate::formatting(&mut fixture.workspace, &fixture.path).map(|_| ()).unwrap_err();
    assert_snapshot!(format!("{:?}: {}", error.kind, error.message), @"Failed: cannot format a file with syntax errors (first: E0100 expected an expression, found end of file)");
}
