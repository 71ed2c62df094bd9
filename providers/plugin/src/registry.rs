//! Terraform's provider registry protocol, with service discovery, as
//! `registry.terraform.io` and `registry.opentofu.org` speak it:
//!
//! 1. `GET https://HOST/.well-known/terraform.json` → `{"providers.v1": "/v1/providers/"}`;
//! 2. `GET …/NAMESPACE/TYPE/versions` → each version with its plugin protocols and
//!    platforms (versions for protocols other than 5 and 6 are passed over);
//! 3. `GET …/NAMESPACE/TYPE/VERSION/download/OS/ARCH` → the archive's `download_url`,
//!    its `shasum`, `shasums_url`, `shasums_signature_url` and
//!    `signing_keys.gpg_public_keys`.
//!
//! Before anything is unpacked: the signature of `SHA256SUMS` must verify with a key the
//! registry named (`signature.rs`, E0917), the archive's line in it must be the `shasum`,
//! and the download must hash to it (E0916). Every archive `SHA256SUMS` lists for the
//! version is reported as a `zh:` hash, so the lock file verifies the other platforms
//! too, as Terraform's does. Registries are reached over HTTPS only, as in Terraform.

use std::collections::BTreeMap;
use std::io::Cursor;
use std::path::{Path, PathBuf};
use std::sync::Mutex;

use infra_compiler::plugin::{SourceAddress, Version};
use reqwest::Url;
use serde::Deserialize;

use crate::archive::{sha256_hex, unzip};
use crate::codes;
use crate::http::{failed, redact, Http};
use crate::signature;
use crate::source::{parse_archive_name, PackageSource, SourceError, ZipHashes};

/// The registry each source address names (its hostname), asked directly.
pub struct Registry {
    http: Http,
    /// `providers.v1` by hostname, once discovered.
    services: Mutex<BTreeMap<String, Url>>,
    /// The versions of each provider, by source address.
    versions: Mutex<BTreeMap<String, Vec<RegistryVersion>>>,
}

#[derive(Deserialize)]
struct Discovery {
    #[serde(rename = "providers.v1")]
    providers: Option<String>,
}

#[derive(Deserialize)]
struct Versions {
    versions: Vec<RegistryVersion>,
}

#[derive(Clone, Deserialize)]
struct RegistryVersion {
    version: String,
    #[serde(default)]
    protocols: Vec<String>,
    #[serde(default)]
    platforms: Vec<Platform>,
}

#[derive(Clone, Deserialize)]
struct Platform {
    os: String,
    arch: String,
}

#[derive(Deserialize)]
struct Download {
    filename: String,
    download_url: String,
    shasum: String,
    shasums_url: String,
    shasums_signature_url: String,
    signing_keys: SigningKeys,
}

#[derive(Deserialize)]
struct SigningKeys {
    #[serde(default)]
    gpg_public_keys: Vec<GpgKey>,
}

#[derive(Deserialize)]
struct GpgKey {
    ascii_armor: String,
}

impl Registry {
    pub fn new() -> Result<Registry, SourceError> {
        Ok(Registry { http: Http::new()?, services: Mutex::default(), versions: Mutex::default() })
    }

    /// The `providers.v1` base URL of `hostname`, discovered once.
    fn service(&self, hostname: &str) -> Result<Url, SourceError> {
        if let Some(url) = self.services.lock().ok().and_then(|s| s.get(hostname).cloned()) {
            return Ok(url);
        }
        let discovery = Url::parse(&format!("https://{hostname}/.well-known/terraform.json"))
            .map_err(|e| failed(format!("`{hostname}` is not a registry hostname: {e}")))?;
        let document = self.http.get_json::<Discovery>(&discovery)?;
        let providers = document.and_then(|d| d.providers).ok_or_else(|| {
            failed(format!("{hostname} is not a provider registry: its service discovery has no `providers.v1`"))
        })?;
        let mut url = discovery
            .join(&providers)
            .map_err(|e| failed(format!("{hostname}'s `providers.v1` (`{providers}`) is not a URL: {e}")))?;
        if url.scheme() != "https" {
            return Err(failed(format!("{hostname}'s `providers.v1` is {}, not an https: URL", redact(&url))));
        }
        if !url.path().ends_with('/') {
            url.set_path(&format!("{}/", url.path()));
        }
        if let Ok(mut services) = self.services.lock() {
            services.insert(hostname.to_string(), url.clone());
        }
        Ok(url)
    }

    fn provider_url(&self, address: &SourceAddress, rest: &str) -> Result<Url, SourceError> {
        let path = format!("{}/{}/{rest}", address.namespace, address.type_name);
        self.service(&address.hostname)?.join(&path).map_err(|e| failed(format!("cannot make a URL of {path}: {e}")))
    }

    fn registry_versions(&self, address: &SourceAddress) -> Result<Vec<RegistryVersion>, SourceError> {
        let key = address.to_string();
        if let Some(versions) = self.versions.lock().ok().and_then(|v| v.get(&key).cloned()) {
            return Ok(versions);
        }
        let url = self.provider_url(address, "versions")?;
        let versions = self.http.get_json::<Versions>(&url)?.map(|v| v.versions).unwrap_or_default();
        let usable: Vec<RegistryVersion> = versions.into_iter().filter(speaks_a_supported_protocol).collect();
        if let Ok(mut cache) = self.versions.lock() {
            cache.insert(key, usable.clone());
        }
        Ok(usable)
    }

    /// The signed `SHA256SUMS` of a download, verified; its lines as (file name, digest).
    fn verified_sums(&self, download: &Download, base: &Url) -> Result<Vec<(String, String)>, SourceError> {
        let sums_url = join(base, &download.shasums_url)?;
        let signature_url = join(base, &download.shasums_signature_url)?;
        let sums = self.http.get_found(&sums_url)?;
        let signature = self.http.get_found(&signature_url)?;
        let keys: Vec<String> = download.signing_keys.gpg_public_keys.iter().map(|k| k.ascii_armor.clone()).collect();
        signature::verify(&sums, &signature, &keys).map_err(|reason| {
            SourceError::refused(
                codes::SIGNATURE_INVALID,
                format!("the checksums of {} cannot be trusted: {reason}", download.filename),
                format!(
                    "nothing was installed. {} was checked with its signature {} and the keys the registry named",
                    redact(&sums_url),
                    redact(&signature_url)
                ),
            )
        })?;
        Ok(parse_sums(&String::from_utf8_lossy(&sums)))
    }
}

/// Protocol 5 or 6 (`"5.0"`, `"6.1"`), or none listed.
fn speaks_a_supported_protocol(version: &RegistryVersion) -> bool {
    let major = |p: &String| p.split('.').next().unwrap_or("").to_string();
    version.protocols.is_empty() || version.protocols.iter().any(|p| matches!(major(p).as_str(), "5" | "6"))
}

/// `SHA256SUMS` lines, `HEX  FILENAME` (a `*` before binary-mode names).
fn parse_sums(text: &str) -> Vec<(String, String)> {
    let mut sums = Vec::new();
    for line in text.lines() {
        if let Some((digest, name)) = line.split_once(char::is_whitespace) {
            let name = name.trim_start().trim_start_matches('*');
            sums.push((name.to_string(), digest.to_ascii_lowercase()));
        }
    }
    sums
}

fn join(base: &Url, reference: &str) -> Result<Url, SourceError> {
    base.join(reference).map_err(|e| failed(format!("the registry names `{reference}`, which is not a URL: {e}")))
}

impl PackageSource for Registry {
    fn describe(&self) -> String {
        // One source serves every hostname; the address beside it in messages names it.
        "its registry".to_string()
    }

    fn versions(&self, address: &SourceAddress) -> Result<Vec<Version>, SourceError> {
        let versions = self.registry_versions(address)?;
        Ok(versions.iter().filter_map(|v| Version::parse(&v.version).ok()).collect())
    }

    fn platforms(&self, address: &SourceAddress, version: &Version) -> Result<Vec<String>, SourceError> {
        let versions = self.registry_versions(address)?;
        let listed = versions.iter().find(|v| Version::parse(&v.version).is_ok_and(|v| v == *version));
        let mut platforms: Vec<String> =
            listed.map(|v| v.platforms.iter().map(|p| format!("{}_{}", p.os, p.arch)).collect()).unwrap_or_default();
        platforms.sort();
        Ok(platforms)
    }

    fn unpacked(&self, _: &SourceAddress, _: &Version, _: &str) -> Option<PathBuf> {
        None
    }

    fn unpack(
        &self,
        address: &SourceAddress,
        version: &Version,
        platform: &str,
        into: &Path,
    ) -> Result<ZipHashes, SourceError> {
        let (os, arch) = platform.split_once('_').unwrap_or((platform, ""));
        let url = self.provider_url(address, &format!("{version}/download/{os}/{arch}"))?;
        let download = self
            .http
            .get_json::<Download>(&url)?
            .ok_or_else(|| failed(format!("{} has no {address} {version} for {platform}", address.hostname)))?;
        let sums = self.verified_sums(&download, &url)?;
        let shasum = download.shasum.to_ascii_lowercase();
        check_listed(&sums, &download.filename, &shasum)?;
        let archive_url = join(&url, &download.download_url)?;
        let bytes = self.http.get_found(&archive_url)?;
        let digest = sha256_hex(&bytes);
        if digest != shasum {
            return Err(checksum_mismatch(format!(
                "the download of {address} {version} for {platform} ({}) has the SHA-256 {digest}, not the registry's {shasum}",
                redact(&archive_url)
            )));
        }
        unzip(Cursor::new(bytes), into)?;
        Ok(listed_zip_hashes(&sums, address, version))
    }
}

/// The archive's line in the signed `SHA256SUMS` must be the registry's `shasum`.
fn check_listed(sums: &[(String, String)], filename: &str, shasum: &str) -> Result<(), SourceError> {
    match sums.iter().find(|(name, _)| name == filename) {
        Some((_, digest)) if digest == shasum => Ok(()),
        Some((_, digest)) => Err(checksum_mismatch(format!(
            "the registry's shasum of {filename} is {shasum}, but its signed SHA256SUMS says {digest}"
        ))),
        None => Err(checksum_mismatch(format!("the registry's signed SHA256SUMS has no line for {filename}"))),
    }
}

/// The `zh:` hash of every archive of `version` that `SHA256SUMS` lists, by platform.
fn listed_zip_hashes(sums: &[(String, String)], address: &SourceAddress, version: &Version) -> ZipHashes {
    let mut hashes = ZipHashes::new();
    for (name, digest) in sums {
        if let Some((listed, platform)) = parse_archive_name(&address.type_name, name) {
            if listed == *version {
                hashes.insert(platform, format!("zh:{digest}"));
            }
        }
    }
    hashes
}

fn checksum_mismatch(message: String) -> SourceError {
    SourceError::refused(
        codes::CHECKSUM_MISMATCH,
        message,
        "nothing was installed; run `infra init` again, and if it persists, report it to the registry",
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sha256sums_lines_are_name_and_digest() {
        let text =
            "AB12  terraform-provider-x_1.0.0_linux_amd64.zip\ncd34 *terraform-provider-x_1.0.0_darwin_arm64.zip\n";
        assert_eq!(
            parse_sums(text),
            [
                ("terraform-provider-x_1.0.0_linux_amd64.zip".to_string(), "ab12".to_string()),
                ("terraform-provider-x_1.0.0_darwin_arm64.zip".to_string(), "cd34".to_string()),
            ]
        );
    }
}
