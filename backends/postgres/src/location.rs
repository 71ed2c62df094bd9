//! Where a PostgreSQL state is: the connection string (with the options Infra handles
//! itself, `sslrootcert` and the `verify-*` modes, taken out), the schema, the workspace,
//! and how TLS verifies the server.

use std::fmt::Write as _;
use std::str::FromStr;
use std::sync::Arc;
use std::time::Duration;

use infra_runtime::state::workspace::{check_workspace_name, DEFAULT_WORKSPACE};
use infra_runtime::state::{StateError, StateErrorKind};
use postgres::config::{Host, SslMode};
use postgres::Config;
use rustls::pki_types::pem::PemObject;
use rustls::pki_types::CertificateDer;

/// The schema used when none is configured.
pub const DEFAULT_SCHEMA: &str = "infra";

const CONNECT_TIMEOUT: Duration = Duration::from_secs(10);
/// The client library's default, and what Infra uses instead.
const DEFAULT_KEEPALIVES_IDLE: Duration = Duration::from_secs(2 * 60 * 60);
const KEEPALIVES_IDLE: Duration = Duration::from_secs(30);

/// Where a PostgreSQL state is: a connection string, a schema and a workspace.
#[derive(Clone)]
pub struct PostgresLocation {
    pub(crate) config: Config,
    pub(crate) schema: String,
    pub(crate) workspace: String,
    /// How TLS connections verify the server; `None` with `sslmode=disable`.
    pub(crate) tls: Option<Arc<rustls::ClientConfig>>,
}

impl PostgresLocation {
    /// Parses `url` (`postgres://user:password@host:port/database?sslmode=disable`, or
    /// the `key=value` form) and checks the schema and workspace names.
    pub fn new(url: &str, schema: Option<&str>, workspace: Option<&str>) -> Result<PostgresLocation, StateError> {
        if url.trim().is_empty() {
            // Parsed, an empty string is a local socket with every setting defaulted,
            // and the failure would be a connection's, not the URL's.
            return Err(invalid("the state URL is empty").with_help(
                "give `postgres://USER:PASSWORD@HOST:PORT/DATABASE`, or `s3://BUCKET/KEY` for an S3 state; a \
                 variable set to nothing is still set (unset it to use the `state` block or the local files)",
            ));
        }
        let (url, root_cert) = tls_options(url);
        let mut config = Config::from_str(&url).map_err(|e| invalid_url(&url, &e))?;
        let tls = match config.get_ssl_mode() {
            SslMode::Disable => None,
            _ => Some(Arc::new(tls_config(root_cert.as_deref())?)),
        };
        if config.get_connect_timeout().is_none() {
            config.connect_timeout(CONNECT_TIMEOUT);
        }
        // A server that vanishes without closing the connection (a network partition)
        // is noticed within minutes rather than the system's two hours.
        if config.get_keepalives_idle() == DEFAULT_KEEPALIVES_IDLE {
            config.keepalives_idle(KEEPALIVES_IDLE);
        }
        config.application_name("infra");
        let schema = schema.unwrap_or(DEFAULT_SCHEMA).to_string();
        if !valid_schema(&schema) {
            return Err(invalid(format!("`{schema}` is not a valid schema name"))
                .with_help("use lower-case letters, digits and `_`, starting with a letter, at most 63 characters"));
        }
        let workspace = workspace.unwrap_or(DEFAULT_WORKSPACE).to_string();
        check_workspace_name(&workspace)?;
        Ok(PostgresLocation { config, schema, workspace, tls })
    }

    pub fn workspace(&self) -> &str {
        &self.workspace
    }

    /// The same database and schema, another workspace.
    pub fn with_workspace(&self, workspace: &str) -> Result<PostgresLocation, StateError> {
        check_workspace_name(workspace)?;
        Ok(PostgresLocation { workspace: workspace.to_string(), ..self.clone() })
    }

    /// The location without its password: `postgres://user@host:port/db (schema infra,
    /// workspace default)`.
    pub fn display(&self) -> String {
        let mut text = String::from("postgres://");
        if let Some(user) = self.config.get_user() {
            let _ = write!(text, "{user}@");
        }
        let hosts: Vec<String> = self
            .config
            .get_hosts()
            .iter()
            .enumerate()
            .map(|(index, host)| {
                let name = match host {
                    Host::Tcp(name) => name.clone(),
                    Host::Unix(path) => path.display().to_string(),
                };
                match self.config.get_ports().get(index).or(self.config.get_ports().first()) {
                    Some(port) => format!("{name}:{port}"),
                    None => name,
                }
            })
            .collect();
        text.push_str(&hosts.join(","));
        if let Some(database) = self.config.get_dbname() {
            let _ = write!(text, "/{database}");
        }
        let _ = write!(text, " (schema `{}`, workspace `{}`)", self.schema, self.workspace);
        text
    }
}

fn valid_schema(name: &str) -> bool {
    !name.is_empty()
        && name.len() <= 63
        && name.starts_with(|c: char| c.is_ascii_lowercase())
        && name.chars().all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '_')
}

/// Takes the options Infra handles itself out of a connection string: `sslrootcert`
/// (returned), and libpq's `sslmode=verify-ca` / `verify-full`, which become `require`
/// (Infra always verifies the certificate and the host name).
fn tls_options(url: &str) -> (String, Option<String>) {
    let mut root_cert = None;
    if url.starts_with("postgres://") || url.starts_with("postgresql://") {
        let Some((base, query)) = url.split_once('?') else { return (url.to_string(), None) };
        let mut kept = Vec::new();
        for pair in query.split('&') {
            match pair.split_once('=') {
                Some(("sslrootcert", value)) => {
                    root_cert = Some(percent_encoding::percent_decode_str(value).decode_utf8_lossy().into_owned());
                }
                Some(("sslmode", "verify-ca" | "verify-full")) => kept.push("sslmode=require".to_string()),
                _ => kept.push(pair.to_string()),
            }
        }
        let url = if kept.is_empty() { base.to_string() } else { format!("{base}?{}", kept.join("&")) };
        return (url, root_cert);
    }
    let mut kept = Vec::new();
    for word in url.split_whitespace() {
        match word.split_once('=') {
            Some(("sslrootcert", value)) => root_cert = Some(value.trim_matches('\'').to_string()),
            Some(("sslmode", "verify-ca" | "verify-full")) => kept.push("sslmode=require".to_string()),
            _ => kept.push(word.to_string()),
        }
    }
    (kept.join(" "), root_cert)
}

/// How TLS connections check the server: its certificate must chain to a public root
/// (Mozilla's list) or to a certificate in `root_cert`, and name the host connected to.
fn tls_config(root_cert: Option<&str>) -> Result<rustls::ClientConfig, StateError> {
    let mut roots = rustls::RootCertStore { roots: webpki_roots::TLS_SERVER_ROOTS.to_vec() };
    if let Some(path) = root_cert {
        let unreadable = |detail: String| {
            invalid(format!("cannot read the CA certificate `sslrootcert={path}`: {detail}"))
                .with_help("`sslrootcert` names a PEM file holding the certificate(s) that signed the server's")
        };
        let certificates: Vec<CertificateDer<'static>> = CertificateDer::pem_file_iter(path)
            .map_err(|e| unreadable(e.to_string()))?
            .collect::<Result<_, _>>()
            .map_err(|e| unreadable(e.to_string()))?;
        if certificates.is_empty() {
            return Err(unreadable("the file holds no PEM certificate".to_string()));
        }
        for certificate in certificates {
            roots.add(certificate).map_err(|e| unreadable(e.to_string()))?;
        }
    }
    let provider = Arc::new(rustls::crypto::ring::default_provider());
    let config = rustls::ClientConfig::builder_with_provider(provider)
        .with_safe_default_protocol_versions()
        .map_err(|e| invalid(format!("cannot set up TLS: {e}")))?
        .with_root_certificates(roots)
        .with_no_client_auth();
    Ok(config)
}

/// A state URL that does not parse, saying which part is wrong: the scheme, or what the
/// parser found (`invalid value for option `port``, `unknown option `foo``). The URL
/// itself is not repeated: it may hold a password.
fn invalid_url(url: &str, error: &postgres::Error) -> StateError {
    let scheme = url.split_once("://").map(|(scheme, _)| scheme);
    if let Some(scheme) = scheme.filter(|scheme| !matches!(*scheme, "postgres" | "postgresql")) {
        return invalid(format!("`{scheme}://` is not a kind of state URL")).with_help(
            "a state URL is `postgres://USER:PASSWORD@HOST:PORT/DATABASE` (or `postgresql://`) for PostgreSQL, or \
             `s3://BUCKET/KEY` for S3",
        );
    }
    let detail = std::error::Error::source(error).map_or_else(|| error.to_string(), ToString::to_string);
    let form = if scheme.is_some() { "URL" } else { "`key=value` connection string" };
    invalid(format!("the state URL is not a valid PostgreSQL {form}: {detail}")).with_help(
        "write it as `postgres://USER:PASSWORD@HOST:PORT/DATABASE`, with options after `?` (`?sslmode=require`), \
         or `s3://BUCKET/KEY` for an S3 state",
    )
}

fn invalid(message: impl Into<String>) -> StateError {
    StateError::new(StateErrorKind::InvalidLocation, message)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_location_is_shown_without_its_password() {
        let location =
            PostgresLocation::new("postgres://team:s3cret@db.internal:6543/infra_state", Some("ops"), Some("prod"))
                .expect("valid");
        let shown = location.display();
        assert_eq!(shown, "postgres://team@db.internal:6543/infra_state (schema `ops`, workspace `prod`)");
        assert!(!shown.contains("s3cret"));
    }

    #[test]
    fn defaults_are_the_infra_schema_and_the_default_workspace() {
        let location = PostgresLocation::new("host=127.0.0.1 user=me dbname=x", None, None).expect("valid");
        assert_eq!(location.workspace(), DEFAULT_WORKSPACE);
        assert!(location.display().ends_with("(schema `infra`, workspace `default`)"), "{}", location.display());
    }

    #[test]
    fn bad_locations_are_refused_with_their_code() {
        let refused = |url: &str, schema: Option<&str>, workspace: Option<&str>| {
            PostgresLocation::new(url, schema, workspace).err().map(|e| (e.code(), e.message))
        };
        let url = "postgres://u@h/db";
        assert_eq!(refused("postgres://u@h:port/db", None, None).map(|r| r.0), Some("E0716"));
        // Regression: the message said "invalid connection string" and never what was wrong.
        let port = refused("postgres://u:secret@h:port/db", None, None).map(|r| r.1).unwrap_or_default();
        assert!(port.contains("option `port`") && !port.contains("secret"), "{port}");
        let option = refused("postgres://u@h/db?colour=blue", None, None).map(|r| r.1).unwrap_or_default();
        assert!(option.contains("unknown option `colour`"), "{option}");
        let scheme = refused("pg://u@h/db", None, None).map(|r| r.1).unwrap_or_default();
        assert!(scheme.contains("`pg://` is not a kind of state URL"), "{scheme}");
        // Regression: an empty URL was taken for a local socket, failing as unreachable (E0711).
        let empty = refused("", None, None);
        assert_eq!(empty.as_ref().map(|r| r.0), Some("E0716"));
        assert!(empty.is_some_and(|r| r.1.contains("empty")));
        assert_eq!(refused("postgres://u@h/db?sslmode=verify-all", None, None).map(|r| r.0), Some("E0716"));
        let missing = refused("postgres://u@h/db?sslmode=require&sslrootcert=/nonexistent/ca.pem", None, None);
        assert_eq!(missing.as_ref().map(|r| r.0), Some("E0716"));
        assert!(missing.is_some_and(|r| r.1.contains("/nonexistent/ca.pem")));
        assert!(refused("postgres://u@h/db?sslmode=require", None, None).is_none());
        assert_eq!(refused(url, Some("Robert\"; DROP"), None).map(|r| r.0), Some("E0716"));
        assert_eq!(refused(url, None, Some("../x")).map(|r| r.0), Some("E0716"));
        assert_eq!(refused(url, None, Some("")).map(|r| r.0), Some("E0716"));
        assert!(refused(url, Some("team_state"), Some("prod-eu.1")).is_none());
    }

    #[test]
    fn infra_takes_sslrootcert_and_verify_modes_out_of_the_connection_string() {
        assert_eq!(
            tls_options("postgres://u@h/db?sslmode=verify-full&sslrootcert=%2Fetc%2Fca%20x.pem&connect_timeout=3"),
            ("postgres://u@h/db?sslmode=require&connect_timeout=3".to_string(), Some("/etc/ca x.pem".to_string()))
        );
        assert_eq!(
            tls_options("postgres://u@h/db?sslrootcert=ca.pem"),
            ("postgres://u@h/db".to_string(), Some("ca.pem".to_string()))
        );
        assert_eq!(
            tls_options("host=h sslmode=verify-ca sslrootcert='/ca.pem' dbname=x"),
            ("host=h sslmode=require dbname=x".to_string(), Some("/ca.pem".to_string()))
        );
        assert_eq!(tls_options("postgres://u@h/db"), ("postgres://u@h/db".to_string(), None));
        let disabled = PostgresLocation::new("postgres://u@h/db?sslmode=disable", None, None).expect("valid");
        assert!(disabled.tls.is_none());
        let preferred = PostgresLocation::new("postgres://u@h/db", None, None).expect("valid");
        assert!(preferred.tls.is_some(), "TLS is used when the server offers it");
    }
}
