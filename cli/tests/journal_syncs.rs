//! How often an apply waits for the disk: operations that are ready together, or that
//! end together, share one journal sync, so the syncs of an apply grow with the depth
//! of its graph, not with the number of resources. Counted with `strace` (installed by
//! `.ci/run`), from an empty state, with the local state backend.

use std::path::Path;
use std::process::Command;

mod common;

/// `fsync` and `fdatasync` calls of `infra apply --auto-approve --parallelism 10` in
/// `dir`, which must succeed.
fn syncs_of_apply(dir: &Path) -> usize {
    let trace = dir.join("syncs.trace");
    let output = Command::new("strace")
        .args(["-f", "-c", "--seccomp-bpf", "-e", "trace=fsync,fdatasync", "-o"])
        .arg(&trace)
        .arg(env!("CARGO_BIN_EXE_infra"))
        .args(["apply", "--auto-approve", "--parallelism", "10"])
        .current_dir(dir)
        .env("NO_COLOR", "1")
        .stdin(std::process::Stdio::null())
        .output()
        .unwrap_or_else(|e| panic!("cannot run strace (.ci/run installs it): {e}"));
    assert!(output.status.success(), "{}", common::text(&output));
    let summary = std::fs::read_to_string(&trace).unwrap_or_else(|e| panic!("{}: {e}", trace.display()));
    // strace -c's table: `% time  seconds  usecs/call  calls  [errors]  syscall`.
    summary
        .lines()
        .map(|line| line.split_whitespace().collect::<Vec<_>>())
        .filter(|fields| matches!(fields.last(), Some(&("fsync" | "fdatasync"))))
        .map(|fields| fields[3].parse::<usize>().unwrap_or_else(|e| panic!("{summary}: {e}")))
        .sum()
}

/// The syncs of applying `source` to an empty state.
fn syncs(source: &str) -> usize {
    let dir = tempfile::tempdir().unwrap_or_else(|e| panic!("{e}"));
    common::write_module(dir.path(), source);
    syncs_of_apply(dir.path())
}

/// `n` resources, each depending on the one `step` before it: chains `n / step` deep.
fn chains(n: usize, step: usize) -> String {
    (0..n)
        .map(|i| match i.checked_sub(step) {
            Some(upstream) => format!("resource null.resource r{i} {{\n  input = r{upstream}.id\n}}\n"),
            None => format!("resource null.resource r{i} {{\n  input = \"v{i}\"\n}}\n"),
        })
        .collect()
}

/// Independent resources: three thousand take about the syncs of a hundred. The engine
/// lets 1,024 declarations be in progress at once; those let in as others end wait for
/// a slot and share one sync with everything let in meanwhile (one more per 1,024 or
/// so), and completions are written when the engine waits, not each time it has
/// handed on a hundred-odd slots.
#[test]
fn independent_resources_share_their_syncs() {
    let few = syncs(&chains(100, 100));
    let many = syncs(&chains(3_000, 3_000));
    assert!(few <= 8, "a hundred independent creates: {few} syncs");
    assert!(many <= few + 3, "3,000 independent creates: {many} syncs, against {few} for 100");
}

/// Chains: the syncs follow the depth. Two hundred resources in chains 20 deep take
/// about the syncs of two thousand in chains 20 deep, and each link is one sync.
#[test]
fn chained_resources_take_a_sync_per_link_not_per_resource() {
    let narrow = syncs(&chains(200, 10));
    let broad = syncs(&chains(2_000, 100));
    assert!((20..=20 + 8).contains(&narrow), "chains 20 deep: {narrow} syncs");
    assert!(broad <= narrow + 2, "2,000 resources in chains 20 deep: {broad} syncs, against {narrow} for 200");
}
