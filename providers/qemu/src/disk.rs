//! `qemu.disk`: a disk image made with `qemu-img`: empty, a copy-on-write overlay of a
//! base image, or a copy of a source image; grown in place, never shrunk.

use std::ffi::OsString;
use std::path::{Path, PathBuf};

use infra_compiler::schema::{AttributeSchema, Schema, Validator};
use infra_compiler::types::Type;
use infra_provider_kit::{attribute, kind, known, plan_attributes, Stopped};
use infra_runtime::provider::{Attributes, CreateProgress, ProviderError, ProviderResult};
use infra_runtime::Value;
use serde_json::Value as Json;

use crate::tool::{run, run_unless_stopped};
use crate::{one_of, required_text, string, Qemu};

const QEMU_IMG: &str = "qemu-img";

pub fn schema() -> Schema {
    kind(
        "A disk image made with `qemu-img`: empty, a copy-on-write overlay of `base`, or a copy of `source`.",
        "The image's path, as configured.",
        vec![
            AttributeSchema::required(
                "path",
                Type::String,
                "The image file, relative to the root module's directory; changing it replaces the image.",
            )
            .force_new(),
            string("format", "The image format: \"qcow2\" (the default) or \"raw\"; changing it replaces the image.")
                .force_new()
                .validate(one_of(&["qcow2", "raw"])),
            string(
                "size",
                "The virtual size as `qemu-img` takes it, such as \"512M\" or \"10G\"; left out, the size of `base` or \
                 `source`. A larger size grows the image in place; a smaller one is refused.",
            )
            .also_computed()
            .validate(Validator::Regex {
                pattern: SIZE_PATTERN.to_string(),
                description: "a size such as \"512M\", \"10G\" or a number of bytes".to_string(),
            }),
            string(
                "base",
                "A backing image: this image is a copy-on-write overlay that records only what differs from it, so many \
                 images can share one base. The base must not change while overlays use it. Needs `format = \"qcow2\"`.",
            )
            .force_new(),
            string("source", "An image to copy (converting it to `format`) when the image is made.").force_new(),
            AttributeSchema::computed("virtual_size", Type::Number, "The virtual size in bytes."),
            AttributeSchema::computed(
                "actual_size",
                Type::Number,
                "The bytes the image takes on disk now (an overlay or a sparse image grows as the guest writes).",
            ),
            AttributeSchema::computed(
                "sha256",
                Type::String,
                "The SHA-256 of `source` when the image was made, in hex; null without `source`.",
            ),
        ],
    )
}

const SIZE_PATTERN: &str = "^[0-9]+[kKMGTP]?$";

/// A size as `qemu-img` takes it ("512M", "10G", "1048576"), in bytes, rounded up to
/// whole 512-byte sectors as `qemu-img` rounds it.
pub fn size_in_bytes(size: &str) -> Option<u64> {
    let (digits, unit) = match size.char_indices().last()? {
        (i, c) if c.is_ascii_alphabetic() => (&size[..i], c.to_ascii_uppercase()),
        _ => (size, 'B'),
    };
    let shift = match unit {
        'B' => 0,
        'K' => 10,
        'M' => 20,
        'G' => 30,
        'T' => 40,
        'P' => 50,
        _ => return None,
    };
    let bytes = digits.parse::<u64>().ok()?.checked_mul(1 << shift)?;
    Some(bytes.div_ceil(512) * 512)
}

pub fn validate(config: &Attributes) -> Vec<ProviderError> {
    let mut errors = Vec::new();
    let set = |name: &str| !attribute(config, name).is_null();
    if set("base") && set("source") {
        errors.push(
            ProviderError::new("`base` and `source` cannot both be set")
                .on_attribute("source")
                .with_help("`base` makes an overlay that shares the base image; `source` makes a full copy"),
        );
    }
    if !set("size") && !set("base") && !set("source") {
        errors.push(
            ProviderError::new("`size` is not set")
                .on_attribute("size")
                .with_help("an empty image needs a size, such as `size = \"10G\"`; or set `base` or `source`"),
        );
    }
    if set("base") && known(config, "format").and_then(Value::as_str).is_some_and(|f| f != "qcow2") {
        errors.push(
            ProviderError::new("an image with a `base` must be in the `qcow2` format")
                .on_attribute("format")
                .with_help("remove `format`, or set `format = \"qcow2\"`"),
        );
    }
    errors
}

pub fn plan(schema: &Schema, prior: Option<&Attributes>, config: &Attributes) -> ProviderResult<Attributes> {
    let planned = plan_attributes(schema, prior, config, &[("format", Value::string("qcow2"))]);
    let (Some(prior), Some(size)) = (prior, known(config, "size").and_then(Value::as_str)) else { return Ok(planned) };
    let current = attribute(prior, "virtual_size").as_number().map(|n| n as u64);
    match (current, size_in_bytes(size)) {
        (Some(current), Some(wanted)) if wanted < current => Err(shrink_refused(size, current)),
        _ => Ok(planned),
    }
}

fn shrink_refused(size: &str, current: u64) -> ProviderError {
    ProviderError::new(format!("the image is {current} bytes; shrinking it to {size} is refused"))
        .on_attribute("size")
        .with_help(
            "shrinking an image cuts off whatever the guest stored at its end; set a size at least as large, or \
             replace the image (change `path`)",
        )
}

/// When planning a new image: a `size` smaller than an existing `source` is refused.
/// A source that does not exist yet (another resource makes it) is checked by create.
pub async fn check_source_when_planning(qemu: &Qemu, config: &Attributes) -> ProviderResult<()> {
    let (Some(source), Some(size)) =
        (known(config, "source").and_then(Value::as_str), known(config, "size").and_then(Value::as_str))
    else {
        return Ok(());
    };
    let source = qemu.resolve(source);
    if !source.is_file() {
        return Ok(());
    }
    check_source_size(&source, Some(size)).await
}

/// Refuses a copy of `source` smaller than it.
async fn check_source_size(source: &Path, size: Option<&str>) -> ProviderResult<()> {
    let Some(size) = size else { return Ok(()) };
    let source_size = info(source).await?.virtual_size;
    match size_in_bytes(size) {
        Some(wanted) if wanted < source_size => Err(smaller_than_source(size, source_size)),
        _ => Ok(()),
    }
}

fn smaller_than_source(size: &str, source_size: u64) -> ProviderError {
    ProviderError::new(format!("the source image is {source_size} bytes; a copy of {size} would cut it short"))
        .on_attribute("size")
        .with_help("set a size at least as large as the source's, or leave `size` out to keep the source's size")
}

/// What `qemu-img info` says about an image.
struct Info {
    format: String,
    virtual_size: u64,
    actual_size: u64,
    backing_file: Option<String>,
}

async fn info(path: &Path) -> ProviderResult<Info> {
    // `-U` reads an image a running VM holds locked.
    let what = format!("reading the image `{}`", path.display());
    let output = run(
        QEMU_IMG,
        [Path::new("info").as_os_str(), "--output=json".as_ref(), "-U".as_ref(), path.as_os_str()],
        &what,
    )
    .await?;
    let json: Json = serde_json::from_str(&output)
        .map_err(|error| ProviderError::new(format!("{what}: `qemu-img info` printed no JSON: {error}")))?;
    let number = |key: &str| json.get(key).and_then(Json::as_u64).unwrap_or(0);
    Ok(Info {
        format: json.get("format").and_then(Json::as_str).unwrap_or("raw").to_string(),
        virtual_size: number("virtual-size"),
        actual_size: number("actual-size"),
        backing_file: json.get("backing-filename").and_then(Json::as_str).map(str::to_string),
    })
}

/// The format of the image at `path`, as `qemu-img info` finds it.
pub(crate) async fn format(path: &Path) -> ProviderResult<String> {
    Ok(info(path).await?.format)
}

/// `attributes` with what `info` says recorded; `size` keeps its configured form while it
/// denotes the image's size.
fn record(mut attributes: Attributes, info: &Info) -> Attributes {
    let size_matches = attribute(&attributes, "size").as_str().and_then(size_in_bytes) == Some(info.virtual_size);
    if !size_matches {
        attributes.insert("size".to_string(), Value::string(info.virtual_size.to_string()));
    }
    attributes.insert("format".to_string(), Value::string(info.format.clone()));
    attributes.insert("virtual_size".to_string(), Value::number(info.virtual_size as f64));
    attributes.insert("actual_size".to_string(), Value::number(info.actual_size as f64));
    attributes
}

/// An existing file a configuration names (`base` or `source`), resolved.
fn existing(qemu: &Qemu, attributes: &Attributes, name: &str) -> ProviderResult<Option<PathBuf>> {
    let Some(path) = attribute(attributes, name).as_str() else { return Ok(None) };
    let resolved = qemu.resolve(path);
    if !resolved.is_file() {
        return Err(ProviderError::new(format!("the {name} image `{}` does not exist", resolved.display()))
            .on_attribute(name)
            .with_help("make it first (a distribution's cloud image, or another `qemu.disk`), or fix the path"));
    }
    Ok(Some(std::path::absolute(&resolved).unwrap_or(resolved)))
}

/// Makes the image. `progress` hears of it as soon as `qemu-img` has written it, before
/// a copy is grown to `size` and the image is read back: a step after that fails leaves
/// it in the state (the next apply reads it and grows it), not a file in the way of the
/// next create. What a failed `qemu-img` left at the path (it was free) is removed.
pub async fn create(qemu: &Qemu, planned: &Attributes, progress: &CreateProgress) -> ProviderResult<Attributes> {
    let path = required_text(planned, "path")?;
    let target = qemu.resolve(&path);
    if target.exists() {
        return Err(ProviderError::new(format!("`{}` already exists", target.display()))
            .on_attribute("path")
            .with_help(format!("delete it, or bring it under Infra with `infra import ADDRESS {path}`")));
    }
    if let Some(parent) = target.parent() {
        std::fs::create_dir_all(parent).map_err(|e| {
            ProviderError::new(format!("making the directory `{}`: {e}", parent.display())).on_attribute("path")
        })?;
    }
    let format = attribute(planned, "format").as_str().unwrap_or("qcow2").to_string();
    let size = attribute(planned, "size").as_str().map(str::to_string);
    let base = existing(qemu, planned, "base")?;
    let source = existing(qemu, planned, "source")?;
    let what = format!("making the image `{}`", target.display());
    let mut sha256 = Value::null();
    if let Some(source) = &source {
        // Refused before anything is written: a converted copy that then cannot take
        // `size` would be left behind. (Planning refuses it already when the source
        // exists then.)
        check_source_size(source, size.as_deref()).await?;
        // Hashed before the copy is made, so the copy is reported with it.
        sha256 = Value::string(hash_file(source).await?);
        let mut args = vec!["convert".into(), "-O".into(), format.clone().into(), source.clone().into_os_string()];
        args.push(target.clone().into_os_string());
        make(qemu, args, &target, &what).await?;
    } else {
        let mut args: Vec<OsString> = vec!["create".into(), "-q".into(), "-f".into(), format.clone().into()];
        if let Some(base) = &base {
            let base_format = info(base).await?.format;
            args.extend(["-b".into(), base.clone().into_os_string(), "-F".into(), base_format.into()]);
        }
        args.push(target.clone().into_os_string());
        args.extend(size.clone().map(Into::into));
        make(qemu, args, &target, &what).await?;
    }
    let mut reported: Attributes = planned
        .iter()
        .map(|(name, value)| (name.clone(), if value.is_wholly_known() { value.clone() } else { Value::null() }))
        .collect();
    reported.insert("id".to_string(), Value::string(&path));
    reported.insert("sha256".to_string(), sha256.clone());
    progress.exists(reported);
    if let (Some(_), Some(size)) = (&source, &size) {
        grow(&target, &format, size).await?;
    }
    let mut created = record(planned.clone(), &info(&target).await?);
    created.insert("id".to_string(), Value::string(path));
    created.insert("sha256".to_string(), sha256);
    Ok(created)
}

/// Runs `qemu-img` to make the image at `target`, a path that was free before. When it
/// fails, or the run is interrupted (Ctrl-C) while it copies, whatever it left there (a
/// partial copy) is removed: on an interruption `qemu-img` is killed and waited for
/// first, so nothing is written after the removal. The error says what was removed.
async fn make(qemu: &Qemu, args: Vec<OsString>, target: &Path, what: &str) -> ProviderResult<()> {
    let failure = match run_unless_stopped(QEMU_IMG, args, what, &qemu.stop).await {
        Ok(Ok(_)) => return Ok(()),
        // A Ctrl-C on a terminal reaches `qemu-img` too, which then ends by the signal:
        // that is an interruption as well.
        Ok(Err(error)) if !qemu.stop.is_stopped() => Some(error),
        Ok(Err(_)) | Err(Stopped) => None,
    };
    let removed = remove_partial(target);
    Err(match failure {
        Some(error) => failed(error, target, removed),
        None => interrupted(target, removed),
    })
}

/// Removes what a `qemu-img` that did not finish left at `target`; what went wrong, if
/// the file is still there.
fn remove_partial(target: &Path) -> Result<(), std::io::Error> {
    match std::fs::remove_file(target) {
        Err(error) if error.kind() != std::io::ErrorKind::NotFound => Err(error),
        _ => Ok(()),
    }
}

/// What became of the partial image, for an error: removed, or why it is still there.
fn partial_image(target: &Path, removed: &Result<(), std::io::Error>) -> String {
    match removed {
        Ok(()) => "what it had written was removed".to_string(),
        Err(error) => format!("what it had written could not be removed ({error}): delete `{}`", target.display()),
    }
}

fn interrupted(target: &Path, removed: Result<(), std::io::Error>) -> ProviderError {
    ProviderError::new(format!(
        "interrupted while making the image `{}`: `qemu-img` was stopped, and {}; the image is not recorded",
        target.display(),
        partial_image(target, &removed)
    ))
    .on_attribute("path")
    .with_help("run `infra apply` again to make the image afresh")
}

fn failed(mut error: ProviderError, target: &Path, removed: Result<(), std::io::Error>) -> ProviderError {
    let help = match removed {
        Ok(()) => "`qemu-img` says why above; what it had written was removed, so the next apply starts afresh",
        Err(_) => "`qemu-img` says why above; delete the partial image before the next apply",
    };
    if removed.is_err() {
        error.message = format!("{}\n{}", error.message, partial_image(target, &removed));
    }
    error.with_help(help)
}

/// Grows the image at `target` to `size`; refuses to shrink it.
async fn grow(target: &Path, format: &str, size: &str) -> ProviderResult<()> {
    let current = info(target).await?.virtual_size;
    let wanted = size_in_bytes(size).unwrap_or(0);
    if wanted < current {
        return Err(shrink_refused(size, current));
    }
    if wanted == current {
        return Ok(());
    }
    let what = format!("resizing the image `{}`", target.display());
    let args = ["resize".as_ref(), "-q".as_ref(), "-f".as_ref(), format.as_ref(), target.as_os_str(), size.as_ref()];
    run(QEMU_IMG, args, &what).await.map(drop).map_err(|e| e.on_attribute("size"))
}

async fn hash_file(path: &Path) -> ProviderResult<String> {
    use sha2::Digest;
    let path = path.to_path_buf();
    let hashed = tokio::task::spawn_blocking(move || -> std::io::Result<String> {
        let mut hasher = sha2::Sha256::new();
        std::io::copy(&mut std::fs::File::open(&path)?, &mut hasher)?;
        Ok(hex::encode(hasher.finalize()))
    });
    match hashed.await {
        Ok(Ok(hash)) => Ok(hash),
        Ok(Err(error)) => Err(ProviderError::new(format!("reading the source image: {error}")).on_attribute("source")),
        Err(error) => Err(ProviderError::new(format!("reading the source image: {error}")).on_attribute("source")),
    }
}

pub async fn read(qemu: &Qemu, current: &Attributes) -> ProviderResult<Option<Attributes>> {
    let target = qemu.resolve(&required_text(current, "path")?);
    if !target.exists() {
        return Ok(None);
    }
    Ok(Some(record(current.clone(), &info(&target).await?)))
}

/// Only `size` changes in place (every other settable attribute replaces the image).
pub async fn update(qemu: &Qemu, _prior: &Attributes, planned: &Attributes) -> ProviderResult<Attributes> {
    let target = qemu.resolve(&required_text(planned, "path")?);
    let format = attribute(planned, "format").as_str().unwrap_or("qcow2");
    if let Some(size) = attribute(planned, "size").as_str() {
        grow(&target, format, size).await?;
    }
    Ok(record(planned.clone(), &info(&target).await?))
}

pub async fn delete(qemu: &Qemu, current: &Attributes) -> ProviderResult<()> {
    let target = qemu.resolve(&required_text(current, "path")?);
    match std::fs::remove_file(&target) {
        Err(error) if error.kind() != std::io::ErrorKind::NotFound => {
            Err(ProviderError::new(format!("deleting `{}`: {error}", target.display())).on_attribute("path"))
        }
        _ => Ok(()),
    }
}

/// Imports the image at `id` (its path): its size in bytes and its backing file as
/// `qemu-img` records them.
pub async fn import(qemu: &Qemu, id: &str) -> ProviderResult<Attributes> {
    let target = qemu.resolve(id);
    if !target.is_file() {
        return Err(ProviderError::new(format!("there is no image `{}`", target.display())));
    }
    let info = info(&target).await?;
    let mut imported = Attributes::new();
    imported.insert("id".to_string(), Value::string(id));
    imported.insert("path".to_string(), Value::string(id));
    imported.insert("base".to_string(), info.backing_file.clone().map_or_else(Value::null, Value::string));
    Ok(record(imported, &info))
}
