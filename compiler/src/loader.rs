//! How the compiler reads source: through a [`Loader`] it is handed, so the language
//! server can serve unsaved buffers and tests can serve files from memory.

use std::io;
use std::path::{Path, PathBuf};

pub trait Loader {
    /// The `.infra` files directly inside `dir`, sorted by name.
    fn list_sources(&self, dir: &Path) -> io::Result<Vec<PathBuf>>;
    /// The bytes of one file.
    fn read(&self, path: &Path) -> io::Result<Vec<u8>>;
    /// One file's bytes as a stream, for reading a piece at a time.
    fn open(&self, path: &Path) -> io::Result<Box<dyn io::Read + '_>> {
        Ok(Box::new(io::Cursor::new(self.read(path)?)))
    }
    /// Whether `path` is an existing directory.
    fn is_dir(&self, path: &Path) -> bool;
}

/// Reads from the file system.
pub struct FsLoader;

impl Loader for FsLoader {
    fn list_sources(&self, dir: &Path) -> io::Result<Vec<PathBuf>> {
        let mut files = Vec::new();
        for entry in std::fs::read_dir(dir)? {
            let path = entry?.path();
            if path.extension().is_some_and(|e| e == "infra") && path.is_file() {
                files.push(path);
            }
        }
        files.sort();
        Ok(files)
    }

    fn read(&self, path: &Path) -> io::Result<Vec<u8>> {
        std::fs::read(path)
    }

    fn open(&self, path: &Path) -> io::Result<Box<dyn io::Read + '_>> {
        Ok(Box::new(std::fs::File::open(path)?))
    }

    fn is_dir(&self, path: &Path) -> bool {
        path.is_dir()
    }
}

/// Serves files from memory: for tests, and for editors with unsaved buffers.
#[derive(Clone, Debug, Default)]
pub struct MemoryLoader {
    files: std::collections::BTreeMap<PathBuf, Vec<u8>>,
}

impl MemoryLoader {
    pub fn new() -> MemoryLoader {
        MemoryLoader::default()
    }

    pub fn insert(&mut self, path: impl Into<PathBuf>, contents: impl Into<Vec<u8>>) {
        self.files.insert(path.into(), contents.into());
    }
}

impl Loader for MemoryLoader {
    fn list_sources(&self, dir: &Path) -> io::Result<Vec<PathBuf>> {
        Ok(self
            .files
            .keys()
            .filter(|p| p.parent() == Some(dir) && p.extension().is_some_and(|e| e == "infra"))
            .cloned()
            .collect())
    }

    fn read(&self, path: &Path) -> io::Result<Vec<u8>> {
        self.files.get(path).cloned().ok_or_else(|| io::Error::new(io::ErrorKind::NotFound, "no such file"))
    }

    fn is_dir(&self, path: &Path) -> bool {
        self.files.keys().any(|p| p.starts_with(path) && p != path)
    }
}
