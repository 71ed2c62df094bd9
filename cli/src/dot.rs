//! The dependency graph as Graphviz DOT text.
//!
//! An edge `a -> b` means `a` depends on `b`, as in the compiler. `rankdir = BT` puts
//! what nothing depends on at the bottom, so the drawing reads top-down in evaluation
//! order like the SVG one.

use std::fmt::Write;

use crate::graph::{kind_color, GraphView};

pub fn render(view: &GraphView) -> String {
    let mut text = String::from("digraph infra {\n");
    text.push_str("  rankdir = \"BT\";\n");
    text.push_str("  node [shape = \"box\", style = \"rounded,filled\", fontname = \"monospace\"];\n");
    for (index, node) in view.nodes.iter().enumerate() {
        // Writing to a `String` cannot fail.
        let _ = writeln!(
            text,
            "  n{index} [label = \"{}\", fillcolor = \"{}\"];",
            escape(&node.label),
            kind_color(node.kind)
        );
    }
    for (from, to) in &view.edges {
        let _ = writeln!(text, "  n{from} -> n{to};");
    }
    text.push_str("}\n");
    text
}

/// Escapes a DOT double-quoted string.
fn escape(text: &str) -> String {
    let mut escaped = String::with_capacity(text.len());
    for c in text.chars() {
        match c {
            '"' => escaped.push_str("\\\""),
            '\\' => escaped.push_str("\\\\"),
            '\n' => escaped.push_str("\\n"),
            '\r' => {}
            c => escaped.push(c),
        }
    }
    escaped
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::graph::tests::sample;

    #[test]
    fn nodes_and_edges_are_listed_in_order() {
        let dot = render(&sample());
        assert!(dot.starts_with("digraph infra {\n"), "{dot}");
        assert!(dot.contains("n2 [label = \"resource null.resource a\", fillcolor = \"#fef3c7\"];"), "{dot}");
        assert!(dot.contains("  n1 -> n0;\n  n2 -> n0;\n  n2 -> n1;\n  n3 -> n2;\n}"), "{dot}");
    }

    #[test]
    fn labels_are_escaped() {
        assert_eq!(escape(r#"a "b" \ c"#), r#"a \"b\" \\ c"#);
    }
}
