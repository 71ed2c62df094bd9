//! Lowering from pest pairs to the AST: one function per grammar rule, named after it.
//! Expressions and templates are in `lower/expr.rs`, types in `lower/types.rs`.

mod expr;
mod fast;
mod types;

use pest::iterators::Pair;

use crate::diagnostic::{codes, Diagnostic};
use crate::name::Names;
use crate::span::{FileId, Span};
use crate::syntax::ast::*;
use crate::syntax::parser::Rule;

/// Lowering state for one chunk of a file: `base` is the chunk's byte offset in the
/// file, added to every pest position.
pub(crate) struct Lower<'d> {
    file: FileId,
    base: usize,
    /// Where `text` starts in the file, when it is a piece of it (see
    /// `parser::parse_reader`): added to every span made.
    pub(crate) origin: usize,
    /// The whole file's text and its comments (absolute offsets, sorted), for trimming
    /// spans; see [`Lower::span`].
    text: &'d str,
    comments: &'d [(usize, usize)],
    /// Depth of the expression tree being built; see `expr::MAX_EXPR_DEPTH`.
    depth: usize,
    diagnostics: &'d mut Vec<Diagnostic>,
    /// The names made so far in this run of chunks: each distinct identifier is made once.
    names: &'d mut Names,
    /// Where the hand-written parser gathers a collection's elements; see [`Scratch`].
    pub(crate) scratch: Scratch,
}

/// Stacks on which the hand-written parser (`lower/fast.rs`) gathers the elements of
/// the collection it is in (an object's items, a list's elements, a body's entries),
/// moved off into a vector of their exact size once it ends: each collection grew a
/// vector of its own by doubling, a fifth of parsing a large file. A nested collection
/// takes its elements off before the next element of the outer one is pushed. Kept
/// from chunk to chunk of a run.
#[derive(Default)]
pub(crate) struct Scratch {
    pub items: Vec<ObjectItem>,
    pub exprs: Vec<Expr>,
    pub entries: Vec<BodyItem>,
}

impl Scratch {
    /// Forgets what a parse that gave up left behind.
    pub fn clear(&mut self) {
        self.items.clear();
        self.exprs.clear();
        self.entries.clear();
    }
}

/// A grammar rule reached a place the lowering does not expect: a bug in the grammar
/// or the lowering, never in user input.
#[track_caller]
fn unexpected_rule(rule: Rule) -> ! {
    panic!("grammar bug: unexpected rule {rule:?}")
}

impl<'d> Lower<'d> {
    pub(crate) fn new(
        file: FileId,
        base: usize,
        (text, comments): (&'d str, &'d [(usize, usize)]),
        (diagnostics, names): (&'d mut Vec<Diagnostic>, &'d mut Names),
    ) -> Lower<'d> {
        Lower { file, base, origin: 0, text, comments, depth: 0, diagnostics, names, scratch: Scratch::default() }
    }

    /// The span of a pair, without trailing whitespace and comments. pest's span of a
    /// rule that ends in an optional part (`expr` ends in `conditional?`) runs over
    /// the whitespace and comments skipped while trying that part, so a diagnostic
    /// would underline them too.
    fn span(&self, pair: &Pair<Rule>) -> Span {
        let span = pair.as_span();
        self.span_at(self.base + span.start(), self.base + span.end())
    }

    /// [`Lower::span`] of the text from `start` to `end` (offsets in the file).
    fn span_at(&self, start: usize, mut end: usize) -> Span {
        loop {
            let trimmed = self.text.get(start..end).map_or(0, |t| t.len() - t.trim_end().len());
            end -= trimmed;
            // Without trailing whitespace, only a block comment (ending in `/`) or a line
            // comment at the very end of the file can end the span: skip the search.
            if trimmed == 0 && end < self.text.len() && self.text.as_bytes().get(end.wrapping_sub(1)) != Some(&b'/') {
                break;
            }
            // The comment that the span ends in or at. (A line comment at the end of the
            // file can end in spaces, which the trimming above has already cut.)
            let last = self.comments.partition_point(|&(s, _)| s < end).checked_sub(1);
            match last.map(|i| self.comments[i]) {
                Some((comment_start, comment_end)) if comment_start >= start && comment_end >= end => {
                    end = comment_start
                }
                _ => break,
            }
        }
        Span::new(self.file, self.origin + start, self.origin + end)
    }

    fn error(&mut self, diagnostic: Diagnostic) {
        self.diagnostics.push(diagnostic);
    }

    pub(crate) fn expression_only(&mut self, pair: Pair<Rule>) -> Expr {
        self.expr(next(&mut pair.into_inner()))
    }

    pub(crate) fn var_file(&mut self, pair: Pair<Rule>) -> Vec<Attribute> {
        pair.into_inner().filter(|p| p.as_rule() == Rule::attribute).map(|p| self.attribute(p)).collect()
    }

    pub(crate) fn file(&mut self, pair: Pair<Rule>) -> Vec<Item> {
        pair.into_inner().filter(|p| p.as_rule() != Rule::EOI).map(|p| self.item(p)).collect()
    }

    fn item(&mut self, pair: Pair<Rule>) -> Item {
        match pair.as_rule() {
            Rule::input_item => Item::Input(self.input_item(pair)),
            Rule::let_item => Item::Let(self.let_item(pair)),
            Rule::fn_item => Item::Fn(self.fn_item(pair)),
            Rule::provider_item => Item::Provider(self.provider_item(pair)),
            Rule::resource_item => Item::Resource(self.resource_item(pair, ResourceMode::Managed)),
            Rule::data_item => Item::Resource(self.resource_item(pair, ResourceMode::Data)),
            Rule::module_item => Item::Module(self.module_item(pair)),
            Rule::output_item => Item::Output(self.output_item(pair)),
            Rule::check_item => Item::Check(self.check(pair)),
            Rule::moved_item => Item::Moved(self.moved_item(pair)),
            Rule::import_item => Item::Import(self.import_item(pair)),
            Rule::forget_item => Item::Forget(self.forget_item(pair)),
            Rule::state_item => Item::State(self.state_item(pair)),
            Rule::plugin_item => Item::Plugin(self.plugin_item(pair)),
            rule => unexpected_rule(rule),
        }
    }

    fn ident(&mut self, pair: Pair<Rule>) -> Ident {
        Ident { name: self.names.name(pair.as_str()), span: self.span(&pair) }
    }

    fn input_item(&mut self, pair: Pair<Rule>) -> Input {
        let span = self.span(&pair);
        let mut inner = pair.into_inner().skip(1);
        let name = self.ident(inner.next().unwrap_or_else(|| unexpected_rule(Rule::input_item)));
        let mut input = Input { name, ty: None, default: None, body: None, span };
        for part in inner {
            match part.as_rule() {
                Rule::type_expr => input.ty = Some(self.type_expr(part)),
                Rule::default_value => input.default = Some(self.single_expr(part)),
                Rule::body => input.body = Some(self.body(part)),
                rule => unexpected_rule(rule),
            }
        }
        input
    }

    fn let_item(&mut self, pair: Pair<Rule>) -> Let {
        let span = self.span(&pair);
        let mut inner = pair.into_inner().skip(1);
        let name = self.ident(next(&mut inner));
        let value = self.expr(next(&mut inner));
        Let { name, value, span }
    }

    fn fn_item(&mut self, pair: Pair<Rule>) -> FnDecl {
        let span = self.span(&pair);
        let mut inner = pair.into_inner().skip(1);
        let name = self.ident(next(&mut inner));
        let mut params = Vec::new();
        let mut return_type = None;
        let mut body = None;
        for part in inner {
            match part.as_rule() {
                Rule::param => params.push(self.param(part)),
                Rule::return_type => {
                    return_type = Some(self.type_expr(next(&mut part.into_inner())));
                }
                Rule::expr => body = Some(self.expr(part)),
                rule => unexpected_rule(rule),
            }
        }
        let body = body.unwrap_or_else(|| unexpected_rule(Rule::fn_item));
        FnDecl { name, params, return_type, body, span }
    }

    fn param(&mut self, pair: Pair<Rule>) -> Param {
        let span = self.span(&pair);
        let mut inner = pair.into_inner();
        let name = self.ident(next(&mut inner));
        let ty = self.type_expr(next(&mut inner));
        Param { name, ty, span }
    }

    fn provider_item(&mut self, pair: Pair<Rule>) -> Provider {
        let span = self.span(&pair);
        let mut inner = pair.into_inner().skip(1);
        let provider = self.ident(next(&mut inner));
        let mut alias = None;
        let mut repeat = None;
        let mut body = None;
        for part in inner {
            match part.as_rule() {
                Rule::provider_alias => alias = Some(self.ident(nth(part, 1))),
                Rule::for_clause | Rule::if_clause => repeat = Some(self.repeat(part)),
                Rule::body => body = Some(self.body(part)),
                rule => unexpected_rule(rule),
            }
        }
        let body = body.unwrap_or_else(|| unexpected_rule(Rule::provider_item));
        Provider { provider, alias, repeat, body, span }
    }

    fn resource_item(&mut self, pair: Pair<Rule>, mode: ResourceMode) -> Resource {
        let span = self.span(&pair);
        let mut inner = pair.into_inner().skip(1);
        let ty = self.resource_type(next(&mut inner));
        let name = self.ident(next(&mut inner));
        let mut repeat = None;
        let mut body = None;
        for part in inner {
            match part.as_rule() {
                Rule::for_clause | Rule::if_clause => repeat = Some(self.repeat(part)),
                Rule::body => body = Some(self.body(part)),
                rule => unexpected_rule(rule),
            }
        }
        let body = body.unwrap_or_else(|| unexpected_rule(Rule::resource_item));
        Resource { mode, ty, name, repeat, body, span }
    }

    fn resource_type(&mut self, pair: Pair<Rule>) -> ResourceType {
        let span = self.span(&pair);
        let mut inner = pair.into_inner();
        let provider = self.ident(next(&mut inner));
        let kind = self.ident(next(&mut inner));
        ResourceType { provider, kind, span }
    }

    fn module_item(&mut self, pair: Pair<Rule>) -> ModuleCall {
        let span = self.span(&pair);
        let mut inner = pair.into_inner().skip(1);
        let name = self.ident(next(&mut inner));
        let source = self.string_lit(next(&mut inner));
        let mut repeat = None;
        let mut body = Body { items: Vec::new(), span: Span { start: span.end, ..span } };
        for part in inner {
            match part.as_rule() {
                Rule::for_clause | Rule::if_clause => repeat = Some(self.repeat(part)),
                Rule::body => body = self.body(part),
                rule => unexpected_rule(rule),
            }
        }
        ModuleCall { name, source, repeat, body, span }
    }

    /// A quoted string that must not contain interpolations.
    fn string_lit(&mut self, pair: Pair<Rule>) -> StringLit {
        let span = self.span(&pair);
        let raw = pair.as_str().trim_matches('"').to_string();
        let template = self.template_string(pair);
        // The raw text (with its `${`) is kept so later phases can tell this source was
        // already reported and skip it.
        let value = template.as_literal().unwrap_or_else(|| {
            self.error(
                Diagnostic::error(codes::SYNTAX, "module source cannot contain `${}` interpolation")
                    .with_label(span, "must be a plain string")
                    .with_help("module sources are resolved before anything is evaluated; write the path literally"),
            );
            raw
        });
        StringLit { value, span }
    }

    fn output_item(&mut self, pair: Pair<Rule>) -> Output {
        let span = self.span(&pair);
        let mut inner = pair.into_inner().skip(1);
        let name = self.ident(next(&mut inner));
        let value = self.expr(next(&mut inner));
        let body = inner.next().map(|p| self.body(p));
        Output { name, value, body, span }
    }

    /// `check_item` and `check_stmt`: `check CONDITION, MESSAGE`.
    fn check(&mut self, pair: Pair<Rule>) -> Check {
        let span = self.span(&pair);
        let mut inner = pair.into_inner();
        let kind = match next(&mut inner).as_str() {
            "precondition" => CheckKind::Precondition,
            "postcondition" => CheckKind::Postcondition,
            _ => CheckKind::Check,
        };
        let condition = self.expr(next(&mut inner));
        let message = self.expr(next(&mut inner));
        Check { kind, condition, message, span }
    }

    fn forget_item(&mut self, pair: Pair<Rule>) -> Forget {
        let span = self.span(&pair);
        let mut inner = pair.into_inner().skip(1);
        let address = self.address(next(&mut inner));
        Forget { address, span }
    }

    fn moved_item(&mut self, pair: Pair<Rule>) -> Moved {
        let span = self.span(&pair);
        let mut inner = pair.into_inner().skip(1);
        let from = self.address(next(&mut inner));
        let to = self.address(next(&mut inner));
        Moved { from, to, span }
    }

    fn import_item(&mut self, pair: Pair<Rule>) -> Import {
        let span = self.span(&pair);
        let mut inner = pair.into_inner().skip(1);
        let to = self.address(next(&mut inner));
        let id = self.expr(nth_of(&mut inner, 1));
        Import { to, id, span }
    }

    fn state_item(&mut self, pair: Pair<Rule>) -> StateBlock {
        let span = self.span(&pair);
        let mut inner = pair.into_inner().skip(1);
        let backend = self.ident(next(&mut inner));
        let body = self.body(next(&mut inner));
        StateBlock { backend, body, span }
    }

    fn plugin_item(&mut self, pair: Pair<Rule>) -> PluginDecl {
        let span = self.span(&pair);
        let mut inner = pair.into_inner().skip(1);
        let name = self.ident(next(&mut inner));
        let body = self.body(next(&mut inner));
        PluginDecl { name, body, span }
    }

    fn address(&mut self, pair: Pair<Rule>) -> Address {
        let span = self.span(&pair);
        let steps = pair.into_inner().map(|p| self.address_step(p)).collect();
        Address { steps, span }
    }

    fn address_step(&mut self, pair: Pair<Rule>) -> AddressStep {
        let span = self.span(&pair);
        let mut inner = pair.into_inner();
        let name = self.ident(next(&mut inner));
        let key = inner.next().map(|p| self.expr(p));
        AddressStep { name, key, span }
    }

    fn repeat(&mut self, pair: Pair<Rule>) -> Repeat {
        match pair.as_rule() {
            Rule::for_clause => Repeat::For(Box::new(self.for_clause(pair))),
            Rule::if_clause => {
                let span = self.span(&pair);
                let condition = self.expr(nth(pair, 1));
                Repeat::If { condition, span }
            }
            rule => unexpected_rule(rule),
        }
    }

    fn for_clause(&mut self, pair: Pair<Rule>) -> ForClause {
        let span = self.span(&pair);
        let mut names = Vec::new();
        let mut collection = None;
        let mut key = None;
        for part in pair.into_inner() {
            match part.as_rule() {
                Rule::kw_for | Rule::kw_in => {}
                Rule::ident => names.push(self.ident(part)),
                Rule::expr => collection = Some(self.expr(part)),
                Rule::key_clause => key = Some(self.expr(nth(part, 1))),
                rule => unexpected_rule(rule),
            }
        }
        let collection = collection.unwrap_or_else(|| unexpected_rule(Rule::for_clause));
        let value_var = names.pop().unwrap_or_else(|| unexpected_rule(Rule::for_clause));
        ForClause { key_var: names.pop(), value_var, collection, key, span }
    }

    fn body(&mut self, pair: Pair<Rule>) -> Body {
        let span = self.span(&pair);
        let mut items: Vec<BodyItem> = pair.into_inner().map(|p| self.body_entry(p)).collect();
        // Collecting starts at four items; most bodies have one or two, and a
        // configuration can have tens of thousands of bodies.
        items.shrink_to_fit();
        Body { items, span }
    }

    fn body_entry(&mut self, pair: Pair<Rule>) -> BodyItem {
        match pair.as_rule() {
            Rule::attribute => BodyItem::Attribute(self.attribute(pair)),
            Rule::check_stmt => BodyItem::Check(Box::new(self.check(pair))),
            Rule::block => BodyItem::Block(Box::new(self.block(pair))),
            Rule::placeholder => BodyItem::Placeholder(self.span(&pair)),
            rule => unexpected_rule(rule),
        }
    }

    fn attribute(&mut self, pair: Pair<Rule>) -> Attribute {
        let span = self.span(&pair);
        let mut inner = pair.into_inner();
        let name = self.ident(next(&mut inner));
        let value = self.expr(next(&mut inner));
        Attribute { name, value, span }
    }

    fn block(&mut self, pair: Pair<Rule>) -> Block {
        let span = self.span(&pair);
        let mut inner = pair.into_inner();
        let name = self.ident(next(&mut inner));
        let mut repeat = None;
        let mut body = None;
        for part in inner {
            match part.as_rule() {
                Rule::for_clause | Rule::if_clause => repeat = Some(self.repeat(part)),
                Rule::body => body = Some(self.body(part)),
                rule => unexpected_rule(rule),
            }
        }
        let body = body.unwrap_or_else(|| unexpected_rule(Rule::block));
        Block { name, repeat, body, span }
    }
}

/// The next pair, which the grammar guarantees is there.
#[track_caller]
fn next<'i>(pairs: &mut impl Iterator<Item = Pair<'i, Rule>>) -> Pair<'i, Rule> {
    pairs.next().unwrap_or_else(|| unexpected_rule(Rule::EOI))
}

/// The `n`th inner pair of `pair`, which the grammar guarantees is there.
#[track_caller]
fn nth(pair: Pair<Rule>, n: usize) -> Pair<Rule> {
    pair.into_inner().nth(n).unwrap_or_else(|| unexpected_rule(Rule::EOI))
}

#[track_caller]
fn nth_of<'i>(pairs: &mut impl Iterator<Item = Pair<'i, Rule>>, n: usize) -> Pair<'i, Rule> {
    pairs.nth(n).unwrap_or_else(|| unexpected_rule(Rule::EOI))
}
