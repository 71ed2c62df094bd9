//! Identity v2.0: a token and the service catalog for a password or a Rackspace API key
//! (`RAX-KSKEY:apiKeyCredentials`), and the compute endpoint of the chosen region.
//!
//! Keystone v3 is designed for, not done: the version is read off `auth_url` here, and a
//! v3 exchange would be one more `authenticate` producing the same [`Session`] (a token
//! from the `X-Subject-Token` header, a catalog of `interface`-tagged endpoints). A v3
//! URL is refused with that said, rather than failing on an answer it cannot read.

use infra_runtime::provider::ProviderError;
use serde_json::{json, Value as Json};

use crate::client::{error_message, status_line, Client};

/// What authenticating needs.
pub struct Request<'a> {
    pub auth_url: &'a str,
    pub credentials: &'a Credentials,
    pub tenant_name: Option<&'a str>,
    pub region: Option<&'a str>,
    /// The compute endpoint to use instead of the catalog's (`api_url`).
    pub compute_url: Option<&'a str>,
}

/// The secret a user authenticates with. No `Debug`: it would print the secret.
#[derive(Clone)]
pub enum Credentials {
    Password { username: String, password: String },
    ApiKey { username: String, api_key: String },
}

impl Credentials {
    fn username(&self) -> &str {
        match self {
            Credentials::Password { username, .. } | Credentials::ApiKey { username, .. } => username,
        }
    }

    fn body(&self, tenant_name: Option<&str>) -> Json {
        let mut auth = match self {
            Credentials::Password { username, password } => {
                json!({"passwordCredentials": {"username": username, "password": password}})
            }
            Credentials::ApiKey { username, api_key } => {
                json!({"RAX-KSKEY:apiKeyCredentials": {"username": username, "apiKey": api_key}})
            }
        };
        if let Some(tenant) = tenant_name {
            auth["tenantName"] = Json::String(tenant.to_string());
        }
        json!({ "auth": auth })
    }

    /// The settings that hold this secret, for messages.
    fn settings(&self) -> &'static str {
        match self {
            Credentials::Password { .. } => "`password` (or OS_PASSWORD)",
            Credentials::ApiKey { .. } => "`api_key` (or OS_API_KEY)",
        }
    }
}

/// An authenticated session: the token and the compute endpoint of the region.
#[derive(Clone)]
pub struct Session {
    pub token: String,
    pub compute_url: String,
}

/// Refuses an identity URL of a version this provider does not speak.
pub fn check_version(auth_url: &str) -> Result<(), ProviderError> {
    let path = auth_url.trim_end_matches('/');
    if path.ends_with("/v3") || path.contains("/v3/") {
        return Err(ProviderError::new(format!("`{auth_url}` is a Keystone v3 identity URL"))
            .on_attribute("auth_url")
            .with_help("the rackspace provider speaks identity v2.0: give the service's `/v2.0` URL"));
    }
    Ok(())
}

/// `POST tokens`: the token and the compute endpoint, or an error naming what to fix.
pub async fn authenticate(client: &Client, request: &Request<'_>) -> Result<Session, ProviderError> {
    let url = tokens_url(request.auth_url);
    let answer = client.send("POST", &url, None, Some(&request.credentials.body(request.tenant_name))).await?;
    if answer.status == 401 || answer.status == 403 {
        let user = request.credentials.username();
        return Err(ProviderError::new(format!(
            "Rackspace identity refused the credentials of user `{user}`: {}",
            error_message(&answer.body)
        ))
        .with_help(format!(
            "check `username` (or OS_USERNAME), {} and `tenant_name` (or OS_TENANT_NAME) of `provider rackspace`",
            request.credentials.settings()
        )));
    }
    if answer.status >= 300 {
        return Err(ProviderError::new(format!(
            "Rackspace identity POST {url} failed with {}: {}",
            status_line(answer.status, &answer.body),
            error_message(&answer.body)
        ))
        .with_help("check `auth_url` (or OS_AUTH_URL): it is the identity service's v2.0 URL"));
    }
    session_from(&answer.body, request.region, request.compute_url)
}

/// `.../v2.0` + `/tokens`; a bare host gets `/v2.0` too.
fn tokens_url(auth_url: &str) -> String {
    let base = auth_url.trim_end_matches('/');
    if base.ends_with("/v2.0") {
        format!("{base}/tokens")
    } else {
        format!("{base}/v2.0/tokens")
    }
}

/// The token and the compute endpoint out of an `access` document: `compute_url` when it
/// is given (the catalog is then not consulted, so neither is the region), else the
/// catalog's endpoint in `region` (the user's default region when `None`).
fn session_from(body: &Json, region: Option<&str>, compute_url: Option<&str>) -> Result<Session, ProviderError> {
    let access = &body["access"];
    let unreadable = || ProviderError::new("Rackspace identity answered without a token").with_help("check `auth_url`");
    let token = access["token"]["id"].as_str().ok_or_else(unreadable)?.to_string();
    if let Some(url) = compute_url {
        return Ok(Session { token, compute_url: url.trim_end_matches('/').to_string() });
    }
    let default_region = access["user"]["RAX-AUTH:defaultRegion"].as_str().filter(|r| !r.is_empty());
    let region = region.or(default_region).ok_or_else(|| {
        ProviderError::new("no Rackspace region set and the account has no default region")
            .on_attribute("region")
            .with_help("set `region` in `provider rackspace`, or OS_REGION_NAME")
    })?;
    let endpoints = compute_endpoints(&access["serviceCatalog"]);
    let found = endpoints.iter().find(|(r, _)| r.eq_ignore_ascii_case(region));
    let Some((_, url)) = found else {
        let mut regions: Vec<String> = endpoints.iter().map(|(r, _)| format!("`{r}`")).collect();
        regions.sort();
        return Err(ProviderError::new(format!("the service catalog has no compute endpoint in region `{region}`"))
            .on_attribute("region")
            .with_help(format!("the catalog's compute regions are {}", regions.join(", "))));
    };
    Ok(Session { token, compute_url: url.trim_end_matches('/').to_string() })
}

/// The compute endpoints (region, public URL) of the catalog: Rackspace's
/// `cloudServersOpenStack` when the catalog has it, else the first service of type
/// `compute` (Mimic, like Rackspace, also lists control services of that type).
fn compute_endpoints(catalog: &Json) -> Vec<(String, String)> {
    let services = catalog.as_array().cloned().unwrap_or_default();
    let compute: Vec<&Json> = services.iter().filter(|s| s["type"] == "compute").collect();
    let chosen = compute.iter().find(|s| s["name"] == "cloudServersOpenStack").or_else(|| compute.first());
    let endpoints = chosen.and_then(|s| s["endpoints"].as_array().cloned()).unwrap_or_default();
    endpoints
        .iter()
        .filter_map(|e| Some((e["region"].as_str()?.to_string(), e["publicURL"].as_str()?.to_string())))
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_tokens_url_is_found_from_any_form_of_the_auth_url() {
        assert_eq!(tokens_url("http://h/identity/v2.0"), "http://h/identity/v2.0/tokens");
        assert_eq!(tokens_url("http://h/v2.0/"), "http://h/v2.0/tokens");
        assert_eq!(tokens_url("http://h"), "http://h/v2.0/tokens");
        assert!(check_version("http://h/v3/").is_err());
        assert!(check_version("http://h/v2.0").is_ok());
    }

    #[test]
    fn credentials_are_sent_in_the_form_of_their_kind() {
        let key = Credentials::ApiKey { username: "u".into(), api_key: "k".into() };
        assert_eq!(
            key.body(Some("t")),
            json!({"auth": {"RAX-KSKEY:apiKeyCredentials": {"username": "u", "apiKey": "k"}, "tenantName": "t"}})
        );
        let password = Credentials::Password { username: "u".into(), password: "p".into() };
        assert_eq!(password.body(None), json!({"auth": {"passwordCredentials": {"username": "u", "password": "p"}}}));
    }

    fn access(default_region: &str) -> Json {
        json!({"access": {
        "token": {"id": "tok"},
        "user": {"RAX-AUTH:defaultRegion": default_region},
        "serviceCatalog": [
            {"name": "cloudServersBehavior", "type": "compute",
             "endpoints": [{"region": "ORD", "publicURL": "http://h/control/ORD"}]},
            {"name": "cloudServersOpenStack", "type": "compute", "endpoints": [
                {"region": "ORD", "publicURL": "http://h/nova/ORD/v2/t"},
                {"region": "DFW", "publicURL": "http://h/nova/DFW/v2/t/"}]},
        ]}})
    }

    #[test]
    fn the_compute_endpoint_of_the_region_is_taken_from_the_catalog() {
        let session = session_from(&access("DFW"), Some("ord"), None).unwrap_or_else(|e| panic!("session: {e:?}"));
        assert_eq!((session.token.as_str(), session.compute_url.as_str()), ("tok", "http://h/nova/ORD/v2/t"));
        let default = session_from(&access("DFW"), None, None).unwrap_or_else(|e| panic!("session: {e:?}"));
        assert_eq!(default.compute_url, "http://h/nova/DFW/v2/t");
        let missing = session_from(&access("DFW"), Some("LON"), None).err().expect("an error");
        assert_eq!(missing.message, "the service catalog has no compute endpoint in region `LON`");
        assert_eq!(missing.help.as_deref(), Some("the catalog's compute regions are `DFW`, `ORD`"));
        assert!(session_from(&access(""), None, None).is_err());
    }

    #[test]
    fn an_endpoint_override_wins_over_the_catalog_and_its_regions() {
        let session = session_from(&access("DFW"), Some("LON"), Some("http://elsewhere/v2/t/"))
            .unwrap_or_else(|e| panic!("session: {e:?}"));
        assert_eq!((session.token.as_str(), session.compute_url.as_str()), ("tok", "http://elsewhere/v2/t"));
    }
}
