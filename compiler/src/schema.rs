//! What the checker needs to know about providers and functions, without knowing who
//! provides them: the [`Schemas`] trait and the schema data it hands out.
//!
//! `stdlib` implements [`Schemas`] for the built-in providers and functions; cloud
//! providers add theirs the same way.

pub mod validate;

use std::collections::BTreeMap;

use crate::types::Type;

/// One attribute of a resource, data source, provider configuration or nested block.
#[derive(Clone, Debug, PartialEq)]
pub struct AttributeSchema {
    pub name: String,
    pub ty: Type,
    pub description: String,
    /// Must be set in configuration.
    pub required: bool,
    /// Set by the provider. An attribute may be optional *and* computed (the provider
    /// fills it in when the configuration leaves it out); computed-only attributes
    /// cannot be set.
    pub computed: bool,
    /// Changing it replaces the resource instead of updating it in place.
    pub force_new: bool,
    /// With `force_new`: only a change from a value replaces the resource; setting one
    /// where there was none (an imported object whose value cannot be read back, such
    /// as `random`'s `keepers`) is an update in place. Terraform's "requires replace if
    /// values not null".
    pub force_new_only_if_set: bool,
    /// Redacted in plans, outputs and logs.
    pub sensitive: bool,
    /// A computed attribute whose value the provider derives from these configuration
    /// attributes (`null.resource`'s `output` from `input`): it is sensitive whenever one
    /// of them holds a sensitive value, so a secret keeps its mark through the provider.
    pub derived_from: Vec<String>,
    /// A computed attribute whose value is what the provider expects to keep reading
    /// (`ssh.command`'s `read_output`): when a refresh reads another value than state
    /// holds, the instance is planned for an update in place that restores it, and the
    /// attribute is known after apply.
    pub corrects_drift: bool,
    /// A computed attribute that other resources of the configuration change (an
    /// instance's `public_ip` once an elastic IP is associated, a volume's
    /// `droplet_ids` once attached): a refresh that finds only such changes records
    /// them without the "changed outside of Infra" note, since Infra made them.
    pub changed_by_others: bool,
    /// Configuration may set it (true for required and optional attributes, and for
    /// optional-and-computed ones).
    pub settable: bool,
    /// How a configured value and the value the provider reports back are compared: two
    /// values equal under it are the same, and the configured form is kept.
    pub compare: Comparison,
    /// Checks on the value the API enforces, run by the checker on values known at check
    /// time and by the planner on the rest.
    pub validators: Vec<Validator>,
    /// Deprecated by the provider, with its note (which may be empty): setting it is a
    /// warning (W0003).
    pub deprecated: Option<String>,
}

/// How the planner compares an attribute's values (see [`AttributeSchema::compare`]).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub enum Comparison {
    /// Equal when the values are equal.
    #[default]
    Exact,
    /// DNS names: a trailing dot and letter case make no difference.
    DnsName,
    /// Letter case makes no difference (identifiers the API folds).
    CaseInsensitive,
    /// CIDR blocks: equal when they denote the same network (`10.0.0.0/16` and
    /// `10.0.0.0/016`, or IPv6 written in full and compressed).
    Cidr,
    /// JSON documents: equal when they parse to the same value (whitespace and key order
    /// make no difference).
    Json,
    /// Lists whose order the API does not keep: equal when they hold the same elements.
    Set,
}

/// A check on an attribute's value that the API enforces (see
/// [`AttributeSchema::validators`]). Each checks every element of a list, set or map,
/// except `Length`, which counts a collection's elements; [`validate`] runs them.
#[derive(Clone, Debug, PartialEq)]
pub enum Validator {
    /// An IPv4 or IPv6 CIDR block (`10.0.0.0/16`) written with its network address.
    Cidr,
    /// An IPv4 CIDR block written with its network address, with a prefix length in
    /// this range (AWS takes VPCs and subnets from /16 to /28).
    Ipv4Cidr { min_prefix: u8, max_prefix: u8 },
    /// One of a fixed set of strings.
    OneOf(Vec<String>),
    /// A whole number in a range (inclusive), such as a port.
    Range { min: i64, max: i64 },
    /// A duration such as `30s` or `1h30m`.
    Duration,
    /// Matches a regular expression; `description` says the accepted form in words.
    Regex { pattern: String, description: String },
    /// A string's length in characters, or a collection's in elements.
    Length { min: usize, max: Option<usize> },
}

impl AttributeSchema {
    fn new(name: &str, ty: Type, description: &str) -> AttributeSchema {
        AttributeSchema {
            name: name.to_string(),
            ty,
            description: description.to_string(),
            required: false,
            computed: false,
            force_new: false,
            force_new_only_if_set: false,
            sensitive: false,
            derived_from: Vec::new(),
            corrects_drift: false,
            changed_by_others: false,
            settable: true,
            compare: Comparison::Exact,
            validators: Vec::new(),
            deprecated: None,
        }
    }

    pub fn required(name: &str, ty: Type, description: &str) -> AttributeSchema {
        AttributeSchema { required: true, ..AttributeSchema::new(name, ty, description) }
    }

    pub fn optional(name: &str, ty: Type, description: &str) -> AttributeSchema {
        AttributeSchema::new(name, ty, description)
    }

    pub fn computed(name: &str, ty: Type, description: &str) -> AttributeSchema {
        AttributeSchema { computed: true, settable: false, ..AttributeSchema::new(name, ty, description) }
    }

    /// Deprecated by the provider, with its note (see [`AttributeSchema::deprecated`]).
    pub fn deprecated(mut self, note: &str) -> AttributeSchema {
        self.deprecated = Some(note.to_string());
        self
    }

    pub fn force_new(mut self) -> AttributeSchema {
        self.force_new = true;
        self
    }

    pub fn sensitive(mut self) -> AttributeSchema {
        self.sensitive = true;
        self
    }

    /// Derived by the provider from `attributes` of the configuration: sensitive when
    /// any of them is (see [`AttributeSchema::derived_from`]).
    pub fn derived_from(mut self, attributes: &[&str]) -> AttributeSchema {
        self.derived_from = attributes.iter().map(|a| a.to_string()).collect();
        self
    }

    /// Other resources of the configuration change it (see
    /// [`AttributeSchema::changed_by_others`]).
    pub fn changed_by_others(mut self) -> AttributeSchema {
        self.changed_by_others = true;
        self
    }

    /// A change found by a refresh is corrected by an update (see
    /// [`AttributeSchema::corrects_drift`]).
    pub fn corrects_drift(mut self) -> AttributeSchema {
        self.corrects_drift = true;
        self
    }

    /// Optional in configuration, filled in by the provider when left out.
    pub fn also_computed(mut self) -> AttributeSchema {
        self.computed = true;
        self
    }

    /// Force-new, but only when it had a value before (see
    /// [`AttributeSchema::force_new_only_if_set`]).
    pub fn force_new_only_if_set(mut self) -> AttributeSchema {
        self.force_new = true;
        self.force_new_only_if_set = true;
        self
    }

    /// Whether a change from `before` replaces the resource.
    pub fn forces_replacement_from(&self, before_is_null: bool) -> bool {
        self.force_new && !(self.force_new_only_if_set && before_is_null)
    }

    /// Compares values as `compare` says (see [`Comparison`]).
    pub fn compared(mut self, compare: Comparison) -> AttributeSchema {
        self.compare = compare;
        self
    }

    /// Adds a check the value must pass.
    pub fn validate(mut self, validator: Validator) -> AttributeSchema {
        self.validators.push(validator);
        self
    }

    /// True when configuration may not set it.
    pub fn is_computed_only(&self) -> bool {
        self.computed && !self.settable
    }
}

/// The body of a resource kind, data source, provider configuration or nested block.
#[derive(Clone, Debug, PartialEq, Default)]
pub struct Schema {
    pub description: String,
    pub attributes: Vec<AttributeSchema>,
    pub blocks: Vec<BlockSchema>,
}

impl Schema {
    pub fn attribute(&self, name: &str) -> Option<&AttributeSchema> {
        self.attributes.iter().find(|a| a.name == name)
    }

    pub fn block(&self, name: &str) -> Option<&BlockSchema> {
        self.blocks.iter().find(|b| b.name == name)
    }

    /// The object type of an instance: every attribute, set or computed.
    pub fn instance_type(&self) -> Type {
        let mut fields: Vec<(&str, Type)> = self.attributes.iter().map(|a| (a.name.as_str(), a.ty.clone())).collect();
        for block in &self.blocks {
            let ty = block.schema.instance_type();
            fields.push((block.name.as_str(), if block.repeated { Type::list(ty) } else { ty }));
        }
        Type::object(fields)
    }
}

/// A nested block such as `ingress { ... }`.
#[derive(Clone, Debug, PartialEq)]
pub struct BlockSchema {
    pub name: String,
    pub description: String,
    pub schema: Schema,
    /// Whether the block may appear more than once (and take a `for` clause).
    pub repeated: bool,
    /// How the list of a repeated block's elements compares: `Set` when the API keeps
    /// no order (a security group's rules).
    pub compare: Comparison,
}

impl BlockSchema {
    /// Compares the list of elements as `compare` says (see [`BlockSchema::compare`]).
    pub fn compared(mut self, compare: Comparison) -> BlockSchema {
        self.compare = compare;
        self
    }
}

/// Everything a provider declares.
#[derive(Clone, Debug, PartialEq, Default)]
pub struct ProviderSchema {
    pub name: String,
    pub description: String,
    /// The body of `provider NAME { ... }`.
    pub config: Schema,
    /// Managed resource kinds by kind name (`file` for `local.file`).
    pub resources: BTreeMap<String, Schema>,
    /// Data source kinds by kind name.
    pub data_sources: BTreeMap<String, Schema>,
}

/// A parameter of a built-in function.
#[derive(Clone, Debug, PartialEq)]
pub struct ParamSignature {
    pub name: String,
    pub ty: Type,
}

/// How a function's result type follows from its arguments.
#[derive(Clone, Debug, PartialEq)]
pub enum Returns {
    Type(Type),
    /// The type of argument N.
    SameAs(usize),
    /// The element type of argument N (a collection).
    ElementOf(usize),
}

/// The signature of a built-in function; its implementation lives in `stdlib`.
#[derive(Clone, Debug, PartialEq)]
pub struct FunctionSignature {
    pub name: String,
    pub params: Vec<ParamSignature>,
    /// Trailing parameters that may be omitted.
    pub optional_params: usize,
    /// A last parameter that takes any number of arguments.
    pub variadic: Option<ParamSignature>,
    pub returns: Returns,
    pub description: String,
    /// Only allowed inside resource bodies (non-deterministic results such as `bcrypt`).
    pub resource_only: bool,
}

impl FunctionSignature {
    pub fn min_args(&self) -> usize {
        self.params.len() - self.optional_params
    }

    pub fn max_args(&self) -> Option<usize> {
        if self.variadic.is_some() {
            None
        } else {
            Some(self.params.len())
        }
    }

    /// `name(a: string, b: number, rest...: any): string`, for hover and help texts.
    pub fn display(&self) -> String {
        let mut params: Vec<String> = self
            .params
            .iter()
            .enumerate()
            .map(|(i, p)| {
                let opt = if i >= self.min_args() { "?" } else { "" };
                format!("{}{opt}: {}", p.name, p.ty)
            })
            .collect();
        if let Some(v) = &self.variadic {
            params.push(format!("{}...: {}", v.name, v.ty));
        }
        let returns = match &self.returns {
            Returns::Type(t) => t.to_string(),
            Returns::SameAs(_) | Returns::ElementOf(_) => "any".to_string(),
        };
        format!("{}({}): {}", self.name, params.join(", "), returns)
    }
}

/// The source of provider and function schemas the checker is handed. `Sync`, because
/// a large module is checked on several threads.
pub trait Schemas: Sync {
    fn provider(&self, name: &str) -> Option<&ProviderSchema>;
    fn provider_names(&self) -> Vec<&str>;
    fn function(&self, name: &str) -> Option<&FunctionSignature>;
    fn function_names(&self) -> Vec<&str>;
}

/// No providers and no functions; for tests of the syntax-only phases.
pub struct NoSchemas;

impl Schemas for NoSchemas {
    fn provider(&self, _: &str) -> Option<&ProviderSchema> {
        None
    }
    fn provider_names(&self) -> Vec<&str> {
        Vec::new()
    }
    fn function(&self, _: &str) -> Option<&FunctionSignature> {
        None
    }
    fn function_names(&self) -> Vec<&str> {
        Vec::new()
    }
}
