//! Paths as users see them, and finding `.infra` files under directories for `infra fmt`.

use std::io;
use std::path::{Component, Path, PathBuf};

/// `path` as it should be shown: relative to the current directory when it lies inside it,
/// without `./` noise, with `/` separators left as the platform prints them.
pub fn display(path: &Path) -> String {
    let relative = std::env::current_dir()
        .ok()
        .and_then(|cwd| path.strip_prefix(&cwd).ok().map(Path::to_path_buf))
        .unwrap_or_else(|| path.to_path_buf());
    let cleaned: PathBuf = relative.components().filter(|c| !matches!(c, Component::CurDir)).collect();
    if cleaned.as_os_str().is_empty() {
        ".".to_string()
    } else {
        cleaned.display().to_string()
    }
}

/// Every `*.infra` file under `dir`, recursively, sorted. Hidden directories (`.git`) and
/// `target` directories are skipped: they hold tool state, never sources.
pub fn infra_files_under(dir: &Path) -> io::Result<Vec<PathBuf>> {
    let mut found = Vec::new();
    let mut pending = vec![dir.to_path_buf()];
    while let Some(current) = pending.pop() {
        for entry in std::fs::read_dir(&current)? {
            let entry = entry?;
            let path = entry.path();
            // `file_type` does not follow symlinks, so a link cycle cannot trap the walk.
            let file_type = entry.file_type()?;
            if file_type.is_dir() {
                if !is_skipped_dir(&entry.file_name().to_string_lossy()) {
                    pending.push(path);
                }
            } else if path.extension().is_some_and(|e| e == "infra") && path.is_file() {
                found.push(path);
            }
        }
    }
    found.sort();
    Ok(found)
}

fn is_skipped_dir(name: &str) -> bool {
    name.starts_with('.') || name == "target"
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn current_dir_prefix_is_dropped() {
        assert_eq!(display(Path::new("./main.infra")), "main.infra");
        assert_eq!(display(Path::new("./modules/./net/a.infra")), "modules/net/a.infra");
        assert_eq!(display(Path::new(".")), ".");
    }

    #[test]
    fn absolute_paths_inside_the_current_dir_become_relative() {
        let cwd = std::env::current_dir().unwrap_or_default();
        assert_eq!(display(&cwd.join("x.infra")), "x.infra");
    }

    #[test]
    fn hidden_and_target_dirs_are_skipped() {
        assert!(is_skipped_dir(".git"));
        assert!(is_skipped_dir("target"));
        assert!(!is_skipped_dir("modules"));
    }
}
