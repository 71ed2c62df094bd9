//! Lowering of expressions, string templates and heredocs.

use pest::iterators::Pair;

use super::{next, nth, unexpected_rule, Lower};
use crate::diagnostic::{codes, Diagnostic};
use crate::span::{Span, Spanned};
use crate::syntax::ast::*;
use crate::syntax::parser::Rule;

/// The deepest expression tree lowering builds. Operators, prefix operators and
/// postfix steps each nest the tree one level deeper than the source's brackets show,
/// and every later pass recurses over the tree, so the budget counts them all.
pub const MAX_EXPR_DEPTH: usize = 256;

impl Lower<'_> {
    /// The single expression inside a wrapper rule such as `default_value`.
    pub(super) fn single_expr(&mut self, pair: Pair<Rule>) -> Expr {
        self.expr(next(&mut pair.into_inner()))
    }

    /// An expression: operands (`prefix_op* primary step*`, flattened into the
    /// expression's pairs) joined by binary operators, and an optional conditional.
    pub(super) fn expr(&mut self, pair: Pair<Rule>) -> Expr {
        let mut parts = pair.clone().into_inner();
        if parts.len() == 1 {
            // A lone primary, the commonest case.
            if !self.enter(1) {
                let span = self.span(&pair);
                return self.too_deep(span);
            }
            let expr = self.primary(next(&mut parts));
            self.leave(1);
            return expr;
        }
        let parts: Vec<Pair<Rule>> = parts.collect();
        let levels = 1 + parts.iter().filter(|p| p.as_rule() == Rule::binary_op).count();
        if !self.enter(levels) {
            let span = self.span(&pair);
            return self.too_deep(span);
        }
        let expr = self.expr_parts(&pair, &parts);
        self.leave(levels);
        expr
    }

    /// Adds `levels` to the depth of the tree being built; false when over budget.
    fn enter(&mut self, levels: usize) -> bool {
        self.depth += levels;
        if self.depth > MAX_EXPR_DEPTH {
            self.depth -= levels;
            return false;
        }
        true
    }

    fn leave(&mut self, levels: usize) {
        self.depth -= levels;
    }

    /// Groups `a op b op c ...` by precedence (all operators are left-associative),
    /// without recursion, then applies a trailing conditional.
    fn expr_parts(&mut self, pair: &Pair<Rule>, parts: &[Pair<Rule>]) -> Expr {
        let mut operands: Vec<Expr> = Vec::new();
        let mut operators: Vec<Spanned<BinaryOp>> = Vec::new();
        let mut conditional = None;
        let mut i = 0;
        while let Some(part) = parts.get(i) {
            match part.as_rule() {
                Rule::binary_op => {
                    let op = Spanned { node: binary_op(part.as_str()), span: self.span(part) };
                    operators.push(op);
                    i += 1;
                }
                Rule::conditional => {
                    conditional = Some(part.clone());
                    i += 1;
                }
                _ => {
                    let start = i;
                    while parts.get(i).is_some_and(|p| p.as_rule() == Rule::prefix_op) {
                        i += 1;
                    }
                    let primary = i;
                    i += 1;
                    while parts
                        .get(i)
                        .is_some_and(|p| matches!(p.as_rule(), Rule::get_attr | Rule::index | Rule::splat))
                    {
                        i += 1;
                    }
                    operands.push(self.operand(&parts[start..primary], &parts[primary], &parts[primary + 1..i]));
                }
            }
        }
        let condition = group_binary(operands, operators);
        let Some(conditional) = conditional else { return condition };
        let mut branches = conditional.into_inner();
        let then = self.expr(next(&mut branches));
        let otherwise = self.expr(next(&mut branches));
        let kind = ExprKind::Conditional(Box::new(Conditional { condition, then, otherwise }));
        Expr { kind, span: self.span(pair) }
    }

    fn too_deep(&mut self, span: Span) -> Expr {
        self.error(
            Diagnostic::error(codes::TOO_DEEP, "expression nested too deeply")
                .with_label(span, format!("more than {MAX_EXPR_DEPTH} levels of operators, steps and brackets"))
                .with_help("split the expression into `let` declarations"),
        );
        Expr { kind: ExprKind::Error, span }
    }

    /// One operand: prefix operators, a primary and its attribute, index and splat steps.
    fn operand(&mut self, prefixes: &[Pair<Rule>], primary: &Pair<Rule>, steps: &[Pair<Rule>]) -> Expr {
        let levels = prefixes.len() + steps.len();
        if !self.enter(levels) {
            let first = prefixes.first().unwrap_or(primary);
            let last = steps.last().unwrap_or(primary);
            let span = self.span(first).to(self.span(last));
            return self.too_deep(span);
        }
        let expr = self.primary(primary.clone());
        let expr = self.postfix_steps(expr, steps);
        let prefixes = prefixes.iter().map(|op| {
            let node = if op.as_str() == "!" { UnaryOp::Not } else { UnaryOp::Neg };
            Spanned { node, span: self.span(op) }
        });
        let expr = apply_prefixes(expr, prefixes.collect());
        self.leave(levels);
        expr
    }

    fn postfix_steps(&mut self, expr: Expr, steps: &[Pair<Rule>]) -> Expr {
        let mut lowered = Vec::with_capacity(steps.len());
        for step in steps.iter().cloned() {
            let span = self.span(&step);
            let step = match step.as_rule() {
                Rule::get_attr => Step::Attr(self.ident(nth(step, 0))),
                Rule::index => Step::Index(self.expr(nth(step, 0))),
                Rule::splat => Step::Splat,
                rule => unexpected_rule(rule),
            };
            lowered.push((step, span));
        }
        apply_steps(expr, lowered)
    }

    fn primary(&mut self, pair: Pair<Rule>) -> Expr {
        let span = self.span(&pair);
        let kind = match pair.as_rule() {
            Rule::number => self.number(&pair),
            Rule::kw_true => ExprKind::Bool(true),
            Rule::kw_false => ExprKind::Bool(false),
            Rule::kw_null => ExprKind::Null,
            Rule::template_string => self.template_string(pair).into_string_kind(),
            Rule::heredoc => self.heredoc(pair),
            // Collected without knowing the count, a vector keeps up to half its room
            // empty (six of sixteen object items for a tags map of ten); the tree lives
            // as long as the run, so the room is given back.
            Rule::list => ExprKind::List(pair.into_inner().map(|p| self.expr(p)).collect()),
            Rule::object => ExprKind::Object(pair.into_inner().map(|p| self.object_item(p)).collect()),
            Rule::for_list => self.for_list(pair),
            Rule::for_object => self.for_object(pair),
            Rule::variable => self.variable(pair),
            Rule::paren => ExprKind::Paren(Box::new(self.expr(nth(pair, 0)))),
            rule => unexpected_rule(rule),
        };
        Expr { kind, span }
    }

    fn number(&mut self, pair: &Pair<Rule>) -> ExprKind {
        let span = self.span(pair);
        self.number_at(pair.as_str(), span)
    }

    /// The number written `text` at `span`.
    pub(super) fn number_at(&mut self, text: &str, span: Span) -> ExprKind {
        match text.parse::<f64>() {
            Ok(n) if n.is_finite() && !inexact_integer(text, n) => ExprKind::Number(n),
            Ok(n) if n.is_finite() => {
                self.error(
                    Diagnostic::error(codes::INVALID_NUMBER, "this whole number cannot be represented exactly")
                        .with_label(span, format!("would be {n:.0}"))
                        .with_help(format!(
                            "numbers are 64-bit floating point: whole numbers are exact up to 9007199254740992 \
                             (2^53); write an id this long as a string: \"{text}\""
                        )),
                );
                ExprKind::Error
            }
            _ => {
                self.error(
                    Diagnostic::error(codes::INVALID_NUMBER, "number literal out of range")
                        .with_label(span, "too large to represent")
                        .with_help("numbers are 64-bit floating point; the largest is about 1.8e308"),
                );
                ExprKind::Error
            }
        }
    }

    /// A name, or a call when it has arguments.
    fn variable(&mut self, pair: Pair<Rule>) -> ExprKind {
        let mut inner = pair.into_inner();
        let mut name = self.ident(next(&mut inner));
        let Some(mut arguments) = inner.next() else {
            return ExprKind::Name(name.name);
        };
        if arguments.as_rule() == Rule::plugin_function {
            // `workato::asset_id(...)`: one name, `plugin::function`, spanning both.
            let mut parts = arguments.into_inner();
            let function = self.ident(next(&mut parts));
            name.name = format!("{}::{}", name.name, function.name).into();
            name.span.end = function.span.end;
            arguments = next(&mut parts);
        }
        let mut args = Vec::new();
        let mut expand_final = false;
        for part in arguments.into_inner() {
            match part.as_rule() {
                Rule::expand => expand_final = true,
                _ => args.push(self.expr(part)),
            }
        }
        ExprKind::Call(Box::new(Call { function: name, args: args.into_boxed_slice(), expand_final }))
    }

    fn object_item(&mut self, pair: Pair<Rule>) -> ObjectItem {
        let mut inner = pair.into_inner();
        let key_pair = next(&mut inner);
        let key = match key_pair.as_rule() {
            Rule::name => ObjectKey::ident(self.ident(key_pair)),
            Rule::template_string | Rule::paren => ObjectKey::Expr(Box::new(self.primary(key_pair))),
            rule => unexpected_rule(rule),
        };
        // The separator, `=` or `:`.
        next(&mut inner);
        let value = self.expr(next(&mut inner));
        ObjectItem { key, value }
    }

    fn for_binding(&mut self, pair: Pair<Rule>) -> ForBinding {
        let mut names = Vec::new();
        let mut collection = None;
        for part in pair.into_inner() {
            match part.as_rule() {
                Rule::ident => names.push(self.ident(part)),
                Rule::kw_in => {}
                Rule::expr => collection = Some(self.expr(part)),
                rule => unexpected_rule(rule),
            }
        }
        let value_var = names.pop().unwrap_or_else(|| unexpected_rule(Rule::for_binding));
        let collection = collection.unwrap_or_else(|| unexpected_rule(Rule::for_binding));
        ForBinding { key_var: names.pop(), value_var, collection: Box::new(collection) }
    }

    fn for_list(&mut self, pair: Pair<Rule>) -> ExprKind {
        let mut inner = pair.into_inner().skip(1);
        let binding = self.for_binding(next(&mut inner));
        let body = self.expr(next(&mut inner));
        let filter = inner.next().map(|p| self.expr(nth(p, 1)));
        ExprKind::ForList(Box::new(ForList { binding, body, filter }))
    }

    fn for_object(&mut self, pair: Pair<Rule>) -> ExprKind {
        let mut inner = pair.into_inner().skip(1);
        let binding = self.for_binding(next(&mut inner));
        let key = self.expr(next(&mut inner));
        let value = self.expr(next(&mut inner));
        let mut group = false;
        let mut filter = None;
        for part in inner {
            match part.as_rule() {
                Rule::ellipsis => group = true,
                Rule::for_filter => filter = Some(self.expr(nth(part, 1))),
                rule => unexpected_rule(rule),
            }
        }
        ExprKind::ForObject(Box::new(ForObject { binding, key, value, group, filter }))
    }

    pub(super) fn template_string(&mut self, pair: Pair<Rule>) -> Template {
        let mut pieces = Vec::new();
        for part in pair.into_inner() {
            match part.as_rule() {
                Rule::string_literal => {
                    let span = self.span(&part);
                    let text = self.unescape(part.as_str(), span);
                    pieces.push(Piece::text(text, span));
                }
                Rule::interpolation | Rule::directive => pieces.push(self.template_piece(part)),
                rule => unexpected_rule(rule),
            }
        }
        self.finish_template(pieces)
    }

    /// An interpolation or a directive, with its strip markers.
    fn template_piece(&mut self, pair: Pair<Rule>) -> Piece {
        let span = self.span(&pair);
        let mut piece = Piece::plain(TemplatePart::EndIf(span), span);
        for inner in pair.into_inner() {
            let part = match inner.as_rule() {
                Rule::strip_left => {
                    piece.strip_left = true;
                    continue;
                }
                Rule::strip_right => {
                    piece.strip_right = true;
                    continue;
                }
                Rule::expr => TemplatePart::Interpolation(Box::new(self.expr(inner))),
                Rule::directive_if => TemplatePart::If(Box::new(self.expr(nth(inner, 1)))),
                Rule::directive_else => TemplatePart::Else(span),
                Rule::directive_endif => TemplatePart::EndIf(span),
                Rule::directive_for => TemplatePart::For(Box::new(self.for_binding(nth(inner, 1)))),
                Rule::directive_endfor => TemplatePart::EndFor(span),
                rule => unexpected_rule(rule),
            };
            piece.part = PiecePart::Part(part);
        }
        piece
    }

    /// The parts of a template: strip markers applied to the literal text beside them,
    /// adjacent literals joined, and directives checked to nest (a syntax error, E0100,
    /// for one that is not closed or closes nothing).
    pub(super) fn finish_template(&mut self, mut pieces: Vec<Piece>) -> Template {
        for i in 0..pieces.len() {
            if pieces[i].strip_left {
                if let Some(PiecePart::Text(text)) = i.checked_sub(1).map(|j| &mut pieces[j].part) {
                    text.truncate(text.trim_end().len());
                }
            }
            if pieces[i].strip_right {
                if let Some(PiecePart::Text(text)) = pieces.get_mut(i + 1).map(|p| &mut p.part) {
                    *text = text.trim_start().to_string();
                }
            }
        }
        // Open sections: the directive's span, whether it is a `for`, and whether an
        // `else` was seen.
        let mut open: Vec<(Span, bool, bool)> = Vec::new();
        let mut parts = Vec::with_capacity(pieces.len());
        // The literal text since the last other part: adjacent literals are joined here,
        // and a part's text is boxed once, at its full length.
        let mut text: Option<(String, Span)> = None;
        for Piece { part, span, .. } in pieces {
            let part = match part {
                PiecePart::Text(next) if next.is_empty() => continue,
                PiecePart::Text(next) => {
                    match &mut text {
                        Some((text, text_span)) => {
                            text.push_str(&next);
                            *text_span = text_span.to(span);
                        }
                        None => text = Some((next, span)),
                    }
                    continue;
                }
                PiecePart::Part(part) => part,
            };
            let problem = match (&part, open.last_mut()) {
                (TemplatePart::If(_), _) => {
                    open.push((span, false, false));
                    None
                }
                (TemplatePart::For(_), _) => {
                    open.push((span, true, false));
                    None
                }
                (TemplatePart::Else(_), Some((_, false, seen_else))) if !*seen_else => {
                    *seen_else = true;
                    None
                }
                (TemplatePart::Else(_), _) => Some("`%{ else }` belongs inside `%{ if }`, once"),
                (TemplatePart::EndIf(_), Some((_, false, _))) | (TemplatePart::EndFor(_), Some((_, true, _))) => {
                    open.pop();
                    None
                }
                (TemplatePart::EndIf(_), _) => Some("`%{ endif }` closes no `%{ if }`"),
                (TemplatePart::EndFor(_), _) => Some("`%{ endfor }` closes no `%{ for }`"),
                _ => None,
            };
            if let Some(message) = problem {
                self.template_error(
                    span,
                    message,
                    "every `%{ if }` ends with `%{ endif }` and every `%{ for }` with `%{ endfor }`",
                );
                continue;
            }
            if let Some((text, span)) = text.take() {
                parts.push(TemplatePart::Literal { text: text.into_boxed_str(), span });
            }
            parts.push(part);
        }
        match text {
            None if parts.is_empty() => return Template::Text(EcoString::new()),
            Some((text, _)) if parts.is_empty() => return Template::Text(EcoString::from(text)),
            Some((text, span)) => parts.push(TemplatePart::Literal { text: text.into_boxed_str(), span }),
            None => {}
        }
        for (span, is_for, _) in open {
            let (what, end) = if is_for { ("for", "endfor") } else { ("if", "endif") };
            self.template_error(
                span,
                &format!("this `%{{ {what} }}` is never closed"),
                &format!("end it with `%{{ {end} }}`"),
            );
        }
        Template::Parts(parts.into_boxed_slice())
    }

    fn template_error(&mut self, span: Span, message: &str, help: &str) {
        self.error(
            Diagnostic::error(codes::SYNTAX, message.to_string()).with_label(span, "here").with_help(help.to_string()),
        );
    }

    /// Decodes `\n`, `\r`, `\t`, `\"`, `\\`, `\uXXXX`, `\UXXXXXXXX` and `$${`.
    pub(super) fn unescape(&mut self, raw: &str, span: Span) -> String {
        let mut out = String::with_capacity(raw.len());
        let mut chars = raw.char_indices().peekable();
        while let Some((i, c)) = chars.next() {
            match c {
                '\\' => {
                    let Some((_, escape)) = chars.next() else { break };
                    let decoded = match escape {
                        'n' => Some('\n'),
                        'r' => Some('\r'),
                        't' => Some('\t'),
                        '"' => Some('"'),
                        '\\' => Some('\\'),
                        'u' | 'U' => {
                            let len = if escape == 'u' { 4 } else { 8 };
                            let digits: String = (0..len)
                                .filter_map(|_| chars.next_if(|(_, c)| c.is_ascii_hexdigit()))
                                .map(|(_, c)| c)
                                .collect();
                            u32::from_str_radix(&digits, 16)
                                .ok()
                                .filter(|_| digits.len() == len)
                                .and_then(char::from_u32)
                        }
                        _ => None,
                    };
                    match decoded {
                        Some(c) => out.push(c),
                        None => {
                            let start = span.start as usize + i;
                            let end = start + 1 + escape.len_utf8();
                            self.invalid_escape(Span::new(span.file, start, end));
                        }
                    }
                }
                '$' if raw[i..].starts_with("$${") => {
                    out.push_str("${");
                    chars.next();
                    chars.next();
                }
                '%' if raw[i..].starts_with("%%{") => {
                    out.push_str("%{");
                    chars.next();
                    chars.next();
                }
                c => out.push(c),
            }
        }
        out
    }

    fn invalid_escape(&mut self, span: Span) {
        self.error(
            Diagnostic::error(codes::INVALID_ESCAPE, "invalid escape sequence")
                .with_label(span, "not a known escape")
                .with_help(
                    "valid escapes are \\n \\r \\t \\\" \\\\ \\uXXXX and \\UXXXXXXXX; write `\\\\` for a backslash",
                ),
        );
    }

    fn heredoc(&mut self, pair: Pair<Rule>) -> ExprKind {
        let mut indent = false;
        let mut marker = String::new();
        let mut lines: Vec<Vec<Piece>> = Vec::new();
        for part in pair.into_inner() {
            match part.as_rule() {
                Rule::heredoc_indent => indent = true,
                Rule::heredoc_marker => marker = part.as_str().to_string(),
                Rule::heredoc_line => lines.push(self.heredoc_line(part)),
                rule => unexpected_rule(rule),
            }
        }
        if indent {
            strip_indent(&mut lines);
        }
        // Each line's literal text stays a piece of its own until the strip markers have
        // applied, as in HCL, whose scanner makes every heredoc line a token of its own and
        // trims only the token beside a `~` (`parseTemplateParts`): `%{ for x in xs ~}`
        // removes the rest of its line and the newline, but not the next line's indentation.
        let pieces: Vec<Piece> = lines.into_iter().flatten().collect();
        let template = self.finish_template(pieces);
        ExprKind::Heredoc(Box::new(Heredoc { marker: marker.into_boxed_str(), indent, template }))
    }

    /// One heredoc line, its newline included in the last literal part.
    fn heredoc_line(&mut self, pair: Pair<Rule>) -> Vec<Piece> {
        let line_span = self.span(&pair);
        let mut parts = Vec::new();
        for part in pair.into_inner() {
            match part.as_rule() {
                Rule::heredoc_literal => {
                    let span = self.span(&part);
                    let text = part.as_str().trim_end_matches('\r').replace("$${", "${").replace("%%{", "%{");
                    parts.push(Piece::text(text, span));
                }
                Rule::interpolation | Rule::directive => parts.push(self.template_piece(part)),
                rule => unexpected_rule(rule),
            }
        }
        let newline = Span { start: line_span.end.saturating_sub(1), ..line_span };
        match parts.last_mut() {
            Some(Piece { part: PiecePart::Text(text), span, .. }) => {
                text.push('\n');
                *span = span.to(newline);
            }
            _ => parts.push(Piece::text("\n".to_string(), newline)),
        }
        parts
    }
}

/// A template part while lowering, with its span (for literal text, the text's) and its
/// `~` strip markers (`${~ x ~}`).
pub(super) struct Piece {
    part: PiecePart,
    span: Span,
    strip_left: bool,
    strip_right: bool,
}

/// Literal text is kept growable until the template is finished.
enum PiecePart {
    Text(String),
    Part(TemplatePart),
}

impl Piece {
    pub(super) fn plain(part: TemplatePart, span: Span) -> Piece {
        Piece { part: PiecePart::Part(part), span, strip_left: false, strip_right: false }
    }

    pub(super) fn text(text: String, span: Span) -> Piece {
        Piece { part: PiecePart::Text(text), span, strip_left: false, strip_right: false }
    }
}

/// For `<<-`: removes the smallest indentation shared by all non-blank lines.
fn strip_indent(lines: &mut [Vec<Piece>]) {
    let indent_of = |line: &Vec<Piece>| -> Option<usize> {
        match line.first().map(|p| &p.part) {
            Some(PiecePart::Text(s)) if s.trim().is_empty() && line.len() == 1 => None,
            Some(PiecePart::Text(s)) => Some(s.len() - s.trim_start_matches([' ', '\t']).len()),
            _ => Some(0),
        }
    };
    let Some(min) = lines.iter().filter_map(indent_of).min() else { return };
    for line in lines.iter_mut() {
        if let Some(Piece { part: PiecePart::Text(first), span, .. }) = line.first_mut() {
            let strip = min.min(first.len() - first.trim_start_matches([' ', '\t']).len());
            first.drain(..strip);
            span.start += u32::try_from(strip).unwrap_or(0);
        }
    }
}

pub(super) fn binary_op(text: &str) -> BinaryOp {
    match text {
        "||" => BinaryOp::Or,
        "&&" => BinaryOp::And,
        "==" => BinaryOp::Eq,
        "!=" => BinaryOp::NotEq,
        "<" => BinaryOp::Lt,
        "<=" => BinaryOp::LtEq,
        ">" => BinaryOp::Gt,
        ">=" => BinaryOp::GtEq,
        "+" => BinaryOp::Add,
        "-" => BinaryOp::Sub,
        "*" => BinaryOp::Mul,
        "/" => BinaryOp::Div,
        "%" => BinaryOp::Rem,
        _ => unexpected_rule(Rule::binary_op),
    }
}

/// `operands[0] operators[0] operands[1] ...` grouped by precedence; every operator is
/// left-associative. There is one more operand than operators.
pub(super) fn group_binary(operands: Vec<Expr>, operators: Vec<Spanned<BinaryOp>>) -> Expr {
    let mut stack: Vec<Expr> = Vec::with_capacity(operands.len());
    let mut pending: Vec<Spanned<BinaryOp>> = Vec::with_capacity(operators.len());
    let mut operands = operands.into_iter();
    stack.extend(operands.next());
    for (op, operand) in operators.into_iter().zip(operands) {
        while pending.last().is_some_and(|top| top.node.precedence() >= op.node.precedence()) {
            reduce(&mut stack, &mut pending);
        }
        pending.push(op);
        stack.push(operand);
    }
    while !pending.is_empty() {
        reduce(&mut stack, &mut pending);
    }
    stack.pop().unwrap_or_else(|| unexpected_rule(Rule::expr))
}

/// An attribute, index or splat step after an operand's primary.
pub(super) enum Step {
    Attr(Ident),
    Index(Expr),
    Splat,
}

/// `expr` with its steps (each with its span) applied in order. After a splat, attribute
/// and index steps apply to every element: they become the splat's steps.
pub(super) fn apply_steps(mut expr: Expr, steps: Vec<(Step, Span)>) -> Expr {
    for (step, step_span) in steps {
        let whole = expr.span.to(step_span);
        if let ExprKind::Splat(splat) = &mut expr.kind {
            match step {
                Step::Attr(name) => push_step(&mut splat.steps, SplatStep::Attr(name)),
                Step::Index(index) => push_step(&mut splat.steps, SplatStep::Index(index)),
                // `a[*][*]`: a splat over the result of a splat.
                Step::Splat => {
                    let splat = Splat { target: expr, steps: Box::default() };
                    expr = Expr { kind: ExprKind::Splat(Box::new(splat)), span: whole };
                    continue;
                }
            }
            expr.span = whole;
            continue;
        }
        // (An attribute's name ends the expression: `Expr::name_span` finds it there.)
        let kind = match step {
            Step::Attr(name) => ExprKind::GetAttr { target: Box::new(expr), name: name.name },
            Step::Index(index) => ExprKind::Index { target: Box::new(expr), index: Box::new(index) },
            Step::Splat => ExprKind::Splat(Box::new(Splat { target: expr, steps: Box::default() })),
        };
        expr = Expr { kind, span: whole };
    }
    expr
}

/// `expr` under its prefix operators, the last written applied first.
pub(super) fn apply_prefixes(mut expr: Expr, prefixes: Vec<Spanned<UnaryOp>>) -> Expr {
    for op in prefixes.into_iter().rev() {
        let span = op.span.to(expr.span);
        // (The operator starts the expression: `Expr::op_span` finds it there.)
        expr = Expr { kind: ExprKind::Unary { op: op.node, operand: Box::new(expr) }, span };
    }
    expr
}

/// Pops two operands and one operator and pushes the combined expression.
fn reduce(operands: &mut Vec<Expr>, operators: &mut Vec<Spanned<BinaryOp>>) {
    let (Some(op), Some(rhs), Some(lhs)) = (operators.pop(), operands.pop(), operands.pop()) else {
        unexpected_rule(Rule::expr)
    };
    let span = lhs.span.to(rhs.span);
    let kind = ExprKind::Binary { op: op.node, op_start: op.span.start, lhs: Box::new(lhs), rhs: Box::new(rhs) };
    operands.push(Expr { kind, span });
}

/// `steps` and `step` after them. (A splat's steps are a boxed slice, so that every
/// expression is smaller; splats are few and their steps fewer.)
fn push_step(steps: &mut Box<[SplatStep]>, step: SplatStep) {
    let mut grown = std::mem::take(steps).into_vec();
    grown.push(step);
    *steps = grown.into_boxed_slice();
}

/// Whether `text`, a whole number written in decimal digits, reads as another number
/// (`n`): one beyond 2^53 that a 64-bit float cannot hold (`9007199254740993` would be
/// `9007199254740992`), which Terraform keeps exact. Fractions and exponents are read as
/// floating point, as they are everywhere.
fn inexact_integer(text: &str, n: f64) -> bool {
    if n.abs() < 9_007_199_254_740_992.0 || !text.bytes().all(|b| b.is_ascii_digit()) {
        return false;
    }
    let digits = text.trim_start_matches('0');
    format!("{n:.0}") != digits
}
