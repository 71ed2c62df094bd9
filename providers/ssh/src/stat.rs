//! What is at a path on the server — its type, permissions, owner, group and, for a
//! file, the SHA-256 of its content — read for many paths with one command (batched by
//! `batch.rs`: a plan over 200 files of one host costs one round trip).
//!
//! A symbolic link at the path is reported as a link, with its target: it is never read
//! through (its target's type, permissions or content are not the path's). Links in the
//! path's directories are followed, as the server follows them.

use std::sync::Arc;

use infra_runtime::provider::{ProviderError, ProviderResult};

use crate::batch;
use crate::connection::Connection;
use crate::shell::quote;

/// What a path is.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Entry {
    Missing,
    File(Facts),
    Directory(Facts),
    /// A symbolic link, whatever it points at (or nothing); its target as the link holds
    /// it (`readlink`), which may be relative to the link's directory.
    Link(String),
    /// Something else: a socket, a device.
    Other,
}

/// Permissions and ownership, and the content's hash for a file.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Facts {
    pub mode: u32,
    /// The owner and group: `NAME:ID` from the batched read (see `set_ownership`), the
    /// name alone from the data source's.
    pub owner: String,
    pub group: String,
    pub sha256: String,
}

/// The batched reads of paths.
pub struct Batcher {
    batch: batch::Batcher<Entry>,
}

impl Default for Batcher {
    fn default() -> Batcher {
        Batcher { batch: batch::Batcher::new("files") }
    }
}

impl Batcher {
    /// What is at `path`, read with whatever other paths are asked for at the same time.
    pub async fn entry(&self, connection: Arc<Connection>, path: &str) -> ProviderResult<Entry> {
        self.batch
            .get(path, |paths| async move {
                let paths: Vec<&str> = paths.iter().map(String::as_str).collect();
                read(&connection, &paths).await
            })
            .await
    }
}

/// The script that prints one line per path: `INDEX|TYPE|MODE|OWNER|GROUP|SHA256`, the
/// type `f`, `d`, `o` (other) or `-` (missing); `INDEX|l|TARGET` for a symbolic link
/// (tested first: `-f`, `-d` and `-e` follow links); or `e` with the reason.
fn script(paths: &[&str]) -> String {
    let words: Vec<String> = paths.iter().map(|p| quote(p)).collect();
    format!(
        r#"i=0
for p in {}; do
  if [ -L "$p" ]; then
    l=$(readlink -- "$p" 2>/dev/null) || l='?'
    printf '%s|l|%s\n' "$i" "$(printf '%s' "$l" | tr '\n' ' ')"
  elif [ -f "$p" ]; then
    if s=$(stat -L -c '%a|%U:%u|%G:%g' -- "$p" 2>&1) && h=$(sha256sum < "$p" 2>&1); then
      printf '%s|f|%s|%s\n' "$i" "$s" "${{h%% *}}"
    else
      printf '%s|e|%s\n' "$i" "$(printf '%s' "$s$h" | tr '\n' ' ')"
    fi
  elif [ -d "$p" ]; then
    if s=$(stat -L -c '%a|%U:%u|%G:%g' -- "$p" 2>&1); then printf '%s|d|%s|\n' "$i" "$s"
    else printf '%s|e|%s\n' "$i" "$(printf '%s' "$s" | tr '\n' ' ')"; fi
  elif [ -e "$p" ]; then printf '%s|o\n' "$i"
  else printf '%s|-\n' "$i"
  fi
  i=$((i+1))
done
"#,
        words.join(" ")
    )
}

/// What is at each of `paths`, in order, with one command.
pub async fn read(connection: &Connection, paths: &[&str]) -> ProviderResult<Vec<Entry>> {
    let output = connection.run(&script(paths), None, None).await?;
    if !output.succeeded() {
        return Err(crate::failed("reading files on the server", &output));
    }
    let mut entries = vec![None; paths.len()];
    for line in output.stdout_text().lines() {
        let mut fields = line.splitn(3, '|');
        let (Some(index), Some(kind)) = (fields.next(), fields.next()) else { continue };
        let Some(index) = index.parse::<usize>().ok().filter(|i| *i < paths.len()) else { continue };
        let rest = fields.next().unwrap_or_default();
        entries[index] = Some(parse(paths[index], kind, rest)?);
    }
    entries
        .into_iter()
        .zip(paths)
        .map(|(entry, path)| {
            entry.ok_or_else(|| {
                ProviderError::new(format!("the server gave no answer for `{path}`")).on_attribute("path")
            })
        })
        .collect()
}

fn parse(path: &str, kind: &str, rest: &str) -> ProviderResult<Entry> {
    let facts = || -> ProviderResult<Facts> {
        let fields: Vec<&str> = rest.split('|').collect();
        let [mode, owner, group, sha256] = fields[..] else {
            return Err(ProviderError::new(format!("unexpected answer about `{path}`: {rest}")));
        };
        let mode = u32::from_str_radix(mode, 8)
            .map_err(|_| ProviderError::new(format!("unexpected permissions of `{path}`: {mode}")))?;
        Ok(Facts { mode, owner: owner.to_string(), group: group.to_string(), sha256: sha256.to_string() })
    };
    match kind {
        "f" => Ok(Entry::File(facts()?)),
        "d" => Ok(Entry::Directory(facts()?)),
        "l" => Ok(Entry::Link(rest.to_string())),
        "o" => Ok(Entry::Other),
        "-" => Ok(Entry::Missing),
        _ => {
            Err(ProviderError::new(format!("cannot read `{path}` on the server: {}", rest.trim())).on_attribute("path"))
        }
    }
}

/// `mode` as four octal digits, as the attributes hold it.
pub fn format_mode(mode: u32) -> String {
    format!("{:04o}", mode & 0o7777)
}

/// An attribute's mode, as a number.
pub fn parse_mode(text: &str) -> Option<u32> {
    u32::from_str_radix(text, 8).ok().filter(|mode| *mode <= 0o7777)
}

/// Records what the server reports for a file's or directory's `mode`, `owner` and
/// `group` where the attributes do not already say the same (`"644"` configured is
/// `0644` on the server). `owner` and `group` come as `NAME:ID` (`stat`'s `%U:%u`) and
/// are recorded in the form the attributes use: an owner given as a number (`"1000"`,
/// which may have no name on the server) is compared with the server's number.
pub(crate) fn set_ownership(
    attributes: &mut infra_runtime::provider::Attributes,
    mode: &str,
    owner: &str,
    group: &str,
) {
    use infra_runtime::Value;
    let recorded = infra_provider_kit::attribute(attributes, "mode").as_str().and_then(parse_mode);
    let actual = parse_mode(mode);
    if recorded != actual {
        if let Some(actual) = actual {
            attributes.insert("mode".to_string(), Value::string(format_mode(actual)));
        }
    }
    for (name, reported) in [("owner", owner), ("group", group)] {
        let numeric = infra_provider_kit::attribute(attributes, name).as_str().is_some_and(is_id);
        let (server_name, id) = reported.rsplit_once(':').unwrap_or((reported, ""));
        let value = if numeric && is_id(id) { id } else { server_name };
        attributes.insert(name.to_string(), Value::string(value));
    }
}

/// Plans the prior `mode` in place of a configured one that gives the same permissions
/// in another form (`"755"` for a recorded `"0755"`): the two are one value, and the
/// plan shows no change, and applies none, for it. The engine compares attributes
/// exactly, so the provider keeps the recorded form itself.
pub(crate) fn keep_equal_mode(
    planned: &mut infra_runtime::provider::Attributes,
    prior: Option<&infra_runtime::provider::Attributes>,
) {
    let Some(prior) = prior.map(|prior| infra_provider_kit::attribute(prior, "mode")) else { return };
    let planned_mode = infra_provider_kit::attribute(planned, "mode").as_str().and_then(parse_mode);
    if planned_mode.is_some() && planned_mode == prior.as_str().and_then(parse_mode) {
        planned.insert("mode".to_string(), prior.clone());
    }
}

/// Whether an owner or group is given as a numeric id.
fn is_id(text: &str) -> bool {
    !text.is_empty() && text.bytes().all(|b| b.is_ascii_digit())
}

#[cfg(test)]
mod tests {
    use infra_runtime::provider::Attributes;
    use infra_runtime::Value;

    use super::keep_equal_mode;

    fn with_mode(mode: &str) -> Attributes {
        [("mode".to_string(), Value::string(mode))].into_iter().collect()
    }

    #[test]
    fn a_mode_equal_to_the_prior_one_keeps_the_prior_form() {
        for (prior, configured, planned) in
            [("0755", "755", "0755"), ("755", "0755", "755"), ("0755", "700", "700"), ("0644", "0644", "0644")]
        {
            let mut attributes = with_mode(configured);
            keep_equal_mode(&mut attributes, Some(&with_mode(prior)));
            assert_eq!(attributes["mode"].as_str(), Some(planned), "{prior} then {configured}");
        }
        let mut created = with_mode("755");
        keep_equal_mode(&mut created, None);
        assert_eq!(created["mode"].as_str(), Some("755"), "a create plans what is configured");
    }
}
