//! Every ```infra block in the documentation parses: the docs show the language as it is.
//! The error pages (`docs/errors/`) are left out: their examples are wrong on purpose.

use std::path::{Path, PathBuf};

use infra_compiler::syntax::parse_file;
use infra_compiler::FileId;

fn markdown_files(dir: &Path, found: &mut Vec<PathBuf>) {
    let Ok(entries) = std::fs::read_dir(dir) else { return };
    for entry in entries.filter_map(Result::ok) {
        let path = entry.path();
        if path.is_dir() {
            if !path.ends_with("docs/errors") {
                markdown_files(&path, found);
            }
        } else if path.extension().is_some_and(|e| e == "md") {
            found.push(path);
        }
    }
}

/// The ```infra blocks of `text`, with the line each starts on.
fn infra_blocks(text: &str) -> Vec<(usize, String)> {
    let mut blocks = Vec::new();
    let mut current: Option<(usize, String)> = None;
    for (number, line) in text.lines().enumerate() {
        let fence = line.trim_start().starts_with("```");
        match current.take() {
            Some(block) if fence => blocks.push(block),
            Some((start, mut body)) => {
                body.push_str(line);
                body.push('\n');
                current = Some((start, body));
            }
            None if line.trim() == "```infra" => current = Some((number + 1, String::new())),
            None => {}
        }
    }
    blocks
}

#[test]
fn infra_blocks_in_the_docs_parse() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("..");
    let mut files = vec![root.join("README.md")];
    markdown_files(&root.join("docs"), &mut files);
    markdown_files(&root.join("examples"), &mut files);
    files.sort();
    let mut failures = Vec::new();
    let mut count = 0;
    for file in &files {
        let text = std::fs::read_to_string(file).expect("read markdown");
        for (line, block) in infra_blocks(&text) {
            count += 1;
            let parsed = parse_file(FileId(0), &block);
            if let Some(first) = parsed.diagnostics.first() {
                failures.push(format!("{}:{line}: {}", file.display(), first.message));
            }
        }
    }
    assert!(count > 50, "only {count} blocks found");
    assert!(failures.is_empty(), "{} blocks do not parse:\n{}", failures.len(), failures.join("\n"));
}
