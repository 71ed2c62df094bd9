//! The language sketch in the design brief parses as written.

use infra_compiler::syntax::ast::Item;
use infra_compiler::syntax::parse_file;
use infra_compiler::FileId;

const SKETCH: &str = include_str!("../../examples/design.infra.txt");

#[test]
fn design_sketch_parses_without_diagnostics() {
    let parsed = parse_file(FileId(0), SKETCH);
    assert!(parsed.diagnostics.is_empty(), "{:#?}", parsed.diagnostics);
    let keywords: Vec<&str> = parsed.ast.items.iter().map(Item::keyword).collect();
    for keyword in
        ["input", "let", "fn", "provider", "resource", "data", "module", "output", "check", "moved", "import", "state"]
    {
        assert!(keywords.contains(&keyword), "no `{keyword}` item parsed");
    }
    assert_eq!(parsed.ast.items.len(), 23);
}

/// The copy in `examples/` is the brief's text, when the brief is beside the checkout.
#[test]
fn sketch_copy_matches_the_brief() {
    let brief = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../../shared/DESIGN.md");
    let Ok(text) = std::fs::read_to_string(brief) else { return };
    let start = text.find("```infra\n").map(|i| i + "```infra\n".len()).unwrap_or(0);
    let end = text[start..].find("```").map_or(text.len(), |i| start + i);
    assert_eq!(&text[start..end], SKETCH);
}
