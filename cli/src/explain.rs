//! `infra explain`: the long explanation of a diagnostic code, from `docs/errors/CODE.md`.
//!
//! The explanations are compiled into the binary so `infra explain` works anywhere. A test
//! checks that this table and the registry of every crate's codes (`codes.rs`) agree.

use crate::codes;
use crate::output::Report;
use crate::render;
use clap::Args;

#[derive(Args, Debug)]
pub struct ExplainArgs {
    /// The code to explain, such as E0201 (case does not matter)
    #[arg(value_name = "CODE", required_unless_present = "list", conflicts_with = "list")]
    code: Option<String>,

    /// List every code with its title
    #[arg(long)]
    list: bool,
}

/// Every code with its explanation, in code order.
const EXPLANATIONS: &[(&str, &str)] = &[
    ("E0001", include_str!("../../docs/errors/E0001.md")),
    ("E0002", include_str!("../../docs/errors/E0002.md")),
    ("E0003", include_str!("../../docs/errors/E0003.md")),
    ("E0100", include_str!("../../docs/errors/E0100.md")),
    ("E0101", include_str!("../../docs/errors/E0101.md")),
    ("E0102", include_str!("../../docs/errors/E0102.md")),
    ("E0103", include_str!("../../docs/errors/E0103.md")),
    ("E0104", include_str!("../../docs/errors/E0104.md")),
    ("E0105", include_str!("../../docs/errors/E0105.md")),
    ("E0106", include_str!("../../docs/errors/E0106.md")),
    ("E0107", include_str!("../../docs/errors/E0107.md")),
    ("E0108", include_str!("../../docs/errors/E0108.md")),
    ("E0109", include_str!("../../docs/errors/E0109.md")),
    ("E0110", include_str!("../../docs/errors/E0110.md")),
    ("E0200", include_str!("../../docs/errors/E0200.md")),
    ("E0201", include_str!("../../docs/errors/E0201.md")),
    ("E0202", include_str!("../../docs/errors/E0202.md")),
    ("E0203", include_str!("../../docs/errors/E0203.md")),
    ("E0204", include_str!("../../docs/errors/E0204.md")),
    ("E0205", include_str!("../../docs/errors/E0205.md")),
    ("E0206", include_str!("../../docs/errors/E0206.md")),
    ("E0207", include_str!("../../docs/errors/E0207.md")),
    ("E0208", include_str!("../../docs/errors/E0208.md")),
    ("E0209", include_str!("../../docs/errors/E0209.md")),
    ("E0210", include_str!("../../docs/errors/E0210.md")),
    ("E0211", include_str!("../../docs/errors/E0211.md")),
    ("E0212", include_str!("../../docs/errors/E0212.md")),
    ("E0213", include_str!("../../docs/errors/E0213.md")),
    ("E0214", include_str!("../../docs/errors/E0214.md")),
    ("E0300", include_str!("../../docs/errors/E0300.md")),
    ("E0301", include_str!("../../docs/errors/E0301.md")),
    ("E0302", include_str!("../../docs/errors/E0302.md")),
    ("E0303", include_str!("../../docs/errors/E0303.md")),
    ("E0304", include_str!("../../docs/errors/E0304.md")),
    ("E0305", include_str!("../../docs/errors/E0305.md")),
    ("E0306", include_str!("../../docs/errors/E0306.md")),
    ("E0307", include_str!("../../docs/errors/E0307.md")),
    ("E0400", include_str!("../../docs/errors/E0400.md")),
    ("E0401", include_str!("../../docs/errors/E0401.md")),
    ("E0402", include_str!("../../docs/errors/E0402.md")),
    ("E0403", include_str!("../../docs/errors/E0403.md")),
    ("E0404", include_str!("../../docs/errors/E0404.md")),
    ("E0405", include_str!("../../docs/errors/E0405.md")),
    ("E0406", include_str!("../../docs/errors/E0406.md")),
    ("E0500", include_str!("../../docs/errors/E0500.md")),
    ("E0600", include_str!("../../docs/errors/E0600.md")),
    ("E0601", include_str!("../../docs/errors/E0601.md")),
    ("E0602", include_str!("../../docs/errors/E0602.md")),
    ("E0603", include_str!("../../docs/errors/E0603.md")),
    ("E0604", include_str!("../../docs/errors/E0604.md")),
    ("E0605", include_str!("../../docs/errors/E0605.md")),
    ("E0606", include_str!("../../docs/errors/E0606.md")),
    ("E0607", include_str!("../../docs/errors/E0607.md")),
    ("E0608", include_str!("../../docs/errors/E0608.md")),
    ("E0609", include_str!("../../docs/errors/E0609.md")),
    ("E0610", include_str!("../../docs/errors/E0610.md")),
    ("E0611", include_str!("../../docs/errors/E0611.md")),
    ("E0612", include_str!("../../docs/errors/E0612.md")),
    ("E0613", include_str!("../../docs/errors/E0613.md")),
    ("E0700", include_str!("../../docs/errors/E0700.md")),
    ("E0701", include_str!("../../docs/errors/E0701.md")),
    ("E0702", include_str!("../../docs/errors/E0702.md")),
    ("E0703", include_str!("../../docs/errors/E0703.md")),
    ("E0704", include_str!("../../docs/errors/E0704.md")),
    ("E0705", include_str!("../../docs/errors/E0705.md")),
    ("E0706", include_str!("../../docs/errors/E0706.md")),
    ("E0707", include_str!("../../docs/errors/E0707.md")),
    ("E0708", include_str!("../../docs/errors/E0708.md")),
    ("E0709", include_str!("../../docs/errors/E0709.md")),
    ("E0710", include_str!("../../docs/errors/E0710.md")),
    ("E0711", include_str!("../../docs/errors/E0711.md")),
    ("E0712", include_str!("../../docs/errors/E0712.md")),
    ("E0713", include_str!("../../docs/errors/E0713.md")),
    ("E0714", include_str!("../../docs/errors/E0714.md")),
    ("E0715", include_str!("../../docs/errors/E0715.md")),
    ("E0716", include_str!("../../docs/errors/E0716.md")),
    ("E0717", include_str!("../../docs/errors/E0717.md")),
    ("E0718", include_str!("../../docs/errors/E0718.md")),
    ("E0719", include_str!("../../docs/errors/E0719.md")),
    ("E0720", include_str!("../../docs/errors/E0720.md")),
    ("E0721", include_str!("../../docs/errors/E0721.md")),
    ("E0722", include_str!("../../docs/errors/E0722.md")),
    ("E0723", include_str!("../../docs/errors/E0723.md")),
    ("E0724", include_str!("../../docs/errors/E0724.md")),
    ("E0725", include_str!("../../docs/errors/E0725.md")),
    ("E0726", include_str!("../../docs/errors/E0726.md")),
    ("E0727", include_str!("../../docs/errors/E0727.md")),
    ("E0728", include_str!("../../docs/errors/E0728.md")),
    ("E0740", include_str!("../../docs/errors/E0740.md")),
    ("E0741", include_str!("../../docs/errors/E0741.md")),
    ("E0742", include_str!("../../docs/errors/E0742.md")),
    ("E0743", include_str!("../../docs/errors/E0743.md")),
    ("E0744", include_str!("../../docs/errors/E0744.md")),
    ("E0750", include_str!("../../docs/errors/E0750.md")),
    ("E0751", include_str!("../../docs/errors/E0751.md")),
    ("E0752", include_str!("../../docs/errors/E0752.md")),
    ("E0753", include_str!("../../docs/errors/E0753.md")),
    ("E0800", include_str!("../../docs/errors/E0800.md")),
    ("E0801", include_str!("../../docs/errors/E0801.md")),
    ("E0802", include_str!("../../docs/errors/E0802.md")),
    ("E0803", include_str!("../../docs/errors/E0803.md")),
    ("E0804", include_str!("../../docs/errors/E0804.md")),
    ("E0805", include_str!("../../docs/errors/E0805.md")),
    ("E0807", include_str!("../../docs/errors/E0807.md")),
    ("E0900", include_str!("../../docs/errors/E0900.md")),
    ("E0901", include_str!("../../docs/errors/E0901.md")),
    ("E0902", include_str!("../../docs/errors/E0902.md")),
    ("E0903", include_str!("../../docs/errors/E0903.md")),
    ("E0904", include_str!("../../docs/errors/E0904.md")),
    ("E0910", include_str!("../../docs/errors/E0910.md")),
    ("E0911", include_str!("../../docs/errors/E0911.md")),
    ("E0912", include_str!("../../docs/errors/E0912.md")),
    ("E0913", include_str!("../../docs/errors/E0913.md")),
    ("E0914", include_str!("../../docs/errors/E0914.md")),
    ("E0915", include_str!("../../docs/errors/E0915.md")),
    ("E0916", include_str!("../../docs/errors/E0916.md")),
    ("E0917", include_str!("../../docs/errors/E0917.md")),
    ("E0918", include_str!("../../docs/errors/E0918.md")),
    ("E0919", include_str!("../../docs/errors/E0919.md")),
    ("W0001", include_str!("../../docs/errors/W0001.md")),
    ("W0002", include_str!("../../docs/errors/W0002.md")),
    ("W0003", include_str!("../../docs/errors/W0003.md")),
    ("W0610", include_str!("../../docs/errors/W0610.md")),
    ("W0700", include_str!("../../docs/errors/W0700.md")),
    ("W0701", include_str!("../../docs/errors/W0701.md")),
];

pub fn run(args: &ExplainArgs) -> Report {
    if args.list {
        render::to_stdout(&list());
        return Report::ok();
    }
    let code = args.code.as_deref().unwrap_or_default();
    match explanation(code) {
        Some(text) => {
            render::to_stdout(text);
            Report::ok()
        }
        None => Report::error(
            codes::UNKNOWN_CODE,
            &format!("`{code}` is not an Infra diagnostic code"),
            "codes look like `E0201` or `W0001`; run `infra explain --list` to see them all",
        ),
    }
}

/// The explanation of `code`, matched without regard to case.
pub fn explanation(code: &str) -> Option<&'static str> {
    let code = code.trim();
    EXPLANATIONS.iter().find(|(c, _)| c.eq_ignore_ascii_case(code)).map(|(_, text)| *text)
}

/// `CODE  title` lines for `--list`.
fn list() -> String {
    codes::registry().iter().map(|(code, title)| format!("{code}  {title}\n")).collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_registered_code_is_explained_and_nothing_else() {
        let table: Vec<&str> = EXPLANATIONS.iter().map(|(code, _)| *code).collect();
        let registry: Vec<&str> = codes::registry().iter().map(|(code, _)| code.as_str()).collect();
        assert_eq!(table, registry);
    }

    #[test]
    fn every_explanation_starts_with_its_code_and_title() {
        for (code, title) in codes::registry() {
            let text = explanation(code.as_str()).unwrap_or_default();
            let heading = format!("# {code}: {title}\n");
            assert!(text.starts_with(&heading), "docs/errors/{code}.md should start with `{heading}`");
            // Loading, state and command-line errors are not about source: they need no example.
            let about_files = ["E000", "E07", "W07", "E08"].iter().any(|p| code.as_str().starts_with(p));
            assert!(about_files || text.contains("```infra"), "{code} has no example");
        }
    }

    #[test]
    fn lookup_ignores_case() {
        assert!(explanation("e0201").is_some());
        assert!(explanation("E9999").is_none());
    }
}
