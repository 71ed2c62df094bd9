//! The dependency graph of a module's declarations, built with petgraph.
//!
//! An edge `a -> b` means "`a` depends on `b`": `b` must be evaluated (or applied)
//! first. Edges come from references in expressions and from `depends_on`.

use rustc_hash::FxHashMap as HashMap;

use petgraph::graph::{DiGraph, NodeIndex};

use crate::check::{Tables, Target};
use crate::diagnostic::{codes, Diagnostic};
use crate::name::Name;
use crate::resolve::{ItemId, Module};
use crate::syntax::ast::{Item, ResourceMode};

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
    /// How users write it: `web`; [`Node::label`] says `resource aws.instance web`.
    pub name: Name,
    /// The declaration.
    pub item: ItemId,
    /// The declaration's span.
    pub span: Span,
}

impl Node {
    /// A display label such as `resource aws.instance web`, from the declaration in
    /// `module` (the module the graph is of). (Made when shown, not kept for each of
    /// a large module's declarations.)
    pub fn label(&self, module: &Module) -> String {
        match module.item(self.item) {
            Item::Input(x) => format!("input {}", x.name.name),
            Item::Let(x) => format!("let {}", x.name.name),
            Item::Resource(x) => {
                format!("{} {}.{} {}", self.kind.as_str(), x.ty.provider.name, x.ty.kind.name, x.name.name)
            }
            Item::Module(x) => format!("module {}", x.name.name),
            Item::Output(x) => format!("output {}", x.name.name),
            Item::Provider(x) => match &x.alias {
                Some(alias) => format!("provider {} as {}", x.provider.name, alias.name),
                None => format!("provider {}", x.provider.name),
            },
            _ => self.kind.as_str().to_string(),
        }
    }
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

/// Builds the graph of `root` (the first module) from the references the checker
/// recorded, and reports every cycle.
pub fn build(modules: &[Module], root: &Module, tables: &Tables, diagnostics: &mut Vec<Diagnostic>) -> DependencyGraph {
    let _ = modules;
    match tables.modules.first() {
        Some(table) => build_module(root, table, diagnostics),
        None => DependencyGraph::default(),
    }
}

/// Builds the graph of one module from the references the checker recorded in its
/// table, and reports every cycle.
pub fn build_module(
    module: &Module,
    table: &crate::check::ModuleTables,
    diagnostics: &mut Vec<Diagnostic>,
) -> DependencyGraph {
    let root = module;
    let items: usize = root.files.iter().map(|f| f.items.len()).sum();
    let mut graph = DependencyGraph { graph: DiGraph::with_capacity(items, table.references.len()) };
    let mut by_item: HashMap<ItemId, NodeIndex> = HashMap::with_capacity_and_hasher(items, Default::default());
    let mut by_decl: HashMap<&str, NodeIndex> = HashMap::with_capacity_and_hasher(items, Default::default());
    let mut by_provider: HashMap<&str, NodeIndex> = HashMap::default();
    for (id, item) in root.items() {
        let Some(node) = node_for(id, item) else { continue };
        let index = graph.graph.add_node(node);
        by_item.insert(id, index);
        match item {
            // A duplicate declaration was reported by `resolve`; the first one keeps the name.
            Item::Provider(p) => {
                by_provider.entry(p.config_name().name.as_str()).or_insert(index);
            }
            // Outputs have a namespace of their own and nothing in the module reads them:
            // `hostname` names the input or `let`, never an output of that name.
            Item::Output(_) => {}
            _ => {
                if let Some(name) = item.declared_name() {
                    by_decl.entry(name.name.as_str()).or_insert(index);
                }
            }
        }
    }
    for reference in &table.references {
        let Some(&from) = by_item.get(&reference.from) else { continue };
        let to = match &reference.target {
            Target::Decl(name) => by_decl.get(name.as_str()),
            Target::Provider(name) => by_provider.get(name.as_str()),
        };
        let Some(&to) = to else { continue };
        // An input's own `check`s mention the input itself; that is not a dependency.
        if from == to && graph.graph[from].kind == NodeKind::Input {
            continue;
        }
        if graph.graph.find_edge(from, to).is_none() {
            graph.graph.add_edge(from, to, Edge { span: reference.span });
        }
    }
    report_cycles(&graph, table, &by_item, diagnostics);
    graph
}

fn node_for(id: ItemId, item: &Item) -> Option<Node> {
    let (kind, name) = match item {
        Item::Input(x) => (NodeKind::Input, x.name.name.clone()),
        Item::Let(x) => (NodeKind::Let, x.name.name.clone()),
        Item::Resource(x) => {
            let kind = if x.mode == ResourceMode::Data { NodeKind::Data } else { NodeKind::Resource };
            (kind, x.name.name.clone())
        }
        Item::Module(x) => (NodeKind::Module, x.name.name.clone()),
        Item::Output(x) => (NodeKind::Output, x.name.name.clone()),
        Item::Provider(x) => (NodeKind::Provider, x.config_name().name.clone()),
        Item::Check(x) => (NodeKind::Check, Name::from(format!("check@{}", x.span.start))),
        Item::Fn(_) | Item::Moved(_) | Item::Import(_) | Item::Forget(_) | Item::State(_) | Item::Plugin(_) => {
            return None
        }
    };
    Some(Node { kind, name, item: id, span: item.span() })
}

/// Every strongly connected component with more than one node, or with a self edge,
/// is a cycle. The diagnostic names each declaration on it and labels each reference
/// that closes it.
fn report_cycles(
    graph: &DependencyGraph,
    table: &crate::check::ModuleTables,
    by_item: &HashMap<ItemId, NodeIndex>,
    diagnostics: &mut Vec<Diagnostic>,
) {
    let _ = (table, by_item);
    // Kosaraju's algorithm, not Tarjan's: petgraph's Tarjan recurses once per node of a
    // path, which overflows a thread's stack on a chain of thousands of declarations.
    let mut components: Vec<Vec<NodeIndex>> = petgraph::algo::kosaraju_scc(&graph.graph)
        .into_iter()
        .filter(|c| c.len() > 1 || graph.graph.find_edge(c[0], c[0]).is_some())
        .collect();
    components.sort_by_key(|c| c.iter().map(|n| graph.graph[*n].span).min());
    for mut component in components {
        component.sort_by_key(|n| graph.graph[*n].span);
        let names: Vec<String> = component.iter().map(|n| format!("`{}`", graph.graph[*n].name)).collect();
        let mut diagnostic =
            Diagnostic::error(codes::DEPENDENCY_CYCLE, format!("dependency cycle between {}", names.join(", ")));
        let mut edges: Vec<(NodeIndex, NodeIndex, Edge)> = Vec::new();
        for &from in &component {
            for &to in &component {
                if let Some(edge) = graph.graph.find_edge(from, to) {
                    edges.push((from, to, graph.graph[edge]));
                }
            }
        }
        edges.sort_by_key(|(_, _, e)| e.span);
        for (i, (from, to, edge)) in edges.iter().enumerate() {
            let message = format!("`{}` uses `{}` here", graph.graph[*from].name, graph.graph[*to].name);
            diagnostic = if i == 0 {
                diagnostic.with_label(edge.span, message)
            } else {
                diagnostic.with_secondary(edge.span, message)
            };
        }
        diagnostics
            .push(diagnostic.with_help("break the cycle: a value cannot depend on itself, directly or through others"));
    }
}
