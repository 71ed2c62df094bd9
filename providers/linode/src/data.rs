//! The data sources `linode.regions`, `linode.types` and `linode.images`: Linode's lists,
//! narrowed by `filter` blocks and ordered as Terraform's `linode_regions`,
//! `linode_instance_types` and `linode_images` do.

use infra_compiler::schema::{AttributeSchema, BlockSchema, Schema};
use infra_compiler::types::Type;
use infra_runtime::provider::{Attributes, ProviderError, ProviderResult};
use infra_runtime::Value;
use serde_json::Value as Json;

use infra_provider_kit::{attribute, kind};

use super::client::Client;
use super::{flag, from_json, one_of, repeated, required, strings, text};

/// One data source: where Linode lists it, the attribute holding the items, and the
/// fields each item has (all of them usable in `filter` and `order_by`).
struct Listing {
    path: &'static str,
    items: &'static str,
    fields: &'static [(&'static str, Field)],
}

#[derive(Clone, Copy)]
enum Field {
    Text,
    Number,
    Flag,
    Texts,
    Price,
}

impl Field {
    fn ty(self) -> Type {
        match self {
            Field::Text => Type::String,
            Field::Number => Type::Number,
            Field::Flag => Type::Bool,
            Field::Texts => Type::list(Type::String),
            Field::Price => Type::object([("hourly", Type::Number), ("monthly", Type::Number)]),
        }
    }
}

const REGIONS: Listing = Listing {
    path: "/regions",
    items: "regions",
    fields: &[
        ("id", Field::Text),
        ("label", Field::Text),
        ("country", Field::Text),
        ("status", Field::Text),
        ("capabilities", Field::Texts),
    ],
};

const TYPES: Listing = Listing {
    path: "/linode/types",
    items: "types",
    fields: &[
        ("id", Field::Text),
        ("label", Field::Text),
        ("class", Field::Text),
        ("disk", Field::Number),
        ("memory", Field::Number),
        ("vcpus", Field::Number),
        ("transfer", Field::Number),
        ("network_out", Field::Number),
        ("price", Field::Price),
    ],
};

const IMAGES: Listing = Listing {
    path: "/images",
    items: "images",
    fields: &[
        ("id", Field::Text),
        ("label", Field::Text),
        ("description", Field::Text),
        ("vendor", Field::Text),
        ("type", Field::Text),
        ("status", Field::Text),
        ("created_by", Field::Text),
        ("created", Field::Text),
        ("size", Field::Number),
        ("is_public", Field::Flag),
        ("deprecated", Field::Flag),
    ],
};

fn listing(kind: &str) -> Option<&'static Listing> {
    match kind {
        "regions" => Some(&REGIONS),
        "types" => Some(&TYPES),
        "images" => Some(&IMAGES),
        _ => None,
    }
}

/// The data sources' schemas, by name.
pub fn schemas() -> Vec<(&'static str, Schema)> {
    vec![
        ("images", schema(&IMAGES, "The images Linode offers and the account's own, such as `linode/debian12`.")),
        ("regions", schema(&REGIONS, "The regions Linode runs in, such as `us-east`.")),
        ("types", schema(&TYPES, "The plans a Linode can have, such as `g6-nanode-1`, with their sizes and prices.")),
    ]
}

fn schema(listing: &Listing, description: &str) -> Schema {
    let names: Vec<&str> = listing.fields.iter().map(|(name, _)| *name).collect();
    let item = Type::object(listing.fields.iter().map(|(name, field)| (*name, field.ty())));
    let mut attributes = vec![
        AttributeSchema::optional(
            "order_by",
            Type::String,
            "The field the items are sorted by; Linode's order when left out.",
        )
        .validate(one_of(&names)),
        AttributeSchema::optional("order", Type::String, "The direction: `asc` (the default) or `desc`.")
            .validate(one_of(&["asc", "desc"])),
        AttributeSchema::computed(listing.items, Type::list(item), "The items every `filter` accepts, in order."),
    ];
    if listing.items == "images" {
        attributes.insert(
            2,
            AttributeSchema::optional(
                "latest",
                Type::Bool,
                "Keep only the most recently created image that the filters accept.",
            ),
        );
    }
    let mut schema = kind(description, "The data source's id: the filters and order it was read with.", attributes);
    schema.blocks = vec![filter_block(&names)];
    schema
}

fn filter_block(names: &[&str]) -> BlockSchema {
    repeated(
        "filter",
        "Keeps the items whose field `name` matches one of `values`; every filter must accept an item.",
        vec![
            required("name", "The field, such as `id` or `label`.").validate(one_of(names)),
            AttributeSchema::required(
                "values",
                Type::list(Type::String),
                "The values accepted; an item matches when its field matches any of them (a list field when any element does).",
            ),
            AttributeSchema::optional(
                "match_by",
                Type::String,
                "How values match: `exact` (the default), `substring`, or `re` (a regular expression that must match the whole field).",
            )
            .validate(one_of(&["exact", "substring", "re"])),
        ],
    )
}

/// Reads the data source `kind`.
pub async fn read(client: &Client, kind: &str, config: &Attributes) -> ProviderResult<Attributes> {
    let Some(listing) = listing(kind) else {
        return Err(ProviderError::new(format!("the `linode` provider has no data source `{kind}`"))
            .with_help("its data sources are `linode.images`, `linode.regions` and `linode.types`"));
    };
    let filters = filters(config)?;
    let listed = client.list(&format!("list the {}", listing.items), listing.path).await?;
    let mut items: Vec<Attributes> = listed
        .iter()
        .map(|document| {
            listing.fields.iter().map(|(name, field)| (name.to_string(), value(document, name, *field))).collect()
        })
        .filter(|item| filters.iter().all(|filter| filter.accepts(item)))
        .collect();
    if let Some(field) = text(config, "order_by") {
        items.sort_by(|a, b| order(&a[&field], &b[&field]));
    }
    if text(config, "order").as_deref() == Some("desc") {
        items.reverse();
    }
    if flag(config, "latest") == Some(true) {
        items.sort_by(|a, b| order(&b["created"], &a["created"]));
        items.truncate(1);
    }
    let mut result = config.clone();
    result.insert("id".to_string(), Value::string(identity(kind, config)));
    result.insert(listing.items.to_string(), Value::list(items.into_iter().map(Value::object).collect()));
    Ok(result)
}

fn value(document: &Json, name: &str, field: Field) -> Value {
    let raw = &document[name];
    match field {
        Field::Price => {
            let price = ["hourly", "monthly"].into_iter().map(|k| (k.to_string(), from_json(&raw[k])));
            Value::object(price.collect())
        }
        Field::Texts if raw.is_null() => Value::list(Vec::new()),
        _ => from_json(raw),
    }
}

fn order(a: &Value, b: &Value) -> std::cmp::Ordering {
    match (a.as_number(), b.as_number()) {
        (Some(x), Some(y)) => x.total_cmp(&y),
        _ => matchable(a).cmp(&matchable(b)),
    }
}

/// A stable id from what the data source was asked, as Terraform makes one.
fn identity(kind: &str, config: &Attributes) -> String {
    let mut parts = vec![kind.to_string()];
    for block in attribute(config, "filter").as_list().unwrap_or_default() {
        let Some(block) = block.as_map() else { continue };
        let get = |name: &str| block.get(name).and_then(Value::as_str).unwrap_or_default().to_string();
        let values = block.get("values").and_then(Value::as_list).unwrap_or_default();
        let values: Vec<&str> = values.iter().filter_map(Value::as_str).collect();
        parts.push(format!("{}:{}={}", get("name"), get("match_by"), values.join(",")));
    }
    for name in ["order_by", "order"] {
        if let Some(value) = text(config, name) {
            parts.push(format!("{name}={value}"));
        }
    }
    if flag(config, "latest") == Some(true) {
        parts.push("latest".to_string());
    }
    parts.join(";")
}

struct Filter {
    name: String,
    values: Vec<String>,
    by: Match,
}

enum Match {
    Exact,
    Substring,
    Pattern(Vec<regex::Regex>),
}

fn filters(config: &Attributes) -> ProviderResult<Vec<Filter>> {
    let mut filters = Vec::new();
    for block in attribute(config, "filter").as_list().unwrap_or_default() {
        let Some(block) = block.as_map() else { continue };
        let name = block.get("name").and_then(Value::as_str).unwrap_or_default().to_string();
        let values = strings(block, "values");
        let by = match block.get("match_by").and_then(Value::as_str).unwrap_or("exact") {
            "substring" => Match::Substring,
            "re" => Match::Pattern(
                values
                    .iter()
                    .map(|v| {
                        regex::Regex::new(&format!("^(?:{v})$")).map_err(|error| {
                            ProviderError::new(format!("`{v}` is not a regular expression: {error}"))
                                .on_attribute("filter")
                                .with_help("`match_by = \"re\"` takes regular expressions in Rust's syntax")
                        })
                    })
                    .collect::<ProviderResult<_>>()?,
            ),
            _ => Match::Exact,
        };
        filters.push(Filter { name, values, by });
    }
    Ok(filters)
}

impl Filter {
    fn accepts(&self, item: &Attributes) -> bool {
        let field = attribute(item, &self.name);
        match field.as_list() {
            Some(elements) => elements.iter().any(|element| self.matches(&matchable(element))),
            None => self.matches(&matchable(field)),
        }
    }

    fn matches(&self, text: &str) -> bool {
        match &self.by {
            Match::Exact => self.values.iter().any(|v| v == text),
            Match::Substring => self.values.iter().any(|v| text.contains(v.as_str())),
            Match::Pattern(patterns) => patterns.iter().any(|p| p.is_match(text)),
        }
    }
}

/// A field as a filter compares it: strings as they are, numbers without a needless
/// fraction (`2`, `0.0075`), booleans as `true`/`false`.
fn matchable(value: &Value) -> String {
    if let Some(s) = value.as_str() {
        return s.to_string();
    }
    if let Some(n) = value.as_number() {
        return if n.fract() == 0.0 && n.abs() < 9.0e15 { format!("{}", n as i64) } else { n.to_string() };
    }
    if let Some(b) = value.as_bool() {
        return b.to_string();
    }
    String::new()
}
