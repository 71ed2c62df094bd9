//! Checks a module directory and prints diagnostics plainly; a debugging aid.
fn main() {
    let dir = std::env::args().nth(1).unwrap_or_else(|| ".".to_string());
    let analysis = infra_compiler::analyze(std::path::Path::new(&dir), &infra_compiler::FsLoader, infra_stdlib::builtin());
    for d in &analysis.diagnostics {
        let (file, line) = match d.primary_span() {
            Some(s) => {
                let f = analysis.sources.get(s.file);
                (f.path.display().to_string(), f.line_col(s.start).0 + 1)
            }
            None => (String::new(), 0),
        };
        println!("{} {}:{} {} | help: {}", d.code, file, line, d.message, d.help.clone().unwrap_or_default());
    }
    println!("{} nodes, {} edges", analysis.graph.graph.node_count(), analysis.graph.graph.edge_count());
}
