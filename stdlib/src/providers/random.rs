//! The `random` provider: random values generated once and then kept in state.

use std::sync::Arc;

use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine;
use infra_compiler::schema::{AttributeSchema, ProviderSchema, Schema, Validator};
use infra_compiler::types::Type;
use infra_runtime::provider::{Attributes, Provider, ProviderError, ProviderFactory, ProviderResult, ReadResult};
use infra_runtime::Value;
use rand::rngs::OsRng;
use rand::seq::SliceRandom;
use rand::{Rng, RngCore};

use infra_provider_kit::{
    attribute, keep_computed, kind, plan_attributes, provider, resource_schema, unknown_kind, whole_number,
};

use super::stateless::unconfigured_factory;

pub fn schema() -> ProviderSchema {
    provider(
        "random",
        "Random values that are generated once, kept in state and regenerated only when replaced.",
        vec![("id", id()), ("integer", integer()), ("password", password())],
        vec![],
    )
}

/// Values that force a new random value whenever any of them changes.
fn keepers() -> AttributeSchema {
    AttributeSchema::optional(
        "keepers",
        Type::map(Type::String),
        "Values that generate a new random value whenever any of them changes.",
    )
    // An imported object has none: setting them then is no new value.
    .force_new_only_if_set()
}

fn password() -> Schema {
    kind(
        "A random password, kept secret in plans and outputs.",
        "A fixed placeholder; the password itself is in `result`.",
        vec![
            AttributeSchema::required("length", Type::Number, "The number of characters in the password.")
                .force_new()
                .validate(Validator::Range { min: 1, max: MAX_LENGTH }),
            AttributeSchema::optional(
                "special",
                Type::Bool,
                "Whether to include punctuation characters such as `!@#$%&*`; true by default.",
            )
            .force_new(),
            keepers(),
            AttributeSchema::computed("result", Type::String, "The generated password.").sensitive(),
        ],
    )
}

fn integer() -> Schema {
    kind(
        "A random whole number within a range.",
        "The generated number, as a string.",
        vec![
            AttributeSchema::required("min", Type::Number, "The smallest number to generate.").force_new(),
            AttributeSchema::required("max", Type::Number, "The largest number to generate.").force_new(),
            keepers(),
            AttributeSchema::computed("result", Type::Number, "The generated number."),
        ],
    )
}

fn id() -> Schema {
    kind(
        "Random bytes for naming things uniquely, in several encodings.",
        "The random bytes in URL-safe Base64 without padding.",
        vec![
            AttributeSchema::required("byte_length", Type::Number, "The number of random bytes to generate.")
                .force_new()
                .validate(Validator::Range { min: 1, max: MAX_LENGTH }),
            keepers(),
            AttributeSchema::computed("hex", Type::String, "The random bytes in lower-case hexadecimal."),
            AttributeSchema::computed("b64", Type::String, "The random bytes in URL-safe Base64 without padding."),
        ],
    )
}

/// The `random` provider type.
pub fn factory() -> Arc<dyn ProviderFactory> {
    unconfigured_factory(schema(), Arc::new(RandomProvider { schema: schema() }))
}

/// The most characters in a password and bytes in an id: far more than any use needs, and
/// small enough that a typo cannot exhaust memory.
pub const MAX_LENGTH: i64 = 4096;

/// The punctuation a password with `special` may contain: Terraform's default set.
pub const SPECIAL_CHARACTERS: &str = "!@#$%&*()-_=+[]{}<>:?";

struct RandomProvider {
    schema: ProviderSchema,
}

#[async_trait::async_trait]
impl Provider for RandomProvider {
    fn validate(&self, kind: &str, config: &Attributes) -> Vec<ProviderError> {
        let checked = match kind {
            "password" => whole_number(config, "length").and_then(|n| in_range("length", n, 1, MAX_LENGTH)),
            "id" => whole_number(config, "byte_length").and_then(|n| in_range("byte_length", n, 1, MAX_LENGTH)),
            "integer" => integer_range(config).map(drop),
            _ => Err(unknown_kind(&self.schema, kind)),
        };
        checked.err().into_iter().collect()
    }

    fn plan(&self, kind: &str, prior: Option<&Attributes>, config: &Attributes) -> ProviderResult<Attributes> {
        if let Some(error) = self.validate(kind, config).into_iter().next() {
            return Err(error);
        }
        let defaults = match kind {
            "password" => vec![("special", Value::bool(true))],
            _ => Vec::new(),
        };
        Ok(plan_attributes(resource_schema(&self.schema, kind)?, prior, config, &defaults))
    }

    async fn create(&self, kind: &str, planned: &Attributes) -> ProviderResult<Attributes> {
        let generated = match kind {
            "password" => create_password(planned)?,
            "integer" => create_integer(planned)?,
            "id" => create_id(planned)?,
            _ => return Err(unknown_kind(&self.schema, kind)),
        };
        let mut attributes = planned.clone();
        attributes.extend(generated.into_iter().map(|(name, value)| (name.to_string(), value)));
        Ok(attributes)
    }

    async fn read(&self, kind: &str, current: &Attributes) -> ProviderResult<ReadResult> {
        resource_schema(&self.schema, kind)?;
        Ok(ReadResult::Found(current.clone()))
    }

    /// Only `keepers` and the generation settings can change, and all of them are
    /// force-new, so an update only ever keeps what was generated.
    async fn update(&self, kind: &str, prior: &Attributes, planned: &Attributes) -> ProviderResult<Attributes> {
        Ok(keep_computed(resource_schema(&self.schema, kind)?, prior, planned))
    }

    async fn delete(&self, kind: &str, _current: &Attributes) -> ProviderResult<()> {
        resource_schema(&self.schema, kind)?;
        Ok(())
    }

    /// `random.id` is imported from its `b64` value (URL-safe Base64 without padding), so
    /// an id made elsewhere can be brought under management; the other kinds have nothing
    /// to import.
    async fn import(&self, kind: &str, id: &str) -> ProviderResult<Attributes> {
        if kind != "id" {
            resource_schema(&self.schema, kind)?;
            return Err(ProviderError::new(format!("`random.{kind}` cannot be imported"))
                .with_help("only `random.id` can be imported, from its `b64` value"));
        }
        let bytes = URL_SAFE_NO_PAD.decode(id).ok().filter(|b| !b.is_empty()).ok_or_else(|| {
            ProviderError::new(format!("`{id}` is not an id in URL-safe Base64 without padding"))
                .with_help("import a `random.id` by its `b64` value, such as `p-7HhA`")
        })?;
        let mut attributes = id_attributes(&bytes);
        attributes.push(("byte_length", Value::number(bytes.len() as f64)));
        attributes.push(("keepers", Value::null()));
        Ok(attributes.into_iter().map(|(name, value)| (name.to_string(), value)).collect())
    }
}

/// The attributes `create` generates, by name.
type Generated = Vec<(&'static str, Value)>;

fn create_password(planned: &Attributes) -> ProviderResult<Generated> {
    let length = required_whole(planned, "length")?;
    in_range("length", length, 1, MAX_LENGTH)?;
    let special = attribute(planned, "special").as_bool().unwrap_or(true);
    let result = generate_password(length as usize, special);
    Ok(vec![("id", Value::string("none")), ("result", Value::string(result))])
}

fn create_integer(planned: &Attributes) -> ProviderResult<Generated> {
    let missing = |name: &str| ProviderError::new(format!("`{name}` is required")).on_attribute(name);
    let (min, max) = integer_range(planned)?;
    let (min, max) = (min.ok_or_else(|| missing("min"))?, max.ok_or_else(|| missing("max"))?);
    let result = OsRng.gen_range(min..=max);
    Ok(vec![("id", Value::string(result.to_string())), ("result", Value::number(result as f64))])
}

fn create_id(planned: &Attributes) -> ProviderResult<Generated> {
    let byte_length = required_whole(planned, "byte_length")?;
    in_range("byte_length", byte_length, 1, MAX_LENGTH)?;
    let mut bytes = vec![0u8; byte_length as usize];
    OsRng.fill_bytes(&mut bytes);
    Ok(id_attributes(&bytes))
}

/// `id`, `hex` and `b64` of a `random.id` made of `bytes`.
fn id_attributes(bytes: &[u8]) -> Generated {
    let b64 = URL_SAFE_NO_PAD.encode(bytes);
    vec![("id", Value::string(b64.clone())), ("hex", Value::string(hex::encode(bytes))), ("b64", Value::string(b64))]
}

/// A password of `length` characters drawn from the operating system's CSPRNG: upper-
/// and lower-case letters, digits and, with `special`, [`SPECIAL_CHARACTERS`].
///
/// When the password is at least as long as the number of character classes, it holds at
/// least one character of each class, so it passes the usual "one of each" password rules;
/// the others are drawn from all classes together, and the whole is then shuffled.
pub fn generate_password(length: usize, special: bool) -> String {
    const UPPER: &[u8] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZ";
    const LOWER: &[u8] = b"abcdefghijklmnopqrstuvwxyz";
    const DIGITS: &[u8] = b"0123456789";
    let mut classes = vec![UPPER, LOWER, DIGITS];
    if special {
        classes.push(SPECIAL_CHARACTERS.as_bytes());
    }
    let alphabet = classes.concat();
    let pick = |set: &[u8]| set[OsRng.gen_range(0..set.len())];
    let mut characters: Vec<u8> =
        if length >= classes.len() { classes.iter().map(|class| pick(class)).collect() } else { Vec::new() };
    while characters.len() < length {
        characters.push(pick(&alphabet));
    }
    characters.shuffle(&mut OsRng);
    characters.into_iter().map(char::from).collect()
}

/// `min` and `max` of a `random.integer`, each when known, checked to be in order.
fn integer_range(attributes: &Attributes) -> ProviderResult<(Option<i64>, Option<i64>)> {
    let (min, max) = (whole_number(attributes, "min")?, whole_number(attributes, "max")?);
    if let (Some(min), Some(max)) = (min, max) {
        if min > max {
            return Err(ProviderError::new(format!("`min` ({min}) is greater than `max` ({max})"))
                .on_attribute("min")
                .with_help("the range is inclusive: `min` must be at most `max`"));
        }
    }
    Ok((min, max))
}

/// A whole-number attribute that must be there.
fn required_whole(attributes: &Attributes, name: &str) -> ProviderResult<i64> {
    whole_number(attributes, name)?
        .ok_or_else(|| ProviderError::new(format!("`{name}` is required")).on_attribute(name))
}

/// Checks that `value`, if known, lies in `min..=max`.
fn in_range(name: &str, value: impl Into<Option<i64>>, min: i64, max: i64) -> ProviderResult<()> {
    match value.into() {
        Some(n) if n < min || n > max => {
            Err(ProviderError::new(format!("`{name}` must be between {min} and {max}, not {n}")).on_attribute(name))
        }
        _ => Ok(()),
    }
}
