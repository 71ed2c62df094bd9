//! The codes of installing and running provider plugins (E0910 on; the `plugin`
//! declaration's own are the language's, E0900–E0904).

infra_compiler::codes! {
    NO_MATCHING_VERSION = "E0910", "no plugin version matches";
    HASH_MISMATCH = "E0911", "plugin package does not match the lock file";
    LOCKED_VERSION_REFUSED = "E0912", "locked plugin version not allowed";
    LOCK_FILE_INVALID = "E0913", "lock file cannot be read";
    INSTALL_FAILED = "E0914", "plugin cannot be installed";
    SCHEMA_FAILED = "E0915", "plugin schema cannot be learned";
    CHECKSUM_MISMATCH = "E0916", "plugin download does not match its checksum";
    SIGNATURE_INVALID = "E0917", "plugin checksums are not signed by the registry's key";
    SOURCE_FAILED = "E0918", "plugin registry or mirror cannot be used";
    DECLARATION_NOT_INSTALLED = "E0919", "plugin declaration does not match the lock file";
}
