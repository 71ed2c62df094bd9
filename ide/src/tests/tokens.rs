//! Semantic tokens: names coloured by what they refer to, and keywords.

use insta::assert_snapshot;

use super::Fixture;

/// Every token, as `line:col "text" Kind` with its modifiers.
fn check(fixture: &str) -> String {
    let mut fixture = Fixture::new(fixture);
    let tokens = match crate::semantic_tokens(&mut fixture.workspace, &fixture.path) {
        Ok(tokens) => tokens,
        Err(error) => return format!("error: {}", error.message),
    };
    let mut lines = Vec::new();
    for token in tokens {
        let mut line = format!("{} {:?}", fixture.range(&fixture.path, token.range), token.kind);
        if token.declaration {
            line.push_str(" declaration");
        }
        if token.readonly {
            line.push_str(" readonly");
        }
        lines.push(line);
    }
    lines.join("\n")
}

#[test]
fn names_keywords_and_resource_types() {
    let fixture = r#"input project: string = "demo"
fn twice(n: number): number = n * 2
resource local.file notes for i in range(twice(1)) {
  path = "out/${project}-${i}.txt"
  precondition project != "", "named"
  postcondition self.size >= 0, "written"
  lifecycle {
    create_before_destroy = true
  }
}
provider local as other {
}
moved old_notes -> notes
forget scratch
check length(project) > 0, "long enough"
"#;
    assert_snapshot!(check(fixture), @r#"
        1:1-1:6 "input" Keyword
        1:7-1:14 "project" Variable declaration readonly
        2:1-2:3 "fn" Keyword
        2:4-2:9 "twice" Function declaration
        2:10-2:11 "n" Parameter declaration
        2:31-2:32 "n" Parameter
        3:1-3:9 "resource" Keyword
        3:10-3:20 "local.file" Type
        3:21-3:26 "notes" Variable declaration
        3:31-3:32 "i" Parameter declaration
        3:36-3:41 "range" Function
        3:42-3:47 "twice" Function
        4:3-4:7 "path" Property
        4:17-4:24 "project" Variable readonly
        4:28-4:29 "i" Parameter
        5:3-5:15 "precondition" Keyword
        5:16-5:23 "project" Variable readonly
        6:3-6:16 "postcondition" Keyword
        7:3-7:12 "lifecycle" Property
        8:5-8:26 "create_before_destroy" Property
        11:1-11:9 "provider" Keyword
        11:19-11:24 "other" Namespace declaration
        13:1-13:6 "moved" Keyword
        13:20-13:25 "notes" Variable
        14:1-14:7 "forget" Keyword
        15:1-15:6 "check" Keyword
        15:7-15:13 "length" Function
        15:14-15:21 "project" Variable readonly
        "#);
}

#[test]
fn module_outputs_and_inputs_are_properties() {
    let fixture = r#"
//- /main.infra
module site "./site" {
  domain = "a"
}
output url = site.url
//- /site/main.infra
input domain: string
output url = domain
"#;
    assert_snapshot!(check(fixture), @r#"
        1:1-1:7 "module" Keyword
        1:8-1:12 "site" Namespace declaration
        2:3-2:9 "domain" Property
        4:1-4:7 "output" Keyword
        4:8-4:11 "url" Property declaration
        4:14-4:18 "site" Namespace
        4:19-4:22 "url" Property
        "#);
}

#[test]
fn a_broken_file_keeps_the_tokens_of_the_items_that_parse() {
    assert_snapshot!(check("let a = 1\nresource local.file {\n  path = \nlet b = a\n"), @r#"
        1:1-1:4 "let" Keyword
        1:5-1:6 "a" Variable declaration readonly
        4:1-4:4 "let" Keyword
        4:5-4:6 "b" Variable declaration readonly
        4:9-4:10 "a" Variable readonly
        "#);
}

#[test]
fn an_empty_file_has_no_tokens() {
    assert_snapshot!(check(""), @"");
}
