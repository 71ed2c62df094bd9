//! Client-side encryption of the state end to end: the `infra` binary with keys from a
//! passphrase, the environment and KMS (moto), on local files, PostgreSQL and S3. What
//! is stored is read back raw and must contain none of the state's strings.

use std::path::Path;
use std::process::{Output, Stdio};
use std::time::{Duration, Instant};

mod common;
#[path = "support/moto.rs"]
mod moto;
#[path = "support/postgres.rs"]
mod pg;

use common::{command, text, write_module};
use moto::Moto;

const SECRET: &str = "TOPSECRET-4711";

/// A resource holding a secret, a wait of `wait_for`, then one after the wait.
const MODULE: &str = r#"
input secret: string { sensitive = true }
input wait_for: string = "10ms"
resource null.resource vault {
  input = secret
}
resource time.sleep wait {
  create_duration = wait_for
  triggers        = { after = vault.id }
}
resource null.resource after_wait {
  input = "after ${wait.id}"
}
"#;

#[track_caller]
fn assert_exit(output: &Output, code: i32) {
    assert_eq!(output.status.code(), Some(code), "{}", text(output));
}

/// `infra ARGS` in `dir` with the environment `env` (and no key unless `env` gives one).
fn infra(dir: &Path, env: &[(&str, &str)], args: &[&str]) -> Output {
    let mut command = command(dir, args);
    for name in ["INFRA_STATE_PASSPHRASE", "INFRA_STATE_FALLBACK_PASSPHRASE", "INFRA_STATE_KEY", "INFRA_STATE_URL"] {
        command.env_remove(name);
    }
    command.envs(env.iter().copied()).env("INFRA_VAR_secret", SECRET).output().expect("infra runs")
}

/// Fails if `bytes` hold the secret or any of the state's names.
#[track_caller]
fn assert_opaque(bytes: &[u8], what: &str) {
    let text = String::from_utf8_lossy(bytes);
    for word in [SECRET, "vault", "null.resource", "after_wait", "time.sleep"] {
        assert!(!text.contains(word), "{what} holds `{word}`: {text}");
    }
    assert!(text.starts_with("{\"encryption\":"), "{what} is not encrypted: {text}");
}

const OLD: [(&str, &str); 1] = [("INFRA_STATE_PASSPHRASE", "correct horse battery staple")];

#[test]
fn a_passphrase_encrypts_the_local_state_and_its_journal() {
    let dir = tempfile::tempdir().expect("temp dir");
    let dir = dir.path();
    write_module(dir, MODULE);
    // Killed mid-apply, so the journal is left to look at.
    let mut apply = command(dir, &["apply", "--auto-approve", "--var", "wait_for=60s"])
        .env_remove("INFRA_STATE_KEY")
        .envs(OLD)
        .env("INFRA_VAR_secret", SECRET)
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .expect("start infra");
    let journal = dir.join("infra.state.journal");
    let start = Instant::now();
    while std::fs::read(&journal).map(|b| b.split(|&c| c == b'\n').count() < 3).unwrap_or(true) {
        assert!(start.elapsed() < Duration::from_secs(30), "no journal");
        std::thread::sleep(Duration::from_millis(50));
    }
    apply.kill().expect("kill -9");
    let _ = apply.wait();
    assert_opaque(&std::fs::read(&journal).expect("journal"), "the journal");

    // The journal decrypts: the wait shows as pending, the vault as created.
    let listed = infra(dir, &OLD, &["state", "list"]);
    assert_eq!(text(&listed), "vault\nwait  (pending: not confirmed)\n");
    assert_exit(&infra(dir, &OLD, &["apply", "--auto-approve"]), 0);
    let state = std::fs::read(dir.join("infra.state.json")).expect("state");
    assert_opaque(&state, "the state file");

    // No key, or the wrong one: a coded refusal, and nothing is written.
    let missing = infra(dir, &[], &["plan"]);
    assert_exit(&missing, 1);
    assert!(
        text(&missing).contains("E0750") && text(&missing).contains("INFRA_STATE_PASSPHRASE"),
        "{}",
        text(&missing)
    );
    let wrong = infra(dir, &[("INFRA_STATE_PASSPHRASE", "Tr0ub4dor&3")], &["apply", "--auto-approve"]);
    assert_exit(&wrong, 1);
    assert!(text(&wrong).contains("E0752") && text(&wrong).contains("does not decrypt"), "{}", text(&wrong));
    assert!(!text(&wrong).contains("Tr0ub4dor") && !text(&wrong).contains("correct horse"), "{}", text(&wrong));
    assert_eq!(std::fs::read(dir.join("infra.state.json")).expect("state"), state, "overwritten");

    let plan = infra(dir, &OLD, &["plan", "--detailed-exitcode"]);
    assert_exit(&plan, 0);
    assert_exit(&infra(dir, &OLD, &["state", "encrypt"]), 0);
    assert_opaque(&std::fs::read(dir.join("infra.state.json.backup")).expect("backup"), "the backup");
    let pulled = infra(dir, &OLD, &["state", "pull"]);
    assert!(String::from_utf8_lossy(&pulled.stdout).contains(SECRET), "pull decrypts");
}

/// A module that reads a low-entropy secret from the environment.
const PIN_MODULE: &str = r#"
input secret: string { sensitive = true }
resource null.resource vault {
  input = "${secret}:${env("INFRA_TEST_PIN")}"
}
"#;

const PIN: &str = "4711";

fn sha256_hex(text: &str) -> String {
    use sha2::Digest as _;
    sha2::Sha256::digest(text.as_bytes()).iter().map(|b| format!("{b:02x}")).collect()
}

#[test]
fn saved_plans_are_sealed_with_the_state_and_hold_no_guessable_digest() {
    let dir = tempfile::tempdir().expect("temp dir");
    let dir = dir.path();
    write_module(dir, PIN_MODULE);
    let pin = [("INFRA_TEST_PIN", PIN)];

    // In the clear (no encryption configured), the plan keeps the environment variable
    // only as a salted digest: the plain SHA-256 of a four-digit PIN is not in it.
    assert_exit(&infra(dir, &pin, &["plan", "--out", "clear.plan"]), 0);
    let clear = std::fs::read_to_string(dir.join("clear.plan")).expect("plan file");
    assert!(clear.contains("INFRA_TEST_PIN") && !clear.contains(&sha256_hex(PIN)), "{clear}");
    assert!(!clear.contains(SECRET) && !clear.contains(PIN), "{clear}");

    // With a passphrase, everything but the format and the module's directory is sealed.
    let keyed = [OLD[0], pin[0]];
    assert_exit(&infra(dir, &keyed, &["plan", "--out", "sealed.plan"]), 0);
    let sealed = std::fs::read_to_string(dir.join("sealed.plan")).expect("plan file");
    for word in [SECRET, "vault", "null.resource", "INFRA_TEST_PIN", "lineage"] {
        assert!(!sealed.contains(word), "the sealed plan holds `{word}`: {sealed}");
    }
    assert!(sealed.contains("\"sealed\"") && sealed.contains("\"ciphertext\""), "{sealed}");

    // Without the key, or with the wrong one: refused, nothing applied.
    let missing = infra(dir, &pin, &["apply", "sealed.plan"]);
    assert_exit(&missing, 1);
    assert!(text(&missing).contains("E0750"), "{}", text(&missing));
    let wrong = infra(dir, &[("INFRA_STATE_PASSPHRASE", "Tr0ub4dor&3"), pin[0]], &["apply", "sealed.plan"]);
    assert_exit(&wrong, 1);
    assert!(text(&wrong).contains("E0752"), "{}", text(&wrong));
    assert!(!dir.join("infra.state.json").exists(), "a refused plan wrote a state");

    // A plan saved in the clear is refused once the state is encrypted.
    let plain = infra(dir, &keyed, &["apply", "clear.plan"]);
    assert_exit(&plain, 1);
    assert!(text(&plain).contains("E0751") && text(&plain).contains("plan --out"), "{}", text(&plain));

    // One changed byte of the ciphertext does not decrypt.
    let start = sealed.find("\"ciphertext\": \"").expect("ciphertext") + 15;
    let mut tampered = sealed.clone().into_bytes();
    tampered[start] = if tampered[start] == b'A' { b'B' } else { b'A' };
    std::fs::write(dir.join("tampered.plan"), &tampered).expect("tamper");
    assert_exit(&infra(dir, &keyed, &["apply", "tampered.plan"]), 1);

    // With the key it applies, and the environment variable is checked as before.
    let changed = infra(dir, &[OLD[0], ("INFRA_TEST_PIN", "0000")], &["apply", "sealed.plan"]);
    assert_exit(&changed, 1);
    assert!(text(&changed).contains("INFRA_TEST_PIN") && text(&changed).contains("changed"), "{}", text(&changed));
    assert_exit(&infra(dir, &keyed, &["apply", "sealed.plan"]), 0);
    assert_opaque(&std::fs::read(dir.join("infra.state.json")).expect("state"), "the state file");
}

#[test]
fn one_changed_byte_is_detected_and_nothing_is_overwritten() {
    let dir = tempfile::tempdir().expect("temp dir");
    let dir = dir.path();
    write_module(dir, MODULE);
    assert_exit(&infra(dir, &OLD, &["apply", "--auto-approve"]), 0);
    let path = dir.join("infra.state.json");
    let mut bytes = std::fs::read(&path).expect("state");
    let start = String::from_utf8_lossy(&bytes).find("\"ciphertext\":\"").expect("ciphertext") + 20;
    bytes[start] = if bytes[start] == b'A' { b'B' } else { b'A' };
    std::fs::write(&path, &bytes).expect("tamper");
    let refused = infra(dir, &OLD, &["apply", "--auto-approve"]);
    assert_exit(&refused, 1);
    assert!(text(&refused).contains("E0752"), "{}", text(&refused));
    assert_eq!(std::fs::read(&path).expect("state"), bytes, "the tampered state was overwritten");
}

#[test]
fn rotation_reads_with_the_fallback_and_writes_with_the_new_key() {
    let dir = tempfile::tempdir().expect("temp dir");
    let dir = dir.path();
    write_module(dir, MODULE);
    assert_exit(&infra(dir, &OLD, &["apply", "--auto-approve"]), 0);
    let new = [("INFRA_STATE_PASSPHRASE", "new passphrase"), ("INFRA_STATE_FALLBACK_PASSPHRASE", OLD[0].1)];
    assert_exit(&infra(dir, &new[..1], &["plan"]), 1);
    let rotated = infra(dir, &new, &["state", "encrypt"]);
    assert_exit(&rotated, 0);
    assert!(text(&rotated).contains("Encrypted the state"), "{}", text(&rotated));
    assert_exit(&infra(dir, &new[..1], &["plan", "--detailed-exitcode"]), 0);
    let old = infra(dir, &OLD, &["plan"]);
    assert_exit(&old, 1);
    assert!(text(&old).contains("E0752"), "{}", text(&old));

    // A raw key from the environment works the same way, named by its fingerprint.
    let key = [("INFRA_STATE_KEY", "qqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqo=")];
    let with_both = [key[0], new[0]];
    assert_exit(&infra(dir, &with_both, &["state", "encrypt"]), 0);
    assert_exit(&infra(dir, &key, &["plan", "--detailed-exitcode"]), 0);
    let passphrase_only = infra(dir, &new[..1], &["plan"]);
    assert!(text(&passphrase_only).contains("E0753") && text(&passphrase_only).contains("INFRA_STATE_KEY"));
}

#[test]
fn a_plain_state_is_refused_under_encryption_until_it_is_encrypted() {
    let dir = tempfile::tempdir().expect("temp dir");
    let dir = dir.path();
    write_module(dir, MODULE);
    assert_exit(&infra(dir, &[], &["apply", "--auto-approve"]), 0);
    let plain = std::fs::read(dir.join("infra.state.json")).expect("state");
    let refused = infra(dir, &OLD, &["plan"]);
    assert_exit(&refused, 1);
    assert!(text(&refused).contains("E0751") && text(&refused).contains("infra state encrypt"), "{}", text(&refused));
    assert_eq!(std::fs::read(dir.join("infra.state.json")).expect("state"), plain);

    assert_exit(&infra(dir, &OLD, &["state", "encrypt"]), 0);
    assert_opaque(&std::fs::read(dir.join("infra.state.json")).expect("state"), "the encrypted state");
    assert_opaque(&std::fs::read(dir.join("infra.state.json.backup")).expect("backup"), "the backup");
    assert_exit(&infra(dir, &OLD, &["plan", "--detailed-exitcode"]), 0);
    assert_exit(&infra(dir, &OLD, &["state", "decrypt"]), 0);
    let decrypted = std::fs::read_to_string(dir.join("infra.state.json")).expect("state");
    assert!(decrypted.contains(SECRET) && decrypted.starts_with("{\n"), "{decrypted}");
    // The backup is in the clear too: restoring it needs no key that was given up.
    let backup = std::fs::read_to_string(dir.join("infra.state.json.backup")).expect("backup");
    assert!(backup.starts_with("{\n") && !backup.contains("\"encryption\""), "{backup}");
    assert_exit(&infra(dir, &[], &["plan", "--detailed-exitcode"]), 0);
}

#[test]
fn postgres_rows_are_encrypted() {
    let url = pg::database("encrypted");
    let dir = tempfile::tempdir().expect("temp dir");
    let dir = dir.path();
    write_module(dir, MODULE);
    assert_exit(&infra(dir, &OLD, &["apply", "--auto-approve", "--state-url", &url]), 0);
    let stored = pg::shared().sql("encrypted", "SELECT document FROM infra.snapshots");
    assert_opaque(stored.trim().as_bytes(), "the snapshot row");
    assert_exit(&infra(dir, &OLD, &["plan", "--detailed-exitcode", "--state-url", &url]), 0);
    assert_exit(&infra(dir, &[], &["plan", "--state-url", &url]), 1);
}

#[test]
fn kms_envelope_encryption_on_s3_and_a_refused_key() {
    let moto = Moto::start();
    moto.aws(&["s3api", "create-bucket", "--bucket", "sealed"]);
    let key_id = moto.aws(&["kms", "create-key"])["KeyMetadata"]["KeyId"].as_str().expect("a key").to_string();
    let dir = tempfile::tempdir().expect("temp dir");
    let dir = dir.path();
    let block = format!(
        "state s3 {{\n  bucket     = \"sealed\"\n  key        = \"infra.json\"\n  encryption = \"kms\"\n  kms_key_id = \
         \"{key_id}\"\n}}\n"
    );
    write_module(dir, &format!("{block}{MODULE}"));
    let run = |args: &[&str]| {
        let mut command = command(dir, args);
        command.envs(moto.environment()).env("INFRA_VAR_secret", SECRET).env_remove("INFRA_STATE_PASSPHRASE");
        command.output().expect("infra runs")
    };
    assert_exit(&run(&["apply", "--auto-approve"]), 0);
    let object = tempfile::NamedTempFile::new().expect("temp file");
    let path = object.path().display().to_string();
    moto.aws(&["s3api", "get-object", "--bucket", "sealed", "--key", "infra.json", &path]);
    let stored = std::fs::read(object.path()).expect("object");
    assert_opaque(&stored, "the object in the bucket");
    assert!(String::from_utf8_lossy(&stored).contains(&key_id), "the header names the KMS key");
    assert_exit(&run(&["plan", "--detailed-exitcode"]), 0);
    // The state commands read the block's encryption settings with `--state-url` too,
    // as `plan` does: the state is read with the KMS key, and written back with it.
    let url = "s3://sealed/infra.json";
    let listed = run(&["state", "list", "--state-url", url]);
    assert_exit(&listed, 0);
    assert!(text(&listed).contains("vault") && text(&listed).contains("after_wait"), "{}", text(&listed));
    assert_exit(&run(&["state", "rm", "after_wait", "--state-url", url]), 0);
    moto.aws(&["s3api", "get-object", "--bucket", "sealed", "--key", "infra.json", &path]);
    let rewritten = std::fs::read(object.path()).expect("object");
    assert_opaque(&rewritten, "the object `state rm` wrote");
    assert!(String::from_utf8_lossy(&rewritten).contains(&key_id), "still sealed with the KMS key");
    let after = run(&["state", "list", "--state-url", url]);
    assert!(!text(&after).contains("after_wait") && text(&after).contains("vault"), "{}", text(&after));

    // KMS refusing the key (here: no such key; moto 5 does not refuse a disabled key)
    // is a coded error, and nothing is written.
    let other = tempfile::tempdir().expect("temp dir");
    let missing_key = block.replace(&key_id, "alias/no-such-key").replace("infra.json", "other.json");
    write_module(other.path(), &format!("{missing_key}{MODULE}"));
    let refused = command(other.path(), &["apply", "--auto-approve"])
        .envs(moto.environment())
        .env("INFRA_VAR_secret", SECRET)
        .env_remove("INFRA_STATE_PASSPHRASE")
        .output()
        .expect("infra runs");
    assert_exit(&refused, 1);
    assert!(text(&refused).contains("E0753") && text(&refused).contains("NotFoundException"), "{}", text(&refused));
    let listed = moto.aws(&["s3api", "list-objects-v2", "--bucket", "sealed"]);
    let keys: Vec<&str> =
        listed["Contents"].as_array().map(|o| o.iter().filter_map(|o| o["Key"].as_str()).collect()).unwrap_or_default();
    assert_eq!(keys, ["infra.json"], "nothing written for the refused key");
}
