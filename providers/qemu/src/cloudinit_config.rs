//! `data qemu.cloudinit_config`: multi-part MIME user data composed from `part` blocks,
//! as Terraform's `cloudinit_config` makes it, with a fixed boundary so the same parts
//! always render the same text.

use std::io::Write;

use base64::Engine;
use infra_compiler::schema::{AttributeSchema, BlockSchema, Comparison, Schema, Validator};
use infra_compiler::types::Type;
use infra_provider_kit::{attribute, kind};
use infra_runtime::provider::{Attributes, ProviderError, ProviderResult};
use infra_runtime::Value;

use crate::cloudinit::check_yaml;
use crate::string;

const DEFAULT_BOUNDARY: &str = "MIMEBOUNDARY";
const CLOUD_CONFIG: &str = "text/cloud-config";

pub fn schema() -> Schema {
    let mut schema = kind(
        "Multi-part cloud-init user data composed from `part` blocks, for `qemu.cloudinit`'s `user_data` (or any cloud's).",
        "The SHA-256 of `rendered`, in hex.",
        vec![
            AttributeSchema::optional(
                "gzip",
                Type::Bool,
                "Compress the result with gzip; false by default. Needs `base64_encode`, since gzip is not text.",
            ),
            AttributeSchema::optional(
                "base64_encode",
                Type::Bool,
                "Encode the result as Base64; false by default (a seed takes the text as it is).",
            ),
            string(
                "boundary",
                "The MIME boundary between parts; \"MIMEBOUNDARY\" by default. It must not occur in any part.",
            )
            .validate(Validator::Regex {
                pattern: "^[0-9A-Za-z'()+_,./:=?-]{1,70}$".to_string(),
                description: "1 to 70 letters, digits or `'()+_,-./:=?`".to_string(),
            }),
            AttributeSchema::computed("rendered", Type::String, "The composed user data.")
                .derived_from(&["part"]),
        ],
    );
    schema.blocks = vec![part_block()];
    schema
}

fn part_block() -> BlockSchema {
    let description = "One part of the user data, in the order written.";
    BlockSchema {
        name: "part".to_string(),
        description: description.to_string(),
        schema: Schema {
            description: description.to_string(),
            attributes: vec![
                AttributeSchema::required("content", Type::String, "The part's content."),
                string(
                    "content_type",
                    "The part's MIME type, such as \"text/cloud-config\" (the default), \"text/x-shellscript\" or \
                     \"text/jinja2\". A cloud-config part is checked as YAML.",
                ),
                string("filename", "The part's file name, for cloud-init's logs and `Content-Disposition`."),
                string("merge_type", "How cloud-init merges this part with the others, such as \"list(append)+dict(recurse_array)+str()\"."),
            ],
            blocks: Vec::new(),
        },
        repeated: true,
        compare: Comparison::Exact,
    }
}

/// One `part` block.
struct Part<'a> {
    content: &'a str,
    content_type: &'a str,
    filename: Option<&'a str>,
    merge_type: Option<&'a str>,
}

fn parts(config: &Attributes) -> ProviderResult<Vec<Part<'_>>> {
    let blocks = attribute(config, "part").as_list().unwrap_or_default();
    if blocks.is_empty() {
        return Err(ProviderError::new("`part` is not set")
            .with_help("add a `part { content = ... }` block for each piece of user data"));
    }
    blocks
        .iter()
        .map(|block| {
            let field = |name: &str| block.as_map().and_then(|m| m.get(name)).and_then(Value::as_str);
            let content = field("content").ok_or_else(|| ProviderError::new("a `part` has no `content`"))?;
            let content_type = field("content_type").unwrap_or(CLOUD_CONFIG);
            Ok(Part { content, content_type, filename: field("filename"), merge_type: field("merge_type") })
        })
        .collect()
}

fn check(config: &Attributes, parts: &[Part], boundary: &str) -> ProviderResult<()> {
    let flag = |name: &str| attribute(config, name).as_bool().unwrap_or(false);
    if flag("gzip") && !flag("base64_encode") {
        return Err(ProviderError::new("`gzip` needs `base64_encode = true`")
            .on_attribute("gzip")
            .with_help("compressed data is not text; set `base64_encode = true`, or leave out `gzip`"));
    }
    for (index, part) in parts.iter().enumerate() {
        if part.content.contains(&format!("--{boundary}")) {
            return Err(ProviderError::new(format!("part {} contains the boundary `--{boundary}`", index + 1))
                .on_attribute("boundary")
                .with_help("choose another `boundary`"));
        }
        if part.content_type == CLOUD_CONFIG {
            if let Some(error) = check_yaml("part", part.content, "cloud-config") {
                let message = error.message.replacen("`part`", &format!("part {}", index + 1), 1);
                return Err(ProviderError { message, ..error });
            }
        }
    }
    Ok(())
}

/// The MIME message: a header, then each part with its own headers, in order.
fn render(parts: &[Part], boundary: &str) -> String {
    let mut text = format!("Content-Type: multipart/mixed; boundary=\"{boundary}\"\nMIME-Version: 1.0\n\n");
    for part in parts {
        text.push_str(&format!(
            "--{boundary}\nContent-Transfer-Encoding: 7bit\nContent-Type: {}\nMime-Version: 1.0\n",
            part.content_type
        ));
        if let Some(filename) = part.filename {
            text.push_str(&format!("Content-Disposition: attachment; filename=\"{filename}\"\n"));
        }
        if let Some(merge_type) = part.merge_type {
            text.push_str(&format!("X-Merge-Type: {merge_type}\n"));
        }
        text.push('\n');
        text.push_str(part.content);
        if !part.content.ends_with('\n') {
            text.push('\n');
        }
    }
    text.push_str(&format!("--{boundary}--\n"));
    text
}

/// Gzip with no file name and a zero time stamp, so the bytes depend on the text alone.
fn gzip(text: &str) -> ProviderResult<Vec<u8>> {
    let mut encoder = flate2::GzBuilder::new().mtime(0).write(Vec::new(), flate2::Compression::best());
    encoder
        .write_all(text.as_bytes())
        .and_then(|()| encoder.finish())
        .map_err(|e| ProviderError::new(format!("gzip: {e}")))
}

pub fn read(config: &Attributes) -> ProviderResult<Attributes> {
    let boundary = attribute(config, "boundary").as_str().unwrap_or(DEFAULT_BOUNDARY);
    let parts = parts(config)?;
    check(config, &parts, boundary)?;
    let text = render(&parts, boundary);
    let flag = |name: &str| attribute(config, name).as_bool().unwrap_or(false);
    let rendered = match (flag("gzip"), flag("base64_encode")) {
        (true, _) => base64::engine::general_purpose::STANDARD.encode(gzip(&text)?),
        (false, true) => base64::engine::general_purpose::STANDARD.encode(text.as_bytes()),
        (false, false) => text,
    };
    let mut result = config.clone();
    result.insert("id".to_string(), Value::string(crate::seed::sha256(rendered.as_bytes())));
    result.insert("rendered".to_string(), Value::string(rendered));
    Ok(result)
}
