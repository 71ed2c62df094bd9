//! Terraform's provider network mirror protocol: `GET BASE/HOSTNAME/NAMESPACE/TYPE/index.json`
//! lists the versions (`{"versions": {"2.0.0": {}}}`), and
//! `GET BASE/HOSTNAME/NAMESPACE/TYPE/VERSION.json` the archive of each platform
//! (`{"archives": {"linux_amd64": {"url": "...", "hashes": ["h1:...", "zh:..."]}}}`), its
//! `url` relative to that document. A download is checked against the hashes the mirror
//! lists before it is used: the archive's `zh:` and its files' `h1:`, either matching.
//!
//! Terraform asks for `https:` here; Infra also takes `http:`, for a mirror on a trusted
//! network or on loopback (the hashes are checked all the same, and the lock file pins
//! them).

use std::collections::BTreeMap;
use std::io::Cursor;
use std::path::Path;
use std::sync::Mutex;

use infra_compiler::plugin::{SourceAddress, Version};
use reqwest::Url;
use serde::Deserialize;

use crate::archive::{sha256_hex, unzip};
use crate::codes;
use crate::hash::hash1;
use crate::http::{failed, redact, Http};
use crate::source::{PackageSource, SourceError, ZipHashes};

/// A network mirror at `base`.
pub struct NetworkMirror {
    base: Url,
    http: Http,
    /// `VERSION.json` documents already fetched, by their URL.
    documents: Mutex<BTreeMap<String, VersionDocument>>,
}

#[derive(Deserialize)]
struct Index {
    versions: BTreeMap<String, serde_json::Value>,
}

#[derive(Clone, Deserialize)]
struct VersionDocument {
    archives: BTreeMap<String, Archive>,
}

#[derive(Clone, Deserialize)]
struct Archive {
    url: String,
    #[serde(default)]
    hashes: Vec<String>,
}

impl NetworkMirror {
    /// The mirror at `base` (`https://mirror.example/providers/`); an error when it is not
    /// an `http:` or `https:` URL.
    pub fn new(base: &str) -> Result<NetworkMirror, SourceError> {
        let mut base = Url::parse(base).map_err(|e| failed(format!("`{base}` is not a mirror URL: {e}")))?;
        if !matches!(base.scheme(), "http" | "https") {
            return Err(failed(format!("`{}` is not an http: or https: URL", redact(&base))));
        }
        // Relative references resolve against a directory only with its final slash.
        if !base.path().ends_with('/') {
            base.set_path(&format!("{}/", base.path()));
        }
        Ok(NetworkMirror { base, http: Http::new()?, documents: Mutex::new(BTreeMap::new()) })
    }

    fn provider_url(&self, address: &SourceAddress, file: &str) -> Result<Url, SourceError> {
        let path = format!("{}/{}/{}/{file}", address.hostname, address.namespace, address.type_name);
        self.base.join(&path).map_err(|e| failed(format!("cannot make a URL of {path}: {e}")))
    }

    /// `VERSION.json` and its URL; `None` when the mirror does not have the version.
    fn document(
        &self,
        address: &SourceAddress,
        version: &Version,
    ) -> Result<Option<(Url, VersionDocument)>, SourceError> {
        let url = self.provider_url(address, &format!("{version}.json"))?;
        let key = url.to_string();
        if let Some(document) = self.documents.lock().ok().and_then(|d| d.get(&key).cloned()) {
            return Ok(Some((url, document)));
        }
        let Some(document) = self.http.get_json::<VersionDocument>(&url)? else { return Ok(None) };
        if let Ok(mut documents) = self.documents.lock() {
            documents.insert(key, document.clone());
        }
        Ok(Some((url, document)))
    }
}

impl PackageSource for NetworkMirror {
    fn describe(&self) -> String {
        format!("the network mirror at {}", redact(&self.base))
    }

    fn versions(&self, address: &SourceAddress) -> Result<Vec<Version>, SourceError> {
        let url = self.provider_url(address, "index.json")?;
        let Some(index) = self.http.get_json::<Index>(&url)? else { return Ok(Vec::new()) };
        Ok(index.versions.keys().filter_map(|v| Version::parse(v).ok()).collect())
    }

    fn platforms(&self, address: &SourceAddress, version: &Version) -> Result<Vec<String>, SourceError> {
        let document = self.document(address, version)?;
        Ok(document.map(|(_, d)| d.archives.into_keys().collect()).unwrap_or_default())
    }

    fn unpacked(&self, _: &SourceAddress, _: &Version, _: &str) -> Option<std::path::PathBuf> {
        None
    }

    fn unpack(
        &self,
        address: &SourceAddress,
        version: &Version,
        platform: &str,
        into: &Path,
    ) -> Result<ZipHashes, SourceError> {
        let not_here = || failed(format!("{} lists no {address} {version} for {platform}", self.describe()));
        let (document_url, document) = self.document(address, version)?.ok_or_else(not_here)?;
        let archive = document.archives.get(platform).ok_or_else(not_here)?;
        let url = document_url.join(&archive.url).map_err(|e| {
            failed(format!("{} lists the URL `{}`, which is not one: {e}", self.describe(), archive.url))
        })?;
        let bytes = self.http.get_found(&url)?;
        let zip_hash = format!("zh:{}", sha256_hex(&bytes));
        unzip(Cursor::new(bytes), into)?;
        let h1 = hash1(into)?;
        let listed = &archive.hashes;
        if !listed.is_empty() && !listed.iter().any(|h| *h == zip_hash || *h == h1) {
            return Err(SourceError::refused(
                codes::CHECKSUM_MISMATCH,
                format!(
                    "the download of {address} {version} for {platform} from {} has none of the hashes the mirror lists",
                    self.describe()
                ),
                format!(
                    "nothing was installed. The mirror lists {}; the download from {} has {zip_hash} and {h1}",
                    listed.join(", "),
                    redact(&url)
                ),
            ));
        }
        Ok(ZipHashes::from([(platform.to_string(), zip_hash)]))
    }
}
