//! Lowering of type expressions.

use pest::iterators::Pair;

use super::{next, unexpected_rule, Lower};
use crate::diagnostic::{codes, Diagnostic};
use crate::span::Span;
use crate::syntax::ast::*;
use crate::syntax::parser::Rule;

impl Lower<'_> {
    pub(super) fn type_expr(&mut self, pair: Pair<Rule>) -> TypeExpr {
        let span = self.span(&pair);
        let inner = next(&mut pair.into_inner());
        let kind = match inner.as_rule() {
            Rule::primitive_type => self.primitive_type(inner),
            Rule::collection_type => self.collection_type(inner),
            Rule::object_type => {
                TypeExprKind::Object(inner.into_inner().skip(1).map(|p| self.object_type_field(p)).collect())
            }
            Rule::tuple_type => TypeExprKind::Tuple(inner.into_inner().skip(1).map(|p| self.type_expr(p)).collect()),
            rule => unexpected_rule(rule),
        };
        TypeExpr { kind, span }
    }

    fn primitive_type(&mut self, pair: Pair<Rule>) -> TypeExprKind {
        match primitive_type(pair.as_str(), self.span(&pair)) {
            Some(kind) => kind,
            None => {
                let other = pair.as_str();
                let span = self.span(&pair);
                let help = crate::diagnostic::suggest(
                    other,
                    ["string", "number", "bool", "any", "list", "set", "map", "object", "tuple"],
                )
                .unwrap_or_else(|| {
                    "types are string, number, bool, any, list(T), set(T), map(T), object({...}) and tuple([...])"
                        .to_string()
                });
                self.error(
                    Diagnostic::error(codes::UNKNOWN_TYPE, format!("unknown type `{other}`"))
                        .with_label(span, "not a type")
                        .with_help(help),
                );
                TypeExprKind::Error
            }
        }
    }

    fn collection_type(&mut self, pair: Pair<Rule>) -> TypeExprKind {
        let mut inner = pair.into_inner();
        let keyword = next(&mut inner).as_str().to_string();
        let element = Box::new(self.type_expr(next(&mut inner)));
        match keyword.as_str() {
            "list" => TypeExprKind::List(element),
            "set" => TypeExprKind::Set(element),
            _ => TypeExprKind::Map(element),
        }
    }

    fn object_type_field(&mut self, pair: Pair<Rule>) -> ObjectTypeField {
        let span = self.span(&pair);
        let mut inner = pair.into_inner();
        let name = self.ident(next(&mut inner));
        let ty_pair = next(&mut inner);
        if ty_pair.as_rule() == Rule::optional_type {
            let mut parts = ty_pair.into_inner().skip(1);
            let ty = self.type_expr(next(&mut parts));
            let default = parts.next().map(|p| self.expr(p));
            ObjectTypeField { name, ty, optional: true, default, span }
        } else {
            ObjectTypeField { name, ty: self.type_expr(ty_pair), optional: false, default: None, span }
        }
    }
}

/// The type a name written at `span` stands for, if it is one of ours. A bare
/// collection keyword means a collection of anything, as in Terraform.
pub(super) fn primitive_type(word: &str, span: Span) -> Option<TypeExprKind> {
    let any = || Box::new(TypeExpr { kind: TypeExprKind::Any, span });
    Some(match word {
        "string" => TypeExprKind::String,
        "number" => TypeExprKind::Number,
        "bool" => TypeExprKind::Bool,
        "any" => TypeExprKind::Any,
        "list" => TypeExprKind::List(any()),
        "set" => TypeExprKind::Set(any()),
        "map" => TypeExprKind::Map(any()),
        _ => return None,
    })
}
