//! Type expressions: `list(string)`, `object({ name = string })` and the rest.

use super::expr::{expr, INDENT};
use super::seq::{self, Entry, Layout, Rendered};
use super::source::{last_line_indent, push_spaces, push_text, Source};
use crate::syntax::ast::*;

/// Formats `ty`, whose first line is indented by `base`.
pub(super) fn type_expr(src: &Source, ty: &TypeExpr, base: usize) -> String {
    let (start, end) = src.range(ty.span);
    match &ty.kind {
        TypeExprKind::Object(fields) => object_type(src, (start, end), fields, base),
        _ if src.has_comment(start, end) => src.verbatim(start, end, base),
        _ => {
            let structured = structured(src, ty, base);
            if structured.matches('\n').count() < src.text[start..end].matches('\n').count() {
                src.verbatim(start, end, base)
            } else {
                structured
            }
        }
    }
}

pub(super) fn push_type(src: &Source, out: &mut String, ty: &TypeExpr, base: usize) {
    let indent = last_line_indent(out, base);
    out.push_str(&type_expr(src, ty, indent));
}

fn structured(src: &Source, ty: &TypeExpr, base: usize) -> String {
    let (start, end) = src.range(ty.span);
    let mut out = String::new();
    let (keyword, element) = match &ty.kind {
        TypeExprKind::List(element) => ("list", element),
        TypeExprKind::Set(element) => ("set", element),
        TypeExprKind::Map(element) => ("map", element),
        TypeExprKind::Tuple(elements) => {
            out.push_str("tuple([");
            for (i, element) in elements.iter().enumerate() {
                if i > 0 {
                    out.push_str(", ");
                }
                push_type(src, &mut out, element, base);
            }
            out.push_str("])");
            return out;
        }
        _ => return src.text[start..end].to_string(),
    };
    // A bare `list` means `list(any)` and shares its span with that `any`.
    if src.range(element.span) == (start, end) {
        return src.text[start..end].to_string();
    }
    out.push_str(keyword);
    out.push('(');
    push_type(src, &mut out, element, base);
    out.push(')');
    out
}

/// `object({ ... })`, laid out like an object expression.
fn object_type(src: &Source, (start, end): (usize, usize), fields: &[ObjectTypeField], base: usize) -> String {
    let (paren, comment_before_paren) = src.next_token(start + "object".len());
    let (brace, comment_before_brace) = src.next_token(paren + 1);
    let last_end = fields.last().map_or(brace + 1, |f| src.range(f.span).1);
    let close = closing_brace(src, last_end);
    if comment_before_paren || comment_before_brace || src.has_comment(close, end) {
        return src.verbatim(start, end, base);
    }
    let inner = (brace + 1, close);
    let first = fields.first().map(|f| f.span.start as usize);
    let mut out = String::from("object({");
    if src.has_comment(inner.0, inner.1) || first.is_some_and(|first| src.has_newline(inner.0, first)) {
        let entries: Vec<Entry> = fields.iter().map(|f| field(src, f, base + INDENT)).collect();
        seq::render(src, &mut out, inner, &entries, &Layout { indent: base + INDENT, top_level: false });
        out.push('\n');
        push_spaces(&mut out, base);
    } else if !fields.is_empty() {
        out.push(' ');
        for (i, f) in fields.iter().enumerate() {
            if i > 0 {
                out.push_str(", ");
            }
            let indent = last_line_indent(&out, base);
            out.push_str(&field(src, f, indent).rendered.render(0));
        }
        out.push(' ');
    }
    out.push_str("})");
    out
}

/// The `}` after the last field, past any trailing comma.
fn closing_brace(src: &Source, after_fields: usize) -> usize {
    let (mut pos, _) = src.next_token(after_fields);
    while src.text[pos..].starts_with(',') {
        pos = src.next_token(pos + 1).0;
    }
    pos
}

/// `name = type` or `name = optional(type, default)`.
fn field(src: &Source, field: &ObjectTypeField, indent: usize) -> Entry {
    let (start, end) = src.range(field.span);
    let mut children = vec![src.range(field.ty.span)];
    children.extend(field.default.as_ref().map(|d| src.range(d.span)));
    if !src.comments_covered(start, end, &children) {
        return Entry { start, end, rendered: Rendered::Text(src.verbatim(start, end, indent)) };
    }
    let mut value = String::new();
    if field.optional {
        value.push_str("optional(");
    }
    push_type(src, &mut value, &field.ty, indent);
    if let Some(default) = &field.default {
        value.push_str(", ");
        let base = last_line_indent(&value, indent);
        value.push_str(&expr(src, default, base));
    }
    if field.optional {
        push_text(&mut value, ")");
    }
    let key = field.name.name.clone();
    Entry { start, end, rendered: Rendered::assign(key.to_string(), value) }
}
