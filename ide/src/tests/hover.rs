//! Hover and signature help.

use insta::assert_snapshot;

use super::Fixture;

/// The range hovered and the markdown shown.
fn check(fixture: &str) -> String {
    let mut fixture = Fixture::new(fixture);
    match crate::hover(&mut fixture.workspace, &fixture.path, fixture.position) {
        Ok(Some(hover)) => {
            let range = hover.range.map(|r| fixture.range(&fixture.path, r)).unwrap_or_default();
            format!("{range}\n{}", hover.markdown)
        }
        Ok(None) => "no hover".to_string(),
        Err(error) => format!("error: {}", error.message),
    }
}

/// The signature shown and the parameter the cursor is at.
fn check_signature(fixture: &str) -> String {
    let mut fixture = Fixture::new(fixture);
    match crate::signature_help(&mut fixture.workspace, &fixture.path, fixture.position) {
        Ok(Some(help)) => format!(
            "{}\nparameters: {:?}\nactive: {}\n{}",
            help.label, help.parameters, help.active_parameter, help.documentation
        ),
        Ok(None) => "no signature".to_string(),
        Err(error) => format!("error: {}", error.message),
    }
}

#[test]
fn an_input_shows_its_type_and_description() {
    let fixture =
        "input project: string {\n  description = \"A short name for the project\"\n}\nlet a = \"${pro$0ject}\"\n";
    assert_snapshot!(check(fixture), @r#"
        4:12-4:19 "project"
        ```infra
        input project: string
        ```

        A short name for the project
        "#);
}

#[test]
fn a_let_shows_its_inferred_type() {
    assert_snapshot!(check("let out$0_dir = \"out/${1 + 1}\"\n"), @r#"
        1:5-1:12 "out_dir"
        ```infra
        let out_dir: string
        ```
        "#);
}

#[test]
fn an_attribute_shows_its_schema() {
    assert_snapshot!(check("resource random.id suffix {\n  byte$0_length = 4\n}\n"), @r#"
        2:3-2:14 "byte_length"
        ```infra
        byte_length: number
        ```

        *required, forces replacement*

        The number of random bytes to generate.
        "#);
}

#[test]
fn a_resource_type_shows_its_description() {
    assert_snapshot!(check("resource random.i$0d suffix {\n  byte_length = 4\n}\n"), @r#"
        1:10-1:19 "random.id"
        ```infra
        resource type random.id
        ```

        Random bytes for naming things uniquely, in several encodings.
        "#);
}

#[test]
fn a_function_shows_its_signature_and_reference() {
    assert_snapshot!(check("let a = jo$0in(\", \", [\"a\"])\n"), @r#"
        1:9-1:13 "join"
        ```infra
        join(separator: string, list: list(string)): string
        ```

        Concatenates the strings of a list, with the separator between each two. Numbers and
        bools in the list are converted to strings; a set is joined in its (sorted) order. Unlike
        Terraform's `join`, it takes exactly one list.

        - `join(", ", ["a", "b", "c"])` → `"a, b, c"`
        - `join(",", [])` → `""`
        - `join("-", [1, true, "x"])` → `"1-true-x"`

        Errors: a null element (`element 1 of the list is null`), a list or object element.
        "#);
}

#[test]
fn a_function_parameter_shows_its_type() {
    assert_snapshot!(check("fn twice(n: number): number = n$0 * 2\nlet a = twice(2)\n"), @r#"
        1:31-1:32 "n"
        ```infra
        (local) n: number
        ```

        A `for` variable or function parameter.
        "#);
}

#[test]
fn a_for_variable_shows_its_type() {
    assert_snapshot!(check("input users: list(string)\nlet a = [for user in users : \"${us$0er}\"]\n"), @r#"
        2:33-2:37 "user"
        ```infra
        (local) user: string
        ```

        A `for` variable or function parameter.
        "#);
}

#[test]
fn self_in_a_postcondition_is_the_instance() {
    let fixture = "resource local.file notes {\n  path = \"n\"\n  postcondition se$0lf.size >= 0, \"written\"\n}\n";
    assert_snapshot!(check(fixture), @r#"
        3:17-3:21 "self"
        ```infra
        self: local.file
        ```

        The instance of `notes` as the provider reported it after creating or updating it: its attributes, computed ones included.
        "#);
}

#[test]
fn a_name_declared_in_another_unsaved_file_of_the_module() {
    let fixture = "//- /main.infra\nlet greeting = upper(sha$0red)\n//- /names.infra\nlet shared = \"a\"\n";
    assert_snapshot!(check(fixture), @r#"
        1:22-1:28 "shared"
        ```infra
        let shared: string
        ```
        "#);
}

#[test]
fn a_syntax_error_after_an_item_leaves_it_hoverable() {
    assert_snapshot!(check("let shared = \"a\"\nlet b = sha$0red\nresource local.file {\n  path = \n"), @r#"
        2:9-2:15 "shared"
        ```infra
        let shared: string
        ```
        "#);
}

#[test]
fn nothing_at_the_start_of_a_file_or_on_a_literal() {
    assert_snapshot!(check("$0\nlet a = 1\n"), @"no hover");
    assert_snapshot!(check("let a = 1$0\n"), @"no hover");
}

#[test]
fn a_position_past_the_end_is_refused() {
    let mut fixture = Fixture::new("let a = 1\n");
    let past = crate::Position::new(5, 0);
    let error = crate::hover(&mut fixture.workspace, &fixture.path, past).map(|_| ()).unwrap_err();
    assert_snapshot!(error.message, @"line 5 is past the end of the document (2 lines)");
}

#[test]
fn signature_help_counts_the_arguments_typed() {
    assert_snapshot!(check_signature("let a = join(\", \", $0)\n"), @r#"
        join(separator: string, list: list(string)): string
        parameters: ["separator: string", "list: list(string)"]
        active: 1
        Concatenates the strings of a list, with the separator between each two.
        "#);
}

#[test]
fn signature_help_for_a_user_function() {
    assert_snapshot!(check_signature("fn twice(n: number): number = n * 2\nlet a = twice($0)\n"), @r#"
        twice(n: number)
        parameters: ["n: number"]
        active: 0
        "#);
}

#[test]
fn no_signature_outside_a_call() {
    assert_snapshot!(check_signature("let a = [1, $0]\n"), @"no signature");
}

#[test]
fn a_resource_attribute_read_shows_its_schema() {
    let fixture = "resource random.id suffix {\n  byte_length = 4\n}\noutput id = suffix.he$0x\n";
    assert_snapshot!(check(fixture), @r#"
        4:20-4:23 "hex"
        ```infra
        hex: string
        ```

        *computed*

        The random bytes in lower-case hexadecimal.
        "#);
}

#[test]
fn an_attribute_of_one_instance_shows_its_schema() {
    let fixture = "resource random.id suffix for i in range(2) {\n  byte_length = 4\n}\noutput id = suffix[0].he$0x\n";
    assert_snapshot!(check(fixture), @r#"
        4:23-4:26 "hex"
        ```infra
        hex: string
        ```

        *computed*

        The random bytes in lower-case hexadecimal.
        "#);
}

#[test]
fn a_field_of_a_for_variable_shows_its_type() {
    let fixture = "input settings_list: list(object({ name = string, size = number }))\nresource local.file f for settings in settings_list {\n  path = settings.na$0me\n}\n";
    assert_snapshot!(check(fixture), @r#"
        3:19-3:23 "name"
        ```infra
        name: string
        ```
        "#);
}

#[test]
fn a_field_of_an_indexed_element_shows_its_type() {
    let fixture = "input environments: map(object({ region = string }))\noutput r = environments[\"dev\"].reg$0ion\n";
    assert_snapshot!(check(fixture), @r#"
        2:32-2:38 "region"
        ```infra
        region: string
        ```
        "#);
}

#[test]
fn self_attributes_in_a_postcondition_show_their_schema() {
    let fixture = "resource local.file notes {\n  path = \"n\"\n  postcondition self.si$0ze >= 0, \"written\"\n}\n";
    assert_snapshot!(check(fixture), @r#"
        3:22-3:26 "size"
        ```infra
        size: number
        ```

        *computed*

        The size of the file in bytes.
        "#);
}

/// An output named like an input (#18 item 11): each name shows its own declaration.
#[test]
fn an_output_and_an_input_of_one_name_each_show_their_own() {
    let fixture = r#"
//- /main.infra
module server "./server" {
  hostname = "web1"
}
output address = server.host$0name
//- /server/main.infra
input hostname: string {
  description = "The short name"
}
output hostname = "${hostname}.example.test" {
  description = "The full name"
}
"#;
    assert_snapshot!(check(fixture), @r#"
        4:25-4:33 "hostname"
        ```infra
        output hostname: string
        ```

        The full name
        "#);
    assert_snapshot!(check(&fixture.replace("server.host$0name", "server.hostname").replace("  hostname = ", "  host$0name = ")), @r#"
        2:3-2:11 "hostname"
        ```infra
        input hostname: string
        ```

        The short name
        "#);
}

/// An output read by a caller shows its type, as the checker computed it.
#[test]
fn an_output_shows_its_type() {
    let fixture = r#"
//- /main.infra
module site "./site" {
  domain = "example.test"
}
let x = site.u$0rl
//- /site/main.infra
input domain: string
output url = "https://${domain}" {
  description = "Where the site is"
}
"#;
    assert_snapshot!(check(fixture), @r#"
        4:14-4:17 "url"
        ```infra
        output url: string
        ```

        Where the site is
        "#);
    assert_snapshot!(check(&fixture.replace("site.u$0rl", "site.url").replace("output url", "output u$0rl")), @r#"
        2:8-2:11 "url"
        ```infra
        output url: string
        ```

        Where the site is
        "#);
}
