//! The `local` provider: files on the machine that runs Infra.

use infra_compiler::schema::{AttributeSchema, ProviderSchema, Schema};
use infra_compiler::types::Type;

use super::{kind, provider};

pub fn schema() -> ProviderSchema {
    provider(
        "local",
        "Files on the machine that runs Infra.",
        vec![("file", file_resource())],
        vec![("file", file_data())],
    )
}

fn file_resource() -> Schema {
    kind(
        "A file on the local machine, written from `content` or copied from `source`.",
        "The SHA-1 hash of the file's content, in hexadecimal.",
        vec![
            AttributeSchema::required(
                "path",
                Type::String,
                "Where to write the file, relative to the module's directory; changing it replaces the file.",
            )
            .force_new(),
            AttributeSchema::optional("content", Type::String, "The text to write; set this or `source`."),
            AttributeSchema::optional(
                "source",
                Type::String,
                "A file to copy, relative to the module's directory; set this or `content`.",
            ),
            AttributeSchema::optional(
                "mode",
                Type::String,
                "The file's permissions in octal, such as \"0644\"; read from the file if not set.",
            )
            .also_computed(),
            AttributeSchema::computed("size", Type::Number, "The size of the file in bytes."),
        ],
    )
}

fn file_data() -> Schema {
    kind(
        "Reads a file on the local machine.",
        "The SHA-1 hash of the file's content, in hexadecimal.",
        vec![
            AttributeSchema::required(
                "path",
                Type::String,
                "The path of the file to read, relative to the module's directory.",
            ),
            AttributeSchema::computed("content", Type::String, "The file's content, as UTF-8 text."),
            AttributeSchema::computed("size", Type::Number, "The size of the file in bytes."),
        ],
    )
}
