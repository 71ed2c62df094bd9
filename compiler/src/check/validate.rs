//! Running attribute validators on the values the checker knows: literal strings and
//! numbers, and the elements of literal lists and objects (`E0406`). Values computed from
//! anything else are validated by the planner once they are known.

use super::Checker;
use crate::diagnostic::{codes, Diagnostic};
use crate::schema::validate::Subject;
use crate::schema::{AttributeSchema, Validator};
use crate::syntax::ast::{Expr, ExprKind, UnaryOp};

/// A value the checker can read without evaluating anything.
enum Literal<'e> {
    Text(String),
    Number(f64),
    /// The elements of a literal list, or the values of a literal object.
    Collection(Vec<&'e Expr>),
}

fn literal(expr: &Expr) -> Option<Literal<'_>> {
    match &expr.kind {
        ExprKind::Text(text) => Some(Literal::Text(text.to_string())),
        ExprKind::Number(number) => Some(Literal::Number(*number)),
        ExprKind::Unary { op: UnaryOp::Neg, operand } => match operand.kind {
            ExprKind::Number(number) => Some(Literal::Number(-number)),
            _ => None,
        },
        ExprKind::Paren(inner) => literal(inner),
        ExprKind::List(items) => Some(Literal::Collection(items.iter().collect())),
        ExprKind::Object(items) => Some(Literal::Collection(items.iter().map(|item| &item.value).collect())),
        _ => None,
    }
}

impl Checker<'_> {
    /// Reports each validator of `attribute` that refuses a known part of `value`.
    pub(super) fn validate_literals(&mut self, value: &Expr, attribute: &AttributeSchema) {
        for validator in &attribute.validators {
            self.validate_literal(value, attribute, validator);
        }
    }

    fn validate_literal(&mut self, value: &Expr, attribute: &AttributeSchema, validator: &Validator) {
        let (subject, shown) = match literal(value) {
            None => return,
            Some(Literal::Text(text)) => {
                return self.report_rejection(value, attribute, validator, Subject::Text(&text), Some(&text));
            }
            Some(Literal::Number(number)) => (Subject::Number(number), Some(number.to_string())),
            Some(Literal::Collection(elements)) if validator.checks_elements() => {
                for element in elements {
                    self.validate_literal(element, attribute, validator);
                }
                return;
            }
            Some(Literal::Collection(elements)) => (Subject::Collection(elements.len()), None),
        };
        self.report_rejection(value, attribute, validator, subject, shown.as_deref());
    }

    fn report_rejection(
        &mut self,
        value: &Expr,
        attribute: &AttributeSchema,
        validator: &Validator,
        subject: Subject<'_>,
        shown: Option<&str>,
    ) {
        let secret = attribute.sensitive;
        let Err(rejection) = validator.check(&attribute.name, subject, secret) else { return };
        let shown = if secret { None } else { shown };
        self.error(
            Diagnostic::error(codes::INVALID_ATTRIBUTE_VALUE, rejection.message(&attribute.name, shown))
                .with_label(value.span, format!("not accepted for `{}`", attribute.name))
                .with_help(rejection.help),
        );
    }
}
