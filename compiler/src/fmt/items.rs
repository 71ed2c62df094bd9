//! Top-level items, their bodies and the statements inside them.

use super::expr::{expr, push_expr, INDENT};
use super::seq::{self, Entry, Layout, Rendered};
use super::source::{last_line_width, push_spaces, push_text, Source};
use super::types::push_type;
use crate::span::Span;
use crate::syntax::ast::*;

/// A body written on one line stays on one line when its line fits in this many columns.
const MAX_INLINE_WIDTH: usize = 100;

/// The whole file.
pub(super) fn file(src: &Source, items: &[Item]) -> String {
    let entries: Vec<Entry> = items
        .iter()
        .map(|item| {
            let (start, end) = src.range(item.span());
            Entry { start, end, rendered: top_level(src, item) }
        })
        .collect();
    let mut out = String::new();
    seq::render(src, &mut out, (0, src.text.len()), &entries, &Layout { indent: 0, top_level: true });
    if !out.is_empty() {
        out.push('\n');
    }
    out
}

/// A top-level item. Runs of one-line `let`s align their `=` like the attributes of a
/// body (as the entries of a Terraform `locals` block do); other items print as text.
fn top_level(src: &Source, item: &Item) -> Rendered {
    let text = self::item(src, item);
    let Item::Let(x) = item else { return Rendered::Text(text) };
    let key = format!("let {}", x.name.name);
    match text.strip_prefix(&format!("{key} = ")) {
        Some(value) => Rendered::assign(key, value.to_string()),
        None => Rendered::Text(text),
    }
}

fn item(src: &Source, item: &Item) -> String {
    match item {
        Item::Input(x) => input(src, x),
        Item::Let(x) => {
            let children = [src.range(x.value.span)];
            simple(src, x.span, &children, |head| {
                push_text(head, &format!("let {} = ", x.name.name));
                push_expr(src, head, &x.value, 0);
            })
        }
        Item::Fn(x) => function(src, x),
        Item::Provider(x) => provider(src, x),
        Item::Resource(x) => resource(src, x),
        Item::Module(x) => module(src, x),
        Item::Output(x) => output(src, x),
        Item::Check(x) => check(src, x, 0),
        Item::Moved(x) => {
            let children = address_children(src, &x.from).chain(address_children(src, &x.to)).collect::<Vec<_>>();
            simple(src, x.span, &children, |head| {
                push_text(head, "moved ");
                push_address(src, head, &x.from, 0);
                push_text(head, " -> ");
                push_address(src, head, &x.to, 0);
            })
        }
        Item::Import(x) => {
            let mut children: Vec<_> = address_children(src, &x.to).collect();
            children.push(src.range(x.id.span));
            simple(src, x.span, &children, |head| {
                push_text(head, "import ");
                push_address(src, head, &x.to, 0);
                push_text(head, " from ");
                push_expr(src, head, &x.id, 0);
            })
        }
        Item::Forget(x) => {
            let children: Vec<_> = address_children(src, &x.address).collect();
            simple(src, x.span, &children, |head| {
                push_text(head, "forget ");
                push_address(src, head, &x.address, 0);
            })
        }
        Item::State(x) => with_body(src, x.span, &[], Some(&x.body), 0, |head| {
            push_text(head, "state ");
            push_text(head, &x.backend.name);
        }),
        Item::Plugin(x) => with_body(src, x.span, &[], Some(&x.body), 0, |head| {
            push_text(head, "plugin ");
            push_text(head, &x.name.name);
        }),
    }
}

/// A statement without a body. Printed as written, re-indented, when a comment sits
/// somewhere other than inside one of its `children` expressions.
fn simple(src: &Source, span: Span, children: &[(usize, usize)], print: impl FnOnce(&mut String)) -> String {
    let (start, end) = src.range(span);
    if !src.comments_covered(start, end, children) {
        return src.verbatim(start, end, 0);
    }
    let mut out = String::new();
    print(&mut out);
    out
}

/// A declaration with an optional body. Its header (everything before the body) is
/// printed by `print_head`, or as written when a comment sits outside its `children`.
fn with_body(
    src: &Source,
    span: Span,
    children: &[(usize, usize)],
    body: Option<&Body>,
    indent: usize,
    print_head: impl FnOnce(&mut String),
) -> String {
    let (start, end) = src.range(span);
    let head_end = body.map_or(end, |b| b.span.start as usize);
    let mut out = String::new();
    if src.comments_covered(start, head_end, children) {
        print_head(&mut out);
    } else {
        out = verbatim_head(src, start, head_end, indent);
    }
    if let Some(body) = body {
        push_text(&mut out, " ");
        let column = last_line_width(&out, indent);
        push_text(&mut out, &self::body(src, body, indent, column));
    }
    out
}

/// A header printed as written. When it ends in a line comment, the body's `{` goes on
/// a line of its own.
fn verbatim_head(src: &Source, start: usize, end: usize, indent: usize) -> String {
    let end = start + src.text[start..end].trim_end().len();
    let mut head = src.verbatim(start, end, indent);
    let last_comment = src.comments_in(start, end).last();
    if last_comment.is_some_and(|c| c.kind == CommentKind::Line && c.span.end as usize >= end) {
        head.push('\n');
        push_spaces(&mut head, indent);
    }
    head
}

fn input(src: &Source, x: &Input) -> String {
    let mut children: Vec<_> = x.ty.iter().map(|t| src.range(t.span)).collect();
    children.extend(x.default.iter().map(|d| src.range(d.span)));
    with_body(src, x.span, &children, x.body.as_ref(), 0, |head| {
        push_text(head, "input ");
        push_text(head, &x.name.name);
        if let Some(ty) = &x.ty {
            push_text(head, ": ");
            push_type(src, head, ty, 0);
        }
        if let Some(default) = &x.default {
            push_text(head, " = ");
            push_expr(src, head, default, 0);
        }
    })
}

fn function(src: &Source, x: &FnDecl) -> String {
    let mut children: Vec<_> = x.params.iter().map(|p| src.range(p.ty.span)).collect();
    children.extend(x.return_type.iter().map(|t| src.range(t.span)));
    children.push(src.range(x.body.span));
    simple(src, x.span, &children, |head| {
        push_text(head, &format!("fn {}(", x.name.name));
        push_params(src, head, x);
        push_text(head, ")");
        if let Some(ty) = &x.return_type {
            push_text(head, ": ");
            push_type(src, head, ty, 0);
        }
        push_text(head, " = ");
        push_expr(src, head, &x.body, 0);
    })
}

/// The parameters of a function: on one line, or one per line when the source puts
/// the first on a line after `(`, like the arguments of a call.
fn push_params(src: &Source, out: &mut String, x: &FnDecl) {
    let (paren, _) = src.next_token(x.name.span.end as usize);
    let broken = x.params.first().is_some_and(|p| src.has_newline(paren, p.span.start as usize));
    for (i, param) in x.params.iter().enumerate() {
        if broken {
            out.push('\n');
            push_spaces(out, INDENT);
        } else if i > 0 {
            push_text(out, ", ");
        }
        push_text(out, &param.name.name);
        push_text(out, ": ");
        push_type(src, out, &param.ty, if broken { INDENT } else { 0 });
        if broken {
            push_text(out, ",");
        }
    }
    if broken {
        out.push('\n');
    }
}

fn provider(src: &Source, x: &Provider) -> String {
    let children = repeat_children(src, x.repeat.as_ref());
    with_body(src, x.span, &children, Some(&x.body), 0, |head| {
        push_text(head, "provider ");
        push_text(head, &x.provider.name);
        if let Some(alias) = &x.alias {
            push_text(head, " as ");
            push_text(head, &alias.name);
        }
        push_repeat(src, head, x.repeat.as_ref(), 0);
    })
}

fn resource(src: &Source, x: &Resource) -> String {
    let children = repeat_children(src, x.repeat.as_ref());
    let keyword = match x.mode {
        ResourceMode::Managed => "resource",
        ResourceMode::Data => "data",
    };
    with_body(src, x.span, &children, Some(&x.body), 0, |head| {
        push_text(head, &format!("{keyword} {}.{} {}", x.ty.provider.name, x.ty.kind.name, x.name.name));
        push_repeat(src, head, x.repeat.as_ref(), 0);
    })
}

fn module(src: &Source, x: &ModuleCall) -> String {
    let children = repeat_children(src, x.repeat.as_ref());
    // Without a written body the lowering leaves an empty span at the item's end.
    let body = Some(&x.body).filter(|b| !b.span.is_empty());
    with_body(src, x.span, &children, body, 0, |head| {
        let (source_start, source_end) = src.range(x.source.span);
        push_text(head, &format!("module {} {}", x.name.name, &src.text[source_start..source_end]));
        push_repeat(src, head, x.repeat.as_ref(), 0);
    })
}

fn output(src: &Source, x: &Output) -> String {
    let children = [src.range(x.value.span)];
    with_body(src, x.span, &children, x.body.as_ref(), 0, |head| {
        push_text(head, &format!("output {} = ", x.name.name));
        push_expr(src, head, &x.value, 0);
    })
}

/// `check CONDITION, MESSAGE`, at the top level or in a body.
fn check(src: &Source, x: &Check, indent: usize) -> String {
    let children = [src.range(x.condition.span), src.range(x.message.span)];
    let (start, end) = src.range(x.span);
    if !src.comments_covered(start, end, &children) {
        return src.verbatim(start, end, indent);
    }
    let mut out = format!("{} ", x.kind.keyword());
    push_expr(src, &mut out, &x.condition, indent);
    push_text(&mut out, ", ");
    push_expr(src, &mut out, &x.message, indent);
    out
}

fn address_children<'a>(src: &'a Source, address: &'a Address) -> impl Iterator<Item = (usize, usize)> + 'a {
    address.steps.iter().filter_map(|step| step.key.as_ref().map(|k| src.range(k.span)))
}

fn push_address(src: &Source, out: &mut String, address: &Address, base: usize) {
    for (i, step) in address.steps.iter().enumerate() {
        if i > 0 {
            push_text(out, ".");
        }
        push_text(out, &step.name.name);
        if let Some(key) = &step.key {
            push_text(out, "[");
            push_expr(src, out, key, base);
            push_text(out, "]");
        }
    }
}

fn repeat_children(src: &Source, repeat: Option<&Repeat>) -> Vec<(usize, usize)> {
    match repeat {
        Some(Repeat::For(clause)) => {
            let mut children = vec![src.range(clause.collection.span)];
            children.extend(clause.key.iter().map(|k| src.range(k.span)));
            children
        }
        Some(Repeat::If { condition, .. }) => vec![src.range(condition.span)],
        None => Vec::new(),
    }
}

/// ` for k, v in COLLECTION key KEY` or ` if CONDITION`.
fn push_repeat(src: &Source, out: &mut String, repeat: Option<&Repeat>, base: usize) {
    match repeat {
        Some(Repeat::For(clause)) => {
            push_text(out, " for ");
            if let Some(key_var) = &clause.key_var {
                push_text(out, &key_var.name);
                push_text(out, ", ");
            }
            push_text(out, &clause.value_var.name);
            push_text(out, " in ");
            push_expr(src, out, &clause.collection, base);
            if let Some(key) = &clause.key {
                push_text(out, " key ");
                push_expr(src, out, key, base);
            }
        }
        Some(Repeat::If { condition, .. }) => {
            push_text(out, " if ");
            push_expr(src, out, condition, base);
        }
        None => {}
    }
}

/// `{ ... }` after a header whose last line is `column` wide, for a statement indented
/// by `indent`.
fn body(src: &Source, body: &Body, indent: usize, column: usize) -> String {
    let (start, end) = src.range(body.span);
    if body.items.is_empty() && !src.has_comment(start, end) {
        return "{}".to_string();
    }
    let entries: Vec<Entry> = body.items.iter().map(|item| body_entry(src, item, indent + INDENT)).collect();
    if let Some(inline) = inline_body(src, body, &entries) {
        if column + inline.chars().count() <= MAX_INLINE_WIDTH {
            return inline;
        }
    }
    let mut out = String::from("{");
    seq::render(src, &mut out, (start + 1, end - 1), &entries, &Layout { indent: indent + INDENT, top_level: false });
    out.push('\n');
    push_spaces(&mut out, indent);
    out.push('}');
    out
}

/// `{ a = 1, b = 2 }`, for a body written on one line without comments or blocks.
fn inline_body(src: &Source, body: &Body, entries: &[Entry]) -> Option<String> {
    let (start, end) = src.range(body.span);
    if src.has_newline(start, end) || src.has_comment(start, end) {
        return None;
    }
    if body.items.iter().any(|item| matches!(item, BodyItem::Block(_))) {
        return None;
    }
    let lines: Option<Vec<String>> = entries.iter().map(|e| e.rendered.single_line()).collect();
    Some(format!("{{ {} }}", lines?.join(", ")))
}

fn body_entry(src: &Source, item: &BodyItem, indent: usize) -> Entry {
    let (start, end) = src.range(item.span());
    let rendered = match item {
        BodyItem::Attribute(attribute) => self::attribute(src, attribute, indent),
        BodyItem::Block(block) => Rendered::Text(self::block(src, block, indent)),
        BodyItem::Check(check) => Rendered::Text(self::check(src, check, indent)),
        BodyItem::Placeholder(_) => Rendered::Text("...".to_string()),
    };
    Entry { start, end, rendered }
}

fn attribute(src: &Source, attribute: &Attribute, indent: usize) -> Rendered {
    let (start, end) = src.range(attribute.span);
    if !src.comments_covered(start, end, &[src.range(attribute.value.span)]) {
        return Rendered::Text(src.verbatim(start, end, indent));
    }
    let key = attribute.name.name.clone();
    Rendered::assign(key.to_string(), expr(src, &attribute.value, indent))
}

fn block(src: &Source, block: &Block, indent: usize) -> String {
    let children = repeat_children(src, block.repeat.as_ref());
    with_body(src, block.span, &children, Some(&block.body), indent, |head| {
        push_text(head, &block.name.name);
        push_repeat(src, head, block.repeat.as_ref(), indent);
    })
}
