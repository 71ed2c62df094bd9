//! Rename, and what it refuses.

use insta::assert_snapshot;

use super::Fixture;

/// The edits a rename to `new_name` makes, per file.
fn check(fixture: &str, new_name: &str) -> String {
    let mut fixture = Fixture::new(fixture);
    let changes = match crate::rename(&mut fixture.workspace, &fixture.path, fixture.position, new_name) {
        Ok(changes) => changes,
        Err(error) => return format!("error ({:?}): {}", error.kind, error.message),
    };
    let mut lines = Vec::new();
    for (path, edits) in &changes {
        for edit in edits {
            let location = crate::Location { path: path.clone(), range: edit.range };
            lines.push(format!("{} -> {:?}", fixture.location(&location), edit.new_text));
        }
    }
    lines.join("\n")
}

fn prepare(fixture: &str) -> String {
    let mut fixture = Fixture::new(fixture);
    match crate::prepare_rename(&mut fixture.workspace, &fixture.path, fixture.position) {
        Ok(Some(range)) => fixture.range(&fixture.path, range),
        Ok(None) => "nothing to rename".to_string(),
        Err(error) => format!("error ({:?}): {}", error.kind, error.message),
    }
}

const SITE: &str = r#"
//- /main.infra
let sites = { blog = { domain = "blog.example.com" } }
module site "./site" for name, spec in sites {
  domain  = spec.domain
}
output urls = [for s in site : s.url]
//- /site/main.infra
input domain$0: string
resource random.id page {
  byte_length = 4
  keepers     = { domain = domain }
}
output url = "https://${domain}/"
"#;

#[test]
fn a_module_input_is_renamed_in_the_module_and_where_callers_set_it() {
    assert_snapshot!(check(SITE, "host"), @r#"
        main.infra 3:3-3:9 "domain" -> "host"
        site/main.infra 1:7-1:13 "domain" -> "host"
        site/main.infra 4:28-4:34 "domain" -> "host"
        site/main.infra 6:25-6:31 "domain" -> "host"
        "#);
}

#[test]
fn an_output_is_renamed_where_callers_read_it() {
    let fixture =
        SITE.replace("input domain$0", "input domain").replace("output url = \"https", "output u$0rl = \"https");
    assert_snapshot!(check(&fixture, "address"), @r#"
        main.infra 5:34-5:37 "url" -> "address"
        site/main.infra 6:8-6:11 "url" -> "address"
        "#);
}

#[test]
fn a_local_is_renamed_within_its_scope() {
    let fixture = "let a = [for x$0 in [1] : x + 1]\nlet b = [for x in [2] : x]\n";
    assert_snapshot!(check(fixture, " y "), @r#"
        main.infra 1:14-1:15 "x" -> "y"
        main.infra 1:25-1:26 "x" -> "y"
        "#);
}

#[test]
fn a_name_that_is_not_an_identifier_is_refused() {
    assert_snapshot!(check(SITE, "not a name"), @"error (InvalidRequest): `not a name` is not a name: use letters, digits and `_`, starting with a letter or `_`");
    assert_snapshot!(check(SITE, "for"), @"error (InvalidRequest): `for` is not a name: use letters, digits and `_`, starting with a letter or `_`");
}

#[test]
fn builtin_functions_and_empty_places_are_refused() {
    assert_snapshot!(check("let a = upp$0er(\"x\")\n", "shout"), @"error (Failed): built-in functions cannot be renamed");
    assert_snapshot!(check("let a = 1$0\n", "b"), @"error (Failed): there is no declared name here to rename");
}

#[test]
fn prepare_gives_the_name_range_or_refuses() {
    assert_snapshot!(prepare("let abc = 1\nlet d = a$0bc\n"), @r#"2:9-2:12 "abc""#);
    assert_snapshot!(prepare("let a = upp$0er(\"x\")\n"), @"error (Failed): built-in functions cannot be renamed");
    assert_snapshot!(prepare("$0\n"), @"nothing to rename");
}

/// A module that takes `hostname` in and gives `hostname` out: outputs are a namespace of
/// their own (#18 item 11).
const HOSTNAME: &str = r#"
//- /main.infra
module server "./server" {
  hostname = "web1"
}
output address = server.hostname
//- /server/main.infra
input hostname: string
let fqdn = "${hostname}.example.test"
output hostname = fqdn
output port = "${hostname}:80"
"#;

#[test]
fn renaming_an_input_leaves_the_output_of_the_same_name() {
    let fixture = HOSTNAME.replace("input hostname", "input host$0name");
    assert_snapshot!(check(&fixture, "host"), @r#"
        main.infra 2:3-2:11 "hostname" -> "host"
        server/main.infra 1:7-1:15 "hostname" -> "host"
        server/main.infra 2:15-2:23 "hostname" -> "host"
        server/main.infra 4:18-4:26 "hostname" -> "host"
        "#);
}

#[test]
fn renaming_an_output_leaves_the_input_of_the_same_name() {
    let fixture = HOSTNAME.replace("output hostname", "output host$0name");
    assert_snapshot!(check(&fixture, "fqdn"), @r#"
        main.infra 4:25-4:33 "hostname" -> "fqdn"
        server/main.infra 3:8-3:16 "hostname" -> "fqdn"
        "#);
    // From where the caller reads it, too.
    let fixture = HOSTNAME.replace("server.hostname", "server.host$0name");
    assert_snapshot!(check(&fixture, "fqdn"), @r#"
        main.infra 4:25-4:33 "hostname" -> "fqdn"
        server/main.infra 3:8-3:16 "hostname" -> "fqdn"
        "#);
}

/// A rename to a name the module already declares is refused: renaming the `for`
/// variable `i` to `region` made `greet(region)` read the variable instead of the
/// input, silently; renaming `let name` to `region` declared it twice.
#[test]
fn a_name_already_declared_in_the_module_is_refused() {
    let module = r#"
input region: string = "us-east-1"
let name = "web"
fn greet(who: string): string = "hi ${who}"
resource local.file web for i$0 in range(2) {
  path    = "out/${name}-${i}.txt"
  content = greet(region)
}
"#;
    let refused =
        "error (Failed): `region` is already declared in this module: renamed to it, the name would clash with \
                   that declaration or change what a reference to it means; choose another name";
    assert_eq!(check(module, "region"), refused);
    assert_eq!(check(&module.replace("i$0 in", "i in").replace("let name", "let n$0ame"), "region"), refused);
    assert_eq!(
        check(&module.replace("i$0 in", "i in").replace("who: string)", "w$0ho: string)"), "name"),
        refused.replace("`region`", "`name`")
    );
    // A name nothing uses is fine.
    assert!(check(module, "index").contains(r#""i" -> "index""#), "{}", check(module, "index"));
}
