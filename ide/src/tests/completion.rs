//! Completion: what fits where the cursor is.

use insta::assert_snapshot;

use super::Fixture;
use crate::{CompletionItem, Insert};

/// The completions at the cursor that start with what is typed (the word before it, or
/// the range an item replaces), as an editor filters them, in the order the editor shows
/// them: kind, label, detail, insertion.
fn check(fixture: &str) -> String {
    let mut fixture = Fixture::new(fixture);
    let answer = crate::completion(&mut fixture.workspace, &fixture.path, fixture.position);
    let items = match answer {
        Ok(Some(items)) => items,
        Ok(None) => return "no completions".to_string(),
        Err(error) => return format!("error: {}", error.message),
    };
    let text = fixture.text(&fixture.path);
    let offset = crate::LineIndex::new(text).offset(fixture.position).unwrap_or_default();
    let (_, word) = crate::text::word_before(text, offset);
    let index = crate::LineIndex::new(text);
    let typed = |item: &CompletionItem| match &item.insert {
        Some(Insert::Replace(edit)) => match (index.offset(edit.range.start), index.offset(edit.range.end)) {
            (Ok(start), Ok(end)) => &text[start..end],
            _ => word,
        },
        _ => word,
    };
    let mut items: Vec<&CompletionItem> = items.iter().filter(|item| item.label.starts_with(typed(item))).collect();
    items.sort_by_key(|item| item.sort_text.as_ref().unwrap_or(&item.label));
    items.iter().map(|item| render(&fixture, item)).collect::<Vec<_>>().join("\n")
}

fn render(fixture: &Fixture, item: &CompletionItem) -> String {
    let mut line = format!("{:?} {}", item.kind, item.label);
    if let Some(detail) = &item.detail {
        line.push_str(&format!(" ({detail})"));
    }
    match &item.insert {
        Some(Insert::Snippet(snippet)) => line.push_str(&format!(" => {snippet:?}")),
        Some(Insert::Replace(edit)) => {
            line.push_str(&format!(" => {:?} at {}", edit.new_text, fixture.range(&fixture.path, edit.range)))
        }
        None => {}
    }
    line
}

#[test]
fn item_keywords_at_the_start_of_a_line() {
    assert_snapshot!(check("$0\nlet a = 1\n"), @r#"
        Keyword check
        Keyword data
        Keyword fn
        Keyword forget
        Keyword import
        Keyword input
        Keyword let
        Keyword module
        Keyword moved
        Keyword output
        Keyword plugin
        Keyword provider
        Keyword resource
        Keyword state
        "#);
}

#[test]
fn item_keywords_at_the_end_of_a_file() {
    assert_snapshot!(check("let a = 1\nmo$0"), @r#"
        Keyword module
        Keyword moved
        "#);
}

#[test]
fn a_resource_body_offers_required_attributes_first_then_meta_arguments() {
    assert_snapshot!(check("resource random.id suffix {\n  $0\n}\n"), @r#"
        Property byte_length (number (required)) => "byte_length = $0"
        Property keepers (map(string)) => "keepers = $0"
        Property depends_on (list of references) => "depends_on = [$0]"
        Module lifecycle (block) => "lifecycle {\n\t$0\n}"
        Keyword postcondition (checked after, with `self` the instance) => "postcondition ${1:condition}, \"${2:message}\""
        Keyword precondition (checked before the instance is created or updated) => "precondition ${1:condition}, \"${2:message}\""
        Property provider (provider configuration) => "provider = $0"
        "#);
}

#[test]
fn a_body_offers_conditions_and_lifecycle() {
    assert_snapshot!(check("resource local.file notes {\n  path = \"n\"\n  p$0\n}\n"), @r#"
        Keyword postcondition (checked after, with `self` the instance) => "postcondition ${1:condition}, \"${2:message}\""
        Keyword precondition (checked before the instance is created or updated) => "precondition ${1:condition}, \"${2:message}\""
        Property provider (provider configuration) => "provider = $0"
        "#);
}

#[test]
fn a_lifecycle_block_offers_its_settings_and_not_the_schema() {
    assert_snapshot!(check("resource local.file notes {\n  path = \"n\"\n  lifecycle {\n    $0\n  }\n}\n"), @r#"
        Property create_before_destroy (bool) => "create_before_destroy = $0"
        Property ignore_changes (list of attribute names) => "ignore_changes = $0"
        Property prevent_destroy (bool) => "prevent_destroy = $0"
        Property replace_when (list of values) => "replace_when = $0"
        "#);
}

#[test]
fn resource_types_after_resource_replace_what_is_typed() {
    assert_snapshot!(check("resource local.f$0"), @r#"Class local.file (A file on the local machine, written from `content` or copied from `source`.) => "local.file" at 1:10-1:17 "local.f""#);
}

#[test]
fn data_sources_after_data() {
    assert_snapshot!(check("data local.$0"), @r#"Class local.file (Reads a file on the local machine.) => "local.file" at 1:6-1:12 "local.""#);
}

#[test]
fn a_module_call_offers_its_outputs_after_a_dot() {
    let fixture = r#"
//- /main.infra
module site "./site" for name in ["a", "b"] {
  domain = name
}
let x = site["a"].$0
//- /site/main.infra
input domain: string
output url = "https://${domain}"
output files = [domain]
"#;
    assert_snapshot!(check(fixture), @r#"
        Field files (tuple([string]))
        Field url (string)
        "#);
}

/// An output named like an input (#18 item 11): after a dot, the output's fields.
#[test]
fn an_outputs_fields_follow_a_dot_not_those_of_the_input_of_its_name() {
    let fixture = r#"
//- /main.infra
module server "./server" {
  settings = { port = 80 }
}
let x = server.settings.$0
//- /server/main.infra
input settings: object({ port = number })
output settings = { url = "http://web:${settings.port}/" }
"#;
    assert_snapshot!(check(fixture), @"Field url (string)");
}

/// A module call's outputs show their types after a dot, as the checker computed them.
#[test]
fn a_module_calls_outputs_show_their_types() {
    let fixture = r#"
//- /main.infra
module site "./site" {
  domain = "example.test"
}
let x = site.$0
//- /site/main.infra
input domain: string
output url = "https://${domain}"
output ports = [80, 443]
"#;
    assert_snapshot!(check(fixture), @r#"
        Field ports (tuple([number, number]))
        Field url (string)
        "#);
}

#[test]
fn a_module_call_body_offers_the_inputs_required_first() {
    let fixture = r#"
//- /main.infra
module site "./site" {
  $0
}
//- /site/main.infra
input domain: string
input port: number = 80
output url = "https://${domain}"
"#;
    assert_snapshot!(check(fixture), @r#"
        Property domain (input (required)) => "domain = $0"
        Property port (input) => "port = $0"
        "#);
}

#[test]
fn self_in_a_postcondition_is_the_resource() {
    let fixture = "resource local.file notes {\n  path = \"n\"\n  postcondition self.s$0 >= 0, \"written\"\n}\n";
    assert_snapshot!(check(fixture), @r#"
        Field size (number)
        Field source (string)
        "#);
}

/// `self.` in a postcondition still being typed (no message yet, so the resource does
/// not parse) offers the resource's attributes.
#[test]
fn self_in_an_unfinished_postcondition_is_the_resource() {
    let fixture = "resource local.file notes {\n  path = \"n\"\n  postcondition self.s$0\n}\n";
    assert_snapshot!(check(fixture), @r#"
        Field size (number)
        Field source (string)
        "#);
    let fixture = "resource local.file notes {\n  path = \"n\"\n  postcondition self.s$0 >= 0\n}\nlet a = 1\n";
    assert_snapshot!(check(fixture), @r#"
        Field size (number)
        Field source (string)
        "#);
}

#[test]
fn an_object_offers_its_fields_after_a_dot() {
    assert_snapshot!(check("let o = { name = \"a\", size = 2 }\nlet x = o.$0\n"), @r#"
        Field name (string)
        Field size (number)
        "#);
}

#[test]
fn an_expression_offers_locals_declarations_and_functions_as_snippets() {
    let fixture = "input jobs: list(string)\nfn joined(x: string): string = x\nlet a = [for job in jobs : jo$0]\n";
    assert_snapshot!(check(fixture), @r#"
        Variable job
        Variable jobs (input)
        Function joined (function) => "joined($1)"
        Function join (join(separator: string, list: list(string)): string) => "join(${1:separator}, ${2:list})"
        "#);
}

#[test]
fn nothing_inside_a_string() {
    assert_snapshot!(check("let a = \"jo$0\"\n"), @"no completions");
}

#[test]
fn nothing_inside_a_comment() {
    assert_snapshot!(check("let a = 1 # jo$0\n"), @"no completions");
}

#[test]
fn an_interpolation_is_an_expression() {
    assert_snapshot!(check("input project: string\nlet a = \"${pro$0}\"\n"), @"Variable project (input)");
}

#[test]
fn a_half_typed_body_still_offers_its_schema() {
    assert_snapshot!(check("let shared = 1\nresource random.id suffix {\n  by$0\n\nresource local.file {\n  path = \n"), @r#"Property byte_length (number (required)) => "byte_length = $0""#);
}

/// The labels offered at the cursor, unfiltered and sorted.
fn labels(fixture: &str) -> Vec<String> {
    let mut fixture = Fixture::new(fixture);
    let answer = crate::completion(&mut fixture.workspace, &fixture.path, fixture.position);
    let mut labels: Vec<String> = answer.ok().flatten().unwrap_or_default().into_iter().map(|i| i.label).collect();
    labels.sort();
    labels
}

/// Regression: a body whose header holds a bracket (`range(2)`, `[1, 2]`, a call in an
/// `if`) offered nothing, because the header was cut at the closing bracket.
#[test]
fn every_header_form_keeps_the_body_context() {
    let headers = [
        "resource local.file f",
        "resource local.file f for i in range(2)",
        "resource local.file f for i in [1, 2]",
        "resource local.file f for i in zones",
        "resource local.file f for k, v in { a = 1, b = 2 }",
        "resource local.file f for k, v in tomap({ a = 1 })",
        "resource local.file f for z in zones key upper(z)",
        "resource local.file f for z in zones key \"${z}-{x}\"",
        "resource local.file f if length(zones) > 0",
        "resource local.file f if zones[0] != \"}\"",
        "resource local.file f for i in [\n  1,\n  2,\n]",
    ];
    for header in headers {
        let fixture = format!("input zones: list(string)\n{header} {{\n  $0\n}}\n");
        let offered = labels(&fixture);
        for expected in ["path", "content", "depends_on", "lifecycle", "precondition"] {
            assert!(offered.iter().any(|l| l == expected), "`{header}` offers no `{expected}`: {offered:?}");
        }
        let fixture =
            format!("input zones: list(string)\n{header} {{\n  path = \"p\"\n  lifecycle {{\n    $0\n  }}\n}}\n");
        assert!(labels(&fixture).contains(&"prevent_destroy".to_string()), "`{header}` lifecycle");
    }
}

#[test]
fn nested_blocks_with_repetition_keep_their_schema() {
    let headers = ["ingress for port in [80, 443]", "ingress for i, port in ports", "ingress if length(ports) > 0"];
    for header in headers {
        let fixture = format!(
            "input ports: list(number)\nresource aws.security_group web {{\n  name = \"web\"\n  {header} {{\n    $0\n  }}\n}}\n"
        );
        let labels = labels(&fixture);
        let expected = [
            "cidr_blocks",
            "description",
            "from_port",
            "ipv6_cidr_blocks",
            "prefix_list_ids",
            "protocol",
            "security_groups",
            "self",
            "to_port",
        ];
        assert_eq!(labels, expected, "`{header}`");
    }
}

#[test]
fn attributes_set_already_are_not_offered_again() {
    let fixture = "resource random.password p {\n  length = 16\n  $0\n  special = false\n}\n";
    let labels = labels(fixture);
    assert!(!labels.contains(&"length".to_string()), "{labels:?}");
    assert!(!labels.contains(&"special".to_string()), "{labels:?}");
    assert!(labels.contains(&"keepers".to_string()), "{labels:?}");
}

#[test]
fn the_attribute_being_typed_is_still_offered() {
    assert_snapshot!(check("resource random.password p {\n  special = true\n  len$0\n}\n"), @r#"Property length (number (required)) => "length = $0""#);
}

#[test]
fn repeatable_entries_stay_offered_and_single_ones_go() {
    let fixture = "resource aws.security_group web {\n  name = \"web\"\n  ingress {\n    from_port = 80\n    to_port = 80\n    protocol = \"tcp\"\n  }\n  depends_on = []\n  lifecycle {\n  }\n  precondition true, \"ok\"\n  $0\n}\n";
    let labels = labels(fixture);
    for expected in ["ingress", "egress", "precondition", "postcondition", "description"] {
        assert!(labels.contains(&expected.to_string()), "no `{expected}`: {labels:?}");
    }
    for gone in ["name", "depends_on", "lifecycle"] {
        assert!(!labels.contains(&gone.to_string()), "`{gone}` again: {labels:?}");
    }
}

#[test]
fn settings_in_lifecycle_and_module_calls_are_not_offered_twice() {
    let fixture =
        "resource local.file f {\n  path = \"p\"\n  lifecycle {\n    prevent_destroy = true\n    $0\n  }\n}\n";
    assert!(!labels(fixture).contains(&"prevent_destroy".to_string()));
    let fixture = r#"
//- /main.infra
module site "./site" {
  domain = "a"
  $0
}
//- /site/main.infra
input domain: string
input port: number = 80
"#;
    assert_eq!(labels(fixture), ["port"]);
}

#[test]
fn a_for_variable_of_object_type_offers_its_fields() {
    let fixture = "input settings_list: list(object({ name = string, size = number }))\nresource local.file f for settings in settings_list {\n  path = settings.$0\n}\n";
    assert_snapshot!(check(fixture), @r#"
        Field name (string)
        Field size (number)
        "#);
}

#[test]
fn a_for_variable_offers_its_fields_while_the_item_does_not_parse() {
    // `settings.n` does not parse, so the analysis has no `settings`.
    let fixture = "input settings_list: list(object({ name = string, size = number }))\nresource local.file f for settings in settings_list {\n  path = settings.n$0\n}\n";
    assert_snapshot!(check(fixture), @"Field name (string)");
}

#[test]
fn a_for_expression_variable_offers_its_fields() {
    let fixture = "input items: list(object({ id = string }))\nlet ids = [for item in items : item.$0]\n";
    assert_snapshot!(check(fixture), @"Field id (string)");
}

#[test]
fn an_indexed_element_offers_its_fields() {
    let fixture =
        "input environments: map(object({ region = string, size = number }))\nlet dev = environments[\"dev\"].$0\n";
    assert_snapshot!(check(fixture), @r#"
        Field region (string)
        Field size (number)
        "#);
    let fixture = "let zones = [{ name = \"a\" }]\nlet first = zones[0].$0\n";
    assert_snapshot!(check(fixture), @"Field name (string)");
}

#[test]
fn nested_fields_and_resource_attributes_of_object_type() {
    let fixture = "let config = { db = { host = \"h\", port = 5432 } }\nlet h = config.db.$0\n";
    assert_snapshot!(check(fixture), @r#"
        Field host (string)
        Field port (number)
        "#);
}
