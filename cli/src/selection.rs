//! `--target`, `--exclude` and `--replace`, shared by `plan` and `apply`.

use clap::Args;
use infra_runtime::address::Address;
use infra_runtime::plan::Selection;

#[derive(Args, Debug, Clone, Default)]
pub struct SelectionArgs {
    /// Plan only this declaration or instance, and what it depends on (repeatable)
    #[arg(long = "target", value_name = "ADDRESS", value_parser = parse_address)]
    targets: Vec<Address>,

    /// Leave out this declaration or instance, and what depends on it (repeatable)
    #[arg(long = "exclude", value_name = "ADDRESS", value_parser = parse_address)]
    excludes: Vec<Address>,

    /// Replace this instance of a resource even if nothing changed (repeatable)
    #[arg(long = "replace", value_name = "ADDRESS", value_parser = parse_address)]
    pub replace: Vec<Address>,
}

pub fn parse_address(text: &str) -> Result<Address, String> {
    text.parse::<Address>().map_err(|e| format!("`{text}` is not an address: {} (at byte {})", e.message, e.offset))
}

impl SelectionArgs {
    /// Whether `--target` or `--exclude` narrows the run.
    pub fn is_selective(&self) -> bool {
        !self.targets.is_empty() || !self.excludes.is_empty()
    }

    pub fn selection(&self) -> Selection {
        Selection { targets: self.targets.clone(), excludes: self.excludes.clone(), replace: self.replace.clone() }
    }
}
