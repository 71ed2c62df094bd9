//! Span invariants over every corpus file and example: each node's span lies inside its
//! parent's, every item lies inside its file, and the spans a node does not store (an
//! attribute's name, an operator) cover the text they name.

use std::path::{Path, PathBuf};

use infra_compiler::span::Span;
use infra_compiler::syntax::ast::*;
use infra_compiler::syntax::parse_file;
use infra_compiler::FileId;

fn infra_files(dir: &Path, out: &mut Vec<PathBuf>) {
    let Ok(entries) = std::fs::read_dir(dir) else { return };
    for entry in entries.flatten() {
        let path = entry.path();
        if path.is_dir() {
            infra_files(&path, out);
        } else if path.extension().is_some_and(|e| e == "infra") {
            out.push(path);
        }
    }
}

struct Walk {
    checked: usize,
    failures: Vec<String>,
    /// The text of the file being walked.
    text: String,
}

impl Walk {
    /// `span` is inside `parent` and its text is `expected`.
    fn reads(&mut self, parent: Span, span: Span, expected: &str, what: &str) {
        self.inside(parent, span, what);
        let found = self.text.get(span.range()).unwrap_or("(outside the file)");
        if found != expected {
            self.failures.push(format!("{what} {span:?} reads `{found}`, not `{expected}`"));
        }
    }

    fn inside(&mut self, parent: Span, child: Span, what: &str) {
        self.checked += 1;
        if !parent.contains(child) {
            self.failures.push(format!("{what} {child:?} not inside {parent:?}"));
        }
    }

    fn item(&mut self, item: &Item) {
        let span = item.span();
        match item {
            Item::Input(x) => {
                self.inside(span, x.name.span, "input name");
                if let Some(ty) = &x.ty {
                    self.ty(span, ty);
                }
                if let Some(d) = &x.default {
                    self.expr(span, d);
                }
                if let Some(b) = &x.body {
                    self.body(span, b);
                }
            }
            Item::Let(x) => {
                self.inside(span, x.name.span, "let name");
                self.expr(span, &x.value);
            }
            Item::Fn(x) => {
                for p in &x.params {
                    self.inside(span, p.span, "param");
                    self.inside(p.span, p.name.span, "param name");
                    self.ty(p.span, &p.ty);
                }
                if let Some(ty) = &x.return_type {
                    self.ty(span, ty);
                }
                self.expr(span, &x.body);
            }
            Item::Provider(x) => {
                self.inside(span, x.provider.span, "provider name");
                self.repeat(span, x.repeat.as_ref());
                self.body(span, &x.body);
            }
            Item::Resource(x) => {
                self.inside(span, x.ty.span, "resource type");
                self.inside(x.ty.span, x.ty.kind.span, "kind");
                self.inside(span, x.name.span, "resource name");
                self.repeat(span, x.repeat.as_ref());
                self.body(span, &x.body);
            }
            Item::Module(x) => {
                self.inside(span, x.source.span, "module source");
                self.repeat(span, x.repeat.as_ref());
                self.body(span, &x.body);
            }
            Item::Output(x) => {
                self.expr(span, &x.value);
                if let Some(b) = &x.body {
                    self.body(span, b);
                }
            }
            Item::Check(x) => self.check(span, x),
            Item::Moved(x) => {
                self.address(span, &x.from);
                self.address(span, &x.to);
            }
            Item::Import(x) => {
                self.address(span, &x.to);
                self.expr(span, &x.id);
            }
            Item::Forget(x) => self.address(span, &x.address),
            Item::State(x) => self.body(span, &x.body),
            Item::Plugin(x) => self.body(span, &x.body),
        }
    }

    fn check(&mut self, parent: Span, check: &Check) {
        self.inside(parent, check.span, "check");
        self.expr(check.span, &check.condition);
        self.expr(check.span, &check.message);
    }

    fn address(&mut self, parent: Span, address: &Address) {
        self.inside(parent, address.span, "address");
        for step in &address.steps {
            self.inside(address.span, step.span, "address step");
            if let Some(key) = &step.key {
                self.expr(step.span, key);
            }
        }
    }

    fn repeat(&mut self, parent: Span, repeat: Option<&Repeat>) {
        let Some(repeat) = repeat else { return };
        self.inside(parent, repeat.span(), "repeat");
        match repeat {
            Repeat::For(f) => {
                self.expr(f.span, &f.collection);
                if let Some(k) = &f.key {
                    self.expr(f.span, k);
                }
            }
            Repeat::If { condition, span } => self.expr(*span, condition),
        }
    }

    fn body(&mut self, parent: Span, body: &Body) {
        self.inside(parent, body.span, "body");
        for entry in &body.items {
            self.inside(body.span, entry.span(), "body entry");
            match entry {
                BodyItem::Attribute(a) => {
                    self.inside(a.span, a.name.span, "attribute name");
                    self.expr(a.span, &a.value);
                }
                BodyItem::Block(b) => {
                    self.repeat(b.span, b.repeat.as_ref());
                    self.body(b.span, &b.body);
                }
                BodyItem::Check(c) => self.check(body.span, c),
                BodyItem::Placeholder(_) => {}
            }
        }
    }

    fn ty(&mut self, parent: Span, ty: &TypeExpr) {
        self.inside(parent, ty.span, "type");
        match &ty.kind {
            TypeExprKind::List(t) | TypeExprKind::Set(t) | TypeExprKind::Map(t) => self.ty(ty.span, t),
            TypeExprKind::Tuple(items) => items.iter().for_each(|t| self.ty(ty.span, t)),
            TypeExprKind::Object(fields) => {
                for f in fields {
                    self.inside(ty.span, f.span, "object type field");
                    self.ty(f.span, &f.ty);
                    if let Some(d) = &f.default {
                        self.expr(f.span, d);
                    }
                }
            }
            _ => {}
        }
    }

    fn expr(&mut self, parent: Span, expr: &Expr) {
        self.inside(parent, expr.span, "expression");
        let span = expr.span;
        match &expr.kind {
            ExprKind::Template(parts) => self.template(span, parts),
            ExprKind::Heredoc(heredoc) => self.template(span, heredoc.template.parts()),
            ExprKind::List(items) => items.iter().for_each(|e| self.expr(span, e)),
            ExprKind::Object(items) => {
                for item in items {
                    self.inside(span, item.span(), "object item");
                    self.inside(item.span(), item.key_span(), "object key");
                    self.expr(item.span(), &item.value);
                }
            }
            ExprKind::GetAttr { target, name } => {
                self.expr(span, target);
                self.reads(span, expr.name_span(), name, "attribute name");
            }
            ExprKind::Index { target, index } => {
                self.expr(span, target);
                self.expr(span, index);
            }
            ExprKind::Splat(splat) => {
                self.expr(span, &splat.target);
                for step in &splat.steps {
                    match step {
                        SplatStep::Attr(name) => self.inside(span, name.span, "splat attribute"),
                        SplatStep::Index(e) => self.expr(span, e),
                    }
                }
            }
            ExprKind::Call(call) => {
                self.inside(span, call.function.span, "function name");
                call.args.iter().for_each(|e| self.expr(span, e));
            }
            ExprKind::Unary { op, operand } => {
                self.reads(span, expr.op_span(), op.as_str(), "operator");
                self.expr(span, operand);
            }
            ExprKind::Binary { op, lhs, rhs, .. } => {
                self.reads(span, expr.op_span(), op.as_str(), "operator");
                self.expr(span, lhs);
                self.expr(span, rhs);
            }
            ExprKind::Conditional(conditional) => {
                self.expr(span, &conditional.condition);
                self.expr(span, &conditional.then);
                self.expr(span, &conditional.otherwise);
            }
            ExprKind::ForList(for_list) => {
                self.expr(span, &for_list.binding.collection);
                self.expr(span, &for_list.body);
                if let Some(f) = &for_list.filter {
                    self.expr(span, f);
                }
            }
            ExprKind::ForObject(for_object) => {
                self.expr(span, &for_object.binding.collection);
                self.expr(span, &for_object.key);
                self.expr(span, &for_object.value);
                if let Some(f) = &for_object.filter {
                    self.expr(span, f);
                }
            }
            ExprKind::Paren(inner) => self.expr(span, inner),
            _ => {}
        }
    }

    fn template(&mut self, parent: Span, parts: &[TemplatePart]) {
        for part in parts {
            match part {
                TemplatePart::Literal { span, .. } => self.inside(parent, *span, "template literal"),
                TemplatePart::Interpolation(e) | TemplatePart::If(e) => self.expr(parent, e),
                TemplatePart::For(binding) => self.expr(parent, &binding.collection),
                TemplatePart::Else(span) | TemplatePart::EndIf(span) | TemplatePart::EndFor(span) => {
                    self.inside(parent, *span, "template directive")
                }
            }
        }
    }
}

#[test]
fn every_node_lies_inside_its_parent() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("..");
    let mut files = Vec::new();
    infra_files(&root.join("tests/data"), &mut files);
    infra_files(&root.join("examples"), &mut files);
    files.push(root.join("examples/design.infra.txt"));
    let mut walk = Walk { checked: 0, failures: Vec::new(), text: String::new() };
    for path in &files {
        let Ok(text) = std::fs::read_to_string(path) else { continue };
        let parsed = parse_file(FileId(0), &text);
        walk.text = text;
        for item in &parsed.ast.items {
            walk.inside(parsed.ast.span, item.span(), "item");
            let before = walk.failures.len();
            walk.item(item);
            for failure in &mut walk.failures[before..] {
                *failure = format!("{}: {failure}", path.display());
            }
        }
    }
    assert!(walk.failures.is_empty(), "{}", walk.failures.join("\n"));
    assert!(walk.checked > 1_000, "only {} spans checked; is the corpus there?", walk.checked);
}
