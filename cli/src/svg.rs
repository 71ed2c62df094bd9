//! The dependency graph drawn as a standalone SVG image, without Graphviz.
//!
//! The layout is a plain layered one: a node's layer is the length of the longest chain of
//! dependencies below it, so inputs and other leaves sit in the top row and everything is
//! drawn below what it depends on. Within a layer, nodes are ordered by a few barycentre
//! sweeps (each node moves towards the average position of its neighbours), which removes
//! most edge crossings in graphs of the size modules have. Arrows point from a node to what
//! it depends on, as in the DOT output.

use std::fmt::Write;

use crate::graph::{kind_color, GraphView};

/// Font size in pixels; the labels use a monospace font so their width is predictable.
const FONT_SIZE: f64 = 12.0;
/// The advance of one monospace character at [`FONT_SIZE`].
const CHAR_WIDTH: f64 = FONT_SIZE * 0.6;
const BOX_HEIGHT: f64 = 30.0;
const BOX_PADDING: f64 = 12.0;
const NODE_GAP: f64 = 24.0;
const LAYER_GAP: f64 = 56.0;
const MARGIN: f64 = 20.0;
const SWEEPS: usize = 4;

/// Where one node is drawn: the centre of its box and its width.
#[derive(Clone, Copy, Debug, PartialEq)]
struct Placed {
    x: f64,
    y: f64,
    width: f64,
}

pub fn render(view: &GraphView) -> String {
    let layers = order_layers(view, &assign_layers(view));
    let (placed, width, height) = place(view, &layers);
    let mut svg = String::new();
    // Writing to a `String` cannot fail, here and below.
    let _ = writeln!(
        svg,
        "<svg xmlns=\"http://www.w3.org/2000/svg\" width=\"{width:.0}\" height=\"{height:.0}\" \
         viewBox=\"0 0 {width:.0} {height:.0}\" font-family=\"monospace\" font-size=\"{FONT_SIZE}\">"
    );
    svg.push_str(concat!(
        "  <defs>\n",
        "    <marker id=\"arrow\" viewBox=\"0 0 10 10\" refX=\"10\" refY=\"5\" markerWidth=\"8\" ",
        "markerHeight=\"8\" orient=\"auto-start-reverse\">\n",
        "      <path d=\"M 0 0 L 10 5 L 0 10 z\" fill=\"#475569\"/>\n",
        "    </marker>\n",
        "  </defs>\n",
        "  <rect width=\"100%\" height=\"100%\" fill=\"#ffffff\"/>\n",
    ));
    svg.push_str("  <g class=\"edges\" fill=\"none\" stroke=\"#475569\" stroke-width=\"1.2\">\n");
    for &(from, to) in &view.edges {
        if let (Some(a), Some(b)) = (placed.get(from), placed.get(to)) {
            let _ = writeln!(svg, "    <path d=\"{}\" marker-end=\"url(#arrow)\"/>", edge_path(*a, *b));
        }
    }
    svg.push_str("  </g>\n  <g class=\"nodes\">\n");
    for (node, at) in view.nodes.iter().zip(&placed) {
        let label = escape(&node.label);
        let _ = writeln!(
            svg,
            "    <g class=\"node {kind}\"><title>{label}</title>\
             <rect x=\"{x:.1}\" y=\"{y:.1}\" width=\"{w:.1}\" height=\"{BOX_HEIGHT}\" rx=\"6\" \
             fill=\"{fill}\" stroke=\"#334155\"/>\
             <text x=\"{cx:.1}\" y=\"{cy:.1}\" text-anchor=\"middle\" dominant-baseline=\"central\" \
             fill=\"#0f172a\">{label}</text></g>",
            kind = node.kind.as_str(),
            x = at.x - at.width / 2.0,
            y = at.y - BOX_HEIGHT / 2.0,
            w = at.width,
            fill = kind_color(node.kind),
            cx = at.x,
            cy = at.y,
        );
    }
    svg.push_str("  </g>\n</svg>\n");
    svg
}

/// The layer of every node: 0 when it depends on nothing, otherwise one more than the
/// deepest of its dependencies. Nodes on a cycle (which `infra graph` refuses before
/// drawing, but the layout must not loop on) go one layer below everything else.
fn assign_layers(view: &GraphView) -> Vec<usize> {
    let n = view.nodes.len();
    let mut pending_deps = vec![0usize; n];
    let mut dependents = vec![Vec::new(); n];
    for &(from, to) in &view.edges {
        if from < n && to < n {
            pending_deps[from] += 1;
            dependents[to].push(from);
        }
    }
    let mut layer = vec![0usize; n];
    let mut done = vec![false; n];
    let mut ready: Vec<usize> = (0..n).filter(|&i| pending_deps[i] == 0).collect();
    while let Some(node) = ready.pop() {
        done[node] = true;
        for &dependent in &dependents[node] {
            layer[dependent] = layer[dependent].max(layer[node] + 1);
            pending_deps[dependent] -= 1;
            if pending_deps[dependent] == 0 {
                ready.push(dependent);
            }
        }
    }
    let below_all = layer.iter().copied().max().map_or(0, |m| m + 1);
    for (index, is_done) in done.iter().enumerate() {
        if !is_done {
            layer[index] = below_all;
        }
    }
    layer
}

/// Nodes grouped by layer, each layer ordered to keep edges short and uncrossed.
fn order_layers(view: &GraphView, layer_of: &[usize]) -> Vec<Vec<usize>> {
    let n_layers = layer_of.iter().copied().max().map_or(0, |m| m + 1);
    let mut layers = vec![Vec::new(); n_layers];
    for (node, &layer) in layer_of.iter().enumerate() {
        layers[layer].push(node);
    }
    let mut neighbours = vec![Vec::new(); layer_of.len()];
    for &(from, to) in &view.edges {
        if from < layer_of.len() && to < layer_of.len() && from != to {
            neighbours[from].push(to);
            neighbours[to].push(from);
        }
    }
    let mut position = vec![0.0; layer_of.len()];
    for layer in &layers {
        set_positions(layer, &mut position);
    }
    // Alternate downward and upward sweeps; each layer is sorted against the positions its
    // neighbours have just been given, which is what lets the sweeps settle.
    for sweep in 0..SWEEPS {
        let order: Vec<usize> = if sweep % 2 == 0 { (0..n_layers).collect() } else { (0..n_layers).rev().collect() };
        for index in order {
            let key = |node: &usize| barycentre(&neighbours[*node], &position).unwrap_or(position[*node]);
            let mut keyed: Vec<(f64, usize)> = layers[index].iter().map(|node| (key(node), *node)).collect();
            keyed.sort_by(|a, b| a.0.total_cmp(&b.0));
            layers[index] = keyed.into_iter().map(|(_, node)| node).collect();
            set_positions(&layers[index], &mut position);
        }
    }
    layers
}

/// Records each node's position in its layer, centred on 0 so layers of different sizes
/// line up.
fn set_positions(layer: &[usize], position: &mut [f64]) {
    let centre = (layer.len() as f64 - 1.0) / 2.0;
    for (index, &node) in layer.iter().enumerate() {
        position[node] = index as f64 - centre;
    }
}

fn barycentre(neighbours: &[usize], position: &[f64]) -> Option<f64> {
    if neighbours.is_empty() {
        return None;
    }
    Some(neighbours.iter().map(|&n| position[n]).sum::<f64>() / neighbours.len() as f64)
}

/// Box centres and widths, and the size of the whole image. Each layer is a row, centred
/// horizontally on the widest row.
fn place(view: &GraphView, layers: &[Vec<usize>]) -> (Vec<Placed>, f64, f64) {
    let box_width = |node: usize| view.nodes[node].label.chars().count() as f64 * CHAR_WIDTH + 2.0 * BOX_PADDING;
    let row_width = |layer: &[usize]| {
        layer.iter().map(|&n| box_width(n)).sum::<f64>() + NODE_GAP * layer.len().saturating_sub(1) as f64
    };
    let widest = layers.iter().map(|l| row_width(l)).fold(0.0, f64::max);
    let mut placed = vec![Placed { x: 0.0, y: 0.0, width: 0.0 }; view.nodes.len()];
    for (row, layer) in layers.iter().enumerate() {
        let y = MARGIN + BOX_HEIGHT / 2.0 + row as f64 * (BOX_HEIGHT + LAYER_GAP);
        let mut x = MARGIN + (widest - row_width(layer)) / 2.0;
        for &node in layer {
            let width = box_width(node);
            placed[node] = Placed { x: x + width / 2.0, y, width };
            x += width + NODE_GAP;
        }
    }
    let height = if layers.is_empty() {
        2.0 * MARGIN
    } else {
        2.0 * MARGIN + layers.len() as f64 * BOX_HEIGHT + (layers.len() - 1) as f64 * LAYER_GAP
    };
    (placed, widest + 2.0 * MARGIN, height)
}

/// A curve from the top of a dependent's box to the bottom of its dependency's box (or
/// the other way round when, on a cycle, the dependency is drawn lower).
fn edge_path(from: Placed, to: Placed) -> String {
    let half = BOX_HEIGHT / 2.0;
    let (y1, y2) = if to.y <= from.y { (from.y - half, to.y + half) } else { (from.y + half, to.y - half) };
    let middle = (y1 + y2) / 2.0;
    format!("M {:.1} {y1:.1} C {:.1} {middle:.1}, {:.1} {middle:.1}, {:.1} {y2:.1}", from.x, from.x, to.x, to.x)
}

/// Escapes text for XML character data and attribute values.
fn escape(text: &str) -> String {
    let mut escaped = String::with_capacity(text.len());
    for c in text.chars() {
        match c {
            '&' => escaped.push_str("&amp;"),
            '<' => escaped.push_str("&lt;"),
            '>' => escaped.push_str("&gt;"),
            '"' => escaped.push_str("&quot;"),
            '\'' => escaped.push_str("&apos;"),
            // Control characters other than tab and newline are not allowed in XML 1.0.
            c if c.is_control() && c != '\t' && c != '\n' => escaped.push('\u{fffd}'),
            c => escaped.push(c),
        }
    }
    escaped
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::graph::tests::sample;
    use crate::graph::ViewNode;
    use infra_compiler::graph::NodeKind;

    #[test]
    fn layers_follow_the_longest_dependency_chain() {
        assert_eq!(assign_layers(&sample()), vec![0, 1, 2, 3]);
    }

    #[test]
    fn cycles_do_not_hang_the_layout() {
        let node = |label: &str| ViewNode { kind: NodeKind::Let, label: label.to_string() };
        let view = GraphView { nodes: vec![node("a"), node("b"), node("c")], edges: vec![(0, 1), (1, 0), (2, 2)] };
        assert_eq!(assign_layers(&view), vec![1, 1, 1]);
        assert!(render(&view).ends_with("</svg>\n"));
    }

    #[test]
    fn drawing_is_standalone_svg_with_every_label() {
        let svg = render(&sample());
        assert!(svg.starts_with("<svg xmlns=\"http://www.w3.org/2000/svg\""), "{svg}");
        for label in ["input count", "let prefix", "resource null.resource a", "output names"] {
            assert!(svg.contains(&format!(">{label}</text>")), "{label} missing: {svg}");
        }
        assert_eq!(svg.matches("marker-end").count(), 4);
    }

    #[test]
    fn empty_graph_is_still_an_image() {
        let svg = render(&GraphView::default());
        assert!(svg.starts_with("<svg") && svg.ends_with("</svg>\n"), "{svg}");
    }

    #[test]
    fn text_is_escaped() {
        assert_eq!(escape("a<b> & \"c\""), "a&lt;b&gt; &amp; &quot;c&quot;");
    }

    #[test]
    fn crossing_edges_are_untangled() {
        let node = |label: &str| ViewNode { kind: NodeKind::Let, label: label.to_string() };
        // Top row a, b; bottom row c depends on b, d depends on a: sweeps swap c and d.
        let view = GraphView { nodes: vec![node("a"), node("b"), node("c"), node("d")], edges: vec![(2, 1), (3, 0)] };
        let layers = order_layers(&view, &assign_layers(&view));
        let top_first = layers[0][0];
        let bottom_first = layers[1][0];
        assert!(view.edges.contains(&(bottom_first, top_first)), "{layers:?}");
    }
}
