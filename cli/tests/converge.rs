//! The convergence suite: every resource kind of every built-in provider, from the
//! stdlib's registry, is applied, planned again, refreshed, changed, imported and
//! destroyed by the real `infra` binary, from its data file
//! `tests/converge/PROVIDER/KIND.converge` (the format is in docs/contributing/converge.md).
//! A kind without a data file, or whose file leaves an attribute uncovered, fails the suite.
//! One moto serves every `aws` case, one stand-in behind Prism every case of a host
//! without an emulator (`linode`, `digitalocean`: [`PRISM_APIS`]), one Mimic every
//! `rackspace` case and one sshd every `ssh` case (their `provider` blocks are put before
//! each configuration), except the kinds that change the operating system (packages,
//! services, users, groups): those run on one Debian container (`support/debian.rs`),
//! never on this machine. Cases run a few at a time, each in its
//! own directory.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::process::Output;
use std::sync::Mutex;

use infra_compiler::schema::Schema;
use infra_compiler::syntax::ast::{Attribute, Body, ExprKind, Item, Resource, ResourceMode};
use infra_compiler::syntax::{parse_file, parse_var_file};
use infra_compiler::FileId;
use serde_json::Value as Json;

mod common;

#[path = "support/debian.rs"]
mod debian;
#[path = "support/mimic.rs"]
mod mimic;
#[path = "support/moto.rs"]
mod moto;
#[path = "support/prism.rs"]
mod prism;
#[path = "support/sshd.rs"]
mod sshd;
#[path = "support/workato.rs"]
mod workato;

use common::{command, text};
use debian::Debian;
use mimic::Mimic;
use moto::Moto;
use prism::Prism;
use sshd::Sshd;

/// The providers whose cases run against a stand-in behind Prism, and their APIs.
const PRISM_APIS: [(&str, &prism::Api); 2] = [("digitalocean", &prism::DIGITALOCEAN), ("linode", &prism::LINODE)];

fn prism_api(provider: &str) -> Option<&'static prism::Api> {
    PRISM_APIS.iter().find(|(name, _)| *name == provider).map(|(_, api)| *api)
}

/// The kinds of Terraform plugins the suite runs (the real terraform-provider-workato
/// against its stand-in, `tests/standins/workato.py`, a fake): their schemas come from
/// the plugin itself, cached by `infra init` in a module made once ([`plugin_schemas`]).
const PLUGIN_KINDS: [(&str, &str); 1] = [("workato", "folder")];

/// The `plugin` block declaring the plugin `name` of [`PLUGIN_KINDS`].
fn plugin_block(name: &str) -> String {
    format!("plugin {name} {{\n  source  = \"local/{name}\"\n  version = \"0.16.0\"\n}}\n")
}

/// The schemas of the plugins of [`PLUGIN_KINDS`], as `infra init` caches them.
fn plugin_schemas() -> BTreeMap<String, infra_compiler::schema::ProviderSchema> {
    let dir = tempfile::tempdir().expect("a module for the plugins");
    let plugins: std::collections::BTreeSet<&str> = PLUGIN_KINDS.iter().map(|(plugin, _)| *plugin).collect();
    let declared: String = plugins.iter().map(|p| plugin_block(p)).collect();
    std::fs::write(dir.path().join("main.infra"), declared).expect("write main.infra");
    let mirror = workato::mirror();
    let output = command(dir.path(), &["init", "--plugin-dir", mirror.to_str().expect("a UTF-8 path")])
        .output()
        .expect("infra init");
    assert!(output.status.success(), "infra init:\n{}", text(&output));
    infra_provider_plugin::schema::SchemaCache::read(dir.path()).expect("the schema cache").providers()
}

/// How many cases run at once: enough to overlap the waits on moto and on processes, few
/// enough for a two-core machine.
const WORKERS: usize = 4;

/// The kinds whose cases run on the Debian container: they change packages, services
/// and accounts, which the machine running the tests must keep as they are.
const ON_DEBIAN: [&str; 4] = ["ssh.group", "ssh.package", "ssh.service", "ssh.user"];

/// The name of the resource under test in every configuration.
const SUBJECT: &str = "this";

fn data_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../tests/converge")
}

/// A resource kind or data source of a built-in provider.
struct Kind {
    provider: String,
    kind: String,
    schema: Schema,
    data: bool,
}

impl Kind {
    fn name(&self) -> String {
        kind_name(&self.provider, &self.kind, self.data)
    }

    /// Its data file: `PROVIDER/KIND.converge`, or `PROVIDER/data/KIND.converge`.
    fn path(&self) -> PathBuf {
        let dir = data_dir().join(&self.provider);
        let dir = if self.data { dir.join("data") } else { dir };
        dir.join(format!("{}.converge", self.kind))
    }
}

fn kind_name(provider: &str, kind: &str, data: bool) -> String {
    format!("{}{provider}.{kind}", if data { "data " } else { "" })
}

/// Every resource kind and data source of every built-in provider.
fn kinds() -> Vec<Kind> {
    let mut kinds = Vec::new();
    for provider in infra_stdlib::providers::all() {
        let name = &provider.name;
        for (kind, schema) in provider.resources {
            kinds.push(Kind { provider: name.clone(), kind, schema, data: false });
        }
        for (kind, schema) in provider.data_sources {
            kinds.push(Kind { provider: name.clone(), kind, schema, data: true });
        }
    }
    let plugins = plugin_schemas();
    for (plugin, kind) in PLUGIN_KINDS {
        let schema = plugins.get(plugin).and_then(|p| p.resources.get(kind)).cloned();
        let schema = schema.unwrap_or_else(|| panic!("the plugin `{plugin}` has no resource `{kind}`"));
        kinds.push(Kind { provider: plugin.to_string(), kind: kind.to_string(), schema, data: false });
    }
    kinds
}

fn is_plugin(provider: &str) -> bool {
    PLUGIN_KINDS.iter().any(|(plugin, _)| *plugin == provider)
}

// --- the data files ------------------------------------------------------------------

/// One attribute (or repeated block) changed to a new value, as Infra text.
#[derive(Clone, Debug)]
struct Change {
    name: String,
    value: String,
}

/// How the object is found outside Infra, after apply and after destroy, in the
/// configurations `only` names (both when `None`).
#[derive(Clone, Debug)]
struct Lookup {
    only: Option<String>,
    how: How,
}

#[derive(Clone, Debug)]
enum How {
    /// `aws ARGS...`: the AWS CLI against moto prints a JSON list (use `--query`).
    Aws(Vec<String>),
    /// `file PATH`: a file relative to the module's directory.
    File(String),
    /// `ssh SCRIPT...`: a shell script run as root in the Debian container; the object
    /// is there when it succeeds.
    Ssh(String),
    /// `PROVIDER PATH` for a provider of [`PRISM_APIS`] (`linode PATH`): a GET of its API
    /// through Prism; the object is there when it answers 200, gone when 404.
    Api { provider: String, path: String },
    /// `nova ARGS...`: python-novaclient against Mimic; the object is there when what
    /// it prints names the subject's id.
    Nova(Vec<String>),
    /// `workato PATH`: a GET of the Workato stand-in's API; the object is there when it
    /// answers 200, gone when 404.
    Workato(String),
}

/// A kind's data file.
#[derive(Clone, Debug)]
struct Spec {
    provider: String,
    kind: String,
    /// A data source: only read, so only `support`, `minimal`, `full` and `unset`.
    data: bool,
    support: String,
    minimal: String,
    full: String,
    update: Vec<Change>,
    replace: Vec<Change>,
    /// The import id as a template over the applied attributes (`{id}`), or `None` when
    /// the kind cannot be imported.
    import: Option<String>,
    /// Attributes an import cannot read back (`name: reason`): the plan after an import
    /// may update them in place, and nothing else.
    import_differs: BTreeMap<String, String>,
    lookups: Vec<Lookup>,
    unset: BTreeMap<String, String>,
    unchanged: BTreeMap<String, String>,
}

impl Spec {
    fn name(&self) -> String {
        kind_name(&self.provider, &self.kind, self.data)
    }

    /// `PROVIDER.KIND`, as a declaration writes it.
    fn type_name(&self) -> String {
        format!("{}.{}", self.provider, self.kind)
    }

    fn on_debian(&self) -> bool {
        !self.data && ON_DEBIAN.contains(&self.type_name().as_str())
    }
}

const SECTIONS: [&str; 10] =
    ["support", "minimal", "full", "update", "replace", "import", "import_differs", "lookup", "unset", "unchanged"];
const REQUIRED_SECTIONS: [&str; 6] = ["minimal", "full", "update", "replace", "import", "lookup"];
const DATA_SECTIONS: [&str; 4] = ["support", "minimal", "full", "unset"];

/// Splits a data file into its `--- NAME` sections. Lines before the first are comments.
fn sections(text: &str, data: bool) -> Result<BTreeMap<String, String>, String> {
    let (allowed, required): (&[&str], &[&str]) =
        if data { (&DATA_SECTIONS, &DATA_SECTIONS[1..3]) } else { (&SECTIONS, &REQUIRED_SECTIONS) };
    let mut sections: BTreeMap<String, String> = BTreeMap::new();
    let mut current: Option<String> = None;
    for (number, line) in text.lines().enumerate() {
        if let Some(name) = line.strip_prefix("--- ") {
            let name = name.trim().to_string();
            if !allowed.contains(&name.as_str()) {
                return Err(format!("line {}: unknown section `{name}`; sections are {allowed:?}", number + 1));
            }
            if sections.insert(name.clone(), String::new()).is_some() {
                return Err(format!("line {}: section `{name}` appears twice", number + 1));
            }
            current = Some(name);
        } else if let Some(name) = &current {
            let section = sections.get_mut(name).expect("the current section exists");
            section.push_str(line);
            section.push('\n');
        } else if !line.trim().is_empty() && !line.starts_with('#') {
            return Err(format!("line {}: text before the first `--- SECTION` line", number + 1));
        }
    }
    for name in required {
        if !sections.contains_key(*name) {
            return Err(format!("section `--- {name}` is missing"));
        }
    }
    Ok(sections)
}

/// The lines of a section that are not blank or `#` comments.
fn meaningful_lines(text: &str) -> impl Iterator<Item = &str> {
    text.lines().map(str::trim).filter(|l| !l.is_empty() && !l.starts_with('#'))
}

/// `name = value` entries, each value as written.
fn changes(text: &str) -> Result<Vec<Change>, String> {
    let attributes = parse_var_file(FileId(0), text).map_err(|d| format!("{:?}", d[0].message))?;
    Ok(attributes
        .iter()
        .map(|a| Change { name: a.name.name.to_string(), value: slice(text, a.value.span).to_string() })
        .collect())
}

/// `name: reason` lines.
fn reasons(text: &str) -> Result<BTreeMap<String, String>, String> {
    meaningful_lines(text)
        .map(|line| {
            let (name, reason) = line.split_once(':').ok_or_else(|| format!("`{line}` is not `name: reason`"))?;
            Ok((name.trim().to_string(), reason.trim().to_string()))
        })
        .collect()
}

fn lookups(text: &str) -> Result<Vec<Lookup>, String> {
    let mut lookups = Vec::new();
    for line in meaningful_lines(text) {
        let (only, rest) = match line.split_once(": ") {
            Some((config, rest)) if config == "minimal" || config == "full" => (Some(config.to_string()), rest),
            _ => (None, line),
        };
        let words = split_words(rest)?;
        let how = match words.split_first() {
            Some((first, [])) if first == "none" => continue,
            Some((first, rest)) if first == "aws" && !rest.is_empty() => How::Aws(rest.to_vec()),
            Some((first, [path])) if first == "file" => How::File(path.clone()),
            Some((first, rest)) if first == "ssh" && !rest.is_empty() => How::Ssh(rest.join(" ")),
            Some((first, [path])) if prism_api(first).is_some() => {
                How::Api { provider: first.clone(), path: path.clone() }
            }
            Some((first, rest)) if first == "nova" && !rest.is_empty() => How::Nova(rest.to_vec()),
            Some((first, [path])) if first == "workato" => How::Workato(path.clone()),
            _ => {
                return Err(format!(
                    "`{line}` is not `[CONFIG: ]none`, `file PATH`, `aws ARGS...`, `ssh SCRIPT`, `linode PATH`, `digitalocean PATH`, `nova ARGS...` or `workato PATH`"
                ))
            }
        };
        lookups.push(Lookup { only, how });
    }
    Ok(lookups)
}

/// Words separated by spaces; double quotes group words and are removed.
fn split_words(line: &str) -> Result<Vec<String>, String> {
    let (mut words, mut word, mut quoted, mut started) = (Vec::new(), String::new(), false, false);
    for c in line.chars() {
        match c {
            '"' => (quoted, started) = (!quoted, true),
            ' ' if !quoted => {
                if started {
                    words.push(std::mem::take(&mut word));
                }
                started = false;
            }
            c => (started, word) = (true, word + &c.to_string()),
        }
    }
    if quoted {
        return Err(format!("`{line}` has an unclosed quote"));
    }
    if started {
        words.push(word);
    }
    Ok(words)
}

fn read_spec(kind: &Kind) -> Result<Spec, String> {
    let path = kind.path();
    let text = std::fs::read_to_string(&path).map_err(|e| format!("cannot read {}: {e}", path.display()))?;
    let sections = sections(&text, kind.data)?;
    let section = |name: &str| sections.get(name).cloned().unwrap_or_default();
    let import = meaningful_lines(&section("import")).next().map(str::to_string);
    Ok(Spec {
        provider: kind.provider.clone(),
        kind: kind.kind.clone(),
        data: kind.data,
        support: section("support"),
        minimal: section("minimal"),
        full: section("full"),
        update: changes(&section("update")).map_err(|e| format!("--- update: {e}"))?,
        replace: changes(&section("replace")).map_err(|e| format!("--- replace: {e}"))?,
        import: import.filter(|i| i != "none"),
        import_differs: reasons(&section("import_differs")).map_err(|e| format!("--- import_differs: {e}"))?,
        lookups: lookups(&section("lookup"))?,
        unset: reasons(&section("unset")).map_err(|e| format!("--- unset: {e}"))?,
        unchanged: reasons(&section("unchanged")).map_err(|e| format!("--- unchanged: {e}"))?,
    })
}

fn slice(text: &str, span: infra_compiler::Span) -> &str {
    &text[span.start as usize..span.end as usize]
}

/// The subject `resource PROVIDER.KIND this` (or `data ...`) of a configuration.
fn subject(source: &str, spec: &Spec) -> Result<Resource, String> {
    let (mode, keyword) = if spec.data { (ResourceMode::Data, "data") } else { (ResourceMode::Managed, "resource") };
    let expected = spec.type_name();
    let parsed = parse_file(FileId(0), source);
    if let Some(diagnostic) = parsed.diagnostics.first() {
        return Err(format!("does not parse: {}", diagnostic.message));
    }
    let found = parsed.ast.items.into_iter().find_map(|item| match item {
        Item::Resource(r) if r.mode == mode && r.name.name == SUBJECT => Some(r),
        _ => None,
    });
    let resource = found.ok_or_else(|| format!("declares no `{keyword} {expected} {SUBJECT}`"))?;
    let kind = format!("{}.{}", resource.ty.provider.name, resource.ty.kind.name);
    if kind != expected {
        return Err(format!("`{SUBJECT}` is a `{kind}`, not a `{expected}`"));
    }
    Ok(resource)
}

/// The names a body sets: attributes and blocks.
fn set_names(body: &Body) -> Vec<String> {
    body.attributes().map(|a| a.name.name.to_string()).chain(body.blocks().map(|b| b.name.name.to_string())).collect()
}

/// What is wrong with a data file against its kind's schema: every settable attribute
/// and block is set by the full configuration (or listed under `unset`) and changed
/// (or listed under `unchanged`); updates name attributes that are not force-new and
/// replacements force-new ones.
fn coverage_problems(spec: &Spec, schema: &Schema) -> Vec<String> {
    let mut problems = Vec::new();
    for (config, text) in [("minimal", &spec.minimal), ("full", &spec.full)] {
        if let Err(problem) = subject(&format!("{}\n{text}", spec.support), spec) {
            problems.push(format!("--- {config}: {problem}"));
        }
    }
    let full = subject(&format!("{}\n{}", spec.support, spec.full), spec).map(|r| set_names(&r.body));
    let full = full.unwrap_or_default();
    let settable: Vec<(&str, bool)> = schema
        .attributes
        .iter()
        .filter(|a| a.settable)
        .map(|a| (a.name.as_str(), a.force_new))
        .chain(schema.blocks.iter().map(|b| (b.name.as_str(), false)))
        .collect();
    for (name, force_new) in &settable {
        if !full.iter().any(|n| n == name) && !spec.unset.contains_key(*name) {
            problems.push(format!("`{name}` is not set by --- full nor listed under --- unset"));
        }
        if spec.data {
            continue;
        }
        let (right, wrong) = if *force_new { (&spec.replace, &spec.update) } else { (&spec.update, &spec.replace) };
        if wrong.iter().any(|c| c.name == *name) {
            let (section, is) = if *force_new { ("update", "force-new") } else { ("replace", "updated in place") };
            problems.push(format!("`{name}` is {is}, so it cannot be under --- {section}"));
        }
        if !right.iter().any(|c| c.name == *name) && !spec.unchanged.contains_key(*name) {
            let section = if *force_new { "replace" } else { "update" };
            problems.push(format!("`{name}` is neither changed under --- {section} nor listed under --- unchanged"));
        }
    }
    let known = |name: &str| settable.iter().any(|(n, _)| *n == name);
    let listed = spec.update.iter().chain(&spec.replace).map(|c| &c.name);
    for name in listed.chain(spec.unset.keys()).chain(spec.unchanged.keys()).chain(spec.import_differs.keys()) {
        if !known(name) {
            problems.push(format!("`{name}` is not a settable attribute or block of `{}`", spec.name()));
        }
    }
    problems
}

#[test]
fn every_resource_kind_has_a_complete_converge_file() {
    let mut problems = Vec::new();
    let kinds = kinds();
    for kind in &kinds {
        let name = kind.name();
        match read_spec(kind) {
            Ok(spec) => {
                problems.extend(coverage_problems(&spec, &kind.schema).into_iter().map(|p| format!("{name}: {p}")))
            }
            Err(error) => problems.push(format!("{name}: {error}")),
        }
    }
    for entry in walk(&data_dir()) {
        if !kinds.iter().any(|kind| kind.path() == entry) {
            problems.push(format!("{} is not the data file of a resource kind or data source", entry.display()));
        }
    }
    assert!(problems.is_empty(), "the convergence data files are incomplete:\n{}", problems.join("\n"));
}

/// Every file under `dir`.
fn walk(dir: &Path) -> Vec<PathBuf> {
    let Ok(entries) = std::fs::read_dir(dir) else { return Vec::new() };
    let mut files = Vec::new();
    for entry in entries.flatten() {
        let path = entry.path();
        if path.is_dir() {
            files.extend(walk(&path));
        } else {
            files.push(path);
        }
    }
    files
}

// --- running a case -----------------------------------------------------------------

/// One configuration of one kind in its own directory.
struct Case<'a> {
    spec: &'a Spec,
    config: &'static str,
    moto: &'a Moto,
    /// The server of the `ssh` cases (started only when one runs).
    sshd: Option<&'a Sshd>,
    /// The container of the kinds in `ON_DEBIAN` (started only when one runs).
    debian: Option<&'a Debian>,
    /// The stand-ins behind Prism, by provider (each started only when a case of its
    /// provider runs).
    prisms: &'a BTreeMap<&'static str, Prism>,
    /// The server of the `rackspace` cases (started only when one runs).
    mimic: Option<&'a Mimic>,
    /// The Workato stand-in of the `workato` plugin's cases (started only when one runs).
    workato: Option<&'a workato::Standin>,
    dir: PathBuf,
}

impl Case<'_> {
    fn label(&self) -> String {
        format!("{} ({})", self.spec.name(), self.config)
    }

    fn write(&self, config: &str) {
        let provider = match (self.sshd, self.debian, self.mimic) {
            (_, Some(debian), _) if self.spec.on_debian() => debian.provider_block(),
            (Some(sshd), _, _) if self.spec.provider == "ssh" => sshd.provider_block(),
            (_, _, Some(mimic)) if self.spec.provider == "rackspace" => mimic.provider_block(),
            _ if is_plugin(&self.spec.provider) => {
                let standin = self.workato.unwrap_or_else(|| panic!("{}: plugin cases need Workato", self.label()));
                let name = &self.spec.provider;
                format!(
                    "{}\nprovider {name} {{\n  base_url = \"{}\"\n  api_key  = \"{}\"\n}}\n",
                    plugin_block(name),
                    standin.base_url(),
                    standin.token
                )
            }
            _ => match self.prisms.get(self.spec.provider.as_str()) {
                Some(p) => {
                    let name = &self.spec.provider;
                    format!("provider {name} {{\n  api_url = \"{}\"\n  token = \"{}\"\n}}\n", p.url, p.token)
                }
                None => String::new(),
            },
        };
        let source = format!("{provider}{}\n{config}", self.spec.support);
        std::fs::write(self.dir.join("main.infra"), source).expect("write main.infra");
    }

    fn infra(&self, args: &[&str]) -> Output {
        let mut command = command(&self.dir, args);
        command.envs(self.moto.environment()).env_remove("AWS_PROFILE");
        if let Some(standin) = self.workato {
            command.env("SSL_CERT_FILE", standin.ca());
        }
        command.output().expect("infra runs")
    }

    /// Runs `infra ARGS`, which must exit with `code`; returns what it printed.
    #[track_caller]
    fn expect(&self, step: &str, args: &[&str], code: i32) -> String {
        let output = self.infra(args);
        let printed = text(&output);
        assert_eq!(
            output.status.code(),
            Some(code),
            "{}: {step}: `infra {}` should exit {code}:\n{printed}",
            self.label(),
            args.join(" ")
        );
        printed
    }

    /// Plans (refreshing unless told not to), and fails unless nothing would change.
    fn converged(&self, step: &str, refresh: bool) {
        let args: &[&str] = if refresh {
            &["plan", "--detailed-exitcode"]
        } else {
            &["plan", "--detailed-exitcode", "--refresh", "false"]
        };
        self.expect(step, args, 0);
    }

    /// Runs `infra ARGS`, which must succeed and print JSON on stdout.
    fn json(&self, step: &str, args: &[&str]) -> Json {
        let output = self.infra(args);
        let printed = text(&output);
        assert_eq!(
            output.status.code(),
            Some(0),
            "{}: {step}: `infra {}` failed:\n{printed}",
            self.label(),
            args.join(" ")
        );
        serde_json::from_slice(&output.stdout).unwrap_or_else(|e| {
            panic!("{}: {step}: `infra {}` printed no JSON ({e}):\n{printed}", self.label(), args.join(" "))
        })
    }

    /// The subject's attributes in the state, as JSON.
    fn attributes(&self) -> Json {
        let state = self.json("state pull", &["state", "pull"]);
        let instances = state["instances"].as_array().cloned().unwrap_or_default();
        let found = instances.into_iter().find(|i| i["address"] == SUBJECT && i["mode"] == "managed");
        found
            .map(|i| i["attributes"].clone())
            .unwrap_or_else(|| panic!("{}: `{SUBJECT}` is not in the state", self.label()))
    }

    /// `template` with each `{name}` replaced by the subject's attribute `name`.
    fn fill(&self, template: &str, attributes: &Json) -> String {
        let mut filled = String::new();
        let mut rest = template;
        while let Some(start) = rest.find('{') {
            let end =
                rest[start..].find('}').map(|e| start + e).unwrap_or_else(|| panic!("unclosed `{{` in {template}"));
            let name = &rest[start + 1..end];
            let value = match &attributes[name] {
                Json::String(s) => s.clone(),
                Json::Number(n) => n.to_string(),
                other => panic!("{}: `{{{name}}}` in `{template}`: the attribute is {other}", self.label()),
            };
            filled.push_str(&rest[..start]);
            filled.push_str(&value);
            rest = &rest[end + 1..];
        }
        filled.push_str(rest);
        filled
    }

    /// Checks through the real client that the object exists (`present`) or not.
    fn look_up(&self, attributes: &Json, present: bool) {
        let lookups = self.spec.lookups.iter().filter(|l| l.only.as_ref().is_none_or(|c| c == self.config));
        for lookup in lookups {
            match &lookup.how {
                How::Aws(args) => {
                    let args: Vec<String> = args.iter().map(|a| self.fill(a, attributes)).collect();
                    let args: Vec<&str> = args.iter().map(String::as_str).collect();
                    let found = self.moto.aws(&args);
                    let count = found.as_array().map(Vec::len);
                    let expected = usize::from(present);
                    assert_eq!(count, Some(expected), "{}: `aws {}` printed {found}", self.label(), args.join(" "));
                }
                How::File(path) => {
                    let path = self.dir.join(self.fill(path, attributes));
                    assert_eq!(path.exists(), present, "{}: {} exists: {}", self.label(), path.display(), !present);
                }
                How::Ssh(script) => {
                    let script = self.fill(script, attributes);
                    let debian = self.debian.unwrap_or_else(|| panic!("{}: `ssh` lookups need Debian", self.label()));
                    let found = debian.succeeds(&script);
                    assert_eq!(found, present, "{}: `{script}` in the container succeeds: {found}", self.label());
                }
                How::Api { provider, path } => {
                    let path = self.fill(path, attributes);
                    let prism = self.prisms.get(provider.as_str());
                    let prism = prism.unwrap_or_else(|| panic!("{}: `{provider}` lookups need Prism", self.label()));
                    let (status, answer) = prism.api("GET", &path, None);
                    let expected = if present { 200 } else { 404 };
                    assert_eq!(status, expected, "{}: `GET {path}` answered {answer}", self.label());
                }
                How::Workato(path) => {
                    let path = self.fill(path, attributes);
                    let standin = self.workato.unwrap_or_else(|| panic!("{}: `workato` lookups need it", self.label()));
                    let (status, answer) = standin.api(&path);
                    let expected = if present { 200 } else { 404 };
                    assert_eq!(status, expected, "{}: GET {path} answered {status}: {answer}", self.label());
                }
                How::Nova(args) => {
                    let args: Vec<String> = args.iter().map(|a| self.fill(a, attributes)).collect();
                    let args: Vec<&str> = args.iter().map(String::as_str).collect();
                    let mimic = self.mimic.unwrap_or_else(|| panic!("{}: `nova` lookups need Mimic", self.label()));
                    let printed = mimic.nova(&args);
                    let id = attributes["id"].as_str().unwrap_or_default();
                    let found = !id.is_empty() && printed.contains(id);
                    assert_eq!(
                        found,
                        present,
                        "{}: `nova {}` names `{id}`: {found}\n{printed}",
                        self.label(),
                        args.join(" ")
                    );
                }
            }
        }
    }

    /// Applies `config` with one attribute changed, after checking the plan does exactly
    /// `action` (`update` or `replace`) to the subject and nothing else.
    fn change(&self, config: &mut String, change: &Change, action: &str) {
        *config = with_change(config, self.spec, change)
            .unwrap_or_else(|e| panic!("{}: cannot change `{}`: {e}", self.label(), change.name));
        self.write(config);
        let step = format!("{} `{}` to {}", action, change.name, change.value);
        let plan = self.json(&step, &["plan", "--json"]);
        let changes = plan["changes"].as_array().cloned().unwrap_or_default();
        let actions: Vec<(String, String)> = changes
            .iter()
            .map(|c| {
                (
                    c["address"].as_str().unwrap_or_default().to_string(),
                    c["action"].as_str().unwrap_or_default().to_string(),
                )
            })
            .collect();
        assert_eq!(
            actions,
            [(SUBJECT.to_string(), action.to_string())],
            "{}: {step}: the plan is {plan:#}",
            self.label()
        );
        let attribute = &changes[0]["attributes"][&change.name];
        assert_eq!(
            attribute["changed"],
            true,
            "{}: {step}: `{}` is not changed in {plan:#}",
            self.label(),
            change.name
        );
        if action == "replace" {
            assert_eq!(attribute["forces_replacement"], true, "{}: {step}: in {plan:#}", self.label());
        }
        self.expect(&step, &["apply", "--auto-approve"], 0);
        self.converged(&format!("plan after {step}"), true);
    }

    fn run(&self) {
        let mut config = if self.config == "full" { self.spec.full.clone() } else { self.spec.minimal.clone() };
        self.write(&config);
        if is_plugin(&self.spec.provider) {
            let mirror = workato::mirror();
            self.expect("init", &["init", "--plugin-dir", mirror.to_str().expect("a UTF-8 path")], 0);
        }
        self.expect("apply", &["apply", "--auto-approve"], 0);
        self.converged("plan after apply", true);
        self.converged("plan after apply without refresh", false);
        if self.spec.data {
            return self.destroy(&Json::Null);
        }
        // An apply with nothing to do saves what refresh read; planning from that state
        // alone must find nothing either.
        self.expect("refresh", &["apply", "--auto-approve"], 0);
        self.converged("plan after refresh", false);
        self.look_up(&self.attributes(), true);
        if self.config == "full" {
            for change in &self.spec.update {
                self.change(&mut config, change, "update");
            }
            for change in &self.spec.replace {
                self.change(&mut config, change, "replace");
            }
        }
        self.import();
        self.destroy(&self.attributes());
    }

    /// Destroys everything; then the state is empty and the subject cannot be found.
    fn destroy(&self, attributes: &Json) {
        self.expect("destroy", &["destroy", "--auto-approve"], 0);
        let listed = self.expect("state list after destroy", &["state", "list"], 0);
        assert!(listed.trim().is_empty(), "{}: destroy left in the state:\n{listed}", self.label());
        self.look_up(attributes, false);
    }

    /// Forgets the subject and imports it again by its id, then nothing must change; a
    /// kind without import must refuse it (and is then created again).
    fn import(&self) {
        let attributes = self.attributes();
        self.expect("state rm", &["state", "rm", SUBJECT], 0);
        match &self.spec.import {
            Some(template) => {
                let id = self.fill(template, &attributes);
                self.expect("import", &["import", SUBJECT, &id], 0);
                if !self.spec.import_differs.is_empty() {
                    self.update_after_import();
                }
                self.converged("plan after import", true);
            }
            None => {
                let printed = self.expect("import (refused)", &["import", SUBJECT, "anything"], 1);
                assert!(
                    printed.contains("cannot be imported"),
                    "{}: import failed otherwise:\n{printed}",
                    self.label()
                );
                self.expect("apply after the refused import", &["apply", "--auto-approve"], 0);
            }
        }
    }
}

impl Case<'_> {
    /// Applies the in-place update an import may need for the attributes it cannot read
    /// back, after checking the plan changes nothing else.
    fn update_after_import(&self) {
        let plan = self.json("plan after import", &["plan", "--json"]);
        let changes = plan["changes"].as_array().cloned().unwrap_or_default();
        for change in &changes {
            assert!(
                change["address"] == SUBJECT && change["action"] == "update",
                "{}: after import, only an update of `{SUBJECT}` may be planned: {plan:#}",
                self.label()
            );
            let attributes = change["attributes"].as_object().cloned().unwrap_or_default();
            for (name, attribute) in attributes.iter().filter(|(_, a)| a["changed"] == true) {
                assert!(
                    self.spec.import_differs.contains_key(name),
                    "{}: after import, `{name}` changes but is not under --- import_differs: {plan:#}",
                    self.label()
                );
                assert_eq!(attribute["forces_replacement"], false, "{}: {plan:#}", self.label());
            }
        }
        if !changes.is_empty() {
            self.expect("apply after import", &["apply", "--auto-approve"], 0);
        }
    }
}

/// `config` with `change` made to the subject: an attribute's value replaced (or the
/// attribute added), or every block of that name replaced by one block per object of
/// the list the change gives.
fn with_change(config: &str, spec: &Spec, change: &Change) -> Result<String, String> {
    let offset = spec.support.len() + 1;
    let resource = subject(&format!("{}\n{config}", spec.support), spec)?;
    let at = |span: infra_compiler::Span| (span.start as usize - offset, span.end as usize - offset);
    let mut text = config.to_string();
    let close = text[..at(resource.span).1].rfind('}').ok_or("the subject has no closing brace")?;
    let blocks: Vec<_> = resource.body.blocks().filter(|b| b.name.name == change.name).collect();
    if !blocks.is_empty() || change.value.trim_start().starts_with("[{") {
        // The new blocks go in first, after every old one, so the old ones' offsets hold.
        text.insert_str(close, &render_blocks(&change.name, &change.value)?);
        for block in blocks.iter().rev() {
            let (start, end) = at(block.span);
            text.replace_range(start..end, "");
        }
        return Ok(text);
    }
    match resource.body.attribute(&change.name) {
        Some(Attribute { value, .. }) => {
            let (start, end) = at(value.span);
            text.replace_range(start..end, &change.value);
        }
        None => text.insert_str(close, &format!("  {} = {}\n", change.name, change.value)),
    }
    Ok(text)
}

/// `[{ a = 1 }, { a = 2 }]` as `name { a = 1 }` blocks, one a line; a field that is
/// itself a list of objects, `[{ b = [{ c = 1 }] }]`, as nested blocks.
fn render_blocks(name: &str, value: &str) -> Result<String, String> {
    let expression = infra_compiler::syntax::parse_expression(FileId(0), value).map_err(|d| d[0].message.clone())?;
    let ExprKind::List(items) = expression.kind else { return Err(format!("`{value}` is not a list of objects")) };
    let mut text = String::new();
    for item in items {
        let ExprKind::Object(fields) = item.kind else { return Err(format!("`{value}` is not a list of objects")) };
        text.push_str(&format!("  {name} {{\n"));
        for field in fields {
            let field_text = slice(value, field.span());
            match field_text.split_once('=') {
                Some((inner, list)) if list.trim_start().starts_with("[{") => {
                    for line in render_blocks(inner.trim(), list.trim())?.lines() {
                        text.push_str(&format!("  {line}\n"));
                    }
                }
                _ => text.push_str(&format!("    {field_text}\n")),
            }
        }
        text.push_str("  }\n");
    }
    Ok(text)
}

#[test]
fn every_resource_kind_converges() {
    // For working on a few kinds: INFRA_CONVERGE_KINDS="aws.subnet local.file".
    let only = std::env::var("INFRA_CONVERGE_KINDS").ok();
    let chosen = |name: &str| {
        let name = name.strip_prefix("data ").map_or(name.to_string(), |kind| format!("data.{kind}"));
        only.as_ref().is_none_or(|only| only.split_whitespace().any(|k| k == name))
    };
    let specs: Vec<Spec> = kinds()
        .iter()
        .filter(|kind| chosen(&kind.name()))
        .map(|kind| read_spec(kind).unwrap_or_else(|e| panic!("{}: {e}", kind.name())))
        .collect();
    let moto = Moto::start();
    let sshd = specs.iter().any(|spec| spec.provider == "ssh" && !spec.on_debian()).then(Sshd::start);
    let debian = specs.iter().any(Spec::on_debian).then(Debian::start);
    let prisms: BTreeMap<&'static str, Prism> = PRISM_APIS
        .iter()
        .filter(|(provider, _)| specs.iter().any(|spec| spec.provider == *provider))
        .map(|(provider, api)| (*provider, Prism::start(api)))
        .collect();
    let mimic = specs.iter().any(|spec| spec.provider == "rackspace").then(Mimic::start);
    let workato = specs.iter().any(|spec| is_plugin(&spec.provider)).then(workato::Standin::start);
    let temp = tempfile::tempdir().expect("temp dir");
    let queue: Mutex<Vec<(&Spec, &'static str)>> =
        Mutex::new(specs.iter().flat_map(|s| [(s, "minimal"), (s, "full")]).rev().collect());
    let failures: Mutex<Vec<String>> = Mutex::new(Vec::new());
    std::thread::scope(|scope| {
        for _ in 0..WORKERS {
            scope.spawn(|| loop {
                let Some((spec, config)) = queue.lock().expect("queue").pop() else { return };
                let data = if spec.data { "data-" } else { "" };
                let dir = temp.path().join(format!("{data}{}-{}-{config}", spec.provider, spec.kind));
                std::fs::create_dir(&dir).expect("case dir");
                let (sshd, debian, mimic) = (sshd.as_ref(), debian.as_ref(), mimic.as_ref());
                let workato = workato.as_ref().filter(|_| is_plugin(&spec.provider));
                let case = Case { spec, config, moto: &moto, sshd, debian, prisms: &prisms, mimic, workato, dir };
                let outcome = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| case.run()));
                if let Err(panic) = outcome {
                    let message = panic
                        .downcast_ref::<String>()
                        .cloned()
                        .or_else(|| panic.downcast_ref::<&str>().map(|s| s.to_string()))
                        .unwrap_or_default();
                    failures.lock().expect("failures").push(message);
                }
            });
        }
    });
    for prism in prisms.values() {
        prism.assert_no_violations();
    }
    let failures = failures.into_inner().expect("failures");
    let firsts: Vec<&str> = failures.iter().map(|f| f.lines().next().unwrap_or_default()).collect();
    assert!(
        failures.is_empty(),
        "{} cases do not converge:\n{}\n\n{}",
        failures.len(),
        firsts.join("\n"),
        failures.join("\n\n")
    );
}
