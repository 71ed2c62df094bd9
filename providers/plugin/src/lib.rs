//! Terraform provider plugins in Infra. A configuration declares a plugin with
//! `plugin NAME { source = "...", version = "..." }` (checked by the compiler,
//! `infra_compiler::plugin`); this crate installs it and starts to run it.
//!
//! - `source.rs`: where packages come from (`PackageSource`), and filesystem mirrors,
//!   unpacked and packed.
//! - `archive.rs`: zip archives: unpacking, and their `zh:` hash.
//! - `http.rs`: the HTTP client of mirrors and registries (trusting `SSL_CERT_FILE` too).
//! - `network.rs`: Terraform's provider network mirror protocol.
//! - `registry.rs`: the provider registry protocol with service discovery, checking
//!   downloads against the registry's signed `SHA256SUMS`.
//! - `signature.rs`: the OpenPGP signature of `SHA256SUMS`, verified with the registry's
//!   keys.
//! - `hash.rs`: Terraform's `h1:` package hash.
//! - `lock.rs`: the lock file, `.infra.lock`.
//! - `declared.rs`: whether each `plugin` declaration is still what the lock file and
//!   the installed plugins are (for `check`, `plan` and `apply`).
//! - `install.rs`: `infra init`: choosing versions, installing, verifying, locking.
//! - `handshake.rs`: starting a plugin and reading its go-plugin handshake, with a
//!   client certificate for automatic mutual TLS.
//! - `logs.rs`: a plugin's log: the level it is started with, private, bounded.
//! - `protocol.rs`: the plugin protocol's messages and gRPC clients (versions 6 and 5),
//!   generated from `proto/*.proto` and committed.
//! - `client.rs`: the gRPC connection over TLS to a started plugin, and its calls.
//! - `host.rs`: a plugin as an Infra runtime provider: one process per provider
//!   configuration, its calls on a thread of their own.
//! - `lifecycle.rs`: the calls of a resource's and a data source's lifecycle (plan, apply,
//!   read, import, state upgrade), in both protocol versions.
//! - `functions.rs`: the functions plugins define, callable as `NAME::FUNCTION(...)`.
//! - `proposed.rs`: Terraform's proposed new state, which a plan sends the plugin.
//! - `schema.rs`: a plugin's schema as the protocol gives it, its cache beside the lock
//!   file (`.infra/plugins/schemas.json`), and its translation to Infra's provider schema.
//! - `schemas.rs`: cached plugin schemas layered over the built-in ones for the checker.
//! - `values.rs`: values as MessagePack by the schema (`DynamicValue`), with unknowns.
//! - `convert.rs`: runtime values and `PluginValue`s, one into the other, by the schema,
//!   with the schema's sensitive marks.
//! - `codes.rs`: this crate's diagnostic codes (E0910 on).

pub mod archive;
pub mod client;
pub mod codes;
pub mod convert;
pub mod declared;
pub mod functions;
pub mod handshake;
pub mod hash;
pub mod host;
pub mod http;
pub mod install;
pub mod lifecycle;
pub mod lock;
pub mod logs;
pub mod network;
pub mod proposed;
pub mod protocol;
pub mod registry;
pub mod schema;
pub mod schemas;
pub mod signature;
pub mod source;
pub mod values;

pub use install::{init, InitOptions, Installed, Origin};
pub use lock::LockFile;
pub use network::NetworkMirror;
pub use registry::Registry;
pub use source::{current_platform, FilesystemMirror, PackageSource, SourceError};
