//! Go to definition, references, and symbols.

use insta::assert_snapshot;

use super::Fixture;

const MODULES: &str = r#"
//- /main.infra
input with_admin: bool = true
let sites = { blog = "blog.example.com" }
module site "./site" for name, domain in sites {
  domain = domain
}
module admin "./site" if with_admin {
  domain = "admin.example.com"
}
output urls = [for s in site : s.url]
output admin_url = admin[0].url
//- /site/main.infra
input domain: string
fn page_html(title: string): string = "<h1>${title}</h1>"
let html = page_html(domain)
output url = "https://${domain}/"
"#;

/// Moves the cursor of a fixture to the `nth` occurrence of `needle`, `shift` bytes in.
fn at(fixture: &str, path: &str, needle: &str, shift: usize) -> String {
    let header = format!("//- {path}\n");
    let file_start = fixture.find(&header).map_or(0, |i| i + header.len());
    let offset = file_start + fixture[file_start..].find(needle).expect("needle in fixture") + shift;
    format!("{}$0{}", &fixture[..offset], &fixture[offset..])
}

fn definition(fixture: &str) -> String {
    let mut fixture = Fixture::new(fixture);
    match crate::definition(&mut fixture.workspace, &fixture.path, fixture.position) {
        Ok(Some(location)) => fixture.location(&location),
        Ok(None) => "no definition".to_string(),
        Err(error) => format!("error: {}", error.message),
    }
}

fn references(fixture: &str) -> String {
    let mut fixture = Fixture::new(fixture);
    match crate::references(&mut fixture.workspace, &fixture.path, fixture.position, true) {
        Ok(Some(found)) => found.iter().map(|l| fixture.location(l)).collect::<Vec<_>>().join("\n"),
        Ok(None) => "no references".to_string(),
        Err(error) => format!("error: {}", error.message),
    }
}

#[test]
fn a_name_goes_to_its_declaration() {
    assert_snapshot!(definition(&at(MODULES, "/main.infra", "in sites", 3)), @r#"main.infra 2:5-2:10 "sites""#);
}

#[test]
fn a_module_source_goes_to_the_module() {
    assert_snapshot!(definition(&at(MODULES, "/main.infra", "./site", 3)), @r#"site/main.infra 1:1-1:1 """#);
}

#[test]
fn an_output_read_by_a_caller_goes_to_the_output() {
    assert_snapshot!(definition(&at(MODULES, "/main.infra", "admin[0].url", 10)), @r#"site/main.infra 4:8-4:11 "url""#);
    assert_snapshot!(definition(&at(MODULES, "/main.infra", "s.url", 3)), @r#"site/main.infra 4:8-4:11 "url""#);
}

#[test]
fn a_user_function_goes_to_its_declaration_and_a_builtin_nowhere() {
    assert_snapshot!(definition(&at(MODULES, "/site/main.infra", "page_html(domain", 2)), @r#"site/main.infra 2:4-2:13 "page_html""#);
    let fixture = "let a = upp$0er(\"x\")\n";
    assert_snapshot!(definition(fixture), @"no definition");
}

#[test]
fn a_for_variable_goes_to_its_binding() {
    assert_snapshot!(definition(&at(MODULES, "/main.infra", "s.url", 0)), @r#"main.infra 9:20-9:21 "s""#);
}

#[test]
fn moved_names_the_resource_it_moves_to() {
    let fixture = "resource local.file notes {\n  path = \"n\"\n}\nmoved old_notes -> no$0tes\n";
    assert_snapshot!(definition(fixture), @r#"main.infra 1:21-1:26 "notes""#);
}

#[test]
fn nothing_on_a_keyword() {
    assert_snapshot!(definition("le$0t a = 1\n"), @"no definition");
}

#[test]
fn a_broken_item_has_no_names_and_leaves_the_others_navigable() {
    assert_snapshot!(definition("let a = 1\nlet b = a$0 +\n"), @"no definition");
    assert_snapshot!(definition("let a = 1\nlet c = a$0\nlet b = a +\n"), @r#"main.infra 1:5-1:6 "a""#);
}

#[test]
fn references_of_an_input_include_conditions() {
    let fixture = "input project: string = \"demo\"\nresource local.file notes {\n  path = \"out/${project}.txt\"\n  precondition pro$0ject != \"\", \"a project is named\"\n}\n";
    assert_snapshot!(references(fixture), @r#"
        main.infra 1:7-1:14 "project"
        main.infra 3:17-3:24 "project"
        main.infra 4:16-4:23 "project"
        "#);
}

#[test]
fn references_of_a_module_input_include_the_callers() {
    assert_snapshot!(references(&at(MODULES, "/site/main.infra", "input domain", 6)), @r#"
        main.infra 4:3-4:9 "domain"
        main.infra 7:3-7:9 "domain"
        site/main.infra 1:7-1:13 "domain"
        site/main.infra 3:22-3:28 "domain"
        site/main.infra 4:25-4:31 "domain"
        "#);
}

#[test]
fn no_references_on_a_literal() {
    assert_snapshot!(references("let a = 1$0\n"), @"no references");
}

#[test]
fn document_symbols_name_every_item() {
    let mut fixture = Fixture::new(
        "input project: string\nresource local.file notes {\n  path = project\n}\nprovider local as other {\n}\nmoved old -> notes\nforget scratch\ncheck true, \"ok\"\n",
    );
    let symbols = crate::document_symbols(&mut fixture.workspace, &fixture.path).unwrap_or_default();
    let rendered: Vec<String> = symbols
        .unwrap_or_default()
        .iter()
        .map(|s| format!("{:?} {} ({}) {}", s.kind, s.name, s.detail, fixture.range(&fixture.path, s.selection_range)))
        .collect();
    assert_snapshot!(rendered.join("\n"), @r#"
        Variable project (input) 1:7-1:14 "project"
        Object local.file.notes (resource) 2:21-2:26 "notes"
        Namespace provider other (provider) 5:19-5:24 "other"
        Event moved old -> notes (moved) 7:7-7:10 "old"
        Event forget scratch (forget) 8:8-8:15 "scratch"
        Event check (check) 9:1-9:17 "check true, \"ok\""
        "#);
}

#[test]
fn workspace_symbols_match_ignoring_case() {
    let mut fixture = Fixture::new(MODULES);
    let symbols = crate::workspace_symbols(&mut fixture.workspace, "URL");
    let rendered: Vec<String> = symbols
        .iter()
        .map(|s| format!("{:?} {} in {}: {}", s.kind, s.name, s.container, fixture.location(&s.location)))
        .collect();
    assert_snapshot!(rendered.join("\n"), @r#"
        Property output urls in /fixture: main.infra 9:8-9:12 "urls"
        Property output admin_url in /fixture: main.infra 10:8-10:17 "admin_url"
        Property output url in /fixture/site: site/main.infra 4:8-4:11 "url"
        "#);
}

/// An output and an input both named `hostname` (#18 item 11).
const HOSTNAME: &str = r#"
//- /main.infra
module server "./server" {
  hostname = "web1"
}
output address = server.hostname
//- /server/main.infra
input hostname: string
output hostname = "${hostname}.example.test"
"#;

#[test]
fn a_callers_read_of_an_output_goes_to_the_output_not_the_input_of_its_name() {
    assert_snapshot!(definition(&at(HOSTNAME, "/main.infra", "server.hostname", 8)), @r#"server/main.infra 2:8-2:16 "hostname""#);
    assert_snapshot!(references(&at(HOSTNAME, "/main.infra", "server.hostname", 8)), @r#"
        main.infra 4:25-4:33 "hostname"
        server/main.infra 2:8-2:16 "hostname"
        "#);
}

#[test]
fn inside_the_module_a_shared_name_goes_to_the_input() {
    assert_snapshot!(definition(&at(HOSTNAME, "/server/main.infra", "${hostname}", 3)), @r#"server/main.infra 1:7-1:15 "hostname""#);
    assert_snapshot!(references(&at(HOSTNAME, "/main.infra", "hostname =", 1)), @r#"
        main.infra 2:3-2:11 "hostname"
        server/main.infra 1:7-1:15 "hostname"
        server/main.infra 2:22-2:30 "hostname"
        "#);
}
