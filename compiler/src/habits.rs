//! Terraform habits: recognising what people moving from Terraform write out of habit
//! (`var.region`, `resource "aws_instance" "web" {`, `count = 2`) and saying the Infra
//! way in one line. Every diagnostic here is E0110; `docs/errors/E0110.md` is the whole
//! translation table.
//!
//! The parser asks [`syntax`] about the line a syntax error is on, and the checker asks
//! [`reference`] about an undefined name read with an attribute and [`meta_argument`]
//! about an attribute a resource does not have.

use crate::diagnostic::{codes, Diagnostic};
use crate::span::{FileId, Span};

/// A syntax error's line, when it is Terraform's syntax: the dedicated diagnostic, or
/// `None` to keep the parser's own. `offset` is where the parser stopped.
pub fn syntax(file: FileId, text: &str, offset: usize) -> Option<Diagnostic> {
    let offset = offset.min(text.len());
    let line_start = text[..offset].rfind('\n').map_or(0, |i| i + 1);
    let line_end = text[offset..].find('\n').map_or(text.len(), |i| offset + i);
    let line = &text[line_start..line_end];
    let indent = line.len() - line.trim_start().len();
    let words: Vec<&str> = line.split_whitespace().collect();
    let keyword = *words.first()?;
    let quoted = |i: usize| words.get(i).and_then(|w| w.strip_prefix('"')).and_then(|w| w.strip_suffix('"'));
    let (message, help) = match keyword {
        "resource" | "data" if quoted(1).is_some() => {
            let kind = quoted(1).map_or_else(String::new, provider_kind);
            let name = quoted(2).unwrap_or("NAME");
            (
                format!(
                    "a {}'s kind and name are written without quotes in Infra",
                    if keyword == "data" { "data source" } else { "resource" }
                ),
                format!("write `{keyword} {kind} {name} {{`: the kind is `provider.kind`, then the name"),
            )
        }
        "variable" => {
            let name =
                words.get(1).map(|w| w.trim_matches('"')).filter(|w| !w.is_empty() && *w != "{").unwrap_or("NAME");
            (
                "Terraform's `variable` is an `input` in Infra".to_string(),
                format!("write `input {name}: TYPE = DEFAULT {{ description = \"...\" }}`, and read it as `{name}`"),
            )
        }
        "locals" => (
            "Terraform's `locals` block is a `let` per value in Infra".to_string(),
            "write `let NAME = EXPR` for each value, and read it as `NAME`".to_string(),
        ),
        "output" if quoted(1).is_some() => {
            let name = quoted(1).unwrap_or("NAME");
            (
                "an output is written without quotes in Infra".to_string(),
                format!("write `output {name} = EXPR`, with `{{ description = \"...\" }}` after it if needed"),
            )
        }
        "provider" if quoted(1).is_some() => {
            let name = quoted(1).unwrap_or("NAME");
            (
                "a provider is written without quotes in Infra".to_string(),
                format!("write `provider {name} {{ ... }}`; a second configuration is `provider {name} as west {{`"),
            )
        }
        "module" if quoted(1).is_some() => {
            let name = quoted(1).unwrap_or("NAME");
            (
                "a module call is written without quotes, with its source after the name".to_string(),
                format!("write `module {name} \"./path\" {{ INPUT = VALUE }}`"),
            )
        }
        "terraform" => (
            "Terraform's `terraform` block has no counterpart in Infra".to_string(),
            "providers are built in and need no `required_providers`; the state is set with `state local { ... }` \
             or `state postgres { ... }`"
                .to_string(),
        ),
        "dynamic" if indent > 0 => {
            let block = quoted(1).unwrap_or("BLOCK");
            (
                "Terraform's `dynamic` block is a block with a `for` clause in Infra".to_string(),
                format!("write `{block} for rule in rules {{ ... }}` and use `rule` inside"),
            )
        }
        "provisioner" | "connection" if indent > 0 => (
            format!("Terraform's `{keyword}` blocks have no counterpart in Infra"),
            "what runs on a machine is a resource: an `exec.command` that depends on the server, or the `ssh` \
             provider's resources, so it is planned and shows drift"
                .to_string(),
        ),
        _ => return None,
    };
    let span = Span::new(file, line_start + indent, line_start + indent + keyword.len());
    Some(Diagnostic::error(codes::TERRAFORM_SYNTAX, message).with_label(span, "Terraform's syntax").with_help(help))
}

/// `aws_instance` → `aws.instance`: Infra writes the provider and the kind apart.
fn provider_kind(terraform: &str) -> String {
    match terraform.split_once('_') {
        Some((provider, kind)) => format!("{provider}.{kind}"),
        None => terraform.to_string(),
    }
}

/// `ROOT.ATTRIBUTE` where `ROOT` is not declared, when it is one of Terraform's
/// namespaces (`var`, `local`, `count`, `each`, `path`, `terraform`, `self`...).
pub fn reference(root: &str, attribute: &str, span: Span) -> Option<Diagnostic> {
    let (message, help) = match (root, attribute) {
        ("var", name) => (
            format!("`var.{name}` is Terraform's way to read an input"),
            format!("write `{name}`: an input is read by its name"),
        ),
        ("local", name) => (
            format!("`local.{name}` is Terraform's way to read a local value"),
            format!("write `{name}`: a `let` is read by its name"),
        ),
        ("count", _) => (
            "`count.index` is Terraform's; Infra repeats with `for`".to_string(),
            "write `for i in range(N)` on the declaration, and `i` for the index".to_string(),
        ),
        ("each", "key" | "value") => (
            format!("`each.{attribute}` is Terraform's; Infra repeats with `for`"),
            "write `for key, value in MAP` on the declaration, and use `key` and `value`".to_string(),
        ),
        ("path", "module" | "root" | "cwd") => (
            format!("`path.{attribute}` is Terraform's; Infra has no `path` object"),
            "paths in Infra are relative to the module's directory already: write the relative path itself, as in \
             `file(\"files/app.conf\")`"
                .to_string(),
        ),
        ("terraform", "workspace") => (
            "`terraform.workspace` is Terraform's; Infra does not expose the workspace name".to_string(),
            "declare an input for it (`input env: string`) and give it with `--var env=...`".to_string(),
        ),
        _ => return None,
    };
    Some(Diagnostic::error(codes::TERRAFORM_SYNTAX, message).with_label(span, "Terraform's syntax").with_help(help))
}

/// An attribute a resource or data source does not have, when it is one of Terraform's
/// meta-arguments.
pub fn meta_argument(name: &str, span: Span) -> Option<Diagnostic> {
    let (message, help) = match name {
        "count" => (
            "Terraform's `count` is a `for` clause on the declaration in Infra",
            "write `resource KIND NAME for i in range(N) {` (or `if COND` for zero or one) and use `i` inside",
        ),
        "for_each" => (
            "Terraform's `for_each` is a `for` clause on the declaration in Infra",
            "write `resource KIND NAME for key, value in MAP {` and use `key` and `value` inside",
        ),
        _ => return None,
    };
    Some(Diagnostic::error(codes::TERRAFORM_SYNTAX, message).with_label(span, "Terraform's syntax").with_help(help))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_the_infra_kind_of_a_terraform_resource_type() {
        let text = "resource \"aws_instance\" \"web\" {\n}\n";
        let diagnostic = syntax(FileId(0), text, 9).expect("recognised");
        assert_eq!(
            diagnostic.help.as_deref(),
            Some("write `resource aws.instance web {`: the kind is `provider.kind`, then the name")
        );
    }

    #[test]
    fn leaves_other_syntax_errors_alone() {
        assert!(syntax(FileId(0), "let x = (1\n", 10).is_none());
        assert!(syntax(FileId(0), "dynamic \"x\" {", 8).is_none(), "only inside a body");
        assert!(reference("web", "id", Span::new(FileId(0), 0, 1)).is_none());
    }
}
