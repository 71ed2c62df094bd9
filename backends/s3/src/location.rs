//! Where an S3 state is: the bucket, the key of the default workspace's snapshot, the
//! prefix other workspaces live under, and the AWS settings (region, endpoint, profile)
//! that override the environment's.

use infra_runtime::state::workspace::{check_workspace_name, DEFAULT_WORKSPACE};
use infra_runtime::state::{StateError, StateErrorKind};

/// Where workspaces other than `default` are kept when no prefix is configured: the
/// key `env:/NAME/KEY`, as Terraform's S3 backend keeps them.
pub const DEFAULT_WORKSPACE_KEY_PREFIX: &str = "env:";

/// Where an S3 state is.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct S3Location {
    pub bucket: String,
    /// The key of the default workspace's snapshot, such as `prod/infra.state.json`.
    pub key: String,
    pub workspace_key_prefix: String,
    pub region: Option<String>,
    pub endpoint: Option<String>,
    pub profile: Option<String>,
    pub workspace: String,
}

impl S3Location {
    /// The state at `key` in `bucket`, in `workspace` (`default` when `None`).
    pub fn new(bucket: &str, key: &str, workspace: Option<&str>) -> Result<S3Location, StateError> {
        if !valid_bucket(bucket) {
            return Err(invalid(format!("`{bucket}` is not a valid S3 bucket name")).with_help(
                "bucket names have 3 to 63 characters: lower-case letters, digits, `-` and `.`, starting and ending \
                 with a letter or digit",
            ));
        }
        let key = key.trim_start_matches('/');
        if key.is_empty() || key.ends_with('/') || key.len() > 900 {
            return Err(invalid(format!("`{key}` is not a usable key for the state object"))
                .with_help("name the object, such as `key = \"prod/infra.state.json\"`"));
        }
        unaddressable(key, "key")?;
        let workspace = workspace.unwrap_or(DEFAULT_WORKSPACE).to_string();
        check_workspace_name(&workspace)?;
        Ok(S3Location {
            bucket: bucket.to_string(),
            key: key.to_string(),
            workspace_key_prefix: DEFAULT_WORKSPACE_KEY_PREFIX.to_string(),
            region: None,
            endpoint: None,
            profile: None,
            workspace,
        })
    }

    /// Parses `s3://BUCKET/KEY`.
    pub fn from_url(url: &str, workspace: Option<&str>) -> Result<S3Location, StateError> {
        let Some((bucket, key)) = url.strip_prefix("s3://").and_then(|rest| rest.split_once('/')) else {
            return Err(invalid(format!("`{url}` is not an S3 state URL"))
                .with_help("write it as `s3://BUCKET/KEY`, such as `s3://team-state/prod/infra.state.json`"));
        };
        S3Location::new(bucket, key, workspace)
    }

    /// Sets the prefix workspaces other than `default` are kept under.
    pub fn with_workspace_key_prefix(mut self, prefix: &str) -> Result<S3Location, StateError> {
        let prefix = prefix.trim_matches('/');
        if prefix.is_empty() {
            return Err(invalid("`workspace_key_prefix` is empty")
                .with_help("give a prefix such as `workspaces`, or leave it out for `env:`"));
        }
        unaddressable(prefix, "workspace_key_prefix")?;
        self.workspace_key_prefix = prefix.to_string();
        Ok(self)
    }

    pub fn workspace(&self) -> &str {
        &self.workspace
    }

    /// The same bucket and key, another workspace.
    pub fn with_workspace(&self, workspace: &str) -> Result<S3Location, StateError> {
        check_workspace_name(workspace)?;
        Ok(S3Location { workspace: workspace.to_string(), ..self.clone() })
    }

    /// The key of this workspace's snapshot: `KEY` for `default`, else
    /// `PREFIX/WORKSPACE/KEY`.
    pub fn state_key(&self) -> String {
        if self.workspace == DEFAULT_WORKSPACE {
            self.key.clone()
        } else {
            format!("{}/{}/{}", self.workspace_key_prefix, self.workspace, self.key)
        }
    }

    /// The prefix under which the workspaces other than `default` are listed.
    pub fn workspaces_prefix(&self) -> String {
        format!("{}/", self.workspace_key_prefix)
    }

    /// `s3://BUCKET/KEY` of this workspace's snapshot.
    pub fn display(&self) -> String {
        format!("s3://{}/{}", self.bucket, self.state_key())
    }
}

fn valid_bucket(name: &str) -> bool {
    let edge = |c: Option<char>| c.is_some_and(|c| c.is_ascii_lowercase() || c.is_ascii_digit());
    (3..=63).contains(&name.len())
        && name.chars().all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '-' || c == '.')
        && edge(name.chars().next())
        && edge(name.chars().last())
}

/// A key (or prefix) with `.` or `..` segments: a request's URL path resolves them, so
/// the state would be written somewhere else (`a/../state` at `state`).
fn unaddressable(key: &str, setting: &str) -> Result<(), StateError> {
    match infra_provider_aws::key_problem(key) {
        Some(problem) => Err(invalid(format!("`{setting}`: {problem}"))
            .with_help("write the path without `.` or `..` segments, such as `prod/infra.state.json`")),
        None => Ok(()),
    }
}

fn invalid(message: impl Into<String>) -> StateError {
    StateError::new(StateErrorKind::InvalidLocation, message)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn workspaces_live_under_the_prefix() {
        let location = S3Location::from_url("s3://team-state/prod/infra.state.json", None).expect("valid");
        assert_eq!(location.state_key(), "prod/infra.state.json");
        let staging = location.with_workspace("staging").expect("valid");
        assert_eq!(staging.display(), "s3://team-state/env:/staging/prod/infra.state.json");
        let prefixed = staging.with_workspace_key_prefix("workspaces/").expect("valid");
        assert_eq!(prefixed.state_key(), "workspaces/staging/prod/infra.state.json");
    }

    /// A key with `.` or `..` segments would be written elsewhere, as the URL's path
    /// resolves them (`a/../infra.state.json` is `infra.state.json`).
    #[test]
    fn keys_with_dot_segments_are_refused() {
        for url in ["s3://team-state/a/../infra.state.json", "s3://team-state/./infra.state.json"] {
            let error = S3Location::from_url(url, None).expect_err(url);
            assert_eq!(error.kind, StateErrorKind::InvalidLocation, "{url}");
            assert!(error.to_string().contains("segment"), "{error}");
        }
        let location = S3Location::from_url("s3://team-state/infra.state.json", None).expect("valid");
        assert!(location.with_workspace_key_prefix("envs/../x").is_err());
        assert!(S3Location::from_url("s3://team-state/a.b/...c/infra.state.json", None).is_ok());
    }

    #[test]
    fn bad_urls_and_names_are_refused() {
        for url in ["s3://team-state", "s3://Team/key", "s3://ab/key", "postgres://x/y", "s3://team-state/dir/"] {
            let error = S3Location::from_url(url, None).expect_err(url);
            assert_eq!(error.kind, StateErrorKind::InvalidLocation, "{url}");
        }
    }
}
