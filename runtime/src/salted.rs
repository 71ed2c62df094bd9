//! Values a function makes with a fresh random salt (`bcrypt`), kept stable from plan to
//! plan.
//!
//! Each call of such a function gives another result for the same input, so a resource
//! attribute set from one would differ from the state at every plan: an update (or a
//! replacement, in `triggers`) after every apply. The function records each result it
//! makes with its input and a way to tell another result of the same input; before the
//! configuration is compared with the prior object, a result made in this run is
//! replaced by the prior value at the same place when that value is another result of
//! the same input (same cost, same password for `bcrypt`). A changed input (or cost)
//! gives a new result, as it should.

use std::collections::HashMap;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Mutex, OnceLock, PoisonError};

use crate::provider::Attributes;
use crate::value::{Kind, Value};

/// Whether `candidate` is another result of the salted function for `input`, made the
/// way `made` was (the same cost).
pub type Verify = fn(input: &str, made: &str, candidate: &str) -> bool;

struct Made {
    input: String,
    verify: Verify,
    /// What stands for it in a saved plan's digest: the same for every result of the
    /// same input made the same way (see [`stand_ins`]).
    stand_in: String,
}

/// Set once anything was recorded: a run that makes no salted value skips the walk.
static ANY: AtomicBool = AtomicBool::new(false);

/// The results made in this run, by result, and the lengths they come in (a result is
/// looked for in a text only at a `$`, with each of these lengths).
#[derive(Default)]
struct Registry {
    made: HashMap<String, Made>,
    lengths: Vec<usize>,
}

fn registry() -> &'static Mutex<Registry> {
    static REGISTRY: OnceLock<Mutex<Registry>> = OnceLock::new();
    REGISTRY.get_or_init(Mutex::default)
}

/// Records `result`, made from `input`, for [`keep_prior`]. The input (a password) is
/// held in memory only, for the process's life. A result starts with `$`, as the
/// modular crypt format's do. `kind` names how it was made (`bcrypt $2a$04$`), for
/// [`stand_ins`].
pub fn record(result: &str, input: &str, kind: &str, verify: Verify) {
    use sha2::Digest as _;
    debug_assert!(result.starts_with('$'), "{result}");
    let digest = sha2::Sha256::digest(format!("{kind}\0{input}").as_bytes());
    let stand_in = format!("(salted {})", digest.iter().map(|b| format!("{b:02x}")).collect::<String>());
    let mut registry = registry().lock().unwrap_or_else(PoisonError::into_inner);
    if !registry.lengths.contains(&result.len()) {
        registry.lengths.push(result.len());
    }
    registry.made.insert(result.to_string(), Made { input: input.to_string(), verify, stand_in });
    ANY.store(true, Ordering::Release);
}

/// `text` (a value's text, for a digest) with each salted result made in this run in
/// the form every result of its input shares: a saved plan planned again at apply makes
/// another salt, and must still be the plan that was saved. Results are looked up only
/// where the text has a `$`, so this stays linear in the text however many were made.
pub fn stand_ins(text: String) -> String {
    if !ANY.load(Ordering::Acquire) || !text.contains('$') {
        return text;
    }
    let registry = registry().lock().unwrap_or_else(PoisonError::into_inner);
    let mut out = String::with_capacity(text.len());
    let mut rest = text.as_str();
    while let Some(at) = rest.find('$') {
        out.push_str(&rest[..at]);
        rest = &rest[at..];
        let found = registry
            .lengths
            .iter()
            .find_map(|&length| registry.made.get(rest.get(..length)?).map(|maker| (length, maker)));
        match found {
            Some((length, maker)) => {
                out.push_str(&maker.stand_in);
                rest = &rest[length..];
            }
            None => {
                out.push('$');
                rest = &rest[1..];
            }
        }
    }
    out.push_str(rest);
    out
}

/// In `planned` (a configuration about to be compared with `prior`), each salted result
/// made in this run whose place in `prior` holds another result of the same input takes
/// that prior result, keeping its own sensitive mark.
pub fn keep_prior(planned: &mut Attributes, prior: &Attributes) {
    if !ANY.load(Ordering::Acquire) {
        return;
    }
    let registry = registry().lock().unwrap_or_else(PoisonError::into_inner);
    for (name, value) in planned.iter_mut() {
        if let Some(kept) = prior.get(name.as_str()).and_then(|old| kept(value, old, &registry.made)) {
            *value = kept;
        }
    }
}

/// `planned` with the prior results in place of equivalent new ones; none when nothing
/// was replaced.
fn kept(planned: &Value, prior: &Value, made: &HashMap<String, Made>) -> Option<Value> {
    let value = match (&planned.kind, &prior.kind) {
        (Kind::String(new), Kind::String(old)) => {
            let maker = made.get(new.as_str())?;
            if new == old || !(maker.verify)(&maker.input, new, old) {
                return None;
            }
            Value::string(old.as_str())
        }
        (Kind::List(new), Kind::List(old)) if new.len() == old.len() => {
            let replaced: Vec<Option<Value>> = new.iter().zip(old.iter()).map(|(n, o)| kept(n, o, made)).collect();
            if replaced.iter().all(Option::is_none) {
                return None;
            }
            Value::list(new.iter().zip(replaced).map(|(n, r)| r.unwrap_or_else(|| n.clone())).collect())
        }
        (Kind::Map(new), Kind::Map(old)) => {
            let mut entries = new.clone();
            let mut any = false;
            for (key, value) in entries.iter_mut() {
                if let Some(kept) = old.get(key.as_str()).and_then(|o| kept(value, o, made)) {
                    *value = kept;
                    any = true;
                }
            }
            if !any {
                return None;
            }
            Value::object(entries)
        }
        _ => return None,
    };
    Some(value.with_mark(planned.sensitive))
}
