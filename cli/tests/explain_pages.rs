//! `infra explain` pages say what the binary does: each failure that reports a code is
//! described on that code's page.

mod common;

use common::{ok, outcome};

/// Bug: `infra explain E0803` named only `-C`, runtime and `--out` failures, while a
/// long option written with one dash as Terraform spells them (`-auto-approve`) is also
/// E0803, as docs/cli.md says.
#[test]
fn the_e0803_page_describes_a_single_dash_long_option() {
    let dir = tempfile::tempdir().expect("temp dir");
    let (code, printed) = outcome(dir.path(), &["apply", "-auto-approve"]);
    assert_eq!(code, 2, "{printed}");
    assert!(printed.contains("error[E0803]") && printed.contains("write `--auto-approve`"), "{printed}");

    let page = ok(dir.path(), &["explain", "E0803"]);
    assert!(page.contains("-auto-approve"), "{page}");
    assert!(page.contains("two dashes"), "{page}");
    // And the other failures the code is given for.
    for failure in ["-C", "--out", "state push", "encryption key", "standard input", "language server"] {
        assert!(page.contains(failure), "the page does not mention {failure}:\n{page}");
    }
}
