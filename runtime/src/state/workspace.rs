//! Workspaces: the named states of one configuration, whatever the backend. The name is
//! checked here once for every backend (the local backend makes it a directory name).

use super::error::{StateError, StateErrorKind};

/// The workspace used when none is named.
pub const DEFAULT_WORKSPACE: &str = "default";

/// A workspace name: letters, digits, `-`, `_` and `.`, starting with a letter or digit,
/// at most 64 characters (it is also a directory name for the local backend).
pub fn check_workspace_name(name: &str) -> Result<(), StateError> {
    let valid = !name.is_empty()
        && name.len() <= 64
        && name.starts_with(|c: char| c.is_ascii_alphanumeric())
        && name.chars().all(|c| c.is_ascii_alphanumeric() || matches!(c, '-' | '_' | '.'));
    if valid {
        return Ok(());
    }
    Err(StateError::new(StateErrorKind::InvalidLocation, format!("`{name}` is not a valid workspace name"))
        .with_help("use letters, digits, `-`, `_` and `.`, starting with a letter or digit, at most 64 characters"))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn workspace_names_are_safe_as_directory_names() {
        for good in ["default", "prod", "eu-west_1", "v1.2"] {
            assert!(check_workspace_name(good).is_ok(), "{good}");
        }
        for bad in ["", ".", "..", ".hidden", "a/b", "a b", &"x".repeat(65)] {
            assert!(check_workspace_name(bad).is_err(), "{bad}");
        }
    }
}
