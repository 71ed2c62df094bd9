//! Expressions: canonical spacing on one line, lists, objects and call arguments one
//! element per line when written so, and the source text for what must not change.

use super::seq::{self, Entry, Layout, Rendered};
use super::source::{ends_in_blank_line, last_line_indent, push_spaces, push_text, LineWriter, Source};
use crate::syntax::ast::*;

/// How far a broken list, object or argument list indents its elements.
pub(super) const INDENT: usize = 2;

/// Formats `expr`, whose first line is indented by `base`. An expression that ends with
/// a heredoc ends with a newline and indentation, since nothing may follow the
/// heredoc's closing marker on its line; see [`push_text`].
pub(super) fn expr(src: &Source, e: &Expr, base: usize) -> String {
    let (_, end) = src.range(e.span);
    let mut text = expr_text(src, e, base);
    if src.heredoc_ends_at(end) && !ends_in_blank_line(&text) {
        text.push('\n');
        push_spaces(&mut text, base);
    }
    text
}

fn expr_text(src: &Source, expr: &Expr, base: usize) -> String {
    let (start, end) = src.range(expr.span);
    match &expr.kind {
        // The content of a heredoc is significant to the byte.
        ExprKind::Heredoc(_) => src.text[start..end].to_string(),
        // Printed as written, so escapes and number spellings survive.
        ExprKind::Text(_) | ExprKind::Template(_) | ExprKind::Number(_) | ExprKind::Error => {
            src.verbatim(start, end, base)
        }
        ExprKind::List(items) => list(src, (start, end), items, base),
        ExprKind::Object(items) => object(src, (start, end), items, base),
        // An expanded final argument (`f(xs...)`) is rare: it is kept as written.
        ExprKind::Call(c) if c.expand_final => src.verbatim(start, end, base),
        ExprKind::Call(c) => call(src, (start, end), &c.function, &c.args, base),
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
    push_text(out, &expr(src, e, indent));
}

/// Expressions other than literals and containers, with canonical spacing.
fn structured(src: &Source, e: &Expr, base: usize) -> String {
    let mut text = String::new();
    let out = &mut text;
    match &e.kind {
        ExprKind::Null => push_text(out, "null"),
        ExprKind::Bool(value) => push_text(out, if *value { "true" } else { "false" }),
        ExprKind::Name(name) => push_text(out, name),
        ExprKind::GetAttr { target, name, .. } => {
            push_expr(src, out, target, base);
            push_text(out, ".");
            push_text(out, name);
        }
        ExprKind::Index { target, index } => {
            push_expr(src, out, target, base);
            push_index(src, out, index, base);
        }
        ExprKind::Splat(s) => splat(src, out, &s.target, &s.steps, base),
        ExprKind::Unary { op, operand } => {
            push_text(out, op.as_str());
            // `- -1`, not `--1`, which reads as a decrement.
            if *op == UnaryOp::Neg && matches!(operand.kind, ExprKind::Unary { op: UnaryOp::Neg, .. }) {
                push_text(out, " ");
            }
            push_expr(src, out, operand, base);
        }
        ExprKind::Binary { op, lhs, rhs, .. } => {
            push_expr(src, out, lhs, base);
            push_text(out, &format!(" {} ", op.as_str()));
            push_expr(src, out, rhs, base);
        }
        ExprKind::Conditional(conditional) => {
            let Conditional { condition, then, otherwise } = &**conditional;
            push_expr(src, out, condition, base);
            push_text(out, " ? ");
            push_expr(src, out, then, base);
            push_text(out, " : ");
            push_expr(src, out, otherwise, base);
        }
        ExprKind::ForList(for_list) => {
            let ForList { binding, body, filter } = &**for_list;
            push_text(out, "[for ");
            push_binding(src, out, binding, base);
            push_expr(src, out, body, base);
            push_filter(src, out, filter.as_ref(), base);
            push_text(out, "]");
        }
        ExprKind::ForObject(for_object) => {
            let ForObject { binding, key, value, group, filter } = &**for_object;
            push_text(out, "{ for ");
            push_binding(src, out, binding, base);
            push_expr(src, out, key, base);
            push_text(out, " => ");
            push_expr(src, out, value, base);
            if *group {
                push_text(out, "...");
            }
            push_filter(src, out, filter.as_ref(), base);
            push_text(out, " }");
        }
        ExprKind::Paren(inner) => {
            push_text(out, "(");
            push_expr(src, out, inner, base);
            push_text(out, ")");
        }
        ExprKind::Heredoc(_)
        | ExprKind::Text(_)
        | ExprKind::Template(_)
        | ExprKind::Number(_)
        | ExprKind::Error
        | ExprKind::List(_)
        | ExprKind::Object(_)
        | ExprKind::Call(_) => push_text(out, &expr(src, e, base)),
    }
    text
}

fn push_index(src: &Source, out: &mut String, index: &Expr, base: usize) {
    push_text(out, "[");
    push_expr(src, out, index, base);
    push_text(out, "]");
}

fn splat(src: &Source, out: &mut String, target: &Expr, steps: &[SplatStep], base: usize) {
    push_expr(src, out, target, base);
    push_text(out, "[*]");
    for step in steps {
        match step {
            SplatStep::Attr(name) => {
                push_text(out, ".");
                push_text(out, &name.name);
            }
            SplatStep::Index(index) => push_index(src, out, index, base),
        }
    }
}

/// `k, v in COLLECTION : ` of a `for` expression.
fn push_binding(src: &Source, out: &mut String, binding: &ForBinding, base: usize) {
    if let Some(key_var) = &binding.key_var {
        push_text(out, &key_var.name);
        push_text(out, ", ");
    }
    push_text(out, &binding.value_var.name);
    push_text(out, " in ");
    push_expr(src, out, &binding.collection, base);
    push_text(out, " : ");
}

fn push_filter(src: &Source, out: &mut String, filter: Option<&Expr>, base: usize) {
    if let Some(filter) = filter {
        push_text(out, " if ");
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
    let mut line = LineWriter::new(out, base);
    for (i, item) in items.iter().enumerate() {
        if i > 0 {
            line.push(", ");
        }
        let text = expr(src, item, line.indent);
        line.push(&text);
    }
}

/// True when the last token of `e` is a bare name, which a following `(` would turn
/// into a call.
fn ends_with_name(e: &Expr) -> bool {
    match &e.kind {
        ExprKind::Name(_) => true,
        ExprKind::Unary { operand: last, .. } | ExprKind::Binary { rhs: last, .. } => ends_with_name(last),
        ExprKind::Conditional(conditional) => ends_with_name(&conditional.otherwise),
        _ => false,
    }
}

/// A list element or call argument on its own line, with its comma.
fn element(src: &Source, e: &Expr, indent: usize) -> Entry {
    let (start, end) = src.range(e.span);
    let mut text = expr(src, e, indent);
    push_text(&mut text, ",");
    Entry { start, end, rendered: Rendered::Text(text) }
}

fn object(src: &Source, (start, end): (usize, usize), items: &[ObjectItem], base: usize) -> String {
    let first = items.first().map(|item| item.span().start as usize);
    let container = Container { open: "{", close: "}", pad: " ", inner: (start + 1, end - 1), first };
    let entries = |indent| object_entries(src, items, indent);
    let inline = |out: &mut String, base| {
        let mut line = LineWriter::new(out, base);
        for (i, item) in items.iter().enumerate() {
            if i > 0 {
                line.push(", ");
            }
            let text = object_item(src, item, line.indent).rendered.render(0);
            line.push(&text);
        }
    };
    layout(src, &container, base, entries, inline)
}

fn object_entries(src: &Source, items: &[ObjectItem], indent: usize) -> Vec<Entry> {
    let mut entries: Vec<Entry> = items.iter().map(|item| object_item(src, item, indent)).collect();
    // Entries on their own lines need no commas, except between a value ending in a
    // name and a parenthesised key, which would otherwise read as a call: `f (k) = 1`.
    for (i, next) in items.iter().enumerate().skip(1) {
        let paren_key = matches!(&next.key, ObjectKey::Expr(key) if matches!(key.kind, ExprKind::Paren(_)));
        if paren_key && ends_with_name(&items[i - 1].value) {
            let previous = std::mem::replace(&mut entries[i - 1].rendered, Rendered::Text(String::new()));
            entries[i - 1].rendered = previous.with_suffix(",");
        }
    }
    entries
}

fn object_item(src: &Source, item: &ObjectItem, indent: usize) -> Entry {
    let (start, end) = src.range(item.span());
    let children = [src.range(item.key_span()), src.range(item.value.span)];
    if !src.comments_covered(start, end, &children) {
        return Entry { start, end, rendered: Rendered::Text(src.verbatim(start, end, indent)) };
    }
    let key = match &item.key {
        ObjectKey::Ident { name, .. } => name.to_string(),
        ObjectKey::Expr(key) => expr(src, key, indent),
    };
    // Between the key and the value there is only the separator and spaces: a comment
    // there would have kept the item as written, above.
    let colon = src.text[children[0].1..children[1].0].trim() == ":";
    let separator = if colon { ": " } else { " = " };
    let value = expr(src, &item.value, last_line_indent(&key, indent));
    let rendered = if colon || key.contains('\n') {
        Rendered::Text(key + separator + &value)
    } else {
        Rendered::assign(key, value)
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
    let mut text = container.open.to_string();
    let out = &mut text;
    if broken {
        let layout = Layout { indent: base + INDENT, top_level: false };
        seq::render(src, out, container.inner, &entries(base + INDENT), &layout);
        out.push('\n');
        push_spaces(out, base);
    } else if container.first.is_some() {
        push_text(out, container.pad);
        inline(out, base);
        push_text(out, container.pad);
    }
    push_text(out, container.close);
    text
}
