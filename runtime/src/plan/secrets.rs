//! [`Secrets`]: the texts of an instance's sensitive values, taken out of what its
//! provider says.
//!
//! A provider's error or warning may quote the configuration it was given: a command's
//! stderr can repeat a file's content, an API can echo a field it refuses. When the
//! instance holds a sensitive value, every place its text appears in the message is
//! replaced with `(sensitive value)` before the message is shown, journaled or recorded,
//! so the rest of the message (a path, a permission, an HTTP status) still tells what
//! went wrong. A secret too short to be looked for without rewriting ordinary words (a
//! number such as `22`, a `true`, a string of three characters or fewer), one inside a
//! longer word, or one an older configuration spliced into a stored string cannot be
//! taken out reliably: then the whole message is hidden.

use std::cell::RefCell;
use std::collections::BTreeSet;

use infra_compiler::schema::Schema;

use crate::provider::{Attributes, ProviderError};
use crate::value::{format_number, Kind, Value};

/// What replaces a secret in a provider's message.
pub(crate) const REDACTED: &str = "(sensitive value)";

/// The shortest secret looked for in a message: shorter texts (`22`, `yes`) appear in
/// ordinary words and numbers, so a message holding one is hidden whole.
const SHORTEST: usize = 4;

/// The texts to take out of a provider's messages about one instance.
#[derive(Clone, Debug, Default)]
pub(crate) struct Secrets {
    /// Longest first, so that a secret holding another is replaced whole.
    texts: Vec<String>,
    /// A secret too short to look for (see [`SHORTEST`]): messages are hidden whole.
    opaque: bool,
}

impl Secrets {
    /// The secrets among `attributes`: every value marked sensitive, and the whole of
    /// each attribute named in `sensitive` (sensitive by the provider's schema).
    pub fn of(attributes: &Attributes, sensitive: &BTreeSet<String>) -> Secrets {
        let mut secrets = Secrets::default();
        for (name, value) in attributes.iter() {
            secrets.gather(value, sensitive.contains(name.as_str()));
        }
        secrets.settle();
        secrets
    }

    /// These secrets and the values in `seen` (sensitive values an instance's body
    /// interpolated or passed to a function, see [`watching`]): a secret spliced into a
    /// longer string is looked for on its own too.
    pub fn with(mut self, seen: &[Value]) -> Secrets {
        for value in seen {
            self.gather(value, false);
        }
        self.settle();
        self
    }

    /// These secrets, and those `stored` for the object (state marks them). A value the
    /// provider computed (a generated key) is taken out of messages as it is (when long
    /// enough to look for, see [`SHORTEST`]). One from a
    /// configuration may be a string a secret was spliced into, made by an earlier
    /// configuration whose secret has since changed: when this configuration's secrets do
    /// not account for it, its parts cannot be told, and every message about the object
    /// is hidden whole.
    pub fn covering(&self, stored: Option<&Attributes>, schema: &Schema) -> Secrets {
        let Some(stored) = stored.filter(|stored| stored.contains_sensitive()) else { return self.clone() };
        let mut covered = self.clone();
        for (name, value) in stored.iter().filter(|(_, value)| value.contains_sensitive()) {
            // Not in the schema: written by the provider or the host (a plugin's private
            // data), never from configuration.
            let computed = schema.attribute(name).is_none_or(|a| a.computed && !a.settable);
            let mut held = Secrets::default();
            held.gather(value, false);
            if !computed && (held.opaque || held.texts.iter().any(|text| !self.texts.contains(text))) {
                return Secrets::unknown();
            }
            // A computed secret too short to look for (a generated PIN, a flag) is left
            // in: hiding every message about the object for it would hide too much.
            covered.texts.extend(held.texts);
        }
        covered.settle();
        covered
    }

    /// The secrets of an object known only from state, whose configuration is gone (it
    /// is being deleted): see [`Secrets::covering`].
    pub fn stored(stored: &Attributes, schema: &Schema) -> Secrets {
        Secrets::default().covering(Some(stored), schema)
    }

    /// Secrets not known here (values whose marks were dropped): every message is
    /// hidden whole.
    pub fn unknown() -> Secrets {
        Secrets { texts: Vec::new(), opaque: true }
    }

    /// The texts longest first (a secret holding another is replaced whole), once each.
    fn settle(&mut self) {
        self.texts.sort_by(|a, b| b.len().cmp(&a.len()).then_with(|| a.cmp(b)));
        self.texts.dedup();
    }

    /// Whether there is nothing to take out.
    pub fn is_empty(&self) -> bool {
        self.texts.is_empty() && !self.opaque
    }

    fn gather(&mut self, value: &Value, inside: bool) {
        let secret = inside || value.sensitive;
        if !secret && !value.contains_sensitive() {
            return;
        }
        match &value.kind {
            Kind::List(items) | Kind::Set(items) => items.iter().for_each(|item| self.gather(item, secret)),
            Kind::Map(entries) => entries.iter().for_each(|(_, item)| self.gather(item, secret)),
            _ if !secret => {}
            Kind::String(text) => self.text(text),
            Kind::Number(n) => self.text(&format_number(*n)),
            Kind::Bool(_) => self.opaque = true,
            // Nothing to quote: not known yet, or null.
            Kind::Null | Kind::Unknown(_) => {}
        }
    }

    fn text(&mut self, text: &str) {
        if text.trim().is_empty() {
            return;
        }
        if text.chars().count() < SHORTEST {
            self.opaque = true;
            return;
        }
        // As JSON quotes it (an API echoing its request), escapes and all.
        let quoted = serde_json::to_string(text).unwrap_or_default();
        let quoted = &quoted[1..quoted.len().saturating_sub(1)];
        if quoted != text && quoted.chars().count() >= SHORTEST {
            self.texts.push(quoted.to_string());
        }
        // A line of a longer secret (a key file's, a script's) can be quoted alone.
        if text.contains('\n') {
            for line in text.lines().map(str::trim) {
                if line.chars().count() >= 2 * SHORTEST {
                    self.texts.push(line.to_string());
                }
            }
        }
        self.texts.push(text.to_string());
    }

    /// `error` with every secret taken out of its message and help, or `None` when either
    /// must be hidden whole (see [`Secrets::scrub`]).
    pub fn scrub_error(&self, mut error: ProviderError) -> Option<ProviderError> {
        if self.is_empty() {
            return Some(error);
        }
        error.message = self.scrub(&error.message)?;
        error.help = match error.help {
            Some(help) => Some(self.scrub(&help)?),
            None => None,
        };
        Some(error)
    }

    /// `message` with every secret in it replaced, or `None` when it must be hidden whole:
    /// a secret is too short to look for, or stands inside a longer word.
    pub fn scrub(&self, message: &str) -> Option<String> {
        if self.opaque {
            return None;
        }
        let mut scrubbed = message.to_string();
        for text in &self.texts {
            if !scrubbed.contains(text.as_str()) {
                continue;
            }
            // Inside a longer word (`pass` in `password`, `1234` in `12345`), the rest of
            // the word would tell which letters the secret is: the message is hidden.
            let embedded = scrubbed.match_indices(text.as_str()).any(|(at, _)| {
                let joins = |outside: Option<char>, edge: Option<char>| {
                    outside.zip(edge).is_some_and(|(a, b)| a.is_alphanumeric() && b.is_alphanumeric())
                };
                joins(scrubbed[..at].chars().next_back(), text.chars().next())
                    || joins(scrubbed[at + text.len()..].chars().next(), text.chars().next_back())
            });
            if embedded {
                return None;
            }
            scrubbed = scrubbed.replace(text.as_str(), REDACTED);
        }
        Some(scrubbed)
    }
}

thread_local! {
    /// While [`watching`]: the sensitive values interpolated into templates and passed
    /// to functions.
    static SEEN: RefCell<Option<Vec<Value>>> = const { RefCell::new(None) };
}

/// Notes a value a template interpolates or a function is given, when it is sensitive
/// and an instance's body is being evaluated ([`watching`]).
pub(crate) fn seen(value: &Value) {
    if value.contains_sensitive() {
        SEEN.with(|seen| {
            if let Some(seen) = seen.borrow_mut().as_mut() {
                seen.push(value.clone());
            }
        });
    }
}

/// Runs `evaluate` and returns, beside its result, the sensitive values it interpolated
/// or passed to functions ([`seen`]): `"echo ${token}"` is sensitive as a whole, and a
/// command's stderr may quote only the token.
pub(crate) fn watching<T>(evaluate: impl FnOnce() -> T) -> (T, Vec<Value>) {
    let outer = SEEN.with(|seen| seen.replace(Some(Vec::new())));
    let result = evaluate();
    let found = SEEN.with(|seen| seen.replace(outer)).unwrap_or_default();
    (result, found)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn attributes(entries: Vec<(&str, Value)>) -> Attributes {
        entries.into_iter().collect()
    }

    #[test]
    fn a_marked_value_is_taken_out_of_a_message() {
        let secrets = Secrets::of(
            &attributes(vec![("path", Value::string("/etc/app.conf")), ("content", Value::string("hunter22"))]),
            &BTreeSet::from(["content".to_string()]),
        );
        let message = "writing /etc/app.conf: `hunter22` is not valid; hunter22 again";
        let scrubbed = secrets.scrub(message).expect("long enough to look for");
        assert_eq!(scrubbed, "writing /etc/app.conf: `(sensitive value)` is not valid; (sensitive value) again");
    }

    #[test]
    fn secrets_are_found_inside_collections_and_by_their_marks() {
        let inner = Value::map(
            [
                ("user".to_string(), Value::string("admin")),
                ("pass".to_string(), Value::string("s3cr3t!").mark_sensitive()),
            ]
            .into(),
        );
        let secrets = Secrets::of(&attributes(vec![("login", inner)]), &BTreeSet::new());
        let scrubbed = secrets.scrub("admin rejected s3cr3t!").expect("long enough");
        assert_eq!(scrubbed, "admin rejected (sensitive value)");
    }

    #[test]
    fn a_line_of_a_longer_secret_and_its_json_form_are_taken_out() {
        let key = "-----BEGIN KEY-----\nAAAAB3NzaC1yc2EAAAADAQABAAABAQ\n-----END KEY-----\n";
        let secrets = Secrets::of(
            &attributes(vec![("key", Value::string(key)), ("note", Value::string("say \"hello\"").mark_sensitive())]),
            &BTreeSet::from(["key".to_string()]),
        );
        let scrubbed = secrets.scrub("bad line AAAAB3NzaC1yc2EAAAADAQABAAABAQ in {\"note\":\"say \\\"hello\\\"\"}");
        assert_eq!(scrubbed.as_deref(), Some("bad line (sensitive value) in {\"note\":\"(sensitive value)\"}"));
    }

    #[test]
    fn a_secret_too_short_to_look_for_hides_the_message() {
        let secrets = Secrets::of(&attributes(vec![("port", Value::number(22.0).mark_sensitive())]), &BTreeSet::new());
        assert!(!secrets.is_empty());
        assert_eq!(secrets.scrub("connection to port 22 refused"), None);
        let flag = Secrets::of(&attributes(vec![("on", Value::bool(true).mark_sensitive())]), &BTreeSet::new());
        assert_eq!(flag.scrub("true"), None);
    }

    /// A secret found inside a longer word would be told by the rest of the word.
    #[test]
    fn a_secret_inside_a_longer_word_hides_the_message() {
        let secrets = Secrets::of(&attributes(vec![("pin", Value::number(1234.0).mark_sensitive())]), &BTreeSet::new());
        assert_eq!(secrets.scrub("listening on port 12345"), None);
        assert_eq!(secrets.scrub("pin 1234 refused").as_deref(), Some("pin (sensitive value) refused"));
        let word = Secrets::of(&attributes(vec![("user", Value::string("pass").mark_sensitive())]), &BTreeSet::new());
        assert_eq!(word.scrub("password: pass is wrong"), None);
        assert_eq!(word.scrub("user=pass;").as_deref(), Some("user=(sensitive value);"));
    }

    #[test]
    fn stored_secrets_are_taken_out_or_hide_the_message() {
        use infra_compiler::schema::{AttributeSchema, Schema};
        use infra_compiler::types::Type;
        let mut schema = Schema::default();
        schema.attributes.push(AttributeSchema::required("command", Type::String, "a command"));
        schema.attributes.push(AttributeSchema::computed("key", Type::String, "a generated key").sensitive());
        let now = Secrets::of(
            &attributes(vec![("command", Value::string("echo newSecret").mark_sensitive())]),
            &BTreeSet::new(),
        );
        // A generated key is taken out as it is.
        let generated = attributes(vec![
            ("command", Value::string("echo newSecret").mark_sensitive()),
            ("key", Value::string("generatedKey123").mark_sensitive()),
        ]);
        let covered = now.covering(Some(&generated), &schema);
        assert_eq!(
            covered.scrub("key generatedKey123 for echo newSecret").as_deref(),
            Some("key (sensitive value) for (sensitive value)")
        );
        // A command made from an older secret cannot be taken apart.
        let older = attributes(vec![("command", Value::string("echo oldSecret").mark_sensitive())]);
        assert_eq!(now.covering(Some(&older), &schema).scrub("bad oldSecret"), None);
        assert_eq!(Secrets::stored(&older, &schema).scrub("bad oldSecret"), None);
    }

    #[test]
    fn without_secrets_the_message_is_kept() {
        let secrets = Secrets::of(&attributes(vec![("path", Value::string("/tmp/x"))]), &BTreeSet::new());
        assert!(secrets.is_empty());
        assert_eq!(secrets.scrub("/tmp/x: denied").as_deref(), Some("/tmp/x: denied"));
        // A schema-sensitive attribute left null holds nothing to take out.
        let unset = Secrets::of(&attributes(vec![("password", Value::null())]), &BTreeSet::from(["password".into()]));
        assert!(unset.is_empty());
    }
}
