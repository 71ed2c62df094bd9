//! Micro-benchmarks of the front end: parsing, formatting and the whole analysis
//! (parse, resolve, check, dependency graph) of a generated configuration of about
//! 1 MB, the same kind of text `bench/run` measures `infra check` on.

use std::path::Path;

use infra_compiler::fmt::format_source;
use infra_compiler::syntax::{parse_file, parse_file_with_pest};
use infra_compiler::{analyze, FileId, MemoryLoader};

fn main() {
    divan::main();
}

/// One group: inputs, lets with `for` expressions, a function, a repeated resource, a
/// file with a heredoc, an output.
fn group(k: usize) -> String {
    format!(
        r#"input region_{k}: string = "eu-west-{r}"

let names_{k} = [for i in range(4) : "node-{k}-${{i}}"]
let sizes_{k} = {{ for n in names_{k} : n => length(n) * 2 + {k} }}

fn label_{k}(name: string, position: number): string = "${{name}}-${{position}}"

resource null.resource node_{k} for i, n in names_{k} {{
  input = {{
    name  = n
    label = label_{k}(n, i)
    size  = sizes_{k}[n]
    tags  = merge({{ group = "{k}" }}, {{ region = region_{k} }})
  }}
}}

resource local.file conf_{k} {{
  path    = "out/{k}/node.conf"
  content = <<-EOT
    nodes = ${{join(", ", names_{k})}}
    EOT
}}

output node_ids_{k} = [for n in node_{k} : n.id]
"#,
        r = k % 3
    )
}

fn configuration(bytes: usize) -> String {
    let mut text = String::new();
    let mut k = 0;
    while text.len() < bytes {
        text.push_str(&group(k));
        text.push('\n');
        k += 1;
    }
    text
}

const SIZE: usize = 1_000_000;

#[divan::bench(sample_count = 10)]
fn parse(bencher: divan::Bencher) {
    let text = configuration(SIZE);
    bencher.counter(divan::counter::BytesCount::new(text.len())).bench(|| parse_file(FileId(0), &text));
}

/// [`parse`] with pest alone, without the hand-written parser of the commonest items
/// (which takes seven of the eight items of each group here; the file with a heredoc is
/// pest's): the ratio of the two is that parser's gain.
#[divan::bench(sample_count = 10)]
fn parse_with_pest(bencher: divan::Bencher) {
    let text = configuration(SIZE);
    bencher.counter(divan::counter::BytesCount::new(text.len())).bench(|| parse_file_with_pest(FileId(0), &text));
}

#[divan::bench(sample_count = 10)]
fn format(bencher: divan::Bencher) {
    let text = configuration(SIZE);
    bencher.counter(divan::counter::BytesCount::new(text.len())).bench(|| format_source(FileId(0), &text));
}

#[divan::bench(sample_count = 10)]
fn check(bencher: divan::Bencher) {
    let text = configuration(SIZE);
    let mut loader = MemoryLoader::new();
    loader.insert("/bench/main.infra", text.clone());
    let schemas = infra_stdlib::builtin();
    bencher.counter(divan::counter::BytesCount::new(text.len())).bench(|| {
        let analysis = analyze(Path::new("/bench"), &loader, schemas);
        assert!(!analysis.has_errors(), "{:?}", analysis.diagnostics.first());
        analysis
    });
}
