//! Python virtual environments for tests (Mimic, python-novaclient, linode-cli, pydo), made once
//! in a cache outside the clone (`$INFRA_TEST_CACHE`, by default `~/.cache/infra-tests`,
//! as `NAME/`), when missing, under a lock file so two test binaries do not make one at
//! once. A virtual environment cannot be moved (its scripts name its interpreter by
//! absolute path), so it is made in place and marked when whole; one whose mark names
//! other packages is made again.

#![allow(dead_code)] // Each test file uses its own subset.

use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};

/// The cache directory: `$INFRA_TEST_CACHE`, or `~/.cache/infra-tests`.
pub fn cache_dir() -> PathBuf {
    match std::env::var_os("INFRA_TEST_CACHE") {
        Some(dir) => PathBuf::from(dir),
        None => Path::new(&std::env::var_os("HOME").expect("HOME is set")).join(".cache/infra-tests"),
    }
}

/// The virtual environment `name` holding `packages` (pip requirement strings).
pub fn venv(name: &str, packages: &[&str]) -> PathBuf {
    let cache = cache_dir();
    let venv = cache.join(name);
    let complete = venv.join(".infra-complete");
    let wanted = packages.join("\n");
    let whole = || std::fs::read_to_string(&complete).is_ok_and(|held| held == wanted);
    if whole() {
        return venv;
    }
    std::fs::create_dir_all(&cache).expect("cache directory");
    let lock = std::fs::File::create(cache.join(format!("{name}.lock"))).expect("lock file");
    lock.lock().expect("lock the cache");
    if whole() {
        return venv;
    }
    let _ = std::fs::remove_dir_all(&venv);
    run(Command::new("python3").args(["-m", "venv"]).arg(&venv), "python3 -m venv (apt-get install python3-venv)");
    run(
        Command::new(venv.join("bin/pip")).args(["install", "--quiet"]).args(packages),
        &format!("pip install {wanted}"),
    );
    std::fs::write(&complete, wanted).expect("mark the virtual environment complete");
    venv
}

fn run(command: &mut Command, what: &str) {
    let output = command.stdout(Stdio::null()).output().unwrap_or_else(|e| panic!("{what}: {e}"));
    assert!(output.status.success(), "{what} failed:\n{}", String::from_utf8_lossy(&output.stderr));
}
