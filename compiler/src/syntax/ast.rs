//! The syntax tree. Every node carries the [`Span`] it was parsed from.
//!
//! The tree is purely syntactic: names are not resolved and nothing is typed here.
//! Semantic results live in side tables built by `resolve` and `check`.

pub use crate::name::Name;
use crate::span::{FileId, Offsets, Span};
pub use ecow::EcoString;

/// An identifier with its span.
#[derive(Clone, Debug, PartialEq)]
pub struct Ident {
    pub name: Name,
    pub span: Span,
}

/// One parsed `.infra` file.
#[derive(Clone, Debug, PartialEq)]
pub struct SourceFileAst {
    pub file: FileId,
    pub items: Vec<Item>,
    /// Every comment in the file, in source order (the formatter re-attaches them).
    pub comments: Vec<Comment>,
    pub span: Span,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum CommentKind {
    /// `# ...` or `// ...` to end of line.
    Line,
    /// `/* ... */`.
    Block,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Comment {
    pub kind: CommentKind,
    pub span: Span,
}

/// A top-level declaration or statement.
#[derive(Clone, Debug, PartialEq)]
pub enum Item {
    Input(Input),
    Let(Let),
    Fn(FnDecl),
    Provider(Provider),
    Resource(Resource),
    Module(ModuleCall),
    Output(Output),
    Check(Check),
    Moved(Moved),
    Import(Import),
    Forget(Forget),
    State(StateBlock),
    Plugin(PluginDecl),
}

impl Item {
    pub fn span(&self) -> Span {
        match self {
            Item::Input(x) => x.span,
            Item::Let(x) => x.span,
            Item::Fn(x) => x.span,
            Item::Provider(x) => x.span,
            Item::Resource(x) => x.span,
            Item::Module(x) => x.span,
            Item::Output(x) => x.span,
            Item::Check(x) => x.span,
            Item::Moved(x) => x.span,
            Item::Import(x) => x.span,
            Item::Forget(x) => x.span,
            Item::State(x) => x.span,
            Item::Plugin(x) => x.span,
        }
    }

    /// The name this item declares, if it declares one: in the module namespace, or, for
    /// an output, among the module's outputs (a namespace of its own). Provider
    /// configurations live in a third namespace; see [`Provider::config_name`].
    pub fn declared_name(&self) -> Option<&Ident> {
        match self {
            Item::Input(x) => Some(&x.name),
            Item::Let(x) => Some(&x.name),
            Item::Fn(x) => Some(&x.name),
            Item::Resource(x) => Some(&x.name),
            Item::Module(x) => Some(&x.name),
            Item::Output(x) => Some(&x.name),
            Item::Provider(_)
            | Item::Check(_)
            | Item::Moved(_)
            | Item::Import(_)
            | Item::Forget(_)
            | Item::State(_)
            | Item::Plugin(_) => None,
        }
    }

    /// The keyword that starts this item.
    pub fn keyword(&self) -> &'static str {
        match self {
            Item::Input(_) => "input",
            Item::Let(_) => "let",
            Item::Fn(_) => "fn",
            Item::Provider(_) => "provider",
            Item::Resource(r) => match r.mode {
                ResourceMode::Managed => "resource",
                ResourceMode::Data => "data",
            },
            Item::Module(_) => "module",
            Item::Output(_) => "output",
            Item::Check(_) => "check",
            Item::Moved(_) => "moved",
            Item::Import(_) => "import",
            Item::Forget(_) => "forget",
            Item::State(_) => "state",
            Item::Plugin(_) => "plugin",
        }
    }
}

/// `input NAME [: TYPE] [= DEFAULT] [{ BODY }]`
#[derive(Clone, Debug, PartialEq)]
pub struct Input {
    pub name: Ident,
    pub ty: Option<TypeExpr>,
    pub default: Option<Expr>,
    pub body: Option<Body>,
    pub span: Span,
}

/// `let NAME = EXPR`
#[derive(Clone, Debug, PartialEq)]
pub struct Let {
    pub name: Ident,
    pub value: Expr,
    pub span: Span,
}

/// `fn NAME(PARAM: TYPE, ...) [: TYPE] = EXPR`
#[derive(Clone, Debug, PartialEq)]
pub struct FnDecl {
    pub name: Ident,
    pub params: Vec<Param>,
    pub return_type: Option<TypeExpr>,
    pub body: Expr,
    pub span: Span,
}

#[derive(Clone, Debug, PartialEq)]
pub struct Param {
    pub name: Ident,
    pub ty: TypeExpr,
    pub span: Span,
}

/// `provider TYPE [as ALIAS] [REPEAT] { BODY }`
#[derive(Clone, Debug, PartialEq)]
pub struct Provider {
    pub provider: Ident,
    pub alias: Option<Ident>,
    pub repeat: Option<Repeat>,
    pub body: Body,
    pub span: Span,
}

impl Provider {
    /// The name resources use to pick this configuration: the alias, or the provider
    /// type for the default configuration.
    pub fn config_name(&self) -> &Ident {
        self.alias.as_ref().unwrap_or(&self.provider)
    }
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ResourceMode {
    Managed,
    Data,
}

/// `resource PROVIDER.KIND NAME [REPEAT] { BODY }` or the same with `data`.
#[derive(Clone, Debug, PartialEq)]
pub struct Resource {
    pub mode: ResourceMode,
    pub ty: ResourceType,
    pub name: Ident,
    pub repeat: Option<Repeat>,
    pub body: Body,
    pub span: Span,
}

/// `PROVIDER.KIND`, as in `aws.instance`.
#[derive(Clone, Debug, PartialEq)]
pub struct ResourceType {
    pub provider: Ident,
    pub kind: Ident,
    pub span: Span,
}

/// `module NAME "SOURCE" [REPEAT] { BODY }`
#[derive(Clone, Debug, PartialEq)]
pub struct ModuleCall {
    pub name: Ident,
    pub source: StringLit,
    pub repeat: Option<Repeat>,
    pub body: Body,
    pub span: Span,
}

/// A plain string literal without interpolation, such as a module source.
#[derive(Clone, Debug, PartialEq)]
pub struct StringLit {
    pub value: String,
    pub span: Span,
}

/// `output NAME = EXPR [{ BODY }]`
#[derive(Clone, Debug, PartialEq)]
pub struct Output {
    pub name: Ident,
    pub value: Expr,
    pub body: Option<Body>,
    pub span: Span,
}

/// `check CONDITION, MESSAGE` at top level or in an input body; `precondition` and
/// `postcondition` in a resource body.
#[derive(Clone, Debug, PartialEq)]
pub struct Check {
    pub kind: CheckKind,
    pub condition: Expr,
    pub message: Expr,
    pub span: Span,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum CheckKind {
    Check,
    /// Evaluated before an instance is created or updated.
    Precondition,
    /// Evaluated after, with `self` standing for the instance.
    Postcondition,
}

impl CheckKind {
    pub fn keyword(self) -> &'static str {
        match self {
            CheckKind::Check => "check",
            CheckKind::Precondition => "precondition",
            CheckKind::Postcondition => "postcondition",
        }
    }
}

/// `forget ADDRESS`: drop what state holds at the address without destroying it.
#[derive(Clone, Debug, PartialEq)]
pub struct Forget {
    pub address: Address,
    pub span: Span,
}

/// `moved FROM -> TO`
#[derive(Clone, Debug, PartialEq)]
pub struct Moved {
    pub from: Address,
    pub to: Address,
    pub span: Span,
}

/// `import ADDRESS from EXPR`
#[derive(Clone, Debug, PartialEq)]
pub struct Import {
    pub to: Address,
    pub id: Expr,
    pub span: Span,
}

/// `state BACKEND { BODY }`
#[derive(Clone, Debug, PartialEq)]
pub struct StateBlock {
    pub backend: Ident,
    pub body: Body,
    pub span: Span,
}

/// `plugin NAME { BODY }`: a Terraform provider plugin, with its `source` address and
/// `version` constraint in the body.
#[derive(Clone, Debug, PartialEq)]
pub struct PluginDecl {
    pub name: Ident,
    pub body: Body,
    pub span: Span,
}

/// An instance address such as `web[0]` or `env["prod"].web[0]`.
#[derive(Clone, Debug, PartialEq)]
pub struct Address {
    pub steps: Vec<AddressStep>,
    pub span: Span,
}

#[derive(Clone, Debug, PartialEq)]
pub struct AddressStep {
    pub name: Ident,
    pub key: Option<Expr>,
    pub span: Span,
}

/// A repetition clause on a declaration or nested block.
#[derive(Clone, Debug, PartialEq)]
pub enum Repeat {
    /// `for [KEY_VAR,] VALUE_VAR in COLLECTION [key KEY]`
    For(Box<ForClause>),
    /// `if CONDITION`
    If { condition: Expr, span: Span },
}

impl Repeat {
    pub fn span(&self) -> Span {
        match self {
            Repeat::For(f) => f.span,
            Repeat::If { span, .. } => *span,
        }
    }
}

#[derive(Clone, Debug, PartialEq)]
pub struct ForClause {
    /// The first of two variables: index for lists, key for maps.
    pub key_var: Option<Ident>,
    pub value_var: Ident,
    pub collection: Expr,
    /// An explicit instance key: `key EXPR`.
    pub key: Option<Expr>,
    pub span: Span,
}

/// The contents of `{ ... }` after a declaration.
#[derive(Clone, Debug, PartialEq)]
pub struct Body {
    pub items: Vec<BodyItem>,
    pub span: Span,
}

impl Body {
    pub fn attributes(&self) -> impl Iterator<Item = &Attribute> {
        self.items.iter().filter_map(|i| match i {
            BodyItem::Attribute(a) => Some(a),
            _ => None,
        })
    }

    pub fn attribute(&self, name: &str) -> Option<&Attribute> {
        self.attributes().find(|a| a.name.name == name)
    }

    pub fn blocks(&self) -> impl Iterator<Item = &Block> {
        self.items.iter().filter_map(|i| match i {
            BodyItem::Block(b) => Some(&**b),
            _ => None,
        })
    }
}

/// (Blocks and checks are boxed: a body is mostly attributes, and an item is the size
/// of its largest variant, so unboxed every attribute would take a block's 136 bytes.)
#[derive(Clone, Debug, PartialEq)]
pub enum BodyItem {
    Attribute(Attribute),
    Block(Box<Block>),
    Check(Box<Check>),
    /// `...`: an elided body in a sketch. It parses so sketches can be formatted and
    /// read, and the checker reports it.
    Placeholder(Span),
}

impl BodyItem {
    pub fn span(&self) -> Span {
        match self {
            BodyItem::Attribute(a) => a.span,
            BodyItem::Block(b) => b.span,
            BodyItem::Check(c) => c.span,
            BodyItem::Placeholder(span) => *span,
        }
    }
}

/// `NAME = EXPR`
#[derive(Clone, Debug, PartialEq)]
pub struct Attribute {
    pub name: Ident,
    pub value: Expr,
    pub span: Span,
}

/// `NAME [REPEAT] { BODY }`, such as `lifecycle { ... }` or `ingress for p in ports { ... }`.
#[derive(Clone, Debug, PartialEq)]
pub struct Block {
    pub name: Ident,
    pub repeat: Option<Repeat>,
    pub body: Body,
    pub span: Span,
}

#[derive(Clone, Debug, PartialEq)]
pub struct Expr {
    pub kind: ExprKind,
    pub span: Span,
}

/// (Every variant's fields fit in 16 bytes beside the tag, so an expression kind is
/// 24 bytes and an expression 40: a configuration's syntax tree is mostly expressions.
/// What a variant has more of is boxed, and a span that follows from the expression's
/// own is not stored: see [`Expr::name_span`] and [`Expr::op_span`].)
#[derive(Clone, Debug, PartialEq)]
pub enum ExprKind {
    Null,
    Bool(bool),
    Number(f64),
    /// A quoted string that is text alone, escapes decoded: no interpolation or
    /// directive. (An `EcoString`: up to 15 bytes inline, longer ones shared, so the value
    /// it evaluates to is the same text, not a copy.)
    Text(EcoString),
    /// A quoted string with interpolations or directives: literal text (adjacent
    /// literals joined), interpolations and directives, at least one of them not text.
    Template(Box<[TemplatePart]>),
    /// `<<EOT` or `<<-EOT` heredoc.
    Heredoc(Box<Heredoc>),
    List(Box<[Expr]>),
    Object(Box<[ObjectItem]>),
    /// A name alone; its span is the expression's.
    Name(Name),
    /// `target.name`; the name ends the expression ([`Expr::name_span`]).
    GetAttr {
        target: Box<Expr>,
        name: Name,
    },
    Index {
        target: Box<Expr>,
        index: Box<Expr>,
    },
    /// `target[*]` followed by attribute and index steps applied to every element.
    Splat(Box<Splat>),
    /// `f(a, b)`, or `f(a, list...)` (see [`Call::expand_final`]).
    Call(Box<Call>),
    /// `-operand` or `!operand`; the operator starts the expression ([`Expr::op_span`]).
    Unary {
        op: UnaryOp,
        operand: Box<Expr>,
    },
    /// `lhs op rhs`; the operator is at byte `op_start` of the expression's file
    /// ([`Expr::op_span`]).
    Binary {
        op: BinaryOp,
        op_start: u32,
        lhs: Box<Expr>,
        rhs: Box<Expr>,
    },
    Conditional(Box<Conditional>),
    /// `[for k, v in xs : body if filter]`
    ForList(Box<ForList>),
    /// `{for k, v in xs : key => value if filter}`
    ForObject(Box<ForObject>),
    Paren(Box<Expr>),
    /// Placeholder for an expression that failed to lower; a diagnostic was reported.
    Error,
}

impl ExprKind {
    /// The template of a quoted string or a heredoc.
    pub fn template(&self) -> Option<TemplateRef<'_>> {
        match self {
            ExprKind::Text(text) => Some(TemplateRef::Text(text)),
            ExprKind::Template(parts) => Some(TemplateRef::Parts(parts)),
            ExprKind::Heredoc(heredoc) => Some(heredoc.template.as_ref()),
            _ => None,
        }
    }

    /// The text of a quoted string or heredoc without interpolation or directive.
    pub fn as_literal(&self) -> Option<String> {
        self.template().and_then(|template| template.as_literal())
    }
}

impl Expr {
    /// The span of the name of a `target.name` expression: the end of the expression.
    /// (For any other expression, the expression's.)
    pub fn name_span(&self) -> Span {
        match &self.kind {
            ExprKind::GetAttr { name, .. } => {
                let len = u32::try_from(name.len()).unwrap_or(u32::MAX);
                Span { file: self.span.file, start: self.span.end.saturating_sub(len), end: self.span.end }
            }
            _ => self.span,
        }
    }

    /// The span of a unary or binary expression's operator. (For any other expression,
    /// the expression's.)
    pub fn op_span(&self) -> Span {
        let (start, op) = match &self.kind {
            ExprKind::Unary { op, .. } => (self.span.start, op.as_str()),
            ExprKind::Binary { op, op_start, .. } => (*op_start, op.as_str()),
            _ => return self.span,
        };
        Span { file: self.span.file, start, end: start + op.len() as u32 }
    }
}

/// `<<EOT` or `<<-EOT` (when `indent` is true) heredoc.
#[derive(Clone, Debug, PartialEq)]
pub struct Heredoc {
    pub marker: Box<str>,
    pub indent: bool,
    pub template: Template,
}

/// `target[*]` followed by attribute and index steps applied to every element.
#[derive(Clone, Debug, PartialEq)]
pub struct Splat {
    pub target: Expr,
    pub steps: Box<[SplatStep]>,
}

/// `f(a, b)`; with `expand_final`, `f(a, list...)` passes the elements of the last
/// argument as separate arguments.
#[derive(Clone, Debug, PartialEq)]
pub struct Call {
    pub function: Ident,
    pub args: Box<[Expr]>,
    pub expand_final: bool,
}

/// `condition ? then : otherwise`
#[derive(Clone, Debug, PartialEq)]
pub struct Conditional {
    pub condition: Expr,
    pub then: Expr,
    pub otherwise: Expr,
}

/// `[for k, v in xs : body if filter]`
#[derive(Clone, Debug, PartialEq)]
pub struct ForList {
    pub binding: ForBinding,
    pub body: Expr,
    pub filter: Option<Expr>,
}

pub use crate::span::Spanned;

/// `{for k, v in xs : key => value if filter}`: held in one allocation, not a box each,
/// and every other expression is smaller for it.
#[derive(Clone, Debug, PartialEq)]
pub struct ForObject {
    pub binding: ForBinding,
    pub key: Expr,
    pub value: Expr,
    /// The `...` suffix: values of equal keys are grouped into lists.
    pub group: bool,
    pub filter: Option<Expr>,
}

#[derive(Clone, Debug, PartialEq)]
pub struct ForBinding {
    pub key_var: Option<Ident>,
    pub value_var: Ident,
    pub collection: Box<Expr>,
}

#[derive(Clone, Debug, PartialEq)]
pub enum SplatStep {
    Attr(Ident),
    Index(Expr),
}

/// `key = value` or `key: value`. (Which separator was written is not kept: only the
/// formatter asks, and it reads it from the source.)
#[derive(Clone, Debug, PartialEq)]
pub struct ObjectItem {
    pub key: ObjectKey,
    pub value: Expr,
}

impl ObjectItem {
    /// The key's span, in the file of the value (see [`ObjectKey::Ident`]).
    pub fn key_span(&self) -> Span {
        match &self.key {
            ObjectKey::Ident { offsets, .. } => offsets.in_file(self.value.span.file),
            ObjectKey::Expr(key) => key.span,
        }
    }

    /// The key when it is a bare identifier.
    pub fn key_ident(&self) -> Option<Ident> {
        match &self.key {
            ObjectKey::Ident { name, .. } => Some(Ident { name: name.clone(), span: self.key_span() }),
            ObjectKey::Expr(_) => None,
        }
    }

    /// From the key to the end of the value. (Not stored: objects are most of a large
    /// configuration's syntax tree.)
    pub fn span(&self) -> Span {
        self.key_span().to(self.value.span)
    }
}

#[derive(Clone, Debug, PartialEq)]
pub enum ObjectKey {
    /// A bare identifier key: `{ name = 1 }`, at `offsets` of the file its value is in
    /// ([`ObjectItem::key_span`]). (Without a file of its own a key is 16 bytes, not
    /// 24, and an item 56, not 64: a large configuration is mostly object items.)
    Ident { name: Name, offsets: Offsets },
    /// A quoted or parenthesised key: `{ "a b" = 1, (k) = 2 }`.
    Expr(Box<Expr>),
}

impl ObjectKey {
    /// A bare identifier key (its span's file is its value's).
    pub fn ident(ident: Ident) -> ObjectKey {
        ObjectKey::Ident { name: ident.name, offsets: Offsets::of(ident.span) }
    }
}

/// A quoted string's or a heredoc's text. Most are text alone, held without a list of
/// parts.
#[derive(Clone, Debug, PartialEq)]
pub enum Template {
    /// Text alone, escapes decoded: no interpolation or directive. (An `EcoString`: up to
    /// 15 bytes inline, longer ones shared, so the value it evaluates to is the same
    /// text, not a copy.)
    Text(EcoString),
    /// Literal text (adjacent literals joined), interpolations and directives: at least
    /// one that is not literal text.
    Parts(Box<[TemplatePart]>),
}

impl Template {
    pub fn as_ref(&self) -> TemplateRef<'_> {
        match self {
            Template::Text(text) => TemplateRef::Text(text),
            Template::Parts(parts) => TemplateRef::Parts(parts),
        }
    }

    /// The string when the template has no interpolation or directive.
    pub fn as_literal(&self) -> Option<String> {
        self.as_ref().as_literal()
    }

    /// The interpolations, directives and literal text between them; none for
    /// [`Template::Text`], which is only text.
    pub fn parts(&self) -> &[TemplatePart] {
        self.as_ref().parts()
    }

    /// The expression kind of a quoted string with this template.
    pub fn into_string_kind(self) -> ExprKind {
        match self {
            Template::Text(text) => ExprKind::Text(text),
            Template::Parts(parts) => ExprKind::Template(parts),
        }
    }
}

/// A quoted string's or a heredoc's [`Template`], borrowed.
#[derive(Clone, Copy, Debug, PartialEq)]
pub enum TemplateRef<'a> {
    Text(&'a EcoString),
    Parts(&'a [TemplatePart]),
}

impl<'a> TemplateRef<'a> {
    /// The string when the template has no interpolation or directive.
    pub fn as_literal(self) -> Option<String> {
        match self {
            TemplateRef::Text(text) => Some(text.to_string()),
            TemplateRef::Parts(_) => None,
        }
    }

    /// The interpolations, directives and literal text between them; none for text
    /// alone.
    pub fn parts(self) -> &'a [TemplatePart] {
        match self {
            TemplateRef::Text(_) => &[],
            TemplateRef::Parts(parts) => parts,
        }
    }
}

/// One part of a template. Directives are flat markers, in source order; lowering
/// guarantees that they nest (every `If` has its `EndIf`, with at most one `Else`
/// between, and every `For` its `EndFor`), and has already applied `~` strip markers
/// to the literal text beside them.
#[derive(Clone, Debug, PartialEq)]
pub enum TemplatePart {
    /// Literal text with escapes already decoded. (Its own fields, not a `Spanned`: the
    /// tag then fits beside the span, and every part, template and expression is
    /// 8 bytes smaller.)
    Literal {
        text: Box<str>,
        span: Span,
    },
    /// (Expressions are boxed here and in [`ObjectKey`]: most parts and keys are
    /// literal text and names, which then take a third of the space.)
    Interpolation(Box<Expr>),
    /// `%{ if COND }`: the parts up to the matching `Else` or `EndIf` when COND holds.
    If(Box<Expr>),
    /// `%{ else }`: the parts up to the matching `EndIf` when the condition does not hold.
    Else(Span),
    EndIf(Span),
    /// `%{ for KEY, VALUE in COLLECTION }`: the parts up to the matching `EndFor`, once
    /// per element, with the variables bound.
    For(Box<ForBinding>),
    EndFor(Span),
}

impl TemplatePart {
    /// A directive opening a section: its matching end (and, for `If`, the `Else`
    /// between), as indexes into `parts`, where `parts[at]` is the directive.
    pub fn section(parts: &[TemplatePart], at: usize) -> (Option<usize>, usize) {
        let mut depth = 0usize;
        let mut otherwise = None;
        for (i, part) in parts.iter().enumerate().skip(at + 1) {
            match part {
                TemplatePart::If(_) | TemplatePart::For(_) => depth += 1,
                TemplatePart::Else(_) if depth == 0 => otherwise = Some(i),
                TemplatePart::EndIf(_) | TemplatePart::EndFor(_) if depth == 0 => return (otherwise, i),
                TemplatePart::EndIf(_) | TemplatePart::EndFor(_) => depth -= 1,
                _ => {}
            }
        }
        (otherwise, parts.len())
    }
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum UnaryOp {
    Neg,
    Not,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum BinaryOp {
    Or,
    And,
    Eq,
    NotEq,
    Lt,
    LtEq,
    Gt,
    GtEq,
    Add,
    Sub,
    Mul,
    Div,
    Rem,
}

impl BinaryOp {
    pub fn as_str(self) -> &'static str {
        match self {
            BinaryOp::Or => "||",
            BinaryOp::And => "&&",
            BinaryOp::Eq => "==",
            BinaryOp::NotEq => "!=",
            BinaryOp::Lt => "<",
            BinaryOp::LtEq => "<=",
            BinaryOp::Gt => ">",
            BinaryOp::GtEq => ">=",
            BinaryOp::Add => "+",
            BinaryOp::Sub => "-",
            BinaryOp::Mul => "*",
            BinaryOp::Div => "/",
            BinaryOp::Rem => "%",
        }
    }

    /// Binding strength; higher binds tighter.
    pub fn precedence(self) -> u8 {
        match self {
            BinaryOp::Or => 1,
            BinaryOp::And => 2,
            BinaryOp::Eq | BinaryOp::NotEq => 3,
            BinaryOp::Lt | BinaryOp::LtEq | BinaryOp::Gt | BinaryOp::GtEq => 4,
            BinaryOp::Add | BinaryOp::Sub => 5,
            BinaryOp::Mul | BinaryOp::Div | BinaryOp::Rem => 6,
        }
    }
}

impl UnaryOp {
    pub fn as_str(self) -> &'static str {
        match self {
            UnaryOp::Neg => "-",
            UnaryOp::Not => "!",
        }
    }
}

/// A type written in source: `string`, `list(number)`, `object({ a = string })`, ...
#[derive(Clone, Debug, PartialEq)]
pub struct TypeExpr {
    pub kind: TypeExprKind,
    pub span: Span,
}

#[derive(Clone, Debug, PartialEq)]
pub enum TypeExprKind {
    String,
    Number,
    Bool,
    Any,
    List(Box<TypeExpr>),
    Set(Box<TypeExpr>),
    Map(Box<TypeExpr>),
    Object(Vec<ObjectTypeField>),
    Tuple(Vec<TypeExpr>),
    /// A type name that is not one of ours; reported as E0108.
    Error,
}

#[derive(Clone, Debug, PartialEq)]
pub struct ObjectTypeField {
    pub name: Ident,
    pub ty: TypeExpr,
    /// `optional(T)` or `optional(T, default)`.
    pub optional: bool,
    pub default: Option<Expr>,
    pub span: Span,
}

/// A configuration of 10,000 resources is some 500,000 object items and expressions:
/// their sizes are most of what the syntax tree of a large module holds.
#[cfg(all(test, target_pointer_width = "64"))]
mod sizes {
    use std::mem::size_of;

    use super::*;

    #[test]
    fn the_common_nodes_keep_their_sizes() {
        assert_eq!(size_of::<Name>(), 8);
        assert_eq!(size_of::<Ident>(), 24);
        assert_eq!(size_of::<TemplatePart>(), 32);
        assert_eq!(size_of::<Template>(), 24);
        assert_eq!(size_of::<ExprKind>(), 24);
        assert_eq!(size_of::<Expr>(), 40);
        assert_eq!(size_of::<ObjectKey>(), 16);
        assert_eq!(size_of::<ObjectItem>(), 56);
        // A body is mostly attributes: an item is an attribute's size, not a block's.
        assert_eq!(size_of::<BodyItem>(), size_of::<Attribute>());
        assert_eq!(size_of::<BodyItem>(), 80);
    }
}
