//! `infra fmt`: rewrite `.infra` files in the canonical style, or report which would change.
//!
//! A file that does not parse is never touched: its diagnostics are printed and the run
//! fails with exit 1, while the other files are still formatted. Files are replaced by
//! writing a temporary file beside them and renaming it over the original, so an
//! interrupted run never leaves a half-written source file.

use std::collections::HashSet;
use std::fs;
use std::io::{self, Write};
use std::path::{Path, PathBuf};

use crate::codes;
use clap::Args;
use infra_compiler::{Diagnostic, FileId, SourceMap, Span};

use crate::output::{Output, Report, EXIT_ERRORS, EXIT_OK, EXIT_UNFORMATTED};
use crate::{paths, render};

#[derive(Args, Debug)]
pub struct FmtArgs {
    /// Files or directories to format; directories are searched recursively for `*.infra`,
    /// skipping hidden directories and `target`
    #[arg(value_name = "PATH", default_value = ".")]
    paths: Vec<PathBuf>,

    /// Write nothing; list files that are not formatted and exit 3 if there are any
    #[arg(long)]
    check: bool,

    /// Write nothing; print a unified diff of the changes formatting would make
    #[arg(long)]
    diff: bool,
}

/// What happened across all files.
#[derive(Default)]
struct Tally {
    files: usize,
    changed: Vec<PathBuf>,
    failed: usize,
    /// Why the failed ones failed.
    diagnostics: Vec<Diagnostic>,
}

pub fn run(args: &FmtArgs, out: Output) -> Report {
    let mut sources = SourceMap::new();
    let mut tally = Tally::default();
    for path in collect_files(&args.paths, &mut tally) {
        tally.files += 1;
        match format_file(&path, &mut sources) {
            Ok(None) => {}
            Ok(Some((old, new))) => {
                if let Err(diagnostic) = apply_change(args, out, &path, &old, &new) {
                    tally.diagnostics.push(diagnostic);
                    tally.failed += 1;
                }
                tally.changed.push(path);
            }
            Err(diagnostics) => {
                tally.diagnostics.extend(diagnostics);
                tally.failed += 1;
            }
        }
    }
    finish(args, tally, sources)
}

/// Shows, or writes, the change formatting makes to one file.
fn apply_change(args: &FmtArgs, out: Output, path: &Path, old: &str, new: &str) -> Result<(), Diagnostic> {
    if args.diff {
        render::to_stdout(&unified_diff(&paths::display(path), old, new, out.stdout_color));
    }
    if args.check || args.diff {
        return Ok(());
    }
    write_atomically(path, new)
        .map_err(|err| Diagnostic::error(codes::READ_FAILED, format!("cannot write `{}`: {err}", paths::display(path))))
}

fn finish(args: &FmtArgs, tally: Tally, sources: SourceMap) -> Report {
    if args.check && !args.diff {
        for path in &tally.changed {
            render::to_stdout(&format!("{}\n", paths::display(path)));
        }
    }
    let report = |exit: u8| Report { diagnostics: tally.diagnostics, sources, summary: None, exit };
    if tally.failed > 0 {
        let text = format!("{} could not be formatted", render::plural(tally.failed, "file"));
        return report(EXIT_ERRORS).with_summary(false, text);
    }
    if !args.check {
        return report(EXIT_OK);
    }
    if tally.changed.is_empty() {
        let text = format!("{} already formatted", render::plural(tally.files, "file"));
        return report(EXIT_OK).with_summary(true, text);
    }
    let text = format!(
        "{} of {} would be reformatted; run `infra fmt` to fix",
        tally.changed.len(),
        render::plural(tally.files, "file")
    );
    report(EXIT_UNFORMATTED).with_summary(false, text)
}

/// The files named by `paths`, with directories expanded, each once. A path that cannot
/// be read is reported and counted as a failure.
fn collect_files(paths: &[PathBuf], tally: &mut Tally) -> Vec<PathBuf> {
    let mut files = Vec::new();
    let mut seen = HashSet::new();
    for path in paths {
        let found =
            if path.is_dir() { paths::infra_files_under(path) } else { fs::metadata(path).map(|_| vec![path.clone()]) };
        match found {
            // Compared canonically, so `./a.infra`, `a.infra` and a symlink to it are one file.
            Ok(found) => files
                .extend(found.into_iter().filter(|f| seen.insert(fs::canonicalize(f).unwrap_or_else(|_| f.clone())))),
            Err(err) => {
                let message = format!("cannot read `{}`: {err}", paths::display(path));
                tally.diagnostics.push(Diagnostic::error(codes::READ_FAILED, message));
                tally.failed += 1;
            }
        }
    }
    files
}

/// The text of a file before and after formatting, when formatting changes it.
type Formatted = Option<(String, String)>;

/// Formats one file: `Ok(None)` when it is already formatted, `Ok(Some((old, new)))` when
/// formatting changes it, and the diagnostics when it cannot be read or parsed.
fn format_file(path: &Path, sources: &mut SourceMap) -> Result<Formatted, Vec<Diagnostic>> {
    let bytes = fs::read(path).map_err(|err| {
        let message = format!("cannot read `{}`: {err}", paths::display(path));
        vec![Diagnostic::error(codes::READ_FAILED, message)]
    })?;
    let (file, text) = decode(path, bytes, sources).map_err(|d| vec![d])?;
    let formatted = infra_compiler::fmt::format_source(file, &text)?;
    Ok((formatted != text).then_some((text, formatted)))
}

/// Adds the file to `sources`. When it is not UTF-8, E0001 names the file and points at the
/// first invalid byte, the way `infra check` reports it.
fn decode(path: &Path, bytes: Vec<u8>, sources: &mut SourceMap) -> Result<(FileId, String), Diagnostic> {
    match String::from_utf8(bytes) {
        Ok(text) => Ok((sources.add(path.to_path_buf(), text.clone()), text)),
        Err(err) => {
            let offset = err.utf8_error().valid_up_to();
            // The lossy text keeps every byte before the first invalid one in place, so the
            // offset is right in it too.
            let lossy = String::from_utf8_lossy(err.as_bytes()).into_owned();
            let file = sources.add(path.to_path_buf(), lossy);
            let message = format!("`{}` is not valid UTF-8 at byte {offset}", paths::display(path));
            Err(Diagnostic::error(codes::INVALID_UTF8, message)
                .with_label(Span::new(file, offset, offset + 1), "invalid byte here")
                .with_help("source files must be UTF-8; re-save the file as UTF-8"))
        }
    }
}

/// A unified diff (`--- a/PATH`, `+++ b/PATH`) with three lines of context.
pub fn unified_diff(name: &str, old: &str, new: &str, color: bool) -> String {
    let diff = similar::TextDiff::from_lines(old, new);
    let text = diff.unified_diff().context_radius(3).header(&format!("a/{name}"), &format!("b/{name}")).to_string();
    if !color {
        return text;
    }
    text.lines()
        .map(|line| {
            let sgr = match line.as_bytes().first() {
                _ if line.starts_with("---") || line.starts_with("+++") => "1",
                Some(b'+') => "32",
                Some(b'-') => "31",
                Some(b'@') => "36",
                _ => return format!("{line}\n"),
            };
            format!("{}\n", render::paint(line, sgr, true))
        })
        .collect()
}

/// Replaces `path` with `text` through a temporary file in the same directory and a rename,
/// keeping the original's permissions. A symlink is followed, so its target is rewritten.
fn write_atomically(path: &Path, text: &str) -> io::Result<()> {
    let target = fs::canonicalize(path)?;
    let dir = target.parent().unwrap_or(Path::new("."));
    let name = target.file_name().map(|n| n.to_string_lossy().into_owned()).unwrap_or_default();
    let temp = dir.join(format!(".{name}.{}.infra-fmt.tmp", std::process::id()));
    let result = write_new(&temp, text)
        .and_then(|()| fs::set_permissions(&temp, fs::metadata(&target)?.permissions()))
        .and_then(|()| fs::rename(&temp, &target));
    if result.is_err() {
        // Best effort: the temporary file is ours and useless now.
        let _ = fs::remove_file(&temp);
    }
    result
}

fn write_new(path: &Path, text: &str) -> io::Result<()> {
    let mut file = fs::OpenOptions::new().write(true).create_new(true).open(path)?;
    file.write_all(text.as_bytes())?;
    file.sync_all()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn invalid_utf8_names_file_and_offset() {
        let bytes = b"let a = 1\nlet b = \"\xff\"\n".to_vec();
        let mut sources = SourceMap::new();
        let diagnostic = decode(Path::new("bad.infra"), bytes, &mut sources).err();
        let summary = diagnostic.map(|d| (d.code, d.message.clone(), d.primary_span().map(|s| s.range())));
        assert_eq!(
            summary,
            Some((codes::INVALID_UTF8, "`bad.infra` is not valid UTF-8 at byte 19".to_string(), Some(19..20)))
        );
    }

    #[test]
    fn diff_has_git_style_headers() {
        let diff = unified_diff("main.infra", "let a=1\n", "let a = 1\n", false);
        assert!(diff.starts_with("--- a/main.infra\n+++ b/main.infra\n@@"), "{diff}");
        assert!(diff.contains("-let a=1\n+let a = 1\n"), "{diff}");
    }
}
