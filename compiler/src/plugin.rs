//! Terraform provider plugin declarations as Terraform writes them: source addresses
//! (`[HOSTNAME/]NAMESPACE/TYPE`) and version constraints (`~> 2.40`, `>= 1.0, < 2.0`).
//!
//! Both are parsed by the checker (so `infra check` and the editor report a bad one) and
//! by `infra init` (which resolves the constraints against what a mirror offers). The
//! rules are Terraform's, as Terraform 1.11 applies them: a missing hostname is the
//! public registry's, a missing namespace `hashicorp`; a version with missing parts has
//! them zero (`= 1.2` is exactly 1.2.0); `~>` lets only the last given part grow; a
//! pre-release is chosen only when a constraint names it exactly.

use std::fmt;

pub use semver::Version;

/// The hostname a source address without one means.
pub const DEFAULT_HOSTNAME: &str = "registry.terraform.io";

/// The namespace a one-part source address (`"aws"`) means.
const DEFAULT_NAMESPACE: &str = "hashicorp";

/// A provider's source address: where it is installed from and how it is named there.
#[derive(Clone, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct SourceAddress {
    pub hostname: String,
    pub namespace: String,
    pub type_name: String,
}

impl fmt::Display for SourceAddress {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}/{}/{}", self.hostname, self.namespace, self.type_name)
    }
}

impl SourceAddress {
    /// Parses a source address as Terraform does; the error says what is wrong with it.
    pub fn parse(text: &str) -> Result<SourceAddress, String> {
        let parts: Vec<&str> = text.split('/').collect();
        if parts.len() > 3 {
            return Err("a source address has at most three parts: `[HOSTNAME/]NAMESPACE/TYPE`".to_string());
        }
        if parts.iter().any(|part| part.is_empty()) {
            return Err("a source address has no empty parts".to_string());
        }
        let type_name = name_part(parts[parts.len() - 1]).map_err(|e| format!("the type {e}"))?;
        let namespace = match parts.len() {
            1 => DEFAULT_NAMESPACE.to_string(),
            n => name_part(parts[n - 2]).map_err(|e| format!("the namespace {e}"))?,
        };
        let hostname = match parts.len() {
            3 => hostname(parts[0])?,
            _ => DEFAULT_HOSTNAME.to_string(),
        };
        Ok(SourceAddress { hostname, namespace, type_name })
    }
}

/// A namespace or type: letters, digits and single dashes, not at either end; compared
/// without case, so kept lower-case.
fn name_part(part: &str) -> Result<String, String> {
    let valid = part.chars().all(|c| c.is_ascii_alphanumeric() || c == '-');
    if !valid {
        return Err(format!("`{part}` may contain only letters, digits and dashes"));
    }
    if part.starts_with('-') || part.ends_with('-') || part.contains("--") {
        return Err(format!("`{part}` may not start or end with a dash, or have two in a row"));
    }
    Ok(part.to_ascii_lowercase())
}

/// A registry hostname, with an optional port; lower-case.
fn hostname(part: &str) -> Result<String, String> {
    let (host, port) = part.split_once(':').unwrap_or((part, ""));
    let labels_ok = host.split('.').all(|label| name_part(label).is_ok());
    let port_ok = port.is_empty() && !part.ends_with(':') || port.parse::<u16>().is_ok_and(|p| p > 0);
    if !labels_ok || !port_ok {
        return Err(format!("the hostname `{part}` is not a valid hostname"));
    }
    Ok(part.to_ascii_lowercase())
}

/// A comparison in a version constraint.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Operator {
    Equal,
    NotEqual,
    Greater,
    GreaterOrEqual,
    Less,
    LessOrEqual,
    /// `~>`: at least the version, and only its last given part may grow.
    Pessimistic,
}

impl Operator {
    fn symbol(self) -> &'static str {
        match self {
            Operator::Equal => "=",
            Operator::NotEqual => "!=",
            Operator::Greater => ">",
            Operator::GreaterOrEqual => ">=",
            Operator::Less => "<",
            Operator::LessOrEqual => "<=",
            Operator::Pessimistic => "~>",
        }
    }
}

/// One comparison: `~> 2.40`.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Constraint {
    pub operator: Operator,
    pub version: Version,
    /// How many of major, minor and patch were written (1 to 3); `~>` needs it.
    pub parts: usize,
}

impl Constraint {
    /// Whether `version` satisfies this comparison (pre-releases aside, see
    /// [`VersionConstraints::allows`]).
    fn allows(&self, version: &Version) -> bool {
        let wanted = &self.version;
        match self.operator {
            Operator::Equal => version == wanted,
            Operator::NotEqual => version != wanted,
            Operator::Greater => version > wanted,
            Operator::GreaterOrEqual => version >= wanted,
            Operator::Less => version < wanted,
            Operator::LessOrEqual => version <= wanted,
            Operator::Pessimistic => version >= wanted && version < &self.pessimistic_bound(),
        }
    }

    /// The first version `~>` refuses: the part before the last written one, plus one.
    fn pessimistic_bound(&self) -> Version {
        let wanted = &self.version;
        match self.parts {
            1 | 2 => Version::new(wanted.major + 1, 0, 0),
            _ => Version::new(wanted.major, wanted.minor + 1, 0),
        }
    }
}

impl fmt::Display for Constraint {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        // The version as written: `~> 2.40` means something else than `~> 2.40.0`.
        let v = &self.version;
        let written = match self.parts {
            1 => v.major.to_string(),
            2 => format!("{}.{}", v.major, v.minor),
            _ => v.to_string(),
        };
        write!(f, "{} {written}", self.operator.symbol())
    }
}

/// A version constraint: comparisons joined by commas, all of which must hold.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct VersionConstraints {
    pub constraints: Vec<Constraint>,
}

impl VersionConstraints {
    /// Parses a constraint as Terraform does; the error says what is wrong with it.
    pub fn parse(text: &str) -> Result<VersionConstraints, String> {
        let constraints = text.split(',').map(|part| constraint(part.trim())).collect::<Result<_, _>>()?;
        Ok(VersionConstraints { constraints })
    }

    /// Whether `version` satisfies every comparison. A pre-release satisfies them only
    /// when one of them is `=` to it exactly, as in Terraform: `>= 1.0` never picks
    /// `2.0.0-beta1`.
    pub fn allows(&self, version: &Version) -> bool {
        let named = || self.constraints.iter().any(|c| c.operator == Operator::Equal && &c.version == version);
        (version.pre.is_empty() || named()) && self.constraints.iter().all(|c| c.allows(version))
    }

    /// The newest of `versions` this constraint allows.
    pub fn newest<'v>(&self, versions: impl IntoIterator<Item = &'v Version>) -> Option<&'v Version> {
        versions.into_iter().filter(|v| self.allows(v)).max()
    }
}

impl fmt::Display for VersionConstraints {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let parts: Vec<String> = self.constraints.iter().map(Constraint::to_string).collect();
        f.write_str(&parts.join(", "))
    }
}

/// One comparison: an optional operator, then a version of one to three parts with an
/// optional pre-release (`1.2.0-beta1`).
fn constraint(text: &str) -> Result<Constraint, String> {
    if text.is_empty() {
        return Err("a version constraint has an empty part".to_string());
    }
    let operators = [
        ("~>", Operator::Pessimistic),
        (">=", Operator::GreaterOrEqual),
        ("<=", Operator::LessOrEqual),
        ("!=", Operator::NotEqual),
        ("=", Operator::Equal),
        (">", Operator::Greater),
        ("<", Operator::Less),
    ];
    let (operator, rest) = operators
        .iter()
        .find_map(|(symbol, operator)| text.strip_prefix(symbol).map(|rest| (*operator, rest.trim_start())))
        .unwrap_or((Operator::Equal, text));
    if rest.starts_with(['<', '>', '=', '!', '~']) {
        return Err(format!("`{text}` has no valid operator: they are `=`, `!=`, `>`, `>=`, `<`, `<=` and `~>`"));
    }
    let (version, parts) = partial_version(rest)?;
    if operator == Operator::Pessimistic && !version.pre.is_empty() {
        return Err(format!("`~>` cannot be used with the pre-release `{rest}`"));
    }
    Ok(Constraint { operator, version, parts })
}

/// `1`, `1.2`, `1.2.3` or `1.2.3-beta1` (a leading `v` is not Terraform's), the missing
/// parts zero; with how many parts were written.
fn partial_version(text: &str) -> Result<(Version, usize), String> {
    let invalid = || format!("`{text}` is not a version: write `MAJOR[.MINOR[.PATCH]]`, such as `2.40` or `1.2.3`");
    let (numbers, suffix) = match text.find(['-', '+']) {
        Some(at) => text.split_at(at),
        None => (text, ""),
    };
    let parts = numbers.split('.').count();
    if parts > 3 || numbers.split('.').any(|n| n.is_empty() || !n.bytes().all(|b| b.is_ascii_digit())) {
        return Err(invalid());
    }
    if !suffix.is_empty() && parts < 3 {
        return Err(invalid());
    }
    let padded = format!("{numbers}{}{suffix}", ".0".repeat(3 - parts));
    let version = Version::parse(&padded).map_err(|_| invalid())?;
    Ok((version, parts))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn source(text: &str) -> String {
        match SourceAddress::parse(text) {
            Ok(address) => address.to_string(),
            Err(e) => format!("error: {e}"),
        }
    }

    #[test]
    fn source_addresses_as_terraform_reads_them() {
        assert_eq!(source("digitalocean/digitalocean"), "registry.terraform.io/digitalocean/digitalocean");
        assert_eq!(source("aws"), "registry.terraform.io/hashicorp/aws");
        assert_eq!(source("Local/Workato"), "registry.terraform.io/local/workato");
        assert_eq!(source("registry.opentofu.org/hetznercloud/hcloud"), "registry.opentofu.org/hetznercloud/hcloud");
        assert_eq!(source("example.com:8443/acme/thing"), "example.com:8443/acme/thing");
        assert!(source("a/b/c/d").starts_with("error: a source address has at most three parts"));
        assert!(source("acme//thing").starts_with("error: a source address has no empty parts"));
        assert!(source("acme/th_ing").starts_with("error: the type `th_ing` may contain only"));
        assert!(source("-acme/thing").starts_with("error: the namespace `-acme` may not start"));
        assert!(source("exa mple.com/acme/thing").starts_with("error: the hostname"));
    }

    fn newest(constraint: &str) -> String {
        let versions: Vec<Version> =
            ["1.2.0", "1.2.5", "1.3.0", "2.0.0", "1.2.6-beta1"].iter().map(|v| Version::parse(v).unwrap()).collect();
        match VersionConstraints::parse(constraint) {
            Ok(constraints) => constraints.newest(&versions).map_or("none".to_string(), Version::to_string),
            Err(e) => format!("error: {e}"),
        }
    }

    /// The answers are what Terraform 1.11 installs from a filesystem mirror holding
    /// these five versions.
    #[test]
    fn constraints_choose_what_terraform_chooses() {
        assert_eq!(newest("= 1.2"), "1.2.0");
        assert_eq!(newest("1.2"), "1.2.0");
        assert_eq!(newest("=1.2"), "1.2.0");
        assert_eq!(newest("~> 1.2"), "1.3.0");
        assert_eq!(newest("~> 1"), "1.3.0");
        assert_eq!(newest("~> 1.2.0"), "1.2.5");
        assert_eq!(newest("~>1.2.0"), "1.2.5");
        assert_eq!(newest("> 1.2, != 1.2.5"), "2.0.0");
        assert_eq!(newest("<= 1.2"), "1.2.0");
        assert_eq!(newest("= 1.2.6-beta1"), "1.2.6-beta1");
        assert_eq!(newest(">= 1.2.6-beta1"), "2.0.0");
        assert_eq!(newest(">= 1.0, < 2.0"), "1.3.0");
        assert_eq!(newest("> 2.0"), "none");
    }

    #[test]
    fn constraints_print_as_written() {
        let printed = VersionConstraints::parse(">=1.0,< 2, ~> 2.40.1,1.2.3-beta1").unwrap().to_string();
        assert_eq!(printed, ">= 1.0, < 2, ~> 2.40.1, = 1.2.3-beta1");
    }

    #[test]
    fn bad_constraints_say_why() {
        assert!(newest("").starts_with("error: a version constraint has an empty part"));
        assert!(newest(">= 1.0,").starts_with("error: a version constraint has an empty part"));
        assert!(newest("~> two").starts_with("error: `two` is not a version"));
        assert!(newest("1.2.3.4").starts_with("error: `1.2.3.4` is not a version"));
        assert!(newest("=> 1.0").starts_with("error: `=> 1.0` has no valid operator"));
        assert!(newest("~> 1.2.0-beta").starts_with("error: `~>` cannot be used"));
    }
}
