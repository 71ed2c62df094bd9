//! Semantic types of the language and the rules for when one fits another.

use std::collections::BTreeMap;
use std::fmt;
use std::sync::Arc;

#[derive(Clone, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Type {
    /// Not known until evaluation; fits everything and everything fits it.
    Any,
    String,
    Number,
    Bool,
    /// The type of the `null` literal; fits every type.
    Null,
    List(Box<Type>),
    Set(Box<Type>),
    Map(Box<Type>),
    /// (Shared: an object type is cloned wherever a declaration is read, and every
    /// resource of a kind has its kind's type; ten thousand copies of one were megabytes.)
    Object(Arc<BTreeMap<String, ObjectField>>),
    Tuple(Vec<Type>),
}

#[derive(Clone, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct ObjectField {
    pub ty: Type,
    pub optional: bool,
}

impl Type {
    pub fn list(element: Type) -> Type {
        Type::List(Box::new(element))
    }

    pub fn set(element: Type) -> Type {
        Type::Set(Box::new(element))
    }

    pub fn map(element: Type) -> Type {
        Type::Map(Box::new(element))
    }

    /// An object type whose fields are all required.
    pub fn object<'a>(fields: impl IntoIterator<Item = (&'a str, Type)>) -> Type {
        Type::object_of(fields.into_iter().map(|(k, ty)| (k.to_string(), ObjectField { ty, optional: false })))
    }

    /// An object type of `fields`, some of which may be optional.
    pub fn object_of(fields: impl IntoIterator<Item = (String, ObjectField)>) -> Type {
        Type::Object(Arc::new(fields.into_iter().collect()))
    }

    pub fn is_any(&self) -> bool {
        matches!(self, Type::Any)
    }

    /// True for lists, sets, tuples, maps and objects.
    pub fn is_collection(&self) -> bool {
        matches!(self, Type::List(_) | Type::Set(_) | Type::Tuple(_) | Type::Map(_) | Type::Object(_))
    }

    /// Whether a value of type `self` can be used where `target` is expected,
    /// allowing the implicit conversions the language performs (numbers and bools
    /// to strings, tuples to lists and sets, objects to maps).
    pub fn fits(&self, target: &Type) -> bool {
        match (self, target) {
            (Type::Any | Type::Null, _) | (_, Type::Any) => true,
            (a, b) if a == b => true,
            (Type::Number | Type::Bool, Type::String) => true,
            (Type::List(a) | Type::Set(a), Type::List(b) | Type::Set(b)) => a.fits(b),
            (Type::Tuple(items), Type::List(b) | Type::Set(b)) => items.iter().all(|t| t.fits(b)),
            (Type::Tuple(items), Type::Tuple(targets)) => {
                items.len() == targets.len() && items.iter().zip(targets).all(|(a, b)| a.fits(b))
            }
            (Type::List(a), Type::Tuple(targets)) => targets.iter().all(|b| a.fits(b)),
            (Type::Map(a), Type::Map(b)) => a.fits(b),
            (Type::Object(fields), Type::Map(b)) => fields.values().all(|f| f.ty.fits(b)),
            (Type::Map(a), Type::Object(targets)) => targets.values().all(|f| a.fits(&f.ty)),
            (Type::Object(fields), Type::Object(targets)) => object_fits(fields, targets),
            _ => false,
        }
    }

    /// The type of an element when iterating or indexing, if this is a collection.
    pub fn element(&self) -> Option<Type> {
        match self {
            Type::Any => Some(Type::Any),
            Type::List(t) | Type::Set(t) | Type::Map(t) => Some((**t).clone()),
            Type::Tuple(items) => Some(unify_all(items.iter().cloned())),
            Type::Object(fields) => Some(unify_all(fields.values().map(|f| f.ty.clone()))),
            _ => None,
        }
    }
}

fn object_fits(fields: &BTreeMap<String, ObjectField>, targets: &BTreeMap<String, ObjectField>) -> bool {
    let present_fit = fields.iter().all(|(name, field)| match targets.get(name) {
        Some(target) => field.ty.fits(&target.ty),
        // Extra attributes are dropped on conversion, as in Terraform.
        None => true,
    });
    let required_present = targets.iter().all(|(name, target)| target.optional || fields.contains_key(name));
    present_fit && required_present
}

/// The most specific type both `a` and `b` fit, falling back to `any`.
pub fn unify(a: &Type, b: &Type) -> Type {
    match (a, b) {
        (Type::Null, t) | (t, Type::Null) => t.clone(),
        (a, b) if a == b => a.clone(),
        (Type::Any, _) | (_, Type::Any) => Type::Any,
        (Type::List(x), Type::List(y)) => Type::list(unify(x, y)),
        (Type::Set(x), Type::Set(y)) => Type::set(unify(x, y)),
        (Type::Map(x), Type::Map(y)) => Type::map(unify(x, y)),
        (Type::Tuple(x), Type::Tuple(y)) if x.len() == y.len() => {
            Type::Tuple(x.iter().zip(y).map(|(a, b)| unify(a, b)).collect())
        }
        (Type::Tuple(x), Type::Tuple(y)) => Type::list(unify_all(x.iter().chain(y).cloned())),
        (Type::Object(_), Type::Object(_)) => Type::Any,
        (a, b) if a.fits(b) && !b.fits(a) => b.clone(),
        (a, b) if b.fits(a) && !a.fits(b) => a.clone(),
        _ => Type::Any,
    }
}

/// [`unify`] over a sequence; an empty sequence gives `any`.
pub fn unify_all(types: impl IntoIterator<Item = Type>) -> Type {
    let mut types = types.into_iter();
    let Some(first) = types.next() else { return Type::Any };
    types.fold(first, |acc, t| unify(&acc, &t))
}

impl fmt::Display for Type {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Type::Any => f.write_str("any"),
            Type::String => f.write_str("string"),
            Type::Number => f.write_str("number"),
            Type::Bool => f.write_str("bool"),
            Type::Null => f.write_str("null"),
            Type::List(t) => write!(f, "list({t})"),
            Type::Set(t) => write!(f, "set({t})"),
            Type::Map(t) => write!(f, "map({t})"),
            Type::Tuple(items) => {
                f.write_str("tuple([")?;
                for (i, t) in items.iter().enumerate() {
                    if i > 0 {
                        f.write_str(", ")?;
                    }
                    write!(f, "{t}")?;
                }
                f.write_str("])")
            }
            Type::Object(fields) => {
                f.write_str("object({")?;
                for (i, (name, field)) in fields.iter().enumerate() {
                    f.write_str(if i > 0 { ", " } else { " " })?;
                    if field.optional {
                        write!(f, "{name} = optional({})", field.ty)?;
                    } else {
                        write!(f, "{name} = {}", field.ty)?;
                    }
                }
                f.write_str(if fields.is_empty() { "})" } else { " })" })
            }
        }
    }
}
