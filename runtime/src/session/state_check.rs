//! A loaded state checked against the providers' schemas before anything uses it: a
//! state that is valid JSON but wrong inside (edited by hand, pushed, from another tool)
//! is reported with the state's location, the address and the attribute, rather than
//! surfacing as an unrelated error or a plan that says "No changes".

use std::sync::Arc;

use infra_compiler::diagnostic::Diagnostic;

use infra_compiler::types::Type;

use crate::provider::ProviderFactory;
use crate::state::{Mode, State};
use crate::value::{Kind, Value};

/// An error for each instance whose type no provider offers, and for each attribute
/// whose stored value is not of the type its schema gives.
pub fn check(state: &State, providers: &[Arc<dyn ProviderFactory>], location: &str) -> Vec<Diagnostic> {
    let mut diagnostics = Vec::new();
    for (address, instance) in &state.instances {
        let (provider, kind) = instance.resource_type.split_once('.').unwrap_or((&instance.resource_type, ""));
        let schema = providers.iter().find(|f| f.name() == provider).and_then(|factory| {
            let schema = factory.schema();
            match instance.mode {
                Mode::Managed => schema.resources.get(kind),
                Mode::Data => schema.data_sources.get(kind),
            }
        });
        let Some(schema) = schema else {
            diagnostics.push(invalid(
                location,
                format!("`{address}` has type `{}`, which no provider offers", instance.resource_type),
            ));
            continue;
        };
        for attribute in &schema.attributes {
            let Some(value) = instance.attributes.get(&attribute.name) else { continue };
            if !stored_as(value, &attribute.ty) {
                let shown =
                    if value.contains_sensitive() { "a sensitive value".to_string() } else { value.to_string() };
                diagnostics.push(invalid(
                    location,
                    format!(
                        "`{address}` stores {shown} for `{}`, which `{}` needs to be a `{}`",
                        attribute.name, instance.resource_type, attribute.ty
                    ),
                ));
            }
        }
    }
    diagnostics
}

/// Whether `value` is stored as a value of type `ty` is: of that kind exactly (state is
/// written from values of the schema's types, so nothing in it needs converting; a
/// number where a string belongs was put there by hand), or null.
fn stored_as(value: &Value, ty: &Type) -> bool {
    match (&value.kind, ty) {
        (Kind::Null | Kind::Unknown(_), _) | (_, Type::Any | Type::Null) => true,
        (Kind::String(_), Type::String) | (Kind::Number(_), Type::Number) | (Kind::Bool(_), Type::Bool) => true,
        (Kind::List(items) | Kind::Set(items), Type::List(element) | Type::Set(element)) => {
            items.iter().all(|item| stored_as(item, element))
        }
        (Kind::List(items), Type::Tuple(elements)) => {
            items.len() == elements.len() && items.iter().zip(elements).all(|(item, ty)| stored_as(item, ty))
        }
        (Kind::Map(entries), Type::Map(element)) => entries.values().all(|entry| stored_as(entry, element)),
        (Kind::Map(entries), Type::Object(fields)) => {
            fields.iter().all(|(name, field)| entries.get(name).is_none_or(|entry| stored_as(entry, &field.ty)))
        }
        _ => false,
    }
}

fn invalid(location: &str, message: String) -> Diagnostic {
    Diagnostic::error(crate::codes::STATE_CORRUPT, format!("the state at `{location}` is not valid: {message}"))
        .with_help(
            "the state was edited by hand or written by another tool: fix the instance (`infra state pull`, edit, \
             `infra state push`) or remove it with `infra state rm`; nothing was changed",
        )
}
