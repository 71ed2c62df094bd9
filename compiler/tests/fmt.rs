//! Probe.
use infra_compiler::syntax::ast::*;
use infra_compiler::FileId;

#[test]
fn probe() {
    let text = std::fs::read_to_string("/tmp/fmtplay/t.infra").unwrap();
    let parsed = infra_compiler::syntax::parse_file(FileId(0), &text);
    for item in &parsed.ast.items {
        let s = item.span();
        println!("ITEM {:?}", &text[s.range()]);
        match item {
            Item::Let(l) => println!("  VALUE {:?}", &text[l.value.span.range()]),
            Item::Resource(r) => {
                println!("  BODY {:?}", &text[r.body.span.range()]);
                for e in &r.body.items { println!("  ENTRY {:?}", &text[e.span().range()]); }
            }
            _ => {}
        }
    }
    println!("{:?}", parsed.diagnostics);
}
