//! Expressions: canonical spacing on one line, lists, objects and call arguments one
//! element per line when written so, and the source text for what must not change.

use super::seq::{self, Entry, Layout, Rendered};
use super::source::{last_line_indent, push_spaces, Source};
use crate::syntax::ast::*;

/// How far a broken list, object or argument list indents its elements.
pub(super) const INDENT: usize = 2;

/// Formats `expr`, whose first line is indented by `base`.
pub(super) fn expr(src: &Source, expr: &Expr, base: usize) -> String {
    let (start, end) = src.range(expr.span);
    match &expr.kind {
        // The content of a heredoc is significant to the byte.
        ExprKind::Heredoc { .. } => src.text[start..end].to_string(),
        // Printed as written, so escapes and number spellings survive.
        ExprKind::Template(_) | ExprKind::Number(_) | ExprKind::Error => src.verbatim(start, end, base),
        ExprKind::List(items) => list(src, (start, end), items, base),
        ExprKind::Object(items) => object(src, (start, end), items, base),
        ExprKind::Call { function, args } => call(src, (start, end), function, args, base),
        _ if src.has_comment(start, end) => src.verbatim(start, end, base),
        _ => {
            let structured = structured(src, expr, base);
            // Keep the author's line breaks rather than join lines of a long condition.
            if structured.matches('\n').count() < src.text[start..end].matches('\n').count() {
                src.verbatim(start, end, base)
            } else {
                structured
            }
        }
    }
}

/// Appends `e` to `out`, which is a line (or lines) starting at indentation `base`.
pub(super) fn push_expr(src: &Source, out: &mut String, e: &Expr, base: usize) {
    let indent = last_line_indent(out, base);
    out.push_str(&expr(src, e, indent));
}

/// Expressions other than literals and containers, with canonical spacing.
fn structured(src: &Source, e: &Expr, base: usize) -> String {
    let mut out = String::new();
    match &e.kind {
        ExprKind::Null => out.push_str("null"),
        ExprKind::Bool(value) => out.push_str(if *value { "true" } else { "false" }),
        ExprKind::Name(name) => out.push_str(&name.name),
        ExprKind::GetAttr { target, name } => {
            push_expr(src, &mut out, target, base);
            out.push('.');
            out.push_str(&name.name);
        }
        ExprKind::Index { target, index } => {
            push_expr(src, &mut out, target, base);
            push_index(src, &mut out, index, base);
        }
        ExprKind::Splat { target, steps } => splat(src, &mut out, target, steps, base),
        ExprKind::Unary { op, operand } => {
            out.push_str(op.node.as_str());
            push_expr(src, &mut out, operand, base);
        }
        ExprKind::Binary { op, lhs, rhs } => {
            push_expr(src, &mut out, lhs, base);
            out.push_str(&format!(" {} ", op.node.as_str()));
            push_expr(src, &mut out, rhs, base);
        }
        ExprKind::Conditional { condition, then, otherwise } => {
            push_expr(src, &mut out, condition, base);
            out.push_str(" ? ");
            push_expr(src, &mut out, then, base);
            out.push_str(" : ");
            push_expr(src, &mut out, otherwise, base);
        }
        ExprKind::ForList { binding, body, filter } => {
            out.push_str("[for ");
            push_binding(src, &mut out, binding, base);
            push_expr(src, &mut out, body, base);
            push_filter(src, &mut out, filter.as_deref(), base);
            out.push(']');
        }
        ExprKind::ForObject { binding, key, value, group, filter } => {
            out.push_str("{ for ");
            push_binding(src, &mut out, binding, base);
            push_expr(src, &mut out, key, base);
            out.push_str(" => ");
            push_expr(src, &mut out, value, base);
            if *group {
                out.push_str("...");
            }
            push_filter(src, &mut out, filter.as_deref(), base);
            out.push_str(" }");
        }
        ExprKind::Paren(inner) => {
            out.push('(');
            push_expr(src, &mut out, inner, base);
            out.push(')');
        }
        ExprKind::Heredoc { .. }
        | ExprKind::Template(_)
        | ExprKind::Number(_)
        | ExprKind::Error
        | ExprKind::List(_)
        | ExprKind::Object(_)
        | ExprKind::Call { .. } => out.push_str(&expr(src, e, base)),
    }
    out
}

fn push_index(src: &Source, out: &mut String, index: &Expr, base: usize) {
    out.push('[');
    push_expr(src, out, index, base);
    out.push(']');
}

fn splat(src: &Source, out: &mut String, target: &Expr, steps: &[SplatStep], base: usize) {
    push_expr(src, out, target, base);
    out.push_str("[*]");
    for step in steps {
        match step {
            SplatStep::Attr(name) => {
                out.push('.');
                out.push_str(&name.name);
            }
            SplatStep::Index(index) => push_index(src, out, index, base),
        }
    }
}

/// `k, v in COLLECTION : ` of a `for` expression.
fn push_binding(src: &Source, out: &mut String, binding: &ForBinding, base: usize) {
    if let Some(key_var) = &binding.key_var {
        out.push_str(&key_var.name);
        out.push_str(", ");
    }
    out.push_str(&binding.value_var.name);
    out.push_str(" in ");
    push_expr(src, out, &binding.collection, base);
    out.push_str(" : ");
}

fn push_filter(src: &Source, out: &mut String, filter: Option<&Expr>, base: usize) {
    if let Some(filter) = filter {
        out.push_str(" if ");
        push_expr(src, out, filter, base);
    }
}

/// The brackets and elements of a list, object or argument list.
struct Container<'a> {
    /// `[`, `{` or `name(`.
    open: &'a str,
    close: &'a str,
    /// Between the brackets on one line: `{ a = 1 }` but `[1]`.
    pad: &'a str,
    /// Source offsets just after the opening and at the closing bracket.
    inner: (usize, usize),
    /// Where the first element starts, if there is one.
    first: Option<usize>,
}

fn list(src: &Source, (start, end): (usize, usize), items: &[Expr], base: usize) -> String {
    let first = items.first().map(|e| e.span.start as usize);
    let container = Container { open: "[", close: "]", pad: "", inner: (start + 1, end - 1), first };
    let entries = |indent| items.iter().map(|e| element(src, e, indent)).collect();
    let inline = |out: &mut String, base| push_separated(src, out, items, base);
    layout(src, &container, base, entries, inline)
}

fn call(src: &Source, (start, end): (usize, usize), function: &Ident, args: &[Expr], base: usize) -> String {
    let (paren, skipped_comment) = src.next_token(function.span.end as usize);
    if skipped_comment {
        return src.verbatim(start, end, base);
    }
    let open = format!("{}(", function.name);
    let first = args.first().map(|e| e.span.start as usize);
    let container = Container { open: &open, close: ")", pad: "", inner: (paren + 1, end - 1), first };
    let entries = |indent| args.iter().map(|e| element(src, e, indent)).collect();
    let inline = |out: &mut String, base| push_separated(src, out, args, base);
    layout(src, &container, base, entries, inline)
}

fn push_separated(src: &Source, out: &mut String, items: &[Expr], base: usize) {
    for (i, item) in items.iter().enumerate() {
        if i > 0 {
            out.push_str(", ");
        }
        push_expr(src, out, item, base);
    }
}

/// A list element or call argument on its own line, with its comma.
fn element(src: &Source, e: &Expr, indent: usize) -> Entry {
    let (start, end) = src.range(e.span);
    Entry { start, end, rendered: Rendered::Text(expr(src, e, indent) + ",") }
}

fn object(src: &Source, (start, end): (usize, usize), items: &[ObjectItem], base: usize) -> String {
    let first = items.first().map(|item| item.span.start as usize);
    let container = Container { open: "{", close: "}", pad: " ", inner: (start + 1, end - 1), first };
    let entries = |indent| object_entries(src, items, indent);
    let inline = |out: &mut String, base| {
        for (i, item) in items.iter().enumerate() {
            if i > 0 {
                out.push_str(", ");
            }
            let indent = last_line_indent(out, base);
            out.push_str(&object_item(src, item, indent).rendered.render(0));
        }
    };
    layout(src, &container, base, entries, inline)
}

fn object_entries(src: &Source, items: &[ObjectItem], indent: usize) -> Vec<Entry> {
    let mut entries: Vec<Entry> = items.iter().map(|item| object_item(src, item, indent)).collect();
    // Entries on their own lines need no commas, except before a parenthesised key,
    // which would otherwise read as the arguments of a call: `{ a = f \n (k) = 1 }`.
    for (i, next) in items.iter().enumerate().skip(1) {
        if matches!(&next.key, ObjectKey::Expr(Expr { kind: ExprKind::Paren(_), .. })) {
            let previous = std::mem::replace(&mut entries[i - 1].rendered, Rendered::Text(String::new()));
            entries[i - 1].rendered = previous.with_suffix(",");
        }
    }
    entries
}

fn object_item(src: &Source, item: &ObjectItem, indent: usize) -> Entry {
    let (start, end) = src.range(item.span);
    let children = [src.range(item.key.span()), src.range(item.value.span)];
    if !src.comments_covered(start, end, &children) {
        return Entry { start, end, rendered: Rendered::Text(src.verbatim(start, end, indent)) };
    }
    let key = match &item.key {
        ObjectKey::Ident(ident) => ident.name.clone(),
        ObjectKey::Expr(key) => expr(src, key, indent),
    };
    let separator = if item.colon { ": " } else { " = " };
    let value = expr(src, &item.value, last_line_indent(&key, indent));
    let rendered = if item.colon || key.contains('\n') || value.contains('\n') {
        Rendered::Text(key + separator + &value)
    } else {
        Rendered::Assign { key, value }
    };
    Entry { start, end, rendered }
}

/// Lays a container out on one line, or one element per line when the source puts the
/// first element on a line of its own or a comment sits anywhere inside.
fn layout(
    src: &Source,
    container: &Container,
    base: usize,
    entries: impl Fn(usize) -> Vec<Entry>,
    inline: impl Fn(&mut String, usize),
) -> String {
    let (inner_start, inner_end) = container.inner;
    let broken = src.has_comment(inner_start, inner_end)
        || container.first.is_some_and(|first| src.has_newline(inner_start, first));
    let mut out = container.open.to_string();
    if broken {
        let layout = Layout { indent: base + INDENT, top_level: false };
        seq::render(src, &mut out, container.inner, &entries(base + INDENT), &layout);
        out.push('\n');
        push_spaces(&mut out, base);
    } else if container.first.is_some() {
        out.push_str(container.pad);
        inline(&mut out, base);
        out.push_str(container.pad);
    }
    out.push_str(container.close);
    out
}
