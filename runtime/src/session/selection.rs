//! `--target`, `--exclude` and `--replace` must name something: an address that matches
//! nothing in the configuration or the state is an error with a suggestion, not a run
//! that quietly plans nothing ("No changes").

use infra_compiler::diagnostic::{suggest, Diagnostic};
use infra_compiler::resolve::{DeclKind, Module};

use crate::address::Address;
use crate::plan::Selection;
use crate::state::State;

/// An error for every address of `selection` that neither the configuration declares
/// nor the state holds. Instance keys are not checked here: which keys exist is known
/// only once the plan evaluates the repetition, and `plan::selection` checks them then.
pub fn unmatched(selection: &Selection, modules: &[Module], state: &State) -> Vec<Diagnostic> {
    let flags =
        [("--target", &selection.targets), ("--exclude", &selection.excludes), ("--replace", &selection.replace)];
    let mut diagnostics = Vec::new();
    for (flag, addresses) in flags {
        for address in addresses.iter() {
            let stored = state.instances.keys().any(|a| a.is_within(address));
            if !stored && !declared(address, modules) {
                diagnostics.push(no_match(flag, address, modules, state));
            }
        }
    }
    diagnostics
}

/// Whether the configuration declares `address`: each step a module call on the way,
/// the last a resource, data source or module call.
fn declared(address: &Address, modules: &[Module]) -> bool {
    let Some(mut module) = modules.first() else { return false };
    for (i, step) in address.steps.iter().enumerate() {
        let Some(decl) = module.decl(&step.name) else { return false };
        let last = i + 1 == address.steps.len();
        match decl.kind {
            DeclKind::Resource | DeclKind::Data if last => return true,
            DeclKind::Module if last => return true,
            DeclKind::Module => match module.calls.get(step.name.as_str()).and_then(|&child| modules.get(child)) {
                Some(child) => module = child,
                None => return false,
            },
            _ => return false,
        }
    }
    false
}

fn no_match(flag: &str, address: &Address, modules: &[Module], state: &State) -> Diagnostic {
    let mut candidates: Vec<String> = modules.first().map_or_else(Vec::new, |root| {
        root.decls
            .iter()
            .filter(|(_, d)| matches!(d.kind, DeclKind::Resource | DeclKind::Data | DeclKind::Module))
            .map(|(name, _)| name.to_string())
            .collect()
    });
    candidates.extend(state.instances.keys().map(ToString::to_string));
    let written = address.to_string();
    let help = suggest(&written, candidates.iter().map(String::as_str)).unwrap_or_else(|| {
        "name a resource, data source or module call of the configuration, or an instance the state holds \
         (`infra state list`)"
            .to_string()
    });
    Diagnostic::error(
        crate::codes::SELECTION_UNMATCHED,
        format!("`{flag} {written}` matches nothing in the configuration or the state"),
    )
    .with_help(help)
}
