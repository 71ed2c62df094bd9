//! Parses a file and prints diagnostics; a debugging aid.
fn main() {
    let path = std::env::args().nth(1).expect("path");
    let text = std::fs::read_to_string(&path).expect("read");
    let parsed = infra_compiler::syntax::parse_file(infra_compiler::FileId(0), &text);
    for d in &parsed.diagnostics {
        let s = d.primary_span().unwrap_or_default();
        println!("{} {} at {}..{}: {:?}", d.code, d.message, s.start, s.end, &text[s.range()]);
    }
    println!("{} items", parsed.ast.items.len());
}
