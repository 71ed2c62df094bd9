//! A hand-written parser for the commonest items, which builds their syntax tree
//! directly instead of through pest's pairs.
//!
//! pest stays the reference grammar (`grammar.pest`) and the only source of syntax
//! errors. This parser takes a chunk of whole items and either returns exactly the tree
//! pest and the lowering would build, or declines, and the chunk is parsed by pest. It
//! declines at anything outside the forms it knows (heredocs, template directives and
//! strip markers, `plugin::function` calls, `...` expansion, object and tuple types,
//! `check` statements, and every item but `resource`, `data`, `let`, `output`, `input`
//! and `fn`) and at anything
//! the grammar would refuse, so every error is still pest's. It never backtracks except
//! where pest does and then succeeds (a `.` not followed by a name, as in `...`).
//!
//! It exists for speed: pest spends a rule call, a sequence and a stack snapshot per
//! token (about 800 instructions per byte of a configuration). On the front-end
//! benchmark's configuration this parser is 3.8 times as fast (`benches/front_end.rs`).
//! The equivalence is tested on every configuration in the repository and on generated
//! ones (`tests/fast_parser.rs` of this crate).

use super::expr::{apply_prefixes, apply_steps, binary_op, group_binary, Piece, Step, MAX_EXPR_DEPTH};
use super::types::primitive_type;
use super::Lower;
use crate::span::{Span, Spanned};
use crate::syntax::ast::*;

/// The chunk is left to pest.
struct Declined;

type Fast<T> = Result<T, Declined>;

/// Where parsing is in the chunk. Every token consumed also skips the whitespace and
/// comments after it, as pest does between the tokens of a rule; `last_end` is where the
/// last token ended, which is where a rule's span ends.
struct Cursor<'t> {
    /// The file's text up to the end of the chunk.
    text: &'t [u8],
    pos: usize,
    last_end: usize,
    /// A block comment runs past the chunk (the lexical scan reports it).
    broken: bool,
    /// Expressions being parsed, one inside the other.
    nesting: usize,
}

/// The deepest nesting of expressions parsed here; deeper ones are left to pest. (The
/// lexical scan bounds brackets and conditionals, but not their product.)
const MAX_NESTING: usize = 64;

fn is_ident_start(b: u8) -> bool {
    b.is_ascii_alphabetic() || b == b'_'
}

fn is_ident_char(b: u8) -> bool {
    b.is_ascii_alphanumeric() || b == b'_'
}

/// Words that cannot stand for a value (the grammar's `reserved`).
const RESERVED: [&str; 6] = ["true", "false", "null", "for", "in", "if"];

impl Cursor<'_> {
    fn peek(&self) -> Option<u8> {
        self.text.get(self.pos).copied()
    }

    fn peek_at(&self, ahead: usize) -> Option<u8> {
        self.text.get(self.pos + ahead).copied()
    }

    fn at(&self, byte: u8) -> bool {
        self.peek() == Some(byte)
    }

    /// Consumes `len` bytes as one token, and the whitespace after it.
    fn bump(&mut self, len: usize) {
        self.pos += len;
        self.last_end = self.pos;
        self.skip();
    }

    fn expect(&mut self, byte: u8) -> Fast<()> {
        if self.at(byte) {
            self.bump(1);
            Ok(())
        } else {
            Err(Declined)
        }
    }

    /// The end of the name starting here, if one does.
    fn word_end(&self) -> Option<usize> {
        if !self.peek().is_some_and(is_ident_start) {
            return None;
        }
        let rest = &self.text[self.pos + 1..];
        Some(self.pos + 1 + rest.iter().position(|&b| !is_ident_char(b)).unwrap_or(rest.len()))
    }

    /// Whether the keyword `word` is here (and not the start of a longer name).
    fn at_word(&self, word: &str) -> bool {
        self.text[self.pos..].starts_with(word.as_bytes())
            && !self.text.get(self.pos + word.len()).copied().is_some_and(is_ident_char)
    }

    /// Skips whitespace and comments, as the grammar's `WHITESPACE`.
    fn skip(&mut self) {
        while let Some(byte) = self.peek() {
            match byte {
                b' ' | b'\t' | b'\n' | b'\r' => self.pos += 1,
                b'#' => self.skip_line(),
                b'/' if self.peek_at(1) == Some(b'/') => self.skip_line(),
                b'/' if self.peek_at(1) == Some(b'*') => {
                    let body = &self.text[self.pos + 2..];
                    match body.windows(2).position(|w| w == b"*/") {
                        Some(close) => self.pos += 2 + close + 2,
                        None => {
                            self.broken = true;
                            self.pos = self.text.len();
                        }
                    }
                }
                _ => break,
            }
        }
    }

    fn skip_line(&mut self) {
        let rest = &self.text[self.pos..];
        self.pos += rest.iter().position(|&b| b == b'\n').unwrap_or(rest.len());
    }
}

impl Lower<'_> {
    /// Parses the items of the chunk `start..end` of the file onto `items`; false when
    /// pest is to parse it (see the module's documentation). Declining leaves no item
    /// and no diagnostic behind.
    pub(crate) fn fast_items(&mut self, start: usize, end: usize, items: &mut Vec<Item>) -> bool {
        let (reported, kept) = (self.diagnostics.len(), items.len());
        let text = &self.text.as_bytes()[..end];
        let mut cursor = Cursor { text, pos: start, last_end: start, broken: false, nesting: 0 };
        cursor.skip();
        let mut declined = false;
        while cursor.pos < end && !declined {
            match self.fast_item(&mut cursor) {
                Ok(item) => items.push(item),
                Err(Declined) => declined = true,
            }
        }
        if declined || cursor.broken {
            self.scratch.clear();
            self.diagnostics.truncate(reported);
            items.truncate(kept);
            return false;
        }
        true
    }

    fn fast_span(&self, start: usize, end: usize) -> Span {
        Span::new(self.file, self.origin + start, self.origin + end)
    }

    /// Any name, reserved words included (the grammar's `name`).
    fn fast_name(&mut self, c: &mut Cursor) -> Fast<Ident> {
        let start = c.pos;
        let end = c.word_end().ok_or(Declined)?;
        let name = self.names.name(&self.text[start..end]);
        c.bump(end - start);
        Ok(Ident { name, span: self.fast_span(start, end) })
    }

    /// A name that can stand for a value (the grammar's `ident`).
    fn fast_ident(&mut self, c: &mut Cursor) -> Fast<Ident> {
        let end = c.word_end().ok_or(Declined)?;
        if RESERVED.contains(&&self.text[c.pos..end]) {
            return Err(Declined);
        }
        self.fast_name(c)
    }

    fn fast_item(&mut self, c: &mut Cursor) -> Fast<Item> {
        let start = c.pos;
        let end = c.word_end().ok_or(Declined)?;
        let keyword = &self.text[start..end];
        let item = match keyword {
            "resource" | "data" => {
                let mode = if keyword == "data" { ResourceMode::Data } else { ResourceMode::Managed };
                c.bump(end - start);
                Item::Resource(self.fast_resource(c, start, mode)?)
            }
            "let" => {
                c.bump(end - start);
                let name = self.fast_ident(c)?;
                c.expect(b'=')?;
                let value = self.fast_root_expr(c)?;
                Item::Let(Let { name, value, span: self.fast_span(start, c.last_end) })
            }
            "output" => {
                c.bump(end - start);
                let name = self.fast_ident(c)?;
                c.expect(b'=')?;
                let value = self.fast_root_expr(c)?;
                let body = if c.at(b'{') { Some(self.fast_body(c)?) } else { None };
                Item::Output(Output { name, value, body, span: self.fast_span(start, c.last_end) })
            }
            "input" => {
                c.bump(end - start);
                let name = self.fast_ident(c)?;
                let mut input = Input { name, ty: None, default: None, body: None, span: Span::default() };
                if c.at(b':') {
                    c.bump(1);
                    input.ty = Some(self.fast_type(c)?);
                }
                if c.at(b'=') {
                    c.bump(1);
                    input.default = Some(self.fast_root_expr(c)?);
                }
                if c.at(b'{') {
                    input.body = Some(self.fast_body(c)?);
                }
                input.span = self.fast_span(start, c.last_end);
                Item::Input(input)
            }
            "fn" => {
                c.bump(end - start);
                Item::Fn(self.fast_fn(c, start)?)
            }
            _ => return Err(Declined),
        };
        Ok(item)
    }

    fn fast_resource(&mut self, c: &mut Cursor, start: usize, mode: ResourceMode) -> Fast<Resource> {
        // `provider.kind`, written without spaces.
        let provider_start = c.pos;
        let provider_end = c.word_end().ok_or(Declined)?;
        if c.text.get(provider_end) != Some(&b'.') {
            return Err(Declined);
        }
        let provider = Ident {
            name: self.names.name(&self.text[provider_start..provider_end]),
            span: self.fast_span(provider_start, provider_end),
        };
        c.pos = provider_end + 1;
        let kind = self.fast_name(c)?;
        let ty = ResourceType { span: provider.span.to(kind.span), provider, kind };
        let name = self.fast_ident(c)?;
        let repeat = self.fast_repeat(c)?;
        let body = self.fast_body(c)?;
        Ok(Resource { mode, ty, name, repeat, body, span: self.fast_span(start, c.last_end) })
    }

    fn fast_fn(&mut self, c: &mut Cursor, start: usize) -> Fast<FnDecl> {
        let name = self.fast_ident(c)?;
        c.expect(b'(')?;
        let mut params = Vec::new();
        while !c.at(b')') {
            let param_start = c.pos;
            let name = self.fast_ident(c)?;
            c.expect(b':')?;
            let ty = self.fast_type(c)?;
            params.push(Param { name, ty, span: self.fast_span(param_start, c.last_end) });
            if c.at(b',') {
                c.bump(1);
            } else {
                break;
            }
        }
        c.expect(b')')?;
        let return_type = if c.at(b':') {
            c.bump(1);
            Some(self.fast_type(c)?)
        } else {
            None
        };
        c.expect(b'=')?;
        let body = self.fast_root_expr(c)?;
        Ok(FnDecl { name, params, return_type, body, span: self.fast_span(start, c.last_end) })
    }

    /// A primitive or collection type; object and tuple types are left to pest.
    fn fast_type(&mut self, c: &mut Cursor) -> Fast<TypeExpr> {
        let start = c.pos;
        let end = c.word_end().ok_or(Declined)?;
        let word = &self.text[start..end];
        c.bump(end - start);
        let collection = matches!(word, "list" | "set" | "map") && c.at(b'(');
        let kind = if collection {
            c.bump(1);
            let element = Box::new(self.fast_type(c)?);
            c.expect(b')')?;
            match word {
                "list" => TypeExprKind::List(element),
                "set" => TypeExprKind::Set(element),
                _ => TypeExprKind::Map(element),
            }
        } else {
            primitive_type(word, self.fast_span(start, end)).ok_or(Declined)?
        };
        Ok(TypeExpr { kind, span: self.fast_span(start, c.last_end) })
    }

    /// `for ... in ...` or `if ...` after a declaration's or a block's name, if there.
    fn fast_repeat(&mut self, c: &mut Cursor) -> Fast<Option<Repeat>> {
        let start = c.pos;
        if c.at_word("if") {
            c.bump(2);
            let condition = self.fast_root_expr(c)?;
            return Ok(Some(Repeat::If { condition, span: self.fast_span(start, c.last_end) }));
        }
        if !c.at_word("for") {
            return Ok(None);
        }
        let (ForBinding { key_var, value_var, collection }, _) = self.fast_for_binding(c)?;
        let collection = *collection;
        let key = if c.at_word("key") {
            c.bump(3);
            Some(self.fast_root_expr(c)?)
        } else {
            None
        };
        let clause = ForClause { key_var, value_var, collection, key, span: self.fast_span(start, c.last_end) };
        Ok(Some(Repeat::For(Box::new(clause))))
    }

    fn fast_body(&mut self, c: &mut Cursor) -> Fast<Body> {
        let start = c.pos;
        c.expect(b'{')?;
        let base = self.scratch.entries.len();
        while !c.at(b'}') {
            let entry = self.fast_body_entry(c)?;
            self.scratch.entries.push(entry);
            if c.at(b',') {
                c.bump(1);
            }
        }
        c.bump(1);
        let items = self.scratch.entries.drain(base..).collect();
        Ok(Body { items, span: self.fast_span(start, c.last_end) })
    }

    fn fast_body_entry(&mut self, c: &mut Cursor) -> Fast<BodyItem> {
        let start = c.pos;
        let name = self.fast_name(c)?;
        if c.at(b'=') {
            c.bump(1);
            let value = self.fast_root_expr(c)?;
            return Ok(BodyItem::Attribute(Attribute { name, value, span: self.fast_span(start, c.last_end) }));
        }
        // `check`, `precondition` and `postcondition` statements are left to pest.
        if matches!(name.name.as_str(), "check" | "precondition" | "postcondition") {
            return Err(Declined);
        }
        let repeat = self.fast_repeat(c)?;
        let body = self.fast_body(c)?;
        Ok(BodyItem::Block(Box::new(Block { name, repeat, body, span: self.fast_span(start, c.last_end) })))
    }

    /// An expression where the lowering's depth count starts (an attribute's value, a
    /// declaration's expression).
    fn fast_root_expr(&mut self, c: &mut Cursor) -> Fast<Expr> {
        self.fast_expr(c).map(|(expr, _)| expr)
    }

    /// An expression and the depth the lowering would count for it (see
    /// `Lower::enter`): one level for the expression and one per operator, plus the
    /// deepest of its operands. Deeper than `MAX_EXPR_DEPTH` is declined, so that pest
    /// and the lowering report it.
    fn fast_expr(&mut self, c: &mut Cursor) -> Fast<(Expr, usize)> {
        c.nesting += 1;
        if c.nesting > MAX_NESTING {
            return Err(Declined);
        }
        let expr = self.fast_expr_here(c);
        c.nesting -= 1;
        expr
    }

    fn fast_expr_here(&mut self, c: &mut Cursor) -> Fast<(Expr, usize)> {
        let start = c.pos;
        let (first, mut inner) = self.fast_operand(c)?;
        // The operators, each one more level.
        let mut binary_levels = 0;
        let mut expr = match operator_len(c) {
            None => first,
            Some(mut len) => {
                let mut operands = vec![first];
                let mut operators = Vec::new();
                loop {
                    let op_text = &self.text[c.pos..c.pos + len];
                    operators.push(Spanned { node: binary_op(op_text), span: self.fast_span(c.pos, c.pos + len) });
                    c.bump(len);
                    let (operand, depth) = self.fast_operand(c)?;
                    inner = inner.max(depth);
                    operands.push(operand);
                    match operator_len(c) {
                        Some(next) => len = next,
                        None => break,
                    }
                }
                binary_levels = operators.len();
                group_binary(operands, operators)
            }
        };
        if c.at(b'?') {
            c.bump(1);
            let (then, then_depth) = self.fast_expr(c)?;
            c.expect(b':')?;
            let (otherwise, otherwise_depth) = self.fast_expr(c)?;
            inner = inner.max(then_depth).max(otherwise_depth);
            let kind = ExprKind::Conditional(Box::new(Conditional { condition: expr, then, otherwise }));
            expr = Expr { kind, span: self.fast_span(start, c.last_end) };
        }
        let depth = 1 + binary_levels + inner;
        if depth > MAX_EXPR_DEPTH {
            return Err(Declined);
        }
        Ok((expr, depth))
    }

    /// Prefix operators, a primary and its steps; with the depth the lowering counts
    /// (one level per prefix and step, plus the deepest part).
    fn fast_operand(&mut self, c: &mut Cursor) -> Fast<(Expr, usize)> {
        let mut prefixes = Vec::new();
        while let Some(byte @ (b'!' | b'-')) = c.peek() {
            let node = if byte == b'!' { UnaryOp::Not } else { UnaryOp::Neg };
            prefixes.push(Spanned { node, span: self.fast_span(c.pos, c.pos + 1) });
            c.bump(1);
        }
        let (primary, mut inner) = self.fast_primary(c)?;
        let mut steps = Vec::new();
        loop {
            match c.peek() {
                Some(b'.') => {
                    let (dot, last_end) = (c.pos, c.last_end);
                    c.bump(1);
                    if !c.peek().is_some_and(is_ident_start) {
                        // Not a step (`...`, say): pest gives the `.` back.
                        (c.pos, c.last_end) = (dot, last_end);
                        break;
                    }
                    let name = self.fast_name(c)?;
                    steps.push((Step::Attr(name), self.fast_span(dot, c.last_end)));
                }
                Some(b'[') => {
                    let open = c.pos;
                    c.bump(1);
                    let step = if c.at(b'*') {
                        c.bump(1);
                        Step::Splat
                    } else {
                        let (index, depth) = self.fast_expr(c)?;
                        inner = inner.max(depth);
                        Step::Index(index)
                    };
                    c.expect(b']')?;
                    steps.push((step, self.fast_span(open, c.last_end)));
                }
                _ => break,
            }
        }
        let depth = prefixes.len() + steps.len() + inner;
        let expr = if steps.is_empty() { primary } else { apply_steps(primary, steps) };
        let expr = if prefixes.is_empty() { expr } else { apply_prefixes(expr, prefixes) };
        Ok((expr, depth))
    }

    fn fast_primary(&mut self, c: &mut Cursor) -> Fast<(Expr, usize)> {
        let start = c.pos;
        let (kind, depth) = match c.peek().ok_or(Declined)? {
            b'"' => {
                let (template, depth) = self.fast_template(c)?;
                (template.into_string_kind(), depth)
            }
            b'0'..=b'9' => (self.fast_number(c)?, 0),
            b'[' => self.fast_list(c)?,
            b'{' => self.fast_object(c)?,
            b'(' => {
                c.bump(1);
                let (inner, depth) = self.fast_expr(c)?;
                c.expect(b')')?;
                (ExprKind::Paren(Box::new(inner)), depth)
            }
            byte if is_ident_start(byte) => {
                let end = c.word_end().ok_or(Declined)?;
                match &self.text[start..end] {
                    "true" => {
                        c.bump(4);
                        (ExprKind::Bool(true), 0)
                    }
                    "false" => {
                        c.bump(5);
                        (ExprKind::Bool(false), 0)
                    }
                    "null" => {
                        c.bump(4);
                        (ExprKind::Null, 0)
                    }
                    "for" | "in" | "if" => return Err(Declined),
                    _ => self.fast_variable(c)?,
                }
            }
            _ => return Err(Declined),
        };
        Ok((Expr { kind, span: self.fast_span(start, c.last_end) }, depth))
    }

    /// The grammar's `number`: digits, an optional fraction and exponent, and no name
    /// character after.
    fn fast_number(&mut self, c: &mut Cursor) -> Fast<ExprKind> {
        let text = c.text;
        let digits = |mut at: usize| {
            while text.get(at).is_some_and(u8::is_ascii_digit) {
                at += 1;
            }
            at
        };
        let start = c.pos;
        let mut end = digits(start);
        if text.get(end) == Some(&b'.') && text.get(end + 1).is_some_and(u8::is_ascii_digit) {
            end = digits(end + 1);
        }
        if matches!(text.get(end), Some(b'e' | b'E')) {
            let sign = usize::from(matches!(text.get(end + 1), Some(b'+' | b'-')));
            if text.get(end + 1 + sign).is_some_and(u8::is_ascii_digit) {
                end = digits(end + 1 + sign);
            }
        }
        if text.get(end).copied().is_some_and(is_ident_char) {
            return Err(Declined);
        }
        c.bump(end - start);
        let span = self.fast_span(start, end);
        Ok(self.number_at(&self.text[start..end], span))
    }

    /// A name, or a call when arguments follow.
    fn fast_variable(&mut self, c: &mut Cursor) -> Fast<(ExprKind, usize)> {
        let name = self.fast_name(c)?;
        if c.at(b':') && c.peek_at(1) == Some(b':') {
            return Err(Declined);
        }
        if !c.at(b'(') {
            return Ok((ExprKind::Name(name.name), 0));
        }
        c.bump(1);
        let (args, depth) = self.fast_separated(c, b')')?;
        Ok((ExprKind::Call(Box::new(Call { function: name, args, expand_final: false })), depth))
    }

    /// Expressions separated by commas (one may end them) up to `close`, which is
    /// consumed; with the deepest one's depth.
    fn fast_separated(&mut self, c: &mut Cursor, close: u8) -> Fast<(Box<[Expr]>, usize)> {
        let base = self.scratch.exprs.len();
        let mut depth = 0;
        while !c.at(close) {
            let (item, item_depth) = self.fast_expr(c)?;
            depth = depth.max(item_depth);
            self.scratch.exprs.push(item);
            if c.at(b',') {
                c.bump(1);
            } else {
                break;
            }
        }
        c.expect(close)?;
        Ok((self.scratch.exprs.drain(base..).collect(), depth))
    }

    fn fast_list(&mut self, c: &mut Cursor) -> Fast<(ExprKind, usize)> {
        c.bump(1);
        if c.at_word("for") {
            return self.fast_for_list(c);
        }
        let (items, depth) = self.fast_separated(c, b']')?;
        Ok((ExprKind::List(items), depth))
    }

    fn fast_object(&mut self, c: &mut Cursor) -> Fast<(ExprKind, usize)> {
        c.bump(1);
        if c.at_word("for") {
            // `{ for = 1 }` is an object too; pest tells them apart.
            return self.fast_for_object(c);
        }
        let base = self.scratch.items.len();
        let mut depth = 0;
        while !c.at(b'}') {
            let key = match c.peek() {
                Some(b'"' | b'(') => {
                    let (key, key_depth) = self.fast_primary(c)?;
                    depth = depth.max(key_depth);
                    ObjectKey::Expr(Box::new(key))
                }
                _ => ObjectKey::ident(self.fast_name(c)?),
            };
            if !matches!(c.peek(), Some(b':' | b'=')) {
                return Err(Declined);
            }
            c.bump(1);
            let (value, value_depth) = self.fast_expr(c)?;
            depth = depth.max(value_depth);
            self.scratch.items.push(ObjectItem { key, value });
            if c.at(b',') {
                c.bump(1);
            }
        }
        c.bump(1);
        Ok((ExprKind::Object(self.scratch.items.drain(base..).collect()), depth))
    }

    /// `ident [, ident] in expr` after `for`.
    fn fast_for_binding(&mut self, c: &mut Cursor) -> Fast<(ForBinding, usize)> {
        c.bump(3);
        let first = self.fast_ident(c)?;
        let (key_var, value_var) = if c.at(b',') {
            c.bump(1);
            (Some(first), self.fast_ident(c)?)
        } else {
            (None, first)
        };
        if !c.at_word("in") {
            return Err(Declined);
        }
        c.bump(2);
        let (collection, depth) = self.fast_expr(c)?;
        Ok((ForBinding { key_var, value_var, collection: Box::new(collection) }, depth))
    }

    /// `if expr` at the end of a `for` expression, if there.
    fn fast_filter(&mut self, c: &mut Cursor) -> Fast<(Option<Expr>, usize)> {
        if !c.at_word("if") {
            return Ok((None, 0));
        }
        c.bump(2);
        let (filter, depth) = self.fast_expr(c)?;
        Ok((Some(filter), depth))
    }

    fn fast_for_list(&mut self, c: &mut Cursor) -> Fast<(ExprKind, usize)> {
        let (binding, binding_depth) = self.fast_for_binding(c)?;
        c.expect(b':')?;
        let (body, body_depth) = self.fast_expr(c)?;
        let (filter, filter_depth) = self.fast_filter(c)?;
        c.expect(b']')?;
        let kind = ExprKind::ForList(Box::new(ForList { binding, body, filter }));
        Ok((kind, binding_depth.max(body_depth).max(filter_depth)))
    }

    fn fast_for_object(&mut self, c: &mut Cursor) -> Fast<(ExprKind, usize)> {
        let (binding, binding_depth) = self.fast_for_binding(c)?;
        c.expect(b':')?;
        let (key, key_depth) = self.fast_expr(c)?;
        if !(c.at(b'=') && c.peek_at(1) == Some(b'>')) {
            return Err(Declined);
        }
        c.bump(2);
        let (value, value_depth) = self.fast_expr(c)?;
        let group = c.text[c.pos..].starts_with(b"...");
        if group {
            c.bump(3);
        }
        let (filter, filter_depth) = self.fast_filter(c)?;
        c.expect(b'}')?;
        let kind = ExprKind::ForObject(Box::new(ForObject { binding, key, value, group, filter }));
        Ok((kind, binding_depth.max(key_depth).max(value_depth).max(filter_depth)))
    }

    /// A quoted string: literal runs and `${ expr }` interpolations. Directives and
    /// strip markers are left to pest.
    fn fast_template(&mut self, c: &mut Cursor) -> Fast<(Template, usize)> {
        let text = c.text;
        let mut at = c.pos + 1;
        let mut pieces = Vec::new();
        let mut depth = 0;
        loop {
            match text.get(at).copied().ok_or(Declined)? {
                b'"' => break,
                b'\n' => return Err(Declined),
                b'%' if text.get(at + 1) == Some(&b'{') => return Err(Declined),
                b'$' if text.get(at + 1) == Some(&b'{') => {
                    let open = at;
                    c.pos = at + 2;
                    c.skip();
                    if c.at(b'~') {
                        return Err(Declined);
                    }
                    let (expr, expr_depth) = self.fast_expr(c)?;
                    depth = depth.max(expr_depth);
                    if !c.at(b'}') {
                        return Err(Declined);
                    }
                    at = c.pos + 1;
                    let span = self.fast_span(open, at);
                    pieces.push(Piece::plain(TemplatePart::Interpolation(Box::new(expr)), span));
                }
                _ => {
                    let run = at;
                    while let Some(&byte) = text.get(at) {
                        match byte {
                            b'"' | b'\n' => break,
                            b'\\' => at += 2,
                            b'$' | b'%' => match (text.get(at + 1), text.get(at + 2)) {
                                (Some(b'{'), _) => break,
                                (Some(&next), Some(b'{')) if next == byte => at += 3,
                                _ => at += 1,
                            },
                            _ => at += 1,
                        }
                    }
                    if at > text.len() {
                        return Err(Declined);
                    }
                    // The lowering's span of a literal run drops its trailing spaces.
                    let span = self.span_at(run, at);
                    let value = self.unescape(&self.text[run..at], span);
                    pieces.push(Piece::text(value, span));
                }
            }
        }
        c.bump(at + 1 - c.pos);
        Ok((self.finish_template(pieces), depth))
    }
}

/// The length of the binary operator here, if one is.
fn operator_len(c: &Cursor) -> Option<usize> {
    match (c.peek()?, c.peek_at(1)) {
        (b'|', Some(b'|')) | (b'&', Some(b'&')) | (b'=', Some(b'=')) | (b'!', Some(b'=')) => Some(2),
        (b'<' | b'>', Some(b'=')) => Some(2),
        (b'<' | b'>' | b'+' | b'-' | b'*' | b'/' | b'%', _) => Some(1),
        _ => None,
    }
}
