//! Finds every heredoc in a file, so verbatim re-indentation can leave them alone.

use crate::syntax::ast::*;

/// The byte range of every heredoc, sorted by start.
pub(super) fn heredocs(items: &[Item]) -> Vec<(usize, usize)> {
    let mut ranges = Vec::new();
    let mut visit = |e: &Expr| {
        if matches!(e.kind, ExprKind::Heredoc { .. }) {
            ranges.push((e.span.start as usize, e.span.end as usize));
        }
    };
    for item in items {
        item_exprs(item, &mut visit);
    }
    ranges.sort_unstable();
    ranges
}

fn item_exprs(item: &Item, f: &mut impl FnMut(&Expr)) {
    match item {
        Item::Input(x) => {
            x.ty.iter().for_each(|t| type_exprs(t, f));
            x.default.iter().for_each(|e| expr(e, f));
            x.body.iter().for_each(|b| body_exprs(b, f));
        }
        Item::Let(x) => expr(&x.value, f),
        Item::Fn(x) => {
            x.params.iter().for_each(|p| type_exprs(&p.ty, f));
            x.return_type.iter().for_each(|t| type_exprs(t, f));
            expr(&x.body, f);
        }
        Item::Provider(x) => repeat_and_body(x.repeat.as_ref(), &x.body, f),
        Item::Resource(x) => repeat_and_body(x.repeat.as_ref(), &x.body, f),
        Item::Module(x) => repeat_and_body(x.repeat.as_ref(), &x.body, f),
        Item::Output(x) => {
            expr(&x.value, f);
            x.body.iter().for_each(|b| body_exprs(b, f));
        }
        Item::Check(x) => check_exprs(x, f),
        Item::Moved(x) => {
            address_exprs(&x.from, f);
            address_exprs(&x.to, f);
        }
        Item::Import(x) => {
            address_exprs(&x.to, f);
            expr(&x.id, f);
        }
        Item::Forget(x) => address_exprs(&x.address, f),
        Item::State(x) => body_exprs(&x.body, f),
    }
}

fn repeat_and_body(repeat: Option<&Repeat>, body: &Body, f: &mut impl FnMut(&Expr)) {
    match repeat {
        Some(Repeat::For(clause)) => {
            expr(&clause.collection, f);
            clause.key.iter().for_each(|k| expr(k, f));
        }
        Some(Repeat::If { condition, .. }) => expr(condition, f),
        None => {}
    }
    body_exprs(body, f);
}

fn body_exprs(body: &Body, f: &mut impl FnMut(&Expr)) {
    for item in &body.items {
        match item {
            BodyItem::Attribute(a) => expr(&a.value, f),
            BodyItem::Block(b) => repeat_and_body(b.repeat.as_ref(), &b.body, f),
            BodyItem::Check(c) => check_exprs(c, f),
            BodyItem::Placeholder(_) => {}
        }
    }
}

fn check_exprs(check: &Check, f: &mut impl FnMut(&Expr)) {
    expr(&check.condition, f);
    expr(&check.message, f);
}

fn address_exprs(address: &Address, f: &mut impl FnMut(&Expr)) {
    address.steps.iter().filter_map(|s| s.key.as_ref()).for_each(|k| expr(k, f));
}

fn type_exprs(ty: &TypeExpr, f: &mut impl FnMut(&Expr)) {
    match &ty.kind {
        TypeExprKind::List(t) | TypeExprKind::Set(t) | TypeExprKind::Map(t) => type_exprs(t, f),
        TypeExprKind::Tuple(ts) => ts.iter().for_each(|t| type_exprs(t, f)),
        TypeExprKind::Object(fields) => {
            for field in fields {
                type_exprs(&field.ty, f);
                field.default.iter().for_each(|d| expr(d, f));
            }
        }
        TypeExprKind::String | TypeExprKind::Number | TypeExprKind::Bool | TypeExprKind::Any | TypeExprKind::Error => {}
    }
}

/// Calls `f` on `e` and every expression inside it.
fn expr(e: &Expr, f: &mut impl FnMut(&Expr)) {
    f(e);
    match &e.kind {
        ExprKind::Template(t) | ExprKind::Heredoc { template: t, .. } => template_exprs(t, f),
        ExprKind::List(items) => items.iter().for_each(|x| expr(x, f)),
        ExprKind::Object(items) => {
            for item in items {
                if let ObjectKey::Expr(key) = &item.key {
                    expr(key, f);
                }
                expr(&item.value, f);
            }
        }
        ExprKind::GetAttr { target, .. } => expr(target, f),
        ExprKind::Index { target, index } => {
            expr(target, f);
            expr(index, f);
        }
        ExprKind::Splat { target, steps } => {
            expr(target, f);
            steps
                .iter()
                .filter_map(|s| if let SplatStep::Index(i) = s { Some(i) } else { None })
                .for_each(|i| expr(i, f));
        }
        ExprKind::Call { args, .. } => args.iter().for_each(|x| expr(x, f)),
        ExprKind::Unary { operand, .. } | ExprKind::Paren(operand) => expr(operand, f),
        ExprKind::Binary { lhs, rhs, .. } => {
            expr(lhs, f);
            expr(rhs, f);
        }
        ExprKind::Conditional { condition, then, otherwise } => {
            expr(condition, f);
            expr(then, f);
            expr(otherwise, f);
        }
        ExprKind::ForList { binding, body, filter } => {
            expr(&binding.collection, f);
            expr(body, f);
            filter.iter().for_each(|x| expr(x, f));
        }
        ExprKind::ForObject { binding, key, value, filter, .. } => {
            expr(&binding.collection, f);
            expr(key, f);
            expr(value, f);
            filter.iter().for_each(|x| expr(x, f));
        }
        ExprKind::Null | ExprKind::Bool(_) | ExprKind::Number(_) | ExprKind::Name(_) | ExprKind::Error => {}
    }
}

fn template_exprs(template: &Template, f: &mut impl FnMut(&Expr)) {
    for part in &template.parts {
        if let TemplatePart::Interpolation(e) = part {
            expr(e, f);
        }
    }
}
