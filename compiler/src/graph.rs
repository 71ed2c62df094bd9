//! The dependency graph of a module's declarations, built with petgraph.
//!
//! An edge `a -> b` means "`a` depends on `b`": `b` must be evaluated (or applied)
//! first. Edges come from references in expressions and from `depends_on`.

use petgraph::graph::{DiGraph, NodeIndex};

use crate::span::Span;

#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum NodeKind {
    Input,
    Let,
    Resource,
    Data,
    Module,
    Output,
    Provider,
    Check,
}

impl NodeKind {
    pub fn as_str(self) -> &'static str {
        match self {
            NodeKind::Input => "input",
            NodeKind::Let => "let",
            NodeKind::Resource => "resource",
            NodeKind::Data => "data",
            NodeKind::Module => "module",
            NodeKind::Output => "output",
            NodeKind::Provider => "provider",
            NodeKind::Check => "check",
        }
    }
}

#[derive(Clone, Debug, PartialEq)]
pub struct Node {
    pub kind: NodeKind,
    /// How users write it: `web`, `aws.instance.web` is shown as `label`.
    pub name: String,
    /// A display label such as `resource aws.instance web`.
    pub label: String,
    /// The declaration's span.
    pub span: Span,
}

/// One reference that makes a declaration depend on another.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Edge {
    /// Where the reference is written.
    pub span: Span,
}

#[derive(Clone, Debug, Default)]
pub struct DependencyGraph {
    pub graph: DiGraph<Node, Edge>,
}

impl DependencyGraph {
    pub fn node(&self, index: NodeIndex) -> &Node {
        &self.graph[index]
    }
}
pub fn build(_: &[crate::resolve::Module], _: &crate::resolve::Module, _: &crate::check::Tables, _: &mut Vec<crate::Diagnostic>) -> DependencyGraph { DependencyGraph::default() }
