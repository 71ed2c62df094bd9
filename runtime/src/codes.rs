//! The runtime's diagnostic codes: the state document, its journal and lock, saved plans,
//! workspaces and state surgery (E07xx, W07xx), declared as the compiler declares the
//! language's. A state backend of its own crate lists its own codes (the PostgreSQL
//! backend's connection, credentials and TLS codes are `infra_backend_postgres::codes`)
//! and reports them through `StateErrorKind::Backend`.

infra_compiler::codes! {
    STATE_CORRUPT = "E0700", "state file is not valid";
    STATE_NEWER_FORMAT = "E0701", "state written by a newer version of Infra";
    STATE_LOCKED = "E0702", "state is locked";
    STATE_READ_FAILED = "E0703", "state cannot be read";
    STATE_WRITE_FAILED = "E0704", "state cannot be written";
    STATE_CORRUPT_JOURNAL = "E0705", "state journal is not valid";
    STATE_UNSTORABLE = "E0706", "value cannot be stored in the state";
    STATE_NOT_LOCKED = "E0707", "state written without holding the lock";
    STATE_CONFLICT = "E0708", "stored state changed since it was loaded";
    STATE_LOCK_FAILED = "E0709", "state lock cannot be taken";
    STALE_PLAN = "E0710", "saved plan no longer applies";
    STATE_INVALID_LOCATION = "E0716", "state location is not valid";
    STATE_WORKSPACE = "E0719", "workspace does not exist or already exists";
    STATE_LINEAGE_MISMATCH = "E0720", "state has another lineage";
    STATE_OLDER_SERIAL = "E0721", "state is older than the stored one";
    STATE_ADDRESS_TAKEN = "E0722", "address already in the state";
    STATE_NOT_A_FILE = "E0724", "state path is not a state file";
    STATE_MISSING = "E0725", "state file missing beside its backup";
    SELECTION_UNMATCHED = "E0726", "address matches nothing";
    STATE_DEPENDENCY_CYCLE = "E0727", "state dependencies form a cycle";
    STATE_LEFT_BEHIND = "E0728", "state left behind by a backend change";
    STATE_ENCRYPTED = "E0750", "state is encrypted and no key was given";
    STATE_NOT_ENCRYPTED = "E0751", "state is not encrypted, but encryption is configured";
    STATE_TORN_JOURNAL = "W0700", "incomplete entry at the end of the state journal";
    STATE_JOURNAL_AHEAD = "W0701", "state journal is newer than the state file";
}
