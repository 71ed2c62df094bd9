//! The `qemu` provider: disk images made with `qemu-img`, cloud-init seeds written in
//! Rust and virtual machines run by QEMU, on this machine, with no daemon and no root.
//! docs/providers/qemu.md is the reference for users.
//!
//! `lib.rs` declares the schema and dispatches each operation to one module per kind
//! (`disk.rs`, `cloudinit.rs`, `vm.rs`, the data source `cloudinit_config.rs`); `tool.rs` runs
//! QEMU's command-line tools and turns their failures into errors; `seed.rs` writes the
//! NoCloud volume; `qmp.rs` talks to a running VM; `network.rs` turns a VM's `network`
//! blocks into QEMU's options; `accel.rs` proves KVM works before a VM uses it.

use std::path::{Path, PathBuf};
use std::sync::Arc;

use infra_compiler::schema::{AttributeSchema, ProviderSchema, Schema, Validator};
use infra_compiler::types::Type;
use infra_runtime::provider::{
    Attributes, CreateProgress, Provider, ProviderContext, ProviderError, ProviderFactory, ProviderResult, ReadResult,
};
use infra_runtime::Value;

use infra_provider_kit::{attribute, resource_schema, unknown_kind, Stop};

mod accel;
mod cloudinit;
mod cloudinit_config;
mod disk;
mod network;
mod qmp;
mod seed;
mod tool;
mod vm;

fn string(name: &str, description: &str) -> AttributeSchema {
    AttributeSchema::optional(name, Type::String, description)
}

fn one_of(values: &[&str]) -> Validator {
    Validator::OneOf(values.iter().map(|v| v.to_string()).collect())
}

pub fn schema() -> ProviderSchema {
    infra_provider_kit::provider(
        "qemu",
        "Virtual machines on this machine with QEMU: disk images and cloud-init seeds, no daemon and no root.",
        vec![("cloudinit", cloudinit::schema()), ("disk", disk::schema()), ("vm", vm::schema())],
        vec![("cloudinit_config", cloudinit_config::schema())],
    )
}

/// The `qemu` provider type.
pub fn factory() -> Arc<dyn ProviderFactory> {
    Arc::new(QemuFactory { schema: schema() })
}

struct QemuFactory {
    schema: ProviderSchema,
}

impl ProviderFactory for QemuFactory {
    fn name(&self) -> &str {
        "qemu"
    }

    fn schema(&self) -> &ProviderSchema {
        &self.schema
    }

    fn configure(&self, _config: &Attributes, context: &ProviderContext) -> ProviderResult<Arc<dyn Provider>> {
        Ok(Arc::new(Qemu { schema: self.schema.clone(), module_dir: context.module_dir.clone(), stop: Stop::new() }))
    }
}

/// A configured provider: relative paths start at the root module's directory.
pub(crate) struct Qemu {
    schema: ProviderSchema,
    module_dir: PathBuf,
    /// Set when the run is interrupted (`Provider::stop`): a wait for a guest to boot
    /// ends at once, and a `qemu-img` making an image is killed.
    pub(crate) stop: Stop,
}

impl Qemu {
    /// `path` on this machine: relative paths start at the root module's directory.
    pub(crate) fn resolve(&self, path: &str) -> PathBuf {
        resolve(&self.module_dir, path)
    }
}

pub(crate) fn resolve(module_dir: &Path, path: &str) -> PathBuf {
    let path = Path::new(path);
    if path.is_absolute() {
        path.to_path_buf()
    } else {
        module_dir.join(path)
    }
}

/// `attributes` with every attribute of `schema` present (null when unset).
pub(crate) fn complete(schema: &Schema, mut attributes: Attributes) -> Attributes {
    for a in &schema.attributes {
        attributes.entry(a.name.clone()).or_insert_with(Value::null);
    }
    attributes
}

/// A string attribute that must be set.
pub(crate) fn required_text(attributes: &Attributes, name: &str) -> ProviderResult<String> {
    attribute(attributes, name)
        .as_str()
        .map(str::to_string)
        .ok_or_else(|| ProviderError::new(format!("`{name}` is not set")).on_attribute(name))
}

#[async_trait::async_trait]
impl Provider for Qemu {
    fn validate(&self, kind: &str, config: &Attributes) -> Vec<ProviderError> {
        match kind {
            "disk" => disk::validate(config),
            "cloudinit" => cloudinit::validate(config),
            "vm" => vm::validate(config),
            _ => vec![unknown_kind(&self.schema, kind)],
        }
    }

    fn plan(&self, kind: &str, prior: Option<&Attributes>, config: &Attributes) -> ProviderResult<Attributes> {
        if let Some(error) = self.validate(kind, config).into_iter().next() {
            return Err(error);
        }
        let schema = resource_schema(&self.schema, kind)?;
        match kind {
            "disk" => disk::plan(schema, prior, config),
            "vm" => vm::plan(schema, prior, config),
            _ => cloudinit::plan(schema, prior, config),
        }
    }

    /// [`Provider::plan_replacing`], then what planning needs a tool for: a new disk's
    /// `size` is checked against its `source` with `qemu-img info`.
    async fn plan_async(
        &self,
        kind: &str,
        prior: Option<&Attributes>,
        config: &Attributes,
    ) -> ProviderResult<(Attributes, Vec<String>)> {
        let planned = self.plan_replacing(kind, prior, config)?;
        if kind == "disk" && prior.is_none() {
            disk::check_source_when_planning(self, config).await?;
        }
        Ok(planned)
    }

    async fn create(&self, kind: &str, planned: &Attributes) -> ProviderResult<Attributes> {
        self.create_reporting(kind, planned, &CreateProgress::ignored()).await
    }

    /// A VM is reported as soon as its QEMU runs, before the wait for its guest to boot:
    /// if Infra stops meanwhile, the next plan reads the VM (and its next start waits
    /// again) instead of planning a create. A disk is reported once `qemu-img` has
    /// written it, before a copy is grown to its `size`.
    async fn create_reporting(
        &self,
        kind: &str,
        planned: &Attributes,
        progress: &CreateProgress,
    ) -> ProviderResult<Attributes> {
        let schema = resource_schema(&self.schema, kind)?;
        let created = match kind {
            "disk" => disk::create(self, planned, progress).await?,
            "vm" => vm::create(self, planned, progress).await?,
            _ => cloudinit::create(self, planned).await?,
        };
        Ok(complete(schema, created))
    }

    async fn read(&self, kind: &str, current: &Attributes) -> ProviderResult<ReadResult> {
        let schema = resource_schema(&self.schema, kind)?;
        let found = match kind {
            "disk" => disk::read(self, current).await?,
            "vm" => vm::read(self, current).await?,
            _ => cloudinit::read(self, current).await?,
        };
        Ok(found.map_or(ReadResult::Gone, |found| ReadResult::Found(complete(schema, found))))
    }

    async fn update(&self, kind: &str, prior: &Attributes, planned: &Attributes) -> ProviderResult<Attributes> {
        let schema = resource_schema(&self.schema, kind)?;
        let updated = match kind {
            "disk" => disk::update(self, prior, planned).await?,
            "vm" => vm::update(self, prior, planned).await?,
            _ => cloudinit::update(self, planned).await?,
        };
        Ok(complete(schema, updated))
    }

    async fn delete(&self, kind: &str, current: &Attributes) -> ProviderResult<()> {
        resource_schema(&self.schema, kind)?;
        match kind {
            "disk" => disk::delete(self, current).await,
            "vm" => vm::delete(self, current).await,
            _ => cloudinit::delete(self, current).await,
        }
    }

    /// Disks are imported by path; a seed's content cannot be told from its file, and a
    /// VM's settings from its process, so they are made again instead.
    async fn import(&self, kind: &str, id: &str) -> ProviderResult<Attributes> {
        let schema = resource_schema(&self.schema, kind)?;
        match kind {
            "disk" => Ok(complete(schema, disk::import(self, id).await?)),
            _ => Err(ProviderError::new(format!("`qemu.{kind}` cannot be imported"))
                .with_help("remove what is there and let Infra make it")),
        }
    }

    async fn read_data(&self, kind: &str, config: &Attributes) -> ProviderResult<Attributes> {
        let schema = self.schema.data_sources.get(kind).ok_or_else(|| {
            ProviderError::new(format!("the `qemu` provider has no data source `{kind}`"))
                .with_help("its data source is `qemu.cloudinit_config`")
        })?;
        Ok(complete(schema, cloudinit_config::read(config)?))
    }

    /// Ends a wait for a guest to boot (`wait_for = "ssh"`) at once, as an error; the VM
    /// was reported before its wait, so it is not lost. A `qemu-img` making a disk (a
    /// copy of `source` can take minutes) is killed and its partial file removed; the
    /// disk was not reported, so nothing is recorded. A VM being stopped is still waited
    /// for (see `vm::stop_within`).
    fn stop(&self) {
        self.stop.stop();
    }
}
