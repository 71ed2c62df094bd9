//! The registry of providers: every provider Infra knows, built in or in a provider
//! family's own crate, is listed here and nowhere else.
//!
//! The small built-in providers (`exec`, `local`, `null`, `random`, `time`, `tls`) live
//! in this crate, one module each; network providers are crates of their own under
//! `providers/` (`aws` is `infra-provider-aws`, `digitalocean` is
//! `infra-provider-digitalocean`, `linode` is `infra-provider-linode`, `qemu` is
//! `infra-provider-qemu`, `rackspace` is `infra-provider-rackspace`, `ssh` is `infra-provider-ssh`),
//! re-exported here by name. All of them
//! build their schemas with the shared helpers of `infra-provider-kit`.

use infra_compiler::schema::ProviderSchema;

pub use infra_provider_aws as aws;
pub use infra_provider_digitalocean as digitalocean;
pub use infra_provider_linode as linode;
pub use infra_provider_qemu as qemu;
pub use infra_provider_rackspace as rackspace;
pub use infra_provider_ssh as ssh;

pub mod exec;
pub mod local;
pub mod null;
pub mod random;
mod stateless;
pub mod time;
pub mod tls;

/// Every provider's schema.
pub fn all() -> Vec<ProviderSchema> {
    vec![
        aws::schema(),
        digitalocean::schema(),
        exec::schema(),
        linode::schema(),
        local::schema(),
        null::schema(),
        qemu::schema(),
        rackspace::schema(),
        random::schema(),
        ssh::schema(),
        time::schema(),
        tls::schema(),
    ]
}

/// Every provider, ready to configure; in the same order as [`all`].
pub fn factories() -> Vec<std::sync::Arc<dyn infra_runtime::provider::ProviderFactory>> {
    vec![
        aws::factory(),
        digitalocean::factory(),
        exec::factory(),
        linode::factory(),
        local::factory(),
        null::factory(),
        qemu::factory(),
        rackspace::factory(),
        random::factory(),
        ssh::factory(),
        time::factory(),
        tls::factory(),
    ]
}
