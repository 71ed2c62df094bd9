//! Source files, byte spans and line/column lookup.

use std::path::{Path, PathBuf};
use std::sync::OnceLock;

/// Identifies one source file inside a [`SourceMap`].
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Default)]
pub struct FileId(pub u32);

/// A byte range in one source file. `start` and `end` are byte offsets.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Default)]
pub struct Span {
    pub file: FileId,
    pub start: u32,
    pub end: u32,
}

impl Span {
    pub fn new(file: FileId, start: usize, end: usize) -> Span {
        Span { file, start: to_u32(start), end: to_u32(end) }
    }

    /// The smallest span that covers both `self` and `other` (same file assumed).
    pub fn to(self, other: Span) -> Span {
        Span { file: self.file, start: self.start.min(other.start), end: self.end.max(other.end) }
    }

    pub fn contains(self, other: Span) -> bool {
        self.file == other.file && self.start <= other.start && other.end <= self.end
    }

    pub fn len(self) -> usize {
        (self.end - self.start) as usize
    }

    pub fn is_empty(self) -> bool {
        self.start == self.end
    }

    pub fn range(self) -> std::ops::Range<usize> {
        self.start as usize..self.end as usize
    }
}

/// A [`Span`] without its file, for a node whose file is its neighbour's (an object
/// key's is its value's): 8 bytes, not 12.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Default)]
pub struct Offsets {
    pub start: u32,
    pub end: u32,
}

impl Offsets {
    pub fn of(span: Span) -> Offsets {
        Offsets { start: span.start, end: span.end }
    }

    pub fn in_file(self, file: FileId) -> Span {
        Span { file, start: self.start, end: self.end }
    }
}

fn to_u32(offset: usize) -> u32 {
    // Files over 4 GiB are rejected when loaded, so offsets always fit.
    u32::try_from(offset).unwrap_or(u32::MAX)
}

/// A value together with the span it came from.
#[derive(Clone, Debug, PartialEq)]
pub struct Spanned<T> {
    pub node: T,
    pub span: Span,
}

/// One loaded source file.
#[derive(Clone, Debug)]
pub struct SourceFile {
    pub path: PathBuf,
    /// The text, held from when the file was read; once released
    /// ([`SourceMap::release_texts`]), read again from `path` on first use.
    text: OnceLock<Option<String>>,
    /// What the text was when it was released: a file read again is used only when it
    /// still is what was parsed.
    released: Option<Fingerprint>,
    /// Where each line starts, found when a position is first asked for: a plan that
    /// reports nothing never scans its files for line breaks (a module of 10,000
    /// resources has half a million, 2 MB of offsets).
    line_starts: OnceLock<Vec<u32>>,
}

/// A file's length and a hash of its text: enough to tell whether a file read again is
/// the one that was parsed.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) struct Fingerprint {
    len: usize,
    hash: u64,
}

impl Fingerprint {
    pub(crate) fn of(text: &str) -> Fingerprint {
        let mut hasher = FingerprintHasher::default();
        hasher.write(text.as_bytes());
        hasher.finish()
    }
}

/// Makes a [`Fingerprint`] of text handed over in parts of any length: the hash is of
/// whole blocks of [`FingerprintHasher::BLOCK`] bytes (the last one shorter), so a file
/// read a piece at a time and the same text held whole hash alike.
#[derive(Default)]
pub(crate) struct FingerprintHasher {
    hasher: rustc_hash::FxHasher,
    /// The start of a block not yet whole.
    block: Vec<u8>,
    len: usize,
}

impl FingerprintHasher {
    const BLOCK: usize = 64 * 1024;

    pub(crate) fn write(&mut self, mut bytes: &[u8]) {
        use std::hash::Hasher as _;
        self.len += bytes.len();
        if !self.block.is_empty() {
            let take = (Self::BLOCK - self.block.len()).min(bytes.len());
            self.block.extend_from_slice(&bytes[..take]);
            bytes = &bytes[take..];
            if self.block.len() < Self::BLOCK {
                return;
            }
            self.hasher.write(&self.block);
            self.block.clear();
        }
        let mut blocks = bytes.chunks_exact(Self::BLOCK);
        blocks.by_ref().for_each(|block| self.hasher.write(block));
        self.block.extend_from_slice(blocks.remainder());
    }

    pub(crate) fn finish(mut self) -> Fingerprint {
        use std::hash::Hasher as _;
        if !self.block.is_empty() {
            self.hasher.write(&self.block);
        }
        self.block = Vec::new();
        Fingerprint { len: self.len, hash: self.hasher.finish() }
    }
}

impl SourceFile {
    pub fn new(path: PathBuf, text: String) -> SourceFile {
        SourceFile { path, text: OnceLock::from(Some(text)), released: None, line_starts: OnceLock::new() }
    }

    /// A file parsed as it was read, whose text was never held: read from `path` on first
    /// use, as a released text is.
    fn unheld(path: PathBuf, fingerprint: Fingerprint) -> SourceFile {
        SourceFile { path, text: OnceLock::new(), released: Some(fingerprint), line_starts: OnceLock::new() }
    }

    /// The text, or nothing when it was released and the file no longer holds it (changed
    /// or removed since it was parsed): spans into it would point at other text.
    pub fn read(&self) -> Option<&str> {
        self.text.get_or_init(|| self.read_again()).as_deref()
    }

    /// The text, empty when it cannot be had again (see [`SourceFile::read`]).
    pub fn text(&self) -> &str {
        self.read().unwrap_or_default()
    }

    /// The released text, read again from the file when the file still holds it (decoded
    /// as when it was first read: invalid UTF-8 replaced).
    fn read_again(&self) -> Option<String> {
        let released = self.released?;
        let bytes = std::fs::read(&self.path).ok()?;
        let text = String::from_utf8(bytes).unwrap_or_else(|e| String::from_utf8_lossy(e.as_bytes()).into_owned());
        (Fingerprint::of(&text) == released).then_some(text)
    }

    /// Lets the text go, to be read again from the file when next asked for. Its line
    /// starts go with it: they are found again in whatever text is read (none, when the
    /// file changed), so a line's range is always inside the text held.
    fn release(&mut self) {
        if let Some(Some(text)) = self.text.take() {
            self.released = Some(Fingerprint::of(&text));
            self.line_starts.take();
        }
    }

    fn line_starts(&self) -> &[u32] {
        self.line_starts.get_or_init(|| {
            let mut starts = vec![0];
            starts.extend(self.text().match_indices('\n').map(|(i, _)| to_u32(i + 1)));
            starts
        })
    }

    /// Zero-based line and zero-based column (in characters) of a byte offset.
    pub fn line_col(&self, offset: u32) -> (usize, usize) {
        let text = self.text();
        let offset = offset.min(to_u32(text.len()));
        let line_starts = self.line_starts();
        let line = match line_starts.binary_search(&offset) {
            Ok(line) => line,
            Err(next) => next - 1,
        };
        let line_start = line_starts[line] as usize;
        let mut end = offset as usize;
        while !text.is_char_boundary(end) {
            end -= 1;
        }
        (line, text[line_start..end].chars().count())
    }

    /// The byte range of zero-based line `line`, with its line break; empty past the end.
    pub fn line_range(&self, line: usize) -> std::ops::Range<usize> {
        let text = self.text();
        let line_starts = self.line_starts();
        let start = line_starts.get(line).map_or(text.len(), |&s| s as usize);
        let end = line_starts.get(line + 1).map_or(text.len(), |&s| s as usize);
        start..end
    }

    /// The number of lines (one more than the number of line breaks).
    pub fn line_count(&self) -> usize {
        self.line_starts().len()
    }

    pub fn slice(&self, span: Span) -> &str {
        self.text().get(span.range()).unwrap_or("")
    }
}

/// Every source file the compiler has read, indexed by [`FileId`].
#[derive(Clone, Debug, Default)]
pub struct SourceMap {
    files: Vec<SourceFile>,
}

impl SourceMap {
    pub fn new() -> SourceMap {
        SourceMap::default()
    }

    pub fn add(&mut self, path: PathBuf, text: String) -> FileId {
        let id = FileId(to_u32(self.files.len()));
        self.files.push(SourceFile::new(path, text));
        id
    }

    /// A file parsed as it was read from `path` (its text never held whole; see
    /// [`crate::syntax::parse_reader`]), with the fingerprint of what was read; its
    /// id must be [`SourceMap::next_id`] as it was when the parse began.
    pub(crate) fn add_unheld(&mut self, path: PathBuf, fingerprint: Fingerprint) -> FileId {
        let id = self.next_id();
        self.files.push(SourceFile::unheld(path, fingerprint));
        id
    }

    /// The id the next file added gets.
    pub fn next_id(&self) -> FileId {
        FileId(to_u32(self.files.len()))
    }

    pub fn get(&self, id: FileId) -> &SourceFile {
        &self.files[id.0 as usize]
    }

    /// Lets every file's text go: a run that evaluates a large module from the file
    /// system needs the text only for diagnostics and a saved plan's digest, which read
    /// it again from the file ([`SourceFile::read`]). Only for files read from `path`.
    pub fn release_texts(&mut self) {
        self.files.iter_mut().for_each(SourceFile::release);
    }

    pub fn find(&self, path: &Path) -> Option<FileId> {
        self.files.iter().position(|f| f.path == path).map(|i| FileId(to_u32(i)))
    }

    pub fn iter(&self) -> impl Iterator<Item = (FileId, &SourceFile)> {
        self.files.iter().enumerate().map(|(i, f)| (FileId(to_u32(i)), f))
    }

    pub fn len(&self) -> usize {
        self.files.len()
    }

    pub fn is_empty(&self) -> bool {
        self.files.is_empty()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A file of its own in the system's temporary directory, removed when dropped.
    struct ScratchFile(PathBuf);

    impl ScratchFile {
        fn new(name: &str, bytes: &[u8]) -> ScratchFile {
            let path = std::env::temp_dir().join(format!("infra-span-{}-{name}", std::process::id()));
            std::fs::write(&path, bytes).expect("the temporary directory is writable");
            ScratchFile(path)
        }
    }

    impl Drop for ScratchFile {
        fn drop(&mut self) {
            let _ = std::fs::remove_file(&self.0);
        }
    }

    #[test]
    fn a_released_text_is_read_again_while_the_file_still_holds_it() {
        let text = "let a = 1\nlet é = \"x\"\n";
        let file = ScratchFile::new("same.infra", text.as_bytes());
        let mut sources = SourceMap::new();
        let id = sources.add(file.0.clone(), text.to_string());
        sources.release_texts();
        assert_eq!(sources.get(id).read(), Some(text));
        assert_eq!(sources.get(id).line_col(16), (1, 5));
        assert_eq!(sources.get(id).slice(Span::new(id, 4, 5)), "a");
    }

    #[test]
    fn a_released_text_whose_file_changed_is_not_read_again() {
        let text = "let a = 1\n";
        let file = ScratchFile::new("changed.infra", text.as_bytes());
        let mut sources = SourceMap::new();
        let id = sources.add(file.0.clone(), text.to_string());
        // Lines found before the release are not kept past it.
        assert_eq!(sources.get(id).line_range(1), 10..10);
        sources.release_texts();
        // Same length, other text: the spans would point at the wrong characters.
        std::fs::write(&file.0, "let b = 2\n").expect("the file is writable");
        assert_eq!(sources.get(id).read(), None);
        assert_eq!(sources.get(id).line_range(1), 0..0);
        assert_eq!(sources.get(id).text(), "");
        assert_eq!(sources.get(id).slice(Span::new(id, 4, 5)), "");
        assert_eq!(sources.get(id).line_col(4), (0, 0));
    }

    #[test]
    fn a_released_text_whose_file_is_gone_is_not_read_again() {
        let file = ScratchFile::new("gone.infra", b"let a = 1\n");
        let mut sources = SourceMap::new();
        let id = sources.add(file.0.clone(), "let a = 1\n".to_string());
        sources.release_texts();
        drop(file);
        assert_eq!(sources.get(id).read(), None);
    }

    #[test]
    fn a_file_that_is_not_utf8_is_read_again_as_it_was_first_decoded() {
        let bytes = b"let a = \"\xff\"\n";
        let file = ScratchFile::new("latin1.infra", bytes);
        let lossy = String::from_utf8_lossy(bytes).into_owned();
        let mut sources = SourceMap::new();
        let id = sources.add(file.0.clone(), lossy.clone());
        sources.release_texts();
        assert_eq!(sources.get(id).read(), Some(lossy.as_str()));
    }

    #[test]
    fn a_text_never_released_is_never_read_from_its_path() {
        let mut sources = SourceMap::new();
        let id = sources.add(PathBuf::from("/nonexistent/main.infra"), "let a = 1\n".to_string());
        assert_eq!(sources.get(id).read(), Some("let a = 1\n"));
    }
}
