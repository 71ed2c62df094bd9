//! Checks a module directory (or a single file as a module of its own) and prints
//! diagnostics plainly; a debugging aid for corpus work.
use std::path::{Path, PathBuf};

struct OneFile(PathBuf);

impl infra_compiler::Loader for OneFile {
    fn list_sources(&self, _: &Path) -> std::io::Result<Vec<PathBuf>> {
        Ok(vec![self.0.clone()])
    }
    fn read(&self, path: &Path) -> std::io::Result<Vec<u8>> {
        std::fs::read(path)
    }
    fn is_dir(&self, path: &Path) -> bool {
        path.is_dir()
    }
}

fn main() {
    let arg = std::env::args().nth(1).unwrap_or_else(|| ".".to_string());
    let path = Path::new(&arg);
    let analysis = if path.is_file() {
        let dir = path.parent().unwrap_or(Path::new("."));
        infra_compiler::analyze(dir, &OneFile(path.to_path_buf()), infra_stdlib::builtin())
    } else {
        infra_compiler::analyze(path, &infra_compiler::FsLoader, infra_stdlib::builtin())
    };
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
