//! The S3 backend's own diagnostic codes: reaching the bucket, its answers, its
//! settings, and `infra force-unlock`. They travel in a `StateErrorKind::Backend`; the
//! codes every backend shares (locks, lineage, workspaces) are the runtime's
//! (`infra_runtime::codes`).

use infra_compiler::diagnostic::Code;
use infra_runtime::state::StateErrorKind;

infra_compiler::codes! {
    STATE_S3_UNREACHABLE = "E0740", "state bucket cannot be reached";
    STATE_S3_REFUSED = "E0741", "state bucket refused the request";
    STATE_S3_NO_BUCKET = "E0742", "state bucket does not exist";
    STATE_S3_SETTINGS = "E0743", "no AWS credentials or region for the state";
    STATE_LOCK_ID = "E0744", "no state lock with that ID";
}

/// The state error kind that carries `code`, with its title from the list above.
pub fn kind(code: Code) -> StateErrorKind {
    StateErrorKind::Backend(code, title(code.as_str()).unwrap_or_default())
}
