//! The hand-written parser of the commonest items (`src/syntax/lower/fast.rs`) builds
//! exactly the syntax trees and diagnostics that pest and the lowering build: on every
//! configuration in the repository, on each of them damaged in many places, and on
//! generated configurations shaped like the benchmarks' (where it must take every item
//! it knows).

use std::path::{Path, PathBuf};

use infra_compiler::span::FileId;
use infra_compiler::syntax::{fast_parser_coverage, parse_file, parse_file_with_pest};

/// Parses `text` both ways and fails on any difference.
fn assert_same(text: &str, what: &str) {
    let fast = parse_file(FileId(3), text);
    let reference = parse_file_with_pest(FileId(3), text);
    if fast != reference {
        let (fast, reference) = (format!("{fast:#?}"), format!("{reference:#?}"));
        let (fast, reference): (Vec<&str>, Vec<&str>) = (fast.lines().collect(), reference.lines().collect());
        let at = fast.iter().zip(&reference).position(|(a, b)| a != b).unwrap_or(fast.len().min(reference.len()));
        let around = |lines: &[&str]| lines[at.saturating_sub(8)..(at + 4).min(lines.len())].join("\n");
        panic!(
            "{what}: the hand-written parser and pest disagree at line {at} of their trees\n--- text ---\n{text}\n--- fast ---\n{}\n--- pest ---\n{}",
            around(&fast),
            around(&reference),
        );
    }
}

fn repository() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).parent().expect("the workspace").to_path_buf()
}

/// Every `.infra` file of the repository but the build output's.
fn configurations() -> Vec<(PathBuf, String)> {
    let mut found = Vec::new();
    let mut dirs = vec![repository()];
    while let Some(dir) = dirs.pop() {
        let Ok(entries) = std::fs::read_dir(&dir) else { continue };
        for entry in entries.flatten() {
            let path = entry.path();
            let name = entry.file_name();
            let name = name.to_string_lossy();
            if path.is_dir() {
                if !name.starts_with('.') && name != "target" && name != "node_modules" {
                    dirs.push(path);
                }
            } else if name.ends_with(".infra") {
                if let Ok(text) = std::fs::read_to_string(&path) {
                    found.push((path, text));
                }
            }
        }
    }
    found.sort();
    found
}

#[test]
fn every_configuration_in_the_repository_parses_the_same() {
    let files = configurations();
    assert!(files.len() > 200, "found only {} configurations", files.len());
    let mut taken = 0;
    for (path, text) in &files {
        assert_same(text, &path.display().to_string());
        taken += fast_parser_coverage(text).0;
    }
    // The corpus is mostly made of the items the hand-written parser knows.
    assert!(taken > 300, "the hand-written parser took only {taken} chunks");
}

/// A small deterministic generator (xorshift), so a failure is reproducible.
struct Random(u64);

impl Random {
    fn below(&mut self, n: usize) -> usize {
        self.0 ^= self.0 << 13;
        self.0 ^= self.0 >> 7;
        self.0 ^= self.0 << 17;
        (self.0 % n as u64) as usize
    }
}

/// The characters the grammar turns on, to insert where they do not belong.
const DAMAGE: [&str; 24] = [
    "\"", "{", "}", "[", "]", "(", ")", "$", "${", "%{", "=", "==", ".", "...", ",", ":", "?", "#", "/*", "\n", "-",
    "!", "~", "1e",
];

#[test]
fn damaged_configurations_parse_the_same() {
    // `FAST_PARSER_ONLY=examples/x/main.infra` replays one file's damages.
    let only = std::env::var("FAST_PARSER_ONLY").ok();
    let root = repository();
    for (path, text) in configurations() {
        let relative = path.strip_prefix(&root).unwrap_or(&path).to_string_lossy().replace('\\', "/");
        if text.len() > 20_000 || only.as_ref().is_some_and(|o| *o != relative) {
            continue;
        }
        // Seeded by the file's path, so each file's damages are the same in every run.
        let seed =
            relative.bytes().fold(0xcbf2_9ce4_8422_2325_u64, |h, b| (h ^ u64::from(b)).wrapping_mul(0x100_0000_01b3));
        let mut random = Random(seed | 1);
        let boundaries: Vec<usize> = text.char_indices().map(|(i, _)| i).chain([text.len()]).collect();
        for _ in 0..16 {
            let at = boundaries[random.below(boundaries.len())];
            let damaged = match random.below(3) {
                0 => {
                    // Delete one character.
                    let next = boundaries.iter().find(|&&b| b > at).copied().unwrap_or(at);
                    format!("{}{}", &text[..at], &text[next..])
                }
                1 => format!("{}{}{}", &text[..at], DAMAGE[random.below(DAMAGE.len())], &text[at..]),
                _ => text[..at].to_string(),
            };
            assert_same(&damaged, &format!("{} damaged at byte {at}", path.display()));
        }
    }
}

/// A resource as the benchmark's *cloud* shape writes it: 30 attributes of every kind.
fn cloud(i: usize) -> String {
    let before = if i >= 10 { format!("r{}.id", i - 10) } else { "\"seed\"".to_string() };
    format!(
        r##"resource null.resource r{i} {{
  input = {{
    ami = "ami-{i:05}"
    instance_type = "t3.micro"
    subnet_id = "subnet-${{{before}}}"
    monitoring = {monitoring}
    cpu_core_count = {cores}
    user_data = "#!/bin/sh\necho web-{i} > /etc/hostname\n"
    security_groups = ["sg-web", "sg-ssh", "sg-{i}"]
    ipv6_addresses = []
    host_id = ""
    ratio = 1.5e3
    credit_specification = {{ cpu_credits = "standard" }}
    metadata_options = {{ http_endpoint = "enabled", http_tokens = "required", hop_limit = 2 }}
    root_block_device = [{{ volume_size = {size}, volume_type = "gp3", encrypted = true }}]
    tags = {{ Name = "web-{i}", Team = "infra", Tier = "{tier}", "with space" = "x", Cost: "cc-{i}" }}
  }}
}}
"##,
        monitoring = i.is_multiple_of(2),
        cores = i % 4 + 1,
        size = 8 + i % 5,
        tier = i % 3,
    )
}

/// A group as the benchmark's front-end configuration writes it: inputs, `for`
/// expressions, functions, operators, conditionals, calls and a heredoc.
fn front_end(k: usize) -> String {
    format!(
        r##"# Group {k}: a region, some derived names, nodes and a file describing them.
input region_{k}: string = "eu-west-{r}" {{
  description = "The region of group {k}"
}}

let names_{k} = [for i in range(4) : "node-{k}-${{i}}"]
let sizes_{k} = {{ for n in names_{k} : n => length(n) * 2 + {k} }}
let flags_{k} = {{
  large   = sizes_{k}[names_{k}[0]] > 20
  primary = region_{k} == "eu-west-0" && !contains(names_{k}, "none")
}}

fn label_{k}(name: string, position: number, region: string): string = "${{name}}-${{position}}-${{region}}"

resource null.resource node_{k} for i, n in names_{k} {{
  input = {{
    name  = n
    label = label_{k}(n, i, region_{k})
    size  = sizes_{k}[n]
    tags  = merge({{ group = "{k}" }}, {{ region = region_{k} }})
    class = flags_{k}.large ? "large" : "small"
  }}
}}

resource local.file conf_{k} {{
  path    = "out/{k}/node.conf"
  content = <<-EOT
    # group {k} in ${{upper(region_{k})}}
    nodes = ${{join(", ", names_{k})}}
    EOT
}}

output node_ids_{k} = [for n in node_{k} : n.id]
"##,
        r = k % 3
    )
}

#[test]
fn benchmark_shapes_parse_the_same_and_take_the_fast_path() {
    let cloud: String = (0..200).map(cloud).collect::<Vec<_>>().join("\n");
    assert_same(&cloud, "cloud");
    assert_eq!(fast_parser_coverage(&cloud), (200, 200), "every cloud resource is parsed by hand");

    // Large enough to be parsed on several threads.
    let groups = 2_000;
    let front_end: String = (0..groups).map(front_end).collect::<Vec<_>>().join("\n");
    assert!(front_end.len() > 1 << 20);
    assert_same(&front_end, "front end");
    // Every item but the one with a heredoc (seven of eight per group).
    let (taken, chunks) = fast_parser_coverage(&front_end);
    // The first chunk is the file's leading comment.
    assert_eq!((taken, chunks), (7 * groups + 1, 8 * groups + 1));
}

#[test]
fn forms_left_to_pest_still_parse_the_same() {
    for text in [
        // Items the hand-written parser leaves to pest, and forms inside the ones it takes.
        "provider aws { region = \"eu-west-1\" }\nmodule m \"./m\" { a = 1 }\n",
        "let a = <<EOT\nx ${y}\nEOT\nlet b = 1\n",
        "let a = \"%{ if x }y%{ endif }\"\nlet b = \"${~ x ~}\"\n",
        "let a = f(xs...)\nlet b = p::f(1)\nlet c = xs[*].id\n",
        "input i: object({ a = string }) = { a = \"x\" }\n",
        "resource a.b c { check x, \"m\"\n precondition = 1 }\n",
        "let a = { for = 1, if: 2 }\nlet b = [for x in xs : x if x > 1]\n",
        "let a = { for k, v in m : k => v... if v != null }\n",
        "let a = 1.x\nlet b = 1e\nlet c = 1e+5\nlet d = 1.5.e\n",
        "let a = -!-x.y[0][*].z ? (b) : c || d && e == f != g < h <= i > j >= k + l - m * n / o % p\n",
        "let a = \"\\u00e9\\q$${x}%%{y}$$%\"\n",
        "let a = 1e400\n",
        "let a = [\n  1, # one\n  2 /* two */ ,\n]\n",
        "resource a.b c for k, v in m key k { d if v { e = v } }\n",
        "resource a . b c {}\nresource a.b true {}\ndata a.b c { x = y }\n",
        "let a = b\n  let c = d\n",
        "let a = b /* never closed\n",
        "\u{FEFF}let a = 1\n",
    ] {
        assert_same(text, text);
    }
}

#[test]
fn expressions_at_the_depth_limit_parse_the_same() {
    for n in [60, 200, 255, 256, 257, 300] {
        assert_same(&format!("let a = {}\n", vec!["1"; n].join(" + ")), "operators");
        assert_same(&format!("let a = x{}\n", ".y".repeat(n)), "steps");
        assert_same(&format!("let a = {}x\n", "-".repeat(n)), "prefixes");
    }
    for n in [30, 63, 64, 65] {
        assert_same(&format!("let a = {}1{}\n", "[".repeat(n), "]".repeat(n)), "brackets");
        assert_same(&format!("let a = {}2\n", "true ? 1 : ".repeat(n)), "conditionals");
        assert_same(
            &format!("let a = {}1{}\n", "(1 + 1 + 1 + 1 + 1 + ".repeat(n), ")".repeat(n)),
            "operators in brackets",
        );
    }
}
