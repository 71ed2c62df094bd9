//! End-to-end tests of the `infra` binary: exit codes, rendered and JSON diagnostics,
//! `fmt`, `graph` and `explain`, each run in a fresh temporary directory.

use std::path::Path;
use std::process::{Command, Output};

/// A small module that checks cleanly: an input, a local, a repeated resource, an output.
const SAMPLE: &str = r#"input count: number = 2
let prefix = "web"
resource null.resource a for i in range(count) { input = "${prefix}-${i}" }
output names = a[*].output
"#;

const UNDEFINED: &str = "let x = undefined_name\n";

/// Runs `infra ARGS` in `dir` without colour, as a pipe would see it.
fn infra(dir: &Path, args: &[&str]) -> Output {
    let output = Command::new(env!("CARGO_BIN_EXE_infra"))
        .args(args)
        .current_dir(dir)
        .env("NO_COLOR", "1")
        .env_remove("COLUMNS")
        .output();
    match output {
        Ok(output) => output,
        Err(err) => panic!("cannot run infra: {err}"),
    }
}

fn module(files: &[(&str, &str)]) -> tempfile::TempDir {
    let dir = match tempfile::tempdir() {
        Ok(dir) => dir,
        Err(err) => panic!("cannot create a temporary directory: {err}"),
    };
    for (name, text) in files {
        write(dir.path(), name, text.as_bytes());
    }
    dir
}

fn write(dir: &Path, name: &str, bytes: &[u8]) {
    let path = dir.join(name);
    if let Some(parent) = path.parent() {
        std::fs::create_dir_all(parent).unwrap_or_else(|err| panic!("{err}"));
    }
    std::fs::write(&path, bytes).unwrap_or_else(|err| panic!("cannot write {}: {err}", path.display()));
}

fn read(dir: &Path, name: &str) -> Vec<u8> {
    std::fs::read(dir.join(name)).unwrap_or_else(|err| panic!("cannot read {name}: {err}"))
}

fn code(output: &Output) -> i32 {
    output.status.code().unwrap_or(-1)
}

fn stdout(output: &Output) -> String {
    String::from_utf8_lossy(&output.stdout).into_owned()
}

fn stderr(output: &Output) -> String {
    String::from_utf8_lossy(&output.stderr).into_owned()
}

/// Fails with both streams when the exit code is not `expected`.
fn assert_exit(output: &Output, expected: i32) {
    assert_eq!(code(output), expected, "stdout:\n{}\nstderr:\n{}", stdout(output), stderr(output));
}

fn json(output: &Output) -> serde_json::Value {
    serde_json::from_slice(&output.stdout)
        .unwrap_or_else(|err| panic!("stdout is not JSON ({err}):\n{}", stdout(output)))
}

// ----------------------------------------------------------------------------- check

#[test]
fn check_passes_a_clean_module() {
    let dir = module(&[("main.infra", SAMPLE)]);
    let output = infra(dir.path(), &["check"]);
    assert_exit(&output, 0);
    assert!(stderr(&output).contains("ok: 1 file checked"), "{}", stderr(&output));
    assert!(stdout(&output).is_empty(), "human output goes to stderr");
}

#[test]
fn check_fails_on_an_undefined_name_and_shows_where() {
    let dir = module(&[("main.infra", UNDEFINED)]);
    let output = infra(dir.path(), &["check"]);
    assert_exit(&output, 1);
    let text = stderr(&output);
    assert!(text.contains("error[E0201]"), "{text}");
    assert!(text.contains("main.infra:1:9"), "{text}");
    assert!(text.contains("let x = undefined_name"), "{text}");
    assert!(text.contains("undefined_name"), "{text}");
    // `x` itself is unused, hence a warning as well.
    assert!(text.trim_end().ends_with("error: 1 error, 1 warning"), "{text}");
    assert!(!text.contains('\x1b'), "no colour when piped: {text}");
}

/// One syntax error and two check errors, in three separate items: all three are
/// reported, each with its code, `file:line:col`, the line underlined and a help line.
#[test]
fn three_independent_mistakes_are_all_reported() {
    let text = "resource local.file notes {\n  path = \"notes.txt\"\n  colour = \"red\"\n}\n\nlet greeting = \"hi\" +\n\noutput count = lenght([1, 2])\n";
    let dir = module(&[("main.infra", text)]);
    let output = infra(dir.path(), &["check"]);
    assert_exit(&output, 1);
    let rendered = stderr(&output);
    for (code, location, underlined) in [
        ("E0401", "main.infra:3:3", "colour"),
        ("E0100", "main.infra:8:1", "output"),
        ("E0209", "main.infra:8:16", "lenght"),
    ] {
        let start = rendered.find(&format!("error[{code}]")).unwrap_or_else(|| panic!("no {code} in:\n{rendered}"));
        let end = rendered[start + 1..].find("error").map_or(rendered.len(), |i| start + 1 + i);
        let section = &rendered[start..end];
        assert!(section.contains(location), "{code} should point at {location}:\n{section}");
        // Columns in characters: the frame is drawn with multi-byte box characters.
        let char_column = |line: &str, pattern: &str| line.find(pattern).map(|i| line[..i].chars().count());
        let underline =
            section.lines().find(|l| l.trim_start().starts_with('·') && l.contains('─')).unwrap_or_default();
        let source_line = section.lines().find(|l| l.contains(underlined) && l.contains('│')).unwrap_or_default();
        let column = char_column(source_line, underlined);
        assert!(column.is_some(), "{code}: `{underlined}` not shown:\n{section}");
        assert_eq!(char_column(underline, "─"), column, "{code}: underline under `{underlined}`:\n{section}");
        assert!(section.contains("help:"), "{code} has a help line:\n{section}");
    }
    assert!(rendered.trim_end().ends_with("error: 3 errors"), "{rendered}");
}

/// `plan` lets the configuration's text go once it is parsed: an error found while
/// evaluating reads the file again to show its line.
#[test]
fn a_plan_error_shows_the_line_it_is_about() {
    let dir = module(&[("main.infra", "let n = 1\n\noutput x = tonumber(\"abc\") + n\n")]);
    let output = infra(dir.path(), &["plan"]);
    assert_exit(&output, 1);
    let text = stderr(&output);
    assert!(text.contains("error[E0600]") && text.contains("main.infra:3:21"), "{text}");
    assert!(text.contains("output x = tonumber(\"abc\") + n"), "{text}");
    assert!(!text.contains("changed since it was read"), "{text}");
}

/// A file of 40,000 outputs, about 2.6 MB, with `line` in place of line `at` (from 1).
fn large_file(at: usize, line: &str) -> String {
    (1..=40_000).map(|i| if i == at { format!("{line}\n") } else { format!("output o{i} = \"{i:0>48}\"\n") }).collect()
}

#[test]
fn a_large_configuration_read_in_pieces_reports_each_mistake_on_its_line() {
    // `plan` reads a file a megabyte at a time and never holds it whole: a syntax error
    // in its second megabyte, and an evaluation error at its end, point at their lines.
    let dir = module(&[("main.infra", &large_file(20_000, "output broken = = 1"))]);
    let output = infra(dir.path(), &["plan"]);
    assert_exit(&output, 1);
    let text = stderr(&output);
    assert!(text.contains("error[E0100]") && text.contains("main.infra:20000:17"), "{text}");
    assert!(text.contains("output broken = = 1"), "{text}");

    std::fs::write(dir.path().join("main.infra"), large_file(40_000, "output bad = tonumber(\"abc\")"))
        .expect("the module is writable");
    let output = infra(dir.path(), &["plan"]);
    assert_exit(&output, 1);
    let text = stderr(&output);
    assert!(text.contains("error[E0600]") && text.contains("main.infra:40000:23"), "{text}");
    assert!(text.contains("output bad = tonumber(\"abc\")"), "{text}");
}

#[test]
fn check_takes_a_directory_argument_and_the_global_dir_flag() {
    let dir = module(&[("net/main.infra", UNDEFINED)]);
    assert_exit(&infra(dir.path(), &["check", "net"]), 1);
    let output = infra(Path::new("/"), &["-C", &dir.path().join("net").to_string_lossy(), "check"]);
    assert_exit(&output, 1);
    assert!(stderr(&output).contains("main.infra:1:9"), "{}", stderr(&output));
}

#[test]
fn warnings_pass_unless_denied() {
    let dir = module(&[("main.infra", "let unused = \"x\"\noutput o = 1\n")]);
    let output = infra(dir.path(), &["check"]);
    assert_exit(&output, 0);
    assert!(stderr(&output).contains("warning[W0001]"), "{}", stderr(&output));
    assert!(stderr(&output).contains("ok: 1 file checked, 1 warning"), "{}", stderr(&output));

    let denied = infra(dir.path(), &["check", "--deny-warnings"]);
    assert_exit(&denied, 1);
    assert!(stderr(&denied).contains("error: 1 warning (denied by --deny-warnings)"), "{}", stderr(&denied));
}

#[test]
fn json_output_matches_the_human_output() {
    let source = "let x = undefined_name\nlet y = also_missing\nlet z = 1 + \"two\"\n";
    let dir = module(&[("main.infra", source)]);
    let human = infra(dir.path(), &["check"]);
    let machine = infra(dir.path(), &["check", "--format", "json"]);
    assert_exit(&human, 1);
    assert_exit(&machine, 1);
    let document = json(&machine);
    let diagnostics = document["diagnostics"].as_array().cloned().unwrap_or_default();
    assert!(diagnostics.len() >= 2, "{document}");
    let rendered = stderr(&human);
    for diagnostic in &diagnostics {
        let severity = diagnostic["severity"].as_str().unwrap_or_default();
        let code = diagnostic["code"].as_str().unwrap_or_default();
        assert!(rendered.contains(&format!("{severity}[{code}]")), "{code} missing from:\n{rendered}");
        let place = format!(
            "{}:{}:{}",
            diagnostic["file"].as_str().unwrap_or_default(),
            diagnostic["line"],
            diagnostic["column"]
        );
        assert!(rendered.contains(&place), "{place} missing from:\n{rendered}");
        assert!(rendered.contains(diagnostic["message"].as_str().unwrap_or_default()), "{rendered}");
    }
    let errors = diagnostics.iter().filter(|d| d["severity"] == "error").count();
    assert_eq!(document["errors"].as_u64(), Some(errors as u64));
    assert_eq!(document["warnings"].as_u64(), Some((diagnostics.len() - errors) as u64));
    // Diagnostics are sorted by position; the first error is the undefined name on line 1.
    let first = diagnostics.iter().find(|d| d["severity"] == "error").cloned().unwrap_or_default();
    assert_eq!(first["code"], "E0201");
    assert_eq!((first["line"].as_u64(), first["column"].as_u64()), (Some(1), Some(9)));
    assert_eq!((first["end_line"].as_u64(), first["end_column"].as_u64()), (Some(1), Some(23)));
    assert_eq!((first["start_offset"].as_u64(), first["end_offset"].as_u64()), (Some(8), Some(22)));
    assert!(first["labels"].as_array().is_some_and(|labels| labels.iter().any(|l| l["primary"] == true)));
}

#[test]
fn json_output_of_a_clean_module_is_empty() {
    let dir = module(&[("main.infra", SAMPLE)]);
    let output = infra(dir.path(), &["check", "--format", "json"]);
    assert_exit(&output, 0);
    let document = json(&output);
    assert_eq!(document["diagnostics"], serde_json::json!([]));
    assert_eq!((document["errors"].as_u64(), document["warnings"].as_u64()), (Some(0), Some(0)));
}

#[test]
fn a_directory_without_sources_is_an_error() {
    let dir = module(&[("README.md", "not a module")]);
    let output = infra(dir.path(), &["check"]);
    assert_exit(&output, 1);
    assert!(stderr(&output).contains("E0003"), "{}", stderr(&output));
    let machine = infra(dir.path(), &["check", "--format", "json"]);
    assert_exit(&machine, 1);
    assert_eq!(json(&machine)["diagnostics"][0]["code"], "E0003");
}

#[test]
fn a_missing_directory_is_an_error_not_a_panic() {
    let dir = module(&[]);
    let output = infra(dir.path(), &["check", "does-not-exist"]);
    assert_exit(&output, 1);
    assert!(!stderr(&output).contains("panicked"), "{}", stderr(&output));
    let moved = infra(dir.path(), &["-C", "does-not-exist", "check"]);
    assert_exit(&moved, 1);
    assert!(stderr(&moved).contains("cannot change to directory `does-not-exist`"), "{}", stderr(&moved));
}

// ------------------------------------------------------------------------------- fmt

const UNFORMATTED: &str = "let   prefix   =   \"web\"\noutput    name = prefix\n";

#[test]
fn fmt_check_reports_unformatted_files_and_fmt_fixes_them() {
    let dir = module(&[("main.infra", UNFORMATTED)]);
    let check = infra(dir.path(), &["fmt", "--check"]);
    assert_exit(&check, 3);
    assert_eq!(stdout(&check), "main.infra\n");
    assert_eq!(read(dir.path(), "main.infra"), UNFORMATTED.as_bytes(), "--check writes nothing");

    assert_exit(&infra(dir.path(), &["fmt"]), 0);
    let formatted = String::from_utf8_lossy(&read(dir.path(), "main.infra")).into_owned();
    assert_ne!(formatted, UNFORMATTED);
    assert!(formatted.contains("let prefix = \"web\""), "{formatted}");

    assert_exit(&infra(dir.path(), &["fmt", "--check"]), 0);
    assert_exit(&infra(dir.path(), &["check"]), 0);
}

#[test]
fn fmt_diff_prints_a_unified_diff_and_writes_nothing() {
    let dir = module(&[("main.infra", UNFORMATTED)]);
    let output = infra(dir.path(), &["fmt", "--diff"]);
    assert_exit(&output, 0);
    let diff = stdout(&output);
    assert!(diff.starts_with("--- a/main.infra\n+++ b/main.infra\n@@"), "{diff}");
    assert!(diff.contains("\n-let   prefix   =   \"web\"\n"), "{diff}");
    assert!(diff.contains("\n+let prefix = \"web\"\n"), "{diff}");
    assert_eq!(read(dir.path(), "main.infra"), UNFORMATTED.as_bytes());
    assert_exit(&infra(dir.path(), &["fmt", "--check", "--diff"]), 3);
}

#[test]
fn fmt_leaves_a_file_with_a_syntax_error_untouched() {
    let broken = "let x = \nresource null.resource a {\n";
    let dir = module(&[("broken.infra", broken), ("good.infra", UNFORMATTED)]);
    let output = infra(dir.path(), &["fmt"]);
    assert_exit(&output, 1);
    assert!(stderr(&output).contains("broken.infra:"), "{}", stderr(&output));
    assert!(stderr(&output).contains("error[E01"), "{}", stderr(&output));
    assert_eq!(read(dir.path(), "broken.infra"), broken.as_bytes());
    assert_ne!(read(dir.path(), "good.infra"), UNFORMATTED.as_bytes(), "other files are still formatted");
}

#[test]
fn fmt_reports_invalid_utf8_with_the_offset() {
    let dir = module(&[]);
    let bytes = b"let a = 1\nlet b = \"\xff\"\n";
    write(dir.path(), "latin1.infra", bytes);
    let output = infra(dir.path(), &["fmt", "latin1.infra"]);
    assert_exit(&output, 1);
    let text = stderr(&output);
    assert!(text.contains("error[E0001]"), "{text}");
    assert!(text.contains("`latin1.infra` is not valid UTF-8 at byte 19"), "{text}");
    assert!(text.contains("latin1.infra:2:10"), "{text}");
    assert_eq!(read(dir.path(), "latin1.infra"), bytes);
}

#[test]
fn fmt_walks_directories_but_skips_hidden_and_target() {
    let dir = module(&[
        ("modules/net/main.infra", UNFORMATTED),
        (".cache/x.infra", UNFORMATTED),
        ("target/y.infra", UNFORMATTED),
        ("notes.txt", UNFORMATTED),
    ]);
    let output = infra(dir.path(), &["fmt", "--check"]);
    assert_exit(&output, 3);
    assert_eq!(stdout(&output), format!("{}\n", Path::new("modules/net/main.infra").display()));
    // Named explicitly, a file is formatted wherever it is.
    assert_exit(&infra(dir.path(), &["fmt", "--check", "target/y.infra"]), 3);
}

#[test]
fn fmt_of_a_missing_path_fails_cleanly() {
    let dir = module(&[]);
    let output = infra(dir.path(), &["fmt", "nope.infra"]);
    assert_exit(&output, 1);
    assert!(stderr(&output).contains("cannot read `nope.infra`"), "{}", stderr(&output));
}

// ----------------------------------------------------------------------------- graph

#[test]
fn graph_prints_dot_by_default() {
    let dir = module(&[("main.infra", SAMPLE)]);
    let output = infra(dir.path(), &["graph"]);
    assert_exit(&output, 0);
    let dot = stdout(&output);
    assert!(dot.starts_with("digraph infra {"), "{dot}");
    for label in ["input count", "let prefix", "output names"] {
        assert!(dot.contains(label), "{label} missing:\n{dot}");
    }
    assert!(dot.contains(" -> "), "{dot}");
    assert!(dot.trim_end().ends_with('}'), "{dot}");
}

#[test]
fn graph_draws_svg() {
    let dir = module(&[("main.infra", SAMPLE)]);
    let output = infra(dir.path(), &["graph", "--format", "svg"]);
    assert_exit(&output, 0);
    let svg = stdout(&output);
    assert!(svg.starts_with("<svg xmlns=\"http://www.w3.org/2000/svg\""), "{svg}");
    assert!(svg.trim_end().ends_with("</svg>"), "{svg}");
    for label in ["input count", "let prefix", "output names"] {
        assert!(svg.contains(label), "{label} missing:\n{svg}");
    }
    assert!(svg.contains("marker-end"), "edges are drawn: {svg}");
    assert_eq!(svg.matches("<g").count(), svg.matches("</g>").count(), "balanced groups");
}

#[test]
fn graph_refuses_a_module_with_errors() {
    let dir = module(&[("main.infra", UNDEFINED)]);
    let output = infra(dir.path(), &["graph", "--format", "svg"]);
    assert_exit(&output, 1);
    assert!(stdout(&output).is_empty(), "{}", stdout(&output));
    assert!(stderr(&output).contains("error[E0201]"), "{}", stderr(&output));
}

// --------------------------------------------------------------------------- explain

#[test]
fn explain_prints_the_explanation() {
    let dir = module(&[]);
    let output = infra(dir.path(), &["explain", "E0201"]);
    assert_exit(&output, 0);
    assert!(stdout(&output).starts_with("# E0201: undefined name\n"), "{}", stdout(&output));
    assert!(stdout(&output).contains("```infra"), "{}", stdout(&output));
    assert_exit(&infra(dir.path(), &["explain", "e0201"]), 0);
}

#[test]
fn explain_rejects_an_unknown_code() {
    let dir = module(&[]);
    let output = infra(dir.path(), &["explain", "E9999"]);
    assert_exit(&output, 1);
    assert!(stdout(&output).is_empty());
    assert!(stderr(&output).contains("`E9999` is not an Infra diagnostic code"), "{}", stderr(&output));
    assert!(stderr(&output).contains("infra explain --list"), "{}", stderr(&output));
}

#[test]
fn explain_lists_every_code() {
    let dir = module(&[]);
    let output = infra(dir.path(), &["explain", "--list"]);
    assert_exit(&output, 0);
    assert!(stdout(&output).contains("E0201  undefined name\n"), "{}", stdout(&output));
    assert!(stdout(&output).contains("W0001  "), "{}", stdout(&output));
}

// ------------------------------------------------------------------------ command line

#[test]
fn every_command_has_help_and_the_binary_a_version() {
    let dir = module(&[]);
    for command in ["check", "fmt", "graph", "explain"] {
        let output = infra(dir.path(), &[command, "--help"]);
        assert_exit(&output, 0);
        assert!(stdout(&output).contains("Usage: infra"), "{}", stdout(&output));
    }
    let version = infra(dir.path(), &["--version"]);
    assert_exit(&version, 0);
    assert_eq!(stdout(&version), format!("infra {}\n", env!("CARGO_PKG_VERSION")));
}

#[test]
fn a_bad_command_line_exits_2() {
    let dir = module(&[]);
    assert_exit(&infra(dir.path(), &["check", "--format", "xml"]), 2);
    assert_exit(&infra(dir.path(), &["frobnicate"]), 2);
}

#[test]
fn color_always_colours_even_when_piped() {
    let dir = module(&[("main.infra", UNDEFINED)]);
    let output = infra(dir.path(), &["--color", "always", "check"]);
    assert_exit(&output, 1);
    assert!(stderr(&output).contains('\x1b'), "{}", stderr(&output));
}

// --------------------------------------------------------------------------- console

/// Runs `infra console ARGS` in `dir` with `input` piped to stdin.
fn console(dir: &Path, args: &[&str], input: &str) -> Output {
    use std::io::Write;
    let mut child = Command::new(env!("CARGO_BIN_EXE_infra"))
        .arg("console")
        .args(args)
        .current_dir(dir)
        .env("NO_COLOR", "1")
        .stdin(std::process::Stdio::piped())
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .unwrap_or_else(|err| panic!("cannot run infra console: {err}"));
    if let Some(mut stdin) = child.stdin.take() {
        // The console may exit before reading everything (a module with errors).
        let _ = stdin.write_all(input.as_bytes());
    }
    child.wait_with_output().unwrap_or_else(|err| panic!("console did not finish: {err}"))
}

const CONSOLE_MODULE: &str = r#"input region: string = "eu-west-1"
input replicas: number = 2
input token: string {
  sensitive = true
}
let prefix = "web-${region}"
fn host(prefix: string, i: number): string = "${prefix}-${i}"
resource null.resource web for i in range(replicas) { input = host(prefix, i) }
output hosts = web[*].output
"#;

#[test]
fn console_evaluates_piped_lines_one_per_line() {
    let dir = module(&[("main.infra", "")]);
    let output = console(dir.path(), &[], "cidrsubnet(\"10.0.0.0/16\", 8, 2)\n");
    assert_exit(&output, 0);
    assert_eq!(stdout(&output), "\"10.0.2.0/24\"\n");
}

#[test]
fn console_sees_inputs_lets_functions_and_unknown_resources() {
    let dir = module(&[("main.infra", CONSOLE_MODULE)]);
    let lines = "prefix\nhost(prefix, 1)\nreplicas * 2\nlength(web)\nweb[0].id\ntoken\n\"t=${token}\"\n# a comment\n\n";
    let output = console(dir.path(), &["--var", "token=s3cret", "--var", "replicas=3"], lines);
    assert_exit(&output, 0);
    let expected =
        "\"web-eu-west-1\"\n\"web-eu-west-1-1\"\n6\n3\n(known after apply)\n(sensitive value)\n(sensitive value)\n";
    assert_eq!(stdout(&output), expected);
    assert!(!stderr(&output).contains("s3cret"), "a secret leaked: {}", stderr(&output));
}

#[test]
fn console_takes_var_files_and_the_environment() {
    let dir = module(&[("main.infra", CONSOLE_MODULE), ("prod.vars", "region = \"us-east-1\"\nreplicas = 4\n")]);
    let mut command = Command::new(env!("CARGO_BIN_EXE_infra"));
    command.args(["console", "--var-file", "prod.vars"]).current_dir(dir.path()).env("INFRA_VAR_token", "t");
    command.env("INFRA_VAR_region", "ignored-because-the-file-wins");
    let output = {
        use std::io::Write;
        let mut child = command
            .stdin(std::process::Stdio::piped())
            .stdout(std::process::Stdio::piped())
            .stderr(std::process::Stdio::piped())
            .spawn()
            .unwrap_or_else(|err| panic!("{err}"));
        if let Some(mut stdin) = child.stdin.take() {
            let _ = stdin.write_all(b"prefix\nreplicas\n");
        }
        child.wait_with_output().unwrap_or_else(|err| panic!("{err}"))
    };
    assert_exit(&output, 0);
    assert_eq!(stdout(&output), "\"web-us-east-1\"\n4\n");
}

#[test]
fn console_reports_errors_and_goes_on() {
    let dir = module(&[("main.infra", CONSOLE_MODULE)]);
    let output = console(dir.path(), &["--var", "token=t"], "[1, 2][5]\n1 +\nnope\n1 + 1\n");
    assert_exit(&output, 1);
    assert_eq!(stdout(&output), "2\n", "the good line is still evaluated");
    let text = stderr(&output);
    for code in ["E0602", "E0100", "E0201"] {
        assert!(text.contains(&format!("error[{code}]")), "{code} missing:\n{text}");
    }
}

#[test]
fn console_names_a_missing_required_input_when_not_on_a_terminal() {
    let dir = module(&[("main.infra", CONSOLE_MODULE)]);
    let output = console(dir.path(), &[], "1\n");
    assert_exit(&output, 1);
    let text = stderr(&output);
    assert!(text.contains("error[E0606]") && text.contains("required input `token` is not set"), "{text}");
}

#[test]
fn console_refuses_a_module_with_errors() {
    let dir = module(&[("main.infra", UNDEFINED)]);
    let output = console(dir.path(), &[], "1\n");
    assert_exit(&output, 1);
    assert!(stderr(&output).contains("error[E0201]"), "{}", stderr(&output));
}

// ------------------------------------------------------------------------------ plan

const PLAN_MODULE: &str = r#"input token: string = "s3cret-value" {
  sensitive = true
}
resource local.file note {
  path    = "out/note.txt"
  content = "token ${token}"
}
resource null.resource copies for i in range(2) {
  input = note.id
}
resource random.password db {
  length = 16
}
output first = copies[0].output
"#;

#[test]
fn plan_shows_every_creation_and_the_summary() {
    let dir = module(&[("main.infra", PLAN_MODULE)]);
    let output = infra(dir.path(), &["plan"]);
    assert_exit(&output, 0);
    let text = stdout(&output);
    for expected in [
        "# note will be created",
        "+ local.file note {",
        "+ null.resource copies[1] {",
        "result  = (known after apply)",
        "Plan: 4 to add, 0 to change, 0 to destroy.",
    ] {
        assert!(text.contains(expected), "missing `{expected}` in:\n{text}");
    }
    assert!(!dir.path().join("out").exists(), "plan creates nothing");
}

#[test]
fn plan_never_shows_secrets() {
    let dir = module(&[("main.infra", PLAN_MODULE)]);
    for args in [&["plan"][..], &["plan", "--json"][..]] {
        let output = infra(dir.path(), args);
        assert_exit(&output, 0);
        let all = format!("{}{}", stdout(&output), stderr(&output));
        assert!(!all.contains("s3cret"), "{args:?} leaked the secret:\n{all}");
    }
    let text = stdout(&infra(dir.path(), &["plan"]));
    assert!(text.contains("content = (sensitive value)"), "{text}");
}

#[test]
fn plan_json_and_detailed_exit_codes() {
    let dir = module(&[("main.infra", PLAN_MODULE)]);
    let output = infra(dir.path(), &["plan", "--json", "--detailed-exitcode"]);
    assert_exit(&output, 2);
    let document = json(&output);
    assert_eq!(document["summary"]["add"], 4);
    let actions: Vec<&str> = document["changes"]
        .as_array()
        .map(|c| c.iter().filter_map(|x| x["action"].as_str()).collect())
        .unwrap_or_default();
    assert_eq!(actions, ["create", "create", "create", "create"]);
    let note = document["changes"].as_array().and_then(|c| c.iter().find(|x| x["address"] == "note")).cloned();
    assert_eq!(note.map(|n| n["attributes"]["content"]["after"]["sensitive"].clone()), Some(serde_json::json!(true)));

    let empty = module(&[("main.infra", "let _x = 1\n")]);
    let output = infra(empty.path(), &["plan", "--detailed-exitcode"]);
    assert_exit(&output, 0);
    assert!(stdout(&output).contains("No changes."), "{}", stdout(&output));
}

#[test]
fn plan_fails_fast_when_the_state_is_locked_and_names_the_holder() {
    use infra_runtime::state::{LocalBackend, LockHolder, StateBackend};
    let dir = module(&[("main.infra", PLAN_MODULE)]);
    let backend = LocalBackend::new(dir.path().to_path_buf());
    let holder = LockHolder::new("infra apply (test)");
    let _lock = backend.lock(&holder, std::time::Duration::from_secs(0)).unwrap_or_else(|e| panic!("{e:?}"));
    let output = infra(dir.path(), &["plan"]);
    assert_exit(&output, 1);
    let text = stderr(&output);
    assert!(text.contains("E0702") && text.contains("infra apply (test)"), "{text}");
}

#[test]
fn plan_reports_keys_unknown_until_apply() {
    let source = "resource random.id tag for i in range(2) {\n  byte_length = 4\n}\nresource null.resource named for h in tag[*].hex {\n  input = h\n}\n";
    let dir = module(&[("main.infra", source)]);
    let output = infra(dir.path(), &["plan"]);
    assert_exit(&output, 1);
    let text = stderr(&output);
    assert!(text.contains("error[E0608]") && text.contains("--target tag"), "{text}");
}

/// Terraform spells long options with one dash; given here, `-out=p.plan` was read as
/// `-o` with the value `ut=p.plan`, and `-auto-approve` was an unknown `-a`. Each is
/// refused, naming the spelling Infra takes, before anything runs.
#[test]
fn terraform_style_single_dash_options_are_refused_with_the_right_spelling() {
    let dir = tempfile::tempdir().expect("temp dir");
    std::fs::write(dir.path().join("main.infra"), "resource null.resource a {}\n").expect("write");
    for (args, hint) in [
        (&["plan", "-out=p.plan"][..], "write `--out=p.plan`"),
        (&["apply", "-auto-approve"][..], "write `--auto-approve`"),
        (&["plan", "-var", "x=1"][..], "write `--var`"),
    ] {
        let output = infra(dir.path(), args);
        assert_eq!(output.status.code(), Some(2), "{args:?}");
        let shown = String::from_utf8_lossy(&output.stderr);
        assert!(shown.contains("E0803") && shown.contains(hint), "{args:?}: {shown}");
    }
    assert!(!dir.path().join("ut=p.plan").exists() && !dir.path().join("infra.state.json").exists());
}

/// An `INFRA_VAR_NAME` that is not UTF-8 was silently ignored, planning with the
/// input's default; it is an error naming the variable.
#[test]
fn an_input_from_the_environment_that_is_not_utf8_is_an_error() {
    use std::os::unix::ffi::OsStrExt;
    let dir = tempfile::tempdir().expect("temp dir");
    std::fs::write(dir.path().join("main.infra"), "input s: string = \"x\"\noutput o = s\n").expect("write");
    let output = Command::new(env!("CARGO_BIN_EXE_infra"))
        .current_dir(dir.path())
        .args(["plan"])
        .env("NO_COLOR", "1")
        .env("INFRA_VAR_s", std::ffi::OsStr::from_bytes(b"a\xffb"))
        .output()
        .expect("infra runs");
    assert_eq!(output.status.code(), Some(1));
    let shown = String::from_utf8_lossy(&output.stderr);
    assert!(shown.contains("`INFRA_VAR_s` is not UTF-8") && shown.contains("help:"), "{shown}");
}
