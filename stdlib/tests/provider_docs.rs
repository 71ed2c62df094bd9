//! Every built-in provider's page under `docs/providers/` follows its schema: each
//! example checks cleanly, and each resource kind and data source has a table of its
//! attributes that matches the schema exactly.

use std::path::Path;

use infra_compiler::schema::{AttributeSchema, Schema};
use infra_compiler::MemoryLoader;

/// An attribute's row in a provider page's table, as `docs/language.md` writes them.
fn table_row(attribute: &AttributeSchema) -> String {
    let presence = if attribute.required { "required" } else { "optional" };
    let flags: Vec<&str> = [
        (attribute.settable, presence),
        (attribute.computed, "computed"),
        (attribute.force_new, "force-new"),
        (attribute.sensitive, "sensitive"),
    ]
    .into_iter()
    .filter_map(|(set, flag)| set.then_some(flag))
    .collect();
    format!("| `{}` | `{}` | {} | {} |\n", attribute.name, attribute.ty, flags.join(", "), attribute.description)
}

fn table(schema: &Schema) -> String {
    let rows: String = schema.attributes.iter().map(table_row).collect();
    format!("| attribute | type | | description |\n|---|---|---|---|\n{rows}")
}

#[test]
fn provider_pages_follow_their_schemas() {
    let mut failures = Vec::new();
    for provider in infra_stdlib::providers::all() {
        let path = Path::new(env!("CARGO_MANIFEST_DIR")).join(format!("../docs/providers/{}.md", provider.name));
        let Ok(page) = std::fs::read_to_string(&path) else {
            failures.push(format!("no page for provider `{}`", provider.name));
            continue;
        };
        let examples: Vec<&str> =
            page.split("```infra\n").skip(1).map(|e| e.split("```").next().unwrap_or_default()).collect();
        if examples.is_empty() {
            failures.push(format!("{}: no examples", provider.name));
        }
        for (i, example) in examples.iter().enumerate() {
            let mut loader = MemoryLoader::new();
            loader.insert("m/main.infra", *example);
            let analysis = infra_compiler::analyze(Path::new("m"), &loader, infra_stdlib::builtin());
            let errors: Vec<String> = analysis
                .diagnostics
                .iter()
                .filter(|d| d.is_error())
                .map(|d| format!("{} {}", d.code, d.message))
                .collect();
            if !errors.is_empty() {
                failures.push(format!("{}: example {i}: {errors:?}", provider.name));
            }
        }
        let kinds = provider.resources.iter().chain(&provider.data_sources);
        for (kind, schema) in kinds {
            if !page.contains(&table(schema)) {
                failures.push(format!(
                    "{}: no table for `{kind}` matching the schema:\n{}",
                    provider.name,
                    table(schema)
                ));
            }
        }
    }
    assert!(failures.is_empty(), "{}", failures.join("\n"));
}

/// The registry hands out every provider whose schema the checker knows, by name.
#[test]
fn every_schema_has_a_provider() {
    let names: Vec<String> = infra_stdlib::providers::factories().iter().map(|f| f.name().to_string()).collect();
    let schemas: Vec<String> = infra_stdlib::providers::all().into_iter().map(|s| s.name).collect();
    assert_eq!(names, schemas);
    for factory in infra_stdlib::providers::factories() {
        let schema = infra_stdlib::providers::all().into_iter().find(|s| s.name == factory.name());
        assert_eq!(Some(factory.schema()), schema.as_ref(), "`{}` serves the schema the checker uses", factory.name());
    }
}
