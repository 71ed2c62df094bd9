//! How long `infra lsp` takes to publish diagnostics after a change to a 5,000-line
//! module: the time from sending `didChange` to receiving the `publishDiagnostics` that
//! reflects it, over stdio, as an editor sees it. This includes the server's debounce
//! (`lsp::DEBOUNCE`, 10 ms), which a real editor waits too.
//!
//! Run with `cargo bench -p infra-cli --bench lsp`; results go in `bench/LSP.md`.

#[path = "../tests/common/lsp_client.rs"]
mod lsp_client;

use std::fmt::Write as _;
use std::path::Path;
use std::time::{Duration, Instant};

use lsp_client::Client;

/// Files in the generated module, and items per file: 5 x 250 items of 4 lines each
/// (with blank lines) is 5,000 lines.
const FILES: usize = 5;
const ITEMS_PER_FILE: usize = 250;
const ROUNDS: usize = 40;

/// One file of the module: inputs, lets that use them and functions, resources that
/// reference the lets, four lines per item.
fn generate_file(file: usize) -> String {
    let mut text = String::new();
    for item in 0..ITEMS_PER_FILE {
        let n = file * ITEMS_PER_FILE + item;
        let _ = match item % 4 {
            0 => write!(text, "input name_{n}: string = \"v{n}\" {{\n  description = \"Input {n}\"\n}}\n\n"),
            1 => write!(text, "let value_{n} = upper(\"${{name_{}}}-{n}\")\nlet list_{n} = [for i in range(3) : \"${{value_{n}}}-${{i}}\"]\n\n\n", n - 1),
            2 => write!(text, "resource local.file file_{n} {{\n  path    = \"out/{n}/${{value_{}}}.txt\"\n  content = join(\",\", list_{})\n}}\n", n - 1, n - 1),
            _ => write!(text, "output out_{n} = file_{}.path\n\n\n\n", n - 1),
        };
    }
    text
}

fn main() {
    let dir = tempfile::tempdir().expect("temp dir");
    let mut total_lines = 0;
    for file in 0..FILES {
        let text = generate_file(file);
        total_lines += text.lines().count();
        std::fs::write(dir.path().join(format!("part_{file}.infra")), text).expect("write module file");
    }
    let binary = Path::new(env!("CARGO_BIN_EXE_infra"));
    let mut client = Client::start(binary, dir.path());
    let edited = dir.path().join("part_2.infra");
    let original = std::fs::read_to_string(&edited).expect("read back");
    client.open(&edited, &original);
    let errors = |diagnostics: &[serde_json::Value]| diagnostics.iter().filter(|d| d["severity"] == 1).count();
    let first = client.diagnostics_for(&edited);
    assert_eq!(errors(&first), 0, "the generated module has no errors: {first:#?}");

    let mut times: Vec<Duration> = Vec::new();
    for round in 0..ROUNDS {
        // Alternate between a text with an undefined name and the clean text, so every
        // round changes what is published.
        let broken = round % 2 == 0;
        let text = if broken { original.replacen("upper(", "upper(nope + ", 1) } else { original.clone() };
        let started = Instant::now();
        client.change(&edited, round as i32 + 2, &text);
        let diagnostics = client.diagnostics_for(&edited);
        times.push(started.elapsed());
        assert_eq!(errors(&diagnostics) == 0, !broken, "round {round}: {diagnostics:#?}");
    }
    assert_eq!(client.shutdown(), 0);
    times.sort();
    let median = times[times.len() / 2];
    let worst = times[times.len() - 1];
    let p90 = times[times.len() * 9 / 10];
    println!(
        "lsp: {total_lines}-line module in {FILES} files, change to publishDiagnostics over {ROUNDS} rounds: \
         median {:.1} ms, p90 {:.1} ms, max {:.1} ms (includes the 10 ms debounce)",
        median.as_secs_f64() * 1000.0,
        p90.as_secs_f64() * 1000.0,
        worst.as_secs_f64() * 1000.0,
    );
}
