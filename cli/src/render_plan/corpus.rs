//! The renderer's snapshot corpus: each `cli/tests/data/render/*.json` file describes a
//! plan (instances with their attributes before and after, as JSON) and is rendered at
//! its width, without colour, into a snapshot beside this file.
//!
//! Values are JSON, with three escapes: `{"$unknown": true}` for a value known after
//! apply, `{"$sensitive": VALUE}` for a marked value and `{"$set": [...]}` for a set.

use std::collections::{BTreeMap, BTreeSet};

use infra_runtime::diff::{Action, AttributeChange, InstanceDiff, ReplaceCause};
use infra_runtime::plan::{Plan, PlannedInstance};
use infra_runtime::provider::Attributes;
use infra_runtime::state::Mode;
use infra_runtime::Value;
use serde_json::Value as Json;

use super::{render_chunked, render_with, Style, PLAIN_WIDTH};

#[test]
fn render_corpus() {
    insta::glob!("../../tests/data/render", "*.json", |path| {
        let text = std::fs::read_to_string(path).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
        let case: Json = serde_json::from_str(&text).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
        let width = case["width"].as_u64().map_or(PLAIN_WIDTH, |w| w as usize);
        let rendered = render_with(&plan(&case), &[], Style { color: false, width });
        // Printed in chunks (after every instance, here), the text is the same; and
        // rendered on two threads, each instance in turn.
        let chunked = render_chunked(&plan(&case), &[], Style { color: false, width }, (1, 0));
        assert_eq!(chunked, rendered, "{}", path.display());
        let two_threads = render_chunked(&plan(&case), &[], Style { color: false, width }, (1, 1));
        assert_eq!(two_threads, rendered, "{}", path.display());
        insta::assert_snapshot!(rendered);
    });
}

/// Every secret of `sensitive.json` (attributes the schema marks, marked elements of
/// lists and maps, marked values in nested blocks, text of several lines, an output) is
/// rendered as `(sensitive value)` and never appears, not even one line of it.
#[test]
fn secrets_never_appear_in_any_position() {
    let path = concat!(env!("CARGO_MANIFEST_DIR"), "/tests/data/render/sensitive.json");
    let case: Json = serde_json::from_str(&std::fs::read_to_string(path).expect("the case")).expect("JSON");
    for width in [40, PLAIN_WIDTH, 200] {
        let rendered = render_with(&plan(&case), &[], Style { color: false, width });
        let secrets = ["old-pass", "new-pass", "GRANT", "CREATE USER", "\"x\"", "\"y\"", "b.internal", "b2.internal"];
        let more = ["t-1", "t-2", "k1", "k2", "line 1", "multi", "BEGIN", "AAA", "hunter2"];
        for secret in secrets.iter().chain(&more) {
            assert!(!rendered.contains(secret), "`{secret}` leaked at width {width}:\n{rendered}");
        }
        assert!(rendered.matches("(sensitive value)").count() >= 12, "{rendered}");
    }
}

fn plan(case: &Json) -> Plan {
    let instances = case["instances"].as_array().map_or(Vec::new(), |list| list.iter().map(instance).collect());
    let outputs = attributes(&case["outputs"]).unwrap_or_default().into_btree();
    Plan { instances, outputs, ..Plan::default() }
}

fn instance(case: &Json) -> PlannedInstance {
    let names = |key: &str| -> BTreeSet<String> {
        case[key]
            .as_array()
            .map_or(BTreeSet::new(), |a| a.iter().filter_map(|n| n.as_str().map(String::from)).collect())
    };
    let before = attributes(&case["before"]);
    let after = attributes(&case["after"]);
    let forces = names("forces");
    let mut keys: BTreeSet<&infra_runtime::value::Name> = BTreeSet::new();
    keys.extend(before.iter().flat_map(|a| a.keys()));
    keys.extend(after.iter().flat_map(|a| a.keys()));
    let changes = keys
        .into_iter()
        .map(|name| AttributeChange {
            name: name.clone(),
            before: before.as_ref().and_then(|a| a.get(name)).cloned(),
            after: after.as_ref().and_then(|a| a.get(name)).cloned(),
            forces_replacement: forces.contains(name.as_str()),
        })
        .collect();
    let cause = match case["cause"].as_str() {
        Some("requested") => Some(ReplaceCause::Requested),
        Some("replace_when") => Some(ReplaceCause::ReplaceWhen),
        Some("type_changed") => Some(ReplaceCause::TypeChanged),
        _ => None,
    };
    PlannedInstance {
        address: case["address"].as_str().unwrap_or("x").parse().expect("an address"),
        resource_type: case["type"].as_str().unwrap_or("null.resource").into(),
        mode: Mode::Managed,
        diff: InstanceDiff::new(action(case["action"].as_str().unwrap_or("")), changes, cause),
        sensitive: names("sensitive"),
        drifted_from: attributes(&case["drifted_from"]),
        record_anyway: false,
        moved_from: case["moved_from"].as_str().map(|a| a.parse().expect("an address")),
        imported: case["imported"].as_str().map(String::from),
    }
}

fn action(name: &str) -> Action {
    match name {
        "create" => Action::Create,
        "update" => Action::Update,
        "replace" => Action::Replace { create_before_destroy: false },
        "create-before-destroy" => Action::Replace { create_before_destroy: true },
        "delete" => Action::Delete,
        "read" => Action::Read,
        "forget" => Action::Forget,
        "no-op" => Action::NoOp,
        other => panic!("unknown action `{other}`"),
    }
}

fn attributes(json: &Json) -> Option<Attributes> {
    json.as_object().map(|object| object.iter().map(|(k, v)| (k.clone(), value(v))).collect())
}

fn value(json: &Json) -> Value {
    match json {
        Json::Null => Value::null(),
        Json::Bool(b) => Value::bool(*b),
        Json::Number(n) => Value::number(n.as_f64().unwrap_or_default()),
        Json::String(s) => Value::string(s.as_str()),
        Json::Array(items) => Value::list(items.iter().map(value).collect()),
        Json::Object(object) => {
            if object.contains_key("$unknown") {
                Value::unknown(infra_compiler::types::Type::Any)
            } else if let Some(inner) = object.get("$sensitive") {
                value(inner).mark_sensitive()
            } else if let Some(Json::Array(items)) = object.get("$set") {
                Value::set(items.iter().map(value).collect())
            } else {
                Value::map(object.iter().map(|(k, v)| (k.clone(), value(v))).collect::<BTreeMap<_, _>>())
            }
        }
    }
}
