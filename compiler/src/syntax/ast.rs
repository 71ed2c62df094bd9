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
            BodyItem::Block(b) => Some(b),
            _ => None,
        })
    }
}

#[derive(Clone, Debug, PartialEq)]
pub enum BodyItem {
    Attribute(Attribute),
    Block(Block),
    Check(Check),
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

#[derive(Clone, Debug, PartialEq)]
pub enum ExprKind {
    Null,
    Bool(bool),
    Number(f64),
    /// A quoted string, possibly with `${}` interpolations.
    Template(Template),
    /// `<<EOT` or `<<-EOT` (when `indent` is true) heredoc.
    Heredoc {
        marker: Box<str>,
        indent: bool,
        template: Box<Template>,
    },
    List(Vec<Expr>),
    Object(Vec<ObjectItem>),
    Name(Ident),
    /// `target.name`. (The name and its span are two fields, not an [`Ident`]: the tag
    /// then fits beside the span, and every expression is 8 bytes smaller.)
    GetAttr {
        target: Box<Expr>,
        name: Name,
        name_span: Span,
    },
    Index {
        target: Box<Expr>,
        index: Box<Expr>,
    },
    /// `target[*]` followed by attribute and index steps applied to every element.
    Splat {
        target: Box<Expr>,
        steps: Box<[SplatStep]>,
    },
    /// `f(a, b)`; with `expand_final`, `f(a, list...)` passes the elements of the last
    /// argument as separate arguments.
    /// (`function` is boxed, as the heredoc's template is: the variants that are not
    /// written often are kept small, and every expression is as large as the largest.)
    Call {
        function: Box<Ident>,
        args: Box<[Expr]>,
        expand_final: bool,
    },
    Unary {
        op: Spanned<UnaryOp>,
        operand: Box<Expr>,
    },
    /// (The operator and its span are two fields, not a `Spanned`: the tag then fits
    /// beside them.)
    Binary {
        op: BinaryOp,
        op_span: Span,
        lhs: Box<Expr>,
        rhs: Box<Expr>,
    },
    Conditional {
        condition: Box<Expr>,
        then: Box<Expr>,
        otherwise: Box<Expr>,
    },
    /// `[for k, v in xs : body if filter]`
    ForList {
        binding: Box<ForBinding>,
        body: Box<Expr>,
        filter: Option<Box<Expr>>,
    },
    /// `{for k, v in xs : key => value if filter}`
    ForObject(Box<ForObject>),
    Paren(Box<Expr>),
    /// Placeholder for an expression that failed to lower; a diagnostic was reported.
    Error,
}

impl ExprKind {
    /// The template of a quoted string or a heredoc.
    pub fn template(&self) -> Option<&Template> {
        match self {
            ExprKind::Template(template) => Some(template),
            ExprKind::Heredoc { template, .. } => Some(template),
            _ => None,
        }
    }
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
    /// 24, and an item 64, not 80: a large configuration is mostly object items.)
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
    /// The string when the template has no interpolation or directive.
    pub fn as_literal(&self) -> Option<String> {
        match self {
            Template::Text(text) => Some(text.to_string()),
            Template::Parts(_) => None,
        }
    }

    /// The interpolations, directives and literal text between them; none for
    /// [`Template::Text`], which is only text.
    pub fn parts(&self) -> &[TemplatePart] {
        match self {
            Template::Text(_) => &[],
            Template::Parts(parts) => parts,
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
        assert_eq!(size_of::<ExprKind>(), 32);
        assert_eq!(size_of::<Expr>(), 48);
        assert_eq!(size_of::<ObjectKey>(), 16);
        assert_eq!(size_of::<ObjectItem>(), 64);
    }
}
