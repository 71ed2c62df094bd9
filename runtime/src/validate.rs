//! Running attribute validators on an evaluated configuration at plan time: the values
//! the checker could not see (computed from inputs, functions or other resources) are
//! checked here once known, with the compiler's validators, so a value the API would
//! refuse stops the plan before anything is created. Unknown values are skipped; the
//! provider sees them after apply.

use infra_compiler::diagnostic::{codes, Diagnostic};
use infra_compiler::schema::validate::Subject;
use infra_compiler::schema::{AttributeSchema, Schema, Validator};
use infra_compiler::syntax::ast::Body;
use infra_compiler::Span;

use crate::provider::Attributes;
use crate::value::{format_number, Kind, Value};

/// One step of the path to a refused value.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum PathStep {
    Attribute(String),
    /// The `index`th instance of nested block `name` (0 for a block that is not repeated).
    Block(String, usize),
}

/// A value a validator refused.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Invalid {
    /// Where the value is: the attribute, inside the nested blocks that hold it.
    pub path: Vec<PathStep>,
    /// Never repeats a sensitive value.
    pub message: String,
    /// The accepted form.
    pub help: String,
}

/// Every known value of `config` (an evaluated body of `schema`) that a validator refuses.
pub fn validate_config(schema: &Schema, config: &Attributes) -> Vec<Invalid> {
    let mut found = Vec::new();
    validate_body(schema, config, &mut Vec::new(), &mut found);
    found
}

fn validate_body(schema: &Schema, config: &Attributes, path: &mut Vec<PathStep>, found: &mut Vec<Invalid>) {
    for attribute in schema.attributes.iter().filter(|a| !a.validators.is_empty()) {
        let Some(value) = config.get(&attribute.name) else { continue };
        path.push(PathStep::Attribute(attribute.name.clone()));
        for validator in &attribute.validators {
            let context = Context { attribute, validator, path };
            validate_value(&context, value, attribute.sensitive, found);
        }
        path.pop();
    }
    for block in &schema.blocks {
        let instances: Vec<&Value> = match config.get(&block.name).map(|v| &v.kind) {
            Some(Kind::List(items)) if block.repeated => items.iter().collect(),
            Some(Kind::Map(_)) => config.get(&block.name).into_iter().collect(),
            _ => Vec::new(),
        };
        for (index, instance) in instances.into_iter().enumerate() {
            let Kind::Map(attributes) = &instance.kind else { continue };
            path.push(PathStep::Block(block.name.clone(), index));
            validate_body(&block.schema, attributes, path, found);
            path.pop();
        }
    }
}

struct Context<'a> {
    attribute: &'a AttributeSchema,
    validator: &'a Validator,
    path: &'a [PathStep],
}

fn validate_value(context: &Context<'_>, value: &Value, secret: bool, found: &mut Vec<Invalid>) {
    let secret = secret || value.sensitive;
    let (subject, shown) = match &value.kind {
        Kind::String(text) => (Subject::Text(text), Some(text.to_string())),
        Kind::Number(number) => (Subject::Number(*number), Some(format_number(*number))),
        Kind::List(items) | Kind::Set(items) if context.validator.checks_elements() => {
            return items.iter().for_each(|item| validate_value(context, item, secret, found));
        }
        Kind::Map(entries) if context.validator.checks_elements() => {
            return entries.values().for_each(|item| validate_value(context, item, secret, found));
        }
        Kind::List(items) | Kind::Set(items) => (Subject::Collection(items.len()), None),
        Kind::Map(entries) => (Subject::Collection(entries.len()), None),
        Kind::Null | Kind::Bool(_) | Kind::Unknown(_) => return,
    };
    let name = &context.attribute.name;
    if let Err(rejection) = context.validator.check(name, subject, secret) {
        let shown = if secret { None } else { shown };
        found.push(Invalid {
            path: context.path.to_vec(),
            message: rejection.message(name, shown.as_deref()),
            help: rejection.help,
        });
    }
}

/// The plan-time check of one resource's (or provider configuration's) evaluated body:
/// an `E0406` diagnostic on the first refused value's place in `body` (the others as
/// notes), prefixed with `what` (the instance's address).
pub fn check_body(
    schema: &Schema,
    body: &Body,
    config: &Attributes,
    what: &dyn std::fmt::Display,
) -> Result<(), Diagnostic> {
    let mut invalid = validate_config(schema, config).into_iter();
    let Some(first) = invalid.next() else { return Ok(()) };
    let span = span_of(body, &first.path);
    let mut diagnostic = Diagnostic::error(codes::INVALID_ATTRIBUTE_VALUE, format!("{what}: {}", first.message))
        .with_label(span, "not accepted (known at plan time)")
        .with_help(first.help);
    for other in invalid {
        diagnostic = diagnostic.with_note(format!("also: {}; {}", other.message, other.help));
    }
    Err(diagnostic)
}

/// Where the value at `path` is written in `body`: the attribute's value, or as near to
/// it as the source says (a block made by `for` stands for all its instances).
fn span_of(body: &Body, path: &[PathStep]) -> Span {
    match path {
        [PathStep::Attribute(name), ..] => body.attribute(name).map_or(body.span, |a| a.value.span),
        [PathStep::Block(name, index), rest @ ..] => {
            let blocks: Vec<_> = body.blocks().filter(|b| &b.name.name == name).collect();
            let block = if blocks.iter().any(|b| b.repeat.is_some()) { blocks.first() } else { blocks.get(*index) };
            match block {
                Some(block) if rest.is_empty() => block.name.span,
                Some(block) => span_of(&block.body, rest),
                None => body.span,
            }
        }
        [] => body.span,
    }
}

#[cfg(test)]
mod tests {
    use infra_compiler::schema::{AttributeSchema, BlockSchema, Comparison, Schema, Validator};
    use infra_compiler::types::Type;

    use super::{validate_config, PathStep};
    use crate::provider::Attributes;
    use crate::value::Value;

    fn schema() -> Schema {
        let rule = Schema {
            description: String::new(),
            attributes: vec![
                AttributeSchema::optional("cidr_blocks", Type::list(Type::String), "").validate(Validator::Cidr)
            ],
            blocks: Vec::new(),
        };
        Schema {
            description: String::new(),
            attributes: vec![AttributeSchema::optional("mode", Type::String, "")
                .validate(Validator::OneOf(vec!["a".into(), "b".into()]))],
            blocks: vec![BlockSchema {
                name: "rule".into(),
                description: String::new(),
                schema: rule,
                repeated: true,
                compare: Comparison::Exact,
            }],
        }
    }

    fn rule(cidrs: Vec<Value>) -> Value {
        Value::map([("cidr_blocks".to_string(), Value::list(cidrs))].into_iter().collect())
    }

    /// Elements of lists in repeated blocks are checked, with the path to them; unknown
    /// ones are left for later.
    #[test]
    fn refused_elements_of_nested_blocks_are_found_by_path() {
        let rules = vec![
            rule(vec![Value::string("10.0.0.0/8")]),
            rule(vec![Value::unknown(Type::String), Value::string("10.0.0.0/99")]),
        ];
        let config: Attributes =
            [("mode".to_string(), Value::string("a")), ("rule".to_string(), Value::list(rules))].into_iter().collect();
        let found = validate_config(&schema(), &config);
        assert_eq!(found.len(), 1, "{found:?}");
        assert_eq!(found[0].path, vec![PathStep::Block("rule".into(), 1), PathStep::Attribute("cidr_blocks".into())]);
        assert!(found[0].message.starts_with("`10.0.0.0/99` is not a CIDR block"), "{}", found[0].message);
    }

    #[test]
    fn a_sensitive_value_is_not_repeated() {
        let config: Attributes =
            [("mode".to_string(), Value::string("hunter2").mark_sensitive())].into_iter().collect();
        let found = validate_config(&schema(), &config);
        assert_eq!(found.len(), 1);
        assert!(!found[0].message.contains("hunter2") && !found[0].help.contains("hunter2"), "{found:?}");
        assert!(found[0].message.starts_with("the value of `mode`"), "{}", found[0].message);
    }
}
