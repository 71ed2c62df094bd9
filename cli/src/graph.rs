//! `infra graph`: print the root module's dependency graph as DOT or SVG.

use std::path::PathBuf;

use clap::{Args, ValueEnum};
use infra_compiler::graph::{DependencyGraph, NodeKind};
use infra_compiler::resolve::Module;

use crate::output::Report;
use crate::{check, dot, render, svg};

#[derive(Args, Debug)]
pub struct GraphArgs {
    /// The module directory whose graph to print
    #[arg(value_name = "DIR", default_value = ".")]
    module_dir: PathBuf,

    /// Graphviz DOT text, or an SVG drawing made without Graphviz
    #[arg(long, value_enum, default_value_t = GraphFormat::Dot)]
    format: GraphFormat,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, ValueEnum)]
enum GraphFormat {
    /// Graphviz DOT, for `dot -Tpng` and friends
    Dot,
    /// A standalone SVG image
    Svg,
}

pub fn run(args: &GraphArgs) -> Report {
    let analysis = check::analyze(&args.module_dir);
    if analysis.has_errors() {
        let errors = analysis.diagnostics.iter().filter(|d| d.is_error()).count();
        let warnings = analysis.diagnostics.len() - errors;
        let summary = render::count_summary(errors, warnings);
        return Report::failed(analysis.diagnostics, analysis.sources).with_summary(false, summary);
    }
    let view = match analysis.modules.first() {
        Some(root) => GraphView::new(analysis.graph(), root),
        None => GraphView::default(),
    };
    match args.format {
        GraphFormat::Dot => render::to_stdout(&dot::render(&view)),
        GraphFormat::Svg => render::to_stdout(&svg::render(&view)),
    }
    Report::ok()
}

/// The graph as the drawings need it: nodes in index order, and each dependency once
/// however many references make it (the compiler keeps one edge per reference).
#[derive(Debug, Default)]
pub struct GraphView {
    pub nodes: Vec<ViewNode>,
    /// `(a, b)`: node `a` depends on node `b`. Sorted, without duplicates.
    pub edges: Vec<(usize, usize)>,
}

#[derive(Debug, Clone)]
pub struct ViewNode {
    pub kind: NodeKind,
    pub label: String,
}

impl GraphView {
    /// The graph of `module`, as drawn.
    pub fn new(graph: &DependencyGraph, module: &Module) -> GraphView {
        let nodes = graph
            .graph
            .node_indices()
            .map(|index| {
                let node = graph.node(index);
                ViewNode { kind: node.kind, label: node.label(module) }
            })
            .collect();
        let mut edges: Vec<(usize, usize)> =
            graph.graph.raw_edges().iter().map(|e| (e.source().index(), e.target().index())).collect();
        edges.sort_unstable();
        edges.dedup();
        GraphView { nodes, edges }
    }
}

/// The fill colour of a node in both drawings, so a kind looks the same everywhere.
pub fn kind_color(kind: NodeKind) -> &'static str {
    match kind {
        NodeKind::Input => "#dbeafe",
        NodeKind::Let => "#f1f5f9",
        NodeKind::Resource => "#fef3c7",
        NodeKind::Data => "#dcfce7",
        NodeKind::Module => "#ede9fe",
        NodeKind::Output => "#fce7f3",
        NodeKind::Provider => "#ffedd5",
        NodeKind::Check => "#fee2e2",
    }
}

#[cfg(test)]
pub mod tests {
    use super::*;

    /// `input count <- let prefix <- resource a <- output names`, plus `a -> count`.
    pub fn sample() -> GraphView {
        let node = |kind, label: &str| ViewNode { kind, label: label.to_string() };
        GraphView {
            nodes: vec![
                node(NodeKind::Input, "input count"),
                node(NodeKind::Let, "let prefix"),
                node(NodeKind::Resource, "resource null.resource a"),
                node(NodeKind::Output, "output names"),
            ],
            edges: vec![(1, 0), (2, 0), (2, 1), (3, 2)],
        }
    }
}
