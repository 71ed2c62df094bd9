//! One walk over the syntax tree: a [`Visitor`] whose default methods recurse through
//! the `walk_*` functions, as `syn::visit` and rustc's `visit` do.
//!
//! A pass overrides the methods for the nodes it cares about and calls the matching
//! `walk_*` function where it wants the default recursion (before, after or around its
//! own work, say to open and close a scope). Not calling it prunes the walk there.
//!
//! Names that are bound rather than read (`fn` parameters, `for` variables of
//! repetition clauses and of `for` expressions) go to [`Visitor::visit_binding`], in
//! source order and after the collection they range over. Their scope is the node that
//! holds them: the `fn` item, the item or block with the repetition clause, the `for`
//! expression; a pass that tracks scopes overrides those nodes.

use crate::syntax::ast::*;

/// A walk over the syntax tree; every method's default visits the node's children.
pub trait Visitor<'ast>: Sized {
    fn visit_item(&mut self, item: &'ast Item) {
        walk_item(self, item);
    }

    fn visit_body(&mut self, body: &'ast Body) {
        walk_body(self, body);
    }

    fn visit_body_item(&mut self, item: &'ast BodyItem) {
        walk_body_item(self, item);
    }

    fn visit_check(&mut self, check: &'ast Check) {
        walk_check(self, check);
    }

    fn visit_repeat(&mut self, repeat: &'ast Repeat) {
        walk_repeat(self, repeat);
    }

    fn visit_address(&mut self, address: &'ast Address) {
        walk_address(self, address);
    }

    fn visit_type_expr(&mut self, ty: &'ast TypeExpr) {
        walk_type_expr(self, ty);
    }

    fn visit_expr(&mut self, expr: &'ast Expr) {
        walk_expr(self, expr);
    }

    fn visit_for_binding(&mut self, binding: &'ast ForBinding) {
        walk_for_binding(self, binding);
    }

    /// A name that is bound here: a `fn` parameter or a `for` variable.
    fn visit_binding(&mut self, _name: &'ast Ident) {}
}

/// Visits every item of a file in order.
pub fn walk_items<'ast, V: Visitor<'ast>>(visitor: &mut V, items: &'ast [Item]) {
    for item in items {
        visitor.visit_item(item);
    }
}

pub fn walk_item<'ast, V: Visitor<'ast>>(visitor: &mut V, item: &'ast Item) {
    match item {
        Item::Input(input) => {
            input.ty.iter().for_each(|ty| visitor.visit_type_expr(ty));
            input.default.iter().for_each(|value| visitor.visit_expr(value));
            input.body.iter().for_each(|body| visitor.visit_body(body));
        }
        Item::Let(decl) => visitor.visit_expr(&decl.value),
        Item::Fn(function) => walk_fn(visitor, function),
        Item::Provider(x) => walk_repeated_body(visitor, x.repeat.as_ref(), &x.body),
        Item::Resource(x) => walk_repeated_body(visitor, x.repeat.as_ref(), &x.body),
        Item::Module(x) => walk_repeated_body(visitor, x.repeat.as_ref(), &x.body),
        Item::Output(output) => {
            visitor.visit_expr(&output.value);
            output.body.iter().for_each(|body| visitor.visit_body(body));
        }
        Item::Check(check) => visitor.visit_check(check),
        Item::Moved(moved) => {
            visitor.visit_address(&moved.from);
            visitor.visit_address(&moved.to);
        }
        Item::Import(import) => {
            visitor.visit_address(&import.to);
            visitor.visit_expr(&import.id);
        }
        Item::Forget(forget) => visitor.visit_address(&forget.address),
        Item::State(state) => visitor.visit_body(&state.body),
        Item::Plugin(plugin) => visitor.visit_body(&plugin.body),
    }
}

/// A function's parameters (each bound, then its type), return type and body.
pub fn walk_fn<'ast, V: Visitor<'ast>>(visitor: &mut V, function: &'ast FnDecl) {
    for param in &function.params {
        visitor.visit_binding(&param.name);
        visitor.visit_type_expr(&param.ty);
    }
    function.return_type.iter().for_each(|ty| visitor.visit_type_expr(ty));
    visitor.visit_expr(&function.body);
}

/// A repetition clause, then the body it repeats.
pub fn walk_repeated_body<'ast, V: Visitor<'ast>>(visitor: &mut V, repeat: Option<&'ast Repeat>, body: &'ast Body) {
    repeat.iter().for_each(|repeat| visitor.visit_repeat(repeat));
    visitor.visit_body(body);
}

pub fn walk_body<'ast, V: Visitor<'ast>>(visitor: &mut V, body: &'ast Body) {
    for item in &body.items {
        visitor.visit_body_item(item);
    }
}

pub fn walk_body_item<'ast, V: Visitor<'ast>>(visitor: &mut V, item: &'ast BodyItem) {
    match item {
        BodyItem::Attribute(attribute) => visitor.visit_expr(&attribute.value),
        BodyItem::Block(block) => walk_repeated_body(visitor, block.repeat.as_ref(), &block.body),
        BodyItem::Check(check) => visitor.visit_check(check),
        BodyItem::Placeholder(_) => {}
    }
}

pub fn walk_check<'ast, V: Visitor<'ast>>(visitor: &mut V, check: &'ast Check) {
    visitor.visit_expr(&check.condition);
    visitor.visit_expr(&check.message);
}

/// `for [k,] v in COLLECTION [key KEY]`: the collection, the variables, the key; or the
/// condition of an `if`.
pub fn walk_repeat<'ast, V: Visitor<'ast>>(visitor: &mut V, repeat: &'ast Repeat) {
    match repeat {
        Repeat::For(clause) => {
            visitor.visit_expr(&clause.collection);
            clause.key_var.iter().for_each(|name| visitor.visit_binding(name));
            visitor.visit_binding(&clause.value_var);
            clause.key.iter().for_each(|key| visitor.visit_expr(key));
        }
        Repeat::If { condition, .. } => visitor.visit_expr(condition),
    }
}

/// The keys of an address's steps (`env["prod"]`); the names are not expressions.
pub fn walk_address<'ast, V: Visitor<'ast>>(visitor: &mut V, address: &'ast Address) {
    for key in address.steps.iter().filter_map(|step| step.key.as_ref()) {
        visitor.visit_expr(key);
    }
}

/// Nested types, and the defaults of `optional(T, default)` object fields.
pub fn walk_type_expr<'ast, V: Visitor<'ast>>(visitor: &mut V, ty: &'ast TypeExpr) {
    match &ty.kind {
        TypeExprKind::List(inner) | TypeExprKind::Set(inner) | TypeExprKind::Map(inner) => {
            visitor.visit_type_expr(inner)
        }
        TypeExprKind::Tuple(items) => items.iter().for_each(|item| visitor.visit_type_expr(item)),
        TypeExprKind::Object(fields) => {
            for field in fields {
                visitor.visit_type_expr(&field.ty);
                field.default.iter().for_each(|default| visitor.visit_expr(default));
            }
        }
        TypeExprKind::String | TypeExprKind::Number | TypeExprKind::Bool | TypeExprKind::Any | TypeExprKind::Error => {}
    }
}

/// The expressions directly inside `expr`, in source order.
pub fn walk_expr<'ast, V: Visitor<'ast>>(visitor: &mut V, expr: &'ast Expr) {
    match &expr.kind {
        ExprKind::Null
        | ExprKind::Bool(_)
        | ExprKind::Number(_)
        | ExprKind::Text(_)
        | ExprKind::Name(_)
        | ExprKind::Error => {}
        ExprKind::Template(parts) => walk_template(visitor, parts),
        ExprKind::Heredoc(heredoc) => walk_template(visitor, heredoc.template.parts()),
        ExprKind::List(items) => items.iter().for_each(|item| visitor.visit_expr(item)),
        ExprKind::Object(items) => walk_object(visitor, items),
        ExprKind::GetAttr { target, .. } => visitor.visit_expr(target),
        ExprKind::Index { target, index } => {
            visitor.visit_expr(target);
            visitor.visit_expr(index);
        }
        ExprKind::Splat(splat) => {
            visitor.visit_expr(&splat.target);
            walk_splat_steps(visitor, &splat.steps);
        }
        ExprKind::Call(call) => call.args.iter().for_each(|arg| visitor.visit_expr(arg)),
        ExprKind::Unary { operand, .. } | ExprKind::Paren(operand) => visitor.visit_expr(operand),
        ExprKind::Binary { lhs, rhs, .. } => {
            visitor.visit_expr(lhs);
            visitor.visit_expr(rhs);
        }
        ExprKind::Conditional(conditional) => {
            visitor.visit_expr(&conditional.condition);
            visitor.visit_expr(&conditional.then);
            visitor.visit_expr(&conditional.otherwise);
        }
        ExprKind::ForList(for_list) => {
            visitor.visit_for_binding(&for_list.binding);
            visitor.visit_expr(&for_list.body);
            for_list.filter.iter().for_each(|filter| visitor.visit_expr(filter));
        }
        ExprKind::ForObject(for_object) => {
            visitor.visit_for_binding(&for_object.binding);
            visitor.visit_expr(&for_object.key);
            visitor.visit_expr(&for_object.value);
            for_object.filter.iter().for_each(|filter| visitor.visit_expr(filter));
        }
    }
}

/// The interpolations of a string or heredoc, and its directives' conditions and
/// `for` bindings.
pub fn walk_template<'ast, V: Visitor<'ast>>(visitor: &mut V, parts: &'ast [TemplatePart]) {
    for part in parts {
        match part {
            TemplatePart::Interpolation(inner) | TemplatePart::If(inner) => visitor.visit_expr(inner),
            TemplatePart::For(binding) => visitor.visit_for_binding(binding),
            TemplatePart::Literal { .. } | TemplatePart::Else(_) | TemplatePart::EndIf(_) | TemplatePart::EndFor(_) => {
            }
        }
    }
}

/// Each item's key (when it is an expression) and value.
pub fn walk_object<'ast, V: Visitor<'ast>>(visitor: &mut V, items: &'ast [ObjectItem]) {
    for item in items {
        if let ObjectKey::Expr(key) = &item.key {
            visitor.visit_expr(key);
        }
        visitor.visit_expr(&item.value);
    }
}

/// The index expressions of splat steps (`[*].a[i]`); attribute steps are names.
pub fn walk_splat_steps<'ast, V: Visitor<'ast>>(visitor: &mut V, steps: &'ast [SplatStep]) {
    for step in steps {
        if let SplatStep::Index(index) = step {
            visitor.visit_expr(index);
        }
    }
}

/// A `for` expression's collection, then its variables.
pub fn walk_for_binding<'ast, V: Visitor<'ast>>(visitor: &mut V, binding: &'ast ForBinding) {
    visitor.visit_expr(&binding.collection);
    binding.key_var.iter().for_each(|name| visitor.visit_binding(name));
    visitor.visit_binding(&binding.value_var);
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::span::FileId;

    fn parse(source: &str) -> Vec<Item> {
        let parsed = crate::syntax::parse_file(FileId(0), source);
        assert!(parsed.diagnostics.is_empty(), "{:?}", parsed.diagnostics);
        parsed.ast.items
    }

    /// Records names read and bound, in visiting order.
    #[derive(Default)]
    struct Names(Vec<String>);

    impl<'ast> Visitor<'ast> for Names {
        fn visit_expr(&mut self, expr: &'ast Expr) {
            if let ExprKind::Name(name) = &expr.kind {
                self.0.push(name.to_string());
            }
            walk_expr(self, expr);
        }

        fn visit_binding(&mut self, name: &'ast Ident) {
            self.0.push(format!("bind {}", name.name));
        }
    }

    fn names(source: &str) -> Vec<String> {
        let items = parse(source);
        let mut names = Names::default();
        walk_items(&mut names, &items);
        names.0
    }

    #[test]
    fn every_expression_is_visited_in_source_order() {
        let source = r#"
input a: object({ x = optional(string, d1) }) = d2 {
  check c1, "${m1}"
}
fn f(p: list(string)): string = p[q]
resource local.file r for k, v in xs key kk {
  path = <<EOT
${h}
EOT
  tags = { (ok) = ov }
  ingress for i in is { port = cond ? yes : no }
  postcondition self.ok, "m"
}
module m "./m" if on {
  x = [for e in es : -e if e != z]
}
output o = {for k2, v2 in os : k2 => v2...} {
  description = "${dd}"
}
moved a[mk] -> b
import c from id
forget d[fk]
state local {
  path = sp
}
let s = t[*].u[si]
"#;
        assert_eq!(
            names(source),
            [
                "d1", "d2", "c1", "m1", "bind p", "p", "q", "xs", "bind k", "bind v", "kk", "h", "ok", "ov", "is",
                "bind i", "cond", "yes", "no", "self", "on", "es", "bind e", "e", "e", "z", "os", "bind k2", "bind v2",
                "k2", "v2", "dd", "mk", "id", "fk", "sp", "t", "si"
            ]
        );
    }

    /// A visitor that does not call `walk_expr` sees only the outermost expressions.
    struct Outermost(usize);

    impl<'ast> Visitor<'ast> for Outermost {
        fn visit_expr(&mut self, _expr: &'ast Expr) {
            self.0 += 1;
        }
    }

    #[test]
    fn not_walking_prunes_the_walk() {
        let items = parse("let a = [b, c + d]\noutput o = f(x, y)\n");
        let mut outermost = Outermost(0);
        walk_items(&mut outermost, &items);
        assert_eq!(outermost.0, 2);
    }
}
