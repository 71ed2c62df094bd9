//! Terraform provider plugins in Infra. A configuration declares a plugin with
//! `plugin NAME { source = "...", version = "..." }` (checked by the compiler,
//! `infra_compiler::plugin`); this crate installs it and starts to run it.
//!
//! - `source.rs`: where packages come from (`PackageSource`; a filesystem mirror today).
//! - `hash.rs`: Terraform's `h1:` package hash.
//! - `lock.rs`: the lock file, `.infra.lock`.
//! - `install.rs`: `infra init`: choosing versions, installing, verifying, locking.
//! - `handshake.rs`: starting a plugin and reading its go-plugin handshake, the first
//!   step of hosting one, with a client certificate for automatic mutual TLS (the gRPC
//!   connection and the schema cache come next).
//! - `codes.rs`: this crate's diagnostic codes (E0910 on).

pub mod codes;
pub mod handshake;
pub mod hash;
pub mod install;
pub mod lock;
pub mod source;

pub use install::{init, InitOptions, Installed, Origin};
pub use lock::LockFile;
pub use source::{current_platform, FilesystemMirror, PackageSource};
