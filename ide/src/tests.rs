//! In-process tests of every feature, on fixtures: `.infra` text with the cursor marked
//! `$0`, and more files after `//- /path.infra` headers. Each feature's module has a
//! `check(fixture) -> String` that renders the answer at the cursor, compared with an
//! insta inline snapshot.

mod completion;
mod diagnostics;
mod hints;
mod hover;
mod navigation;
mod rename;
mod tokens;

use std::path::{Path, PathBuf};

use crate::{LineIndex, Location, Position, Range, Workspace};

/// Where fixture files live. Nothing is on disk there: every file is an open document.
const ROOT: &str = "/fixture";

/// A workspace holding the fixture's files as open documents, and the cursor.
pub struct Fixture {
    pub workspace: Workspace,
    /// The file with the cursor (the first file when there is none).
    pub path: PathBuf,
    pub position: Position,
}

impl Fixture {
    /// Parses a fixture. Without headers the text is `/main.infra`.
    pub fn new(fixture: &str) -> Fixture {
        let mut workspace = Workspace::default();
        let mut cursor: Option<(PathBuf, Position)> = None;
        let mut first: Option<PathBuf> = None;
        for (path, mut text) in files(fixture) {
            let path = Path::new(ROOT).join(path.trim_start_matches('/'));
            if let Some(offset) = text.find("$0") {
                assert!(cursor.is_none(), "a fixture has one cursor");
                text.replace_range(offset..offset + 2, "");
                cursor = Some((path.clone(), LineIndex::new(&text).position(offset)));
            }
            first.get_or_insert_with(|| path.clone());
            workspace.open(path, text, 1);
        }
        let (path, position) = cursor.unwrap_or_else(|| (first.expect("a fixture has a file"), Position::default()));
        Fixture { workspace, path, position }
    }

    /// The text of an open file.
    pub fn text(&self, path: &Path) -> &str {
        &self.workspace.documents[path].text
    }

    /// `path:line:col-line:col` (from 1, as editors show them) and the text there.
    pub fn location(&self, location: &Location) -> String {
        let path = location.path.strip_prefix(ROOT).unwrap_or(&location.path);
        format!("{} {}", path.display(), self.range(&location.path, location.range))
    }

    /// `line:col-line:col` (from 1) and the text of the range in `path`, quoted.
    pub fn range(&self, path: &Path, range: Range) -> String {
        let text = self.text(path);
        let index = LineIndex::new(text);
        let (start, end) = (index.offset(range.start), index.offset(range.end));
        let slice = match (start, end) {
            (Ok(start), Ok(end)) => &text[start..end],
            _ => "?",
        };
        let (from, to) = (range.start, range.end);
        format!("{}:{}-{}:{} {slice:?}", from.line + 1, from.character + 1, to.line + 1, to.character + 1)
    }
}

/// The files of a fixture: `(path, text)`.
fn files(fixture: &str) -> Vec<(String, String)> {
    let fixture = fixture.strip_prefix('\n').unwrap_or(fixture);
    if !fixture.starts_with("//- ") {
        return vec![("/main.infra".to_string(), fixture.to_string())];
    }
    let mut files: Vec<(String, String)> = Vec::new();
    for line in fixture.split_inclusive('\n') {
        match (line.strip_prefix("//- "), files.last_mut()) {
            (Some(path), _) => files.push((path.trim().to_string(), String::new())),
            (None, Some((_, text))) => text.push_str(line),
            (None, None) => {}
        }
    }
    files
}

#[test]
fn fixtures_mark_the_cursor_and_split_files() {
    let fixture = Fixture::new("//- /main.infra\nlet a = 1\n//- /net/main.infra\nlet b = $02\n");
    assert_eq!(fixture.path, Path::new("/fixture/net/main.infra"));
    assert_eq!(fixture.position, Position::new(0, 8));
    assert_eq!(fixture.text(Path::new("/fixture/net/main.infra")), "let b = 2\n");
    assert_eq!(fixture.text(Path::new("/fixture/main.infra")), "let a = 1\n");
}
