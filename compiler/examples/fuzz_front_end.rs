//! A fuzzer for the front end that runs on the stable toolchain (`fuzz/` needs nightly):
//! a seeded mutation loop over real configurations. Each mutant is parsed, checked and
//! formatted; the formatter's output must format to itself and parse clean, and the
//! hand-written parser of the commonest items must build what pest builds. A panic
//! stops the run with the input written to `target/fuzz-front-end/crash.infra`; a stack
//! overflow aborts the process, and the input is then in `current.infra` beside it.
//!
//! ```sh
//! cargo run --release -p infra-compiler --example fuzz_front_end -- [SECONDS] [SEED]
//! ```
//!
//! `.ci/run` runs it for a bounded time with a seed of the day, so each run explores new
//! inputs and a failure can be replayed with the seed it prints.

use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use infra_compiler::fmt::format_source;
use infra_compiler::syntax::{parse_file, parse_file_with_pest};
use infra_compiler::{analyze, FileId, MemoryLoader};

/// Fragments spliced into inputs: the tokens and constructs most likely to reach an
/// unusual state (nesting, strings, heredocs, templates, comments).
const FRAGMENTS: &[&str] = &[
    "{",
    "}",
    "[",
    "]",
    "(",
    ")",
    "\"",
    "${",
    "%{",
    "}\"",
    "<<EOT\n",
    "<<-EOT\n",
    "\nEOT\n",
    "=",
    "==",
    "?",
    ":",
    ",",
    ".",
    "[*]",
    "for ",
    " in ",
    "if ",
    "key ",
    "resource ",
    "let ",
    "input ",
    "output ",
    "fn ",
    "module ",
    "x",
    "1",
    "1e308",
    "-0",
    "\n",
    " ",
    "#",
    "//",
    "/*",
    "*/",
    "...",
    "local.file",
    "null.resource",
    "!",
    "+",
    "=>",
    "\t",
    "\u{feff}",
    "é",
    "\u{1b}",
    "\0",
    "lifecycle {",
    "moved {",
    "import {",
    "state local {}",
    "~}",
    "%{ if x }",
];

/// xorshift64*: reproducible from the seed, and all the randomness a mutation needs.
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 >> 12;
        self.0 ^= self.0 << 25;
        self.0 ^= self.0 >> 27;
        self.0.wrapping_mul(0x2545_f491_4f6c_dd1d)
    }

    fn below(&mut self, n: usize) -> usize {
        if n == 0 {
            0
        } else {
            (self.next() % n as u64) as usize
        }
    }
}

fn main() {
    let mut args = std::env::args().skip(1);
    let seconds: u64 = args.next().and_then(|s| s.parse().ok()).unwrap_or(60);
    let seed: u64 = args.next().and_then(|s| s.parse().ok()).unwrap_or(0x5eed);
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("..");
    let seeds = seed_inputs(&root);
    let out = root.join("target/fuzz-front-end");
    std::fs::create_dir_all(&out).unwrap_or_else(|e| fail(&format!("cannot create {}: {e}", out.display())));
    println!("fuzzing the front end for {seconds} s, seed {seed}, {} seed inputs", seeds.len());
    let mut rng = Rng(seed.max(1));
    let deadline = Instant::now() + Duration::from_secs(seconds);
    let mut runs = 0u64;
    while Instant::now() < deadline {
        let base = &seeds[rng.below(seeds.len())];
        let input = mutate(base, &mut rng);
        // Written first: a stack overflow aborts without unwinding.
        let _ = std::fs::write(out.join("current.infra"), &input);
        if let Err(what) = std::panic::catch_unwind(|| exercise(&input)) {
            let _ = std::fs::write(out.join("crash.infra"), &input);
            let message = what
                .downcast_ref::<String>()
                .cloned()
                .or_else(|| what.downcast_ref::<&str>().map(|s| s.to_string()))
                .unwrap_or_default();
            fail(&format!(
                "run {runs} (seed {seed}): {message}; the input is in {}",
                out.join("crash.infra").display()
            ));
        }
        runs += 1;
    }
    println!("ok: {runs} inputs, no panic, no failed invariant");
}

/// The configurations under `examples/` and the corpus under `tests/data/`.
fn seed_inputs(root: &Path) -> Vec<Vec<u8>> {
    let mut files = Vec::new();
    let mut dirs: Vec<PathBuf> = vec![root.join("examples"), root.join("tests/data")];
    while let Some(dir) = dirs.pop() {
        let Ok(entries) = std::fs::read_dir(&dir) else { continue };
        for entry in entries.flatten() {
            let path = entry.path();
            if path.is_dir() {
                dirs.push(path);
            } else if path.extension().is_some_and(|e| e == "infra") {
                if let Ok(bytes) = std::fs::read(&path) {
                    files.push(bytes);
                }
            }
        }
    }
    if files.is_empty() {
        fail("no seed inputs found under examples/ and tests/data/");
    }
    files.sort();
    files
}

/// One to eight edits: delete, insert a fragment, flip a byte, duplicate or cut a
/// range, or splice in part of the input itself.
fn mutate(base: &[u8], rng: &mut Rng) -> Vec<u8> {
    let mut text = base.to_vec();
    for _ in 0..1 + rng.below(8) {
        let at = rng.below(text.len() + 1);
        match rng.below(6) {
            0 if at < text.len() => {
                let end = (at + 1 + rng.below(16)).min(text.len());
                text.drain(at..end);
            }
            1 => {
                let fragment = FRAGMENTS[rng.below(FRAGMENTS.len())].as_bytes();
                text.splice(at..at, fragment.iter().copied());
            }
            2 if at < text.len() => text[at] ^= 1 << rng.below(8),
            3 if at < text.len() => {
                let end = (at + 1 + rng.below(64)).min(text.len());
                let copy = text[at..end].to_vec();
                let times = 1 + rng.below(4);
                for _ in 0..times {
                    text.splice(at..at, copy.iter().copied());
                }
            }
            4 => text.truncate(at),
            _ => {
                let from = rng.below(text.len());
                let end = (from + rng.below(32)).min(text.len());
                let part = text[from..end].to_vec();
                text.splice(at..at, part);
            }
        }
    }
    text
}

/// Parse, check and format `input`; the formatter's output formats to itself.
fn exercise(input: &[u8]) {
    let mut loader = MemoryLoader::new();
    loader.insert("/fuzz/main.infra", input.to_vec());
    let _ = analyze(Path::new("/fuzz"), &loader, infra_stdlib::builtin());
    let Ok(text) = std::str::from_utf8(input) else { return };
    if parse_file(FileId(0), text) != parse_file_with_pest(FileId(0), text) {
        panic!("the hand-written parser and pest disagree");
    }
    if let Ok(formatted) = format_source(FileId(0), text) {
        match format_source(FileId(0), &formatted) {
            Ok(again) if again == formatted => {}
            Ok(_) => panic!("formatting is not idempotent"),
            Err(_) => panic!("the formatter's output does not parse"),
        }
    }
}

fn fail(message: &str) -> ! {
    eprintln!("error: {message}");
    std::process::exit(1);
}
