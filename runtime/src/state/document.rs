//! The snapshot format: a [`State`] as a JSON document.
//!
//! ```json
//! { "format_version": 1, "serial": 4, "lineage": "…",
//!   "instances": [ { "address": "web[0]", "mode": "managed", "type": "local.file",
//!                    "provider": "local", "status": "created", "attributes": { … },
//!                    "sensitive_attributes": [["content"]], "dependencies": ["dir"] } ],
//!   "outputs": { "path": { "value": "out/web.txt", "sensitive": false } } }
//! ```
//!
//! An instance whose attributes hold sets lists where they are in `set_attributes`
//! (`[["triggers", "zones"]]`), and an output in `sets` (`[[]]` for the value itself):
//! JSON has only arrays. Both are left out when there are none.
//!
//! Instances are listed in address order and object keys are sorted, so the same state
//! always serializes to the same bytes. Fields this version does not know are ignored;
//! a change old versions would misread increments `format_version`.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};
use serde_json::Value as Json;

use super::error::{StateError, StateErrorKind};
use super::json::{
    output_to_json, restore_marked, restore_output_sets, stored_attributes, with_shared_values, AttributePath, Marked,
    ParsedAttributes, ParsedValue, StoredAttributes,
};
use super::{Instance, Mode, State, Status, FORMAT_VERSION};
use crate::address::Address;
use crate::value::{Name, Names};

/// A snapshot as read, straight from its text: values are built as they are parsed,
/// without a JSON tree of the whole document first.
#[derive(Deserialize)]
struct Document {
    // Not `#[serde(flatten)]`ed from `Versioned`: that would buffer the whole document.
    format_version: Option<Json>,
    #[serde(default)]
    encryption: Option<serde::de::IgnoredAny>,
    serial: u64,
    lineage: String,
    #[serde(default)]
    instances: Vec<InstanceDocument>,
    #[serde(default)]
    outputs: BTreeMap<String, OutputIn>,
}

/// [`Document`] with each instance left as its JSON text, to be parsed afterwards: a
/// large state's instances are parsed on every core ([`read_document`]).
#[derive(Deserialize)]
struct RawDocument<'a> {
    format_version: Option<Json>,
    #[serde(default)]
    encryption: Option<serde::de::IgnoredAny>,
    serial: u64,
    lineage: String,
    #[serde(default, borrow)]
    instances: Vec<&'a serde_json::value::RawValue>,
    #[serde(default)]
    outputs: BTreeMap<String, OutputIn>,
}

/// Each thread parsing instances gets at least this many.
const INSTANCES_PER_PARSER: usize = 2_000;

/// A snapshot smaller than this is parsed in one pass: it cannot hold two threads' worth
/// of instances (4,000 of the smallest, a `null.resource` with one string, are some
/// 240 bytes a line: about 1 MB).
const BYTES_BEFORE_RAW: usize = 512 * 1024;

/// Reads a snapshot's document. The instances of a large state are parsed on every
/// core, each thread sharing equal keys and objects among its own instances. An error is
/// the whole document's parse's, which places it in the file's text.
fn read_document(bytes: &[u8]) -> Result<Document, serde_json::Error> {
    let whole = || with_shared_values(|| serde_json::from_slice::<Document>(bytes));
    let cores = infra_compiler::cores();
    if cores == 1 || bytes.len() < BYTES_BEFORE_RAW {
        // Too small for a second thread to pay for the first pass.
        return whole();
    }
    let raw: RawDocument = with_shared_values(|| serde_json::from_slice(bytes))?;
    let workers = (raw.instances.len() / INSTANCES_PER_PARSER).clamp(1, cores);
    let parse = |raws: &[&serde_json::value::RawValue]| {
        with_shared_values(|| {
            raws.iter().map(|raw| serde_json::from_str::<InstanceDocument>(raw.get())).collect::<Result<Vec<_>, _>>()
        })
    };
    let instances = if workers == 1 {
        parse(&raw.instances)
    } else {
        let share = raw.instances.len().div_ceil(workers);
        std::thread::scope(|scope| {
            let handles: Vec<_> = raw.instances.chunks(share).map(|part| scope.spawn(move || parse(part))).collect();
            let mut instances = Vec::with_capacity(raw.instances.len());
            for handle in handles {
                instances.extend(handle.join().unwrap_or_else(|panic| std::panic::resume_unwind(panic))?);
            }
            Ok(instances)
        })
    };
    match instances {
        Ok(instances) => Ok(Document {
            format_version: raw.format_version,
            encryption: raw.encryption,
            serial: raw.serial,
            lineage: raw.lineage,
            instances,
            outputs: raw.outputs,
        }),
        Err(_) => whole(),
    }
}

/// What says how to read the rest: the format version, and whether it is encrypted.
#[derive(Deserialize)]
struct Versioned {
    format_version: Option<Json>,
    #[serde(default)]
    encryption: Option<serde::de::IgnoredAny>,
}

/// [`Document`] as written: borrowing the state, attributes serialized straight from the
/// values.
#[derive(Serialize)]
struct DocumentOut<'a> {
    format_version: u64,
    serial: u64,
    lineage: &'a str,
    instances: Vec<InstanceOut<'a>>,
    outputs: BTreeMap<&'a str, OutputDocument>,
}

#[derive(Serialize)]
struct InstanceOut<'a> {
    address: String,
    mode: Mode,
    #[serde(rename = "type")]
    resource_type: &'a str,
    provider: &'a str,
    status: Status,
    attributes: StoredAttributes<'a>,
    sensitive_attributes: Vec<AttributePath>,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    set_attributes: Vec<AttributePath>,
    dependencies: Vec<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    triggers: Option<&'a str>,
}

#[derive(Deserialize)]
struct InstanceDocument {
    address: String,
    mode: Mode,
    #[serde(rename = "type", deserialize_with = "super::json::deserialize_shared_name")]
    resource_type: Name,
    #[serde(deserialize_with = "super::json::deserialize_shared_name")]
    provider: Name,
    status: Status,
    attributes: ParsedAttributes,
    #[serde(default)]
    sensitive_attributes: Vec<AttributePath>,
    #[serde(default)]
    set_attributes: Vec<AttributePath>,
    #[serde(default)]
    dependencies: Vec<String>,
    #[serde(default)]
    triggers: Option<String>,
}

#[derive(Serialize)]
struct OutputDocument {
    value: Json,
    sensitive: bool,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    sets: Vec<AttributePath>,
}

#[derive(Deserialize)]
struct OutputIn {
    value: ParsedValue,
    #[serde(default)]
    sensitive: bool,
    #[serde(default)]
    sets: Vec<AttributePath>,
}

/// The fields every version of the format has, for checking what a write would replace.
#[derive(Clone, Debug, Deserialize)]
pub struct Header {
    pub serial: u64,
    pub lineage: String,
}

/// Serializes `state` with the given serial, ending in a newline: the document's fields
/// one per line, each instance and each output on a line of its own (see [`LineFormatter`]).
pub fn render_snapshot(state: &State, serial: u64) -> Result<Vec<u8>, StateError> {
    let mut bytes = Vec::with_capacity(state.instances.len() * 512);
    snapshot(state, serial)?
        .write_to(&mut bytes)
        .map_err(|e| StateError::new(StateErrorKind::Unstorable, format!("cannot serialize the state: {e}")))?;
    Ok(bytes)
}

/// `state` with the given serial, checked to be storable and ready to write: written to
/// a file as it is serialized, a large state is never held as text (25 MB for 10,000
/// instances of thirty attributes).
pub fn snapshot(state: &State, serial: u64) -> Result<Snapshot<'_>, StateError> {
    let mut instances = Vec::with_capacity(state.instances.len());
    for (address, instance) in &state.instances {
        instances.push(instance_document(address, instance)?);
    }
    let mut outputs = BTreeMap::new();
    for (name, value) in &state.outputs {
        let (value, sensitive, sets) = output_to_json(name, value)?;
        outputs.insert(name.as_str(), OutputDocument { value, sensitive, sets });
    }
    Ok(Snapshot(DocumentOut { format_version: FORMAT_VERSION, serial, lineage: &state.lineage, instances, outputs }))
}

/// A snapshot whose values were all checked ([`snapshot`]): writing it can fail only
/// where its writer does.
pub struct Snapshot<'a>(DocumentOut<'a>);

impl Snapshot<'_> {
    pub fn write_to(&self, mut writer: impl std::io::Write) -> std::io::Result<()> {
        let mut serializer = serde_json::Serializer::with_formatter(&mut writer, LineFormatter::default());
        self.0.serialize(&mut serializer).map_err(std::io::Error::other)?;
        writer.write_all(b"\n")?;
        writer.flush()
    }
}

/// Writes the two outer levels of a document indented, one member per line, and
/// everything deeper compactly: an instance is one line. A state of 10,000 instances is
/// then half the bytes of a fully indented one (which is read and parsed on every run),
/// and still diffs line by line, an instance at a time.
#[derive(Default)]
struct LineFormatter {
    /// How many arrays and objects enclose the next token.
    depth: usize,
    /// Whether the innermost indented container has a member yet.
    has_member: bool,
}

impl LineFormatter {
    /// Levels written one member per line: the document, and its `instances` array and
    /// `outputs` object.
    const INDENTED: usize = 2;

    fn open<W: ?Sized + std::io::Write>(&mut self, writer: &mut W, bracket: &[u8]) -> std::io::Result<()> {
        self.depth += 1;
        self.has_member = false;
        writer.write_all(bracket)
    }

    fn close<W: ?Sized + std::io::Write>(&mut self, writer: &mut W, bracket: &[u8]) -> std::io::Result<()> {
        self.depth -= 1;
        if self.depth < Self::INDENTED && self.has_member {
            self.newline(writer)?;
        }
        self.has_member = true;
        writer.write_all(bracket)
    }

    fn member<W: ?Sized + std::io::Write>(&mut self, writer: &mut W, first: bool) -> std::io::Result<()> {
        if !first {
            writer.write_all(b",")?;
        }
        if self.depth <= Self::INDENTED {
            self.newline(writer)?;
        }
        Ok(())
    }

    fn newline<W: ?Sized + std::io::Write>(&self, writer: &mut W) -> std::io::Result<()> {
        writer.write_all(b"\n")?;
        for _ in 0..self.depth {
            writer.write_all(b"  ")?;
        }
        Ok(())
    }
}

impl serde_json::ser::Formatter for LineFormatter {
    fn begin_array<W: ?Sized + std::io::Write>(&mut self, writer: &mut W) -> std::io::Result<()> {
        self.open(writer, b"[")
    }

    fn end_array<W: ?Sized + std::io::Write>(&mut self, writer: &mut W) -> std::io::Result<()> {
        self.close(writer, b"]")
    }

    fn begin_array_value<W: ?Sized + std::io::Write>(&mut self, writer: &mut W, first: bool) -> std::io::Result<()> {
        self.member(writer, first)
    }

    fn end_array_value<W: ?Sized + std::io::Write>(&mut self, _writer: &mut W) -> std::io::Result<()> {
        self.has_member = true;
        Ok(())
    }

    fn begin_object<W: ?Sized + std::io::Write>(&mut self, writer: &mut W) -> std::io::Result<()> {
        self.open(writer, b"{")
    }

    fn end_object<W: ?Sized + std::io::Write>(&mut self, writer: &mut W) -> std::io::Result<()> {
        self.close(writer, b"}")
    }

    fn begin_object_key<W: ?Sized + std::io::Write>(&mut self, writer: &mut W, first: bool) -> std::io::Result<()> {
        self.member(writer, first)
    }

    fn begin_object_value<W: ?Sized + std::io::Write>(&mut self, writer: &mut W) -> std::io::Result<()> {
        writer.write_all(if self.depth <= Self::INDENTED { b": " } else { b":" })
    }

    fn end_object_value<W: ?Sized + std::io::Write>(&mut self, _writer: &mut W) -> std::io::Result<()> {
        self.has_member = true;
        Ok(())
    }
}

fn instance_document<'a>(address: &Address, instance: &'a Instance) -> Result<InstanceOut<'a>, StateError> {
    let (attributes, Marked { sensitive: sensitive_attributes, sets: set_attributes }) =
        stored_attributes(&instance.attributes)
            .map_err(|e| StateError { message: format!("instance `{address}`: {}", e.message), ..e })?;
    Ok(InstanceOut {
        address: address.to_string(),
        mode: instance.mode,
        resource_type: &instance.resource_type,
        provider: &instance.provider,
        status: instance.status,
        attributes,
        sensitive_attributes,
        set_attributes,
        dependencies: instance.dependencies.iter().map(ToString::to_string).collect(),
        triggers: instance.triggers.as_deref(),
    })
}

/// Parses a snapshot; `name` names it in messages (`infra.state.json`).
pub fn parse_snapshot(bytes: &[u8], name: &str) -> Result<State, StateError> {
    let document: Document = match read_document(bytes) {
        Ok(document) => document,
        // Say why by what the document says it is: a newer format's fields may not read.
        Err(error) => {
            check_version(&parse_versioned(bytes, name)?, name)?;
            return Err(corrupt(name, &error.to_string()));
        }
    };
    state_from_document(document, name)
}

/// The line that opens the instances of a snapshot as [`LineFormatter`] lays it out.
const INSTANCES_OPENED: &[u8] = b"  \"instances\": [\n";

/// The lines that close them.
const INSTANCES_CLOSED: [&[u8]; 2] = [b"  ],\n", b"  ]\n"];

/// The beginning of a line holding one instance.
const INSTANCE_LINE: &[u8] = b"    {";

/// The lines the document may have before its instances.
const MOST_LINES_BEFORE_INSTANCES: usize = 16;

/// Instance lines are handed to a parser in batches of about this many bytes.
const BATCH_BYTES: usize = 256 * 1024;

/// Parses a snapshot as it is read from `reader`, when it is laid out as this version
/// writes it ([`LineFormatter`]): its instances, a line each, are parsed on every core
/// while the rest is still being read, and the whole text is never held (25 MB for
/// 10,000 instances of thirty attributes).
///
/// `None` for a document laid out otherwise (written by hand, or by another tool), or one
/// that does not parse or read: the caller then reads it whole ([`parse_snapshot`]),
/// which says what is wrong with it.
pub fn parse_snapshot_lines(mut reader: impl std::io::BufRead, name: &str) -> Option<State> {
    // The document up to its instances: the version, serial and lineage.
    let mut skeleton = Vec::new();
    let mut lines = 0;
    loop {
        let start = skeleton.len();
        if reader.read_until(b'\n', &mut skeleton).ok()? == 0 || lines == MOST_LINES_BEFORE_INSTANCES {
            return None;
        }
        if &skeleton[start..] == INSTANCES_OPENED {
            break;
        }
        lines += 1;
    }
    let cores = infra_compiler::cores();
    let (batches, to_parse) = std::sync::mpsc::sync_channel::<(usize, Vec<u8>)>(cores);
    // Shared by the parsers alone: once they have all stopped, sending fails.
    let to_parse = std::sync::Arc::new(std::sync::Mutex::new(to_parse));
    // Parsed batches' buffers go back to the reader to be filled again: a fresh buffer
    // per batch was a fresh 512 KB of memory to fault in, a third of the reader's time.
    let (spares, spare) = std::sync::mpsc::channel::<Vec<u8>>();
    let (mut parsed, rest) = std::thread::scope(|scope| {
        let parsers: Vec<_> = (0..cores)
            .map(|_| {
                let to_parse = std::sync::Arc::clone(&to_parse);
                let spares = spares.clone();
                scope.spawn(move || {
                    with_shared_values(|| {
                        let mut parsed = Vec::new();
                        loop {
                            // The lock is held only while waiting for the next batch.
                            let next = to_parse.lock().ok()?.recv();
                            let Ok((index, batch)) = next else { break };
                            let instances = batch
                                .split_inclusive(|&byte| byte == b'\n')
                                .map(|line| {
                                    let line = line.strip_suffix(b"\n").unwrap_or(line);
                                    serde_json::from_slice::<InstanceDocument>(line.strip_suffix(b",").unwrap_or(line))
                                })
                                .collect::<Result<Vec<_>, _>>()
                                .ok()?;
                            parsed.push((index, instances));
                            let mut batch = batch;
                            batch.clear();
                            // The reader may be done with buffers already.
                            let _ = spares.send(batch);
                        }
                        Some(parsed)
                    })
                })
            })
            .collect();
        drop(to_parse);
        drop(spares);
        let rest = read_instance_lines(&mut reader, batches, &spare);
        let mut parsed = Vec::new();
        for parser in parsers {
            parsed.extend(parser.join().unwrap_or_else(|panic| std::panic::resume_unwind(panic))?);
        }
        Some((parsed, rest?))
    })?;
    // The rest of the document, after an empty list of instances.
    skeleton.extend_from_slice(&rest);
    let document: Document = with_shared_values(|| serde_json::from_slice(&skeleton)).ok()?;
    drop(skeleton);
    parsed.sort_unstable_by_key(|(index, _)| *index);
    // A batch a parser gave up on is missing.
    if parsed.iter().enumerate().any(|(at, (index, _))| at != *index) {
        return None;
    }
    // Taken batch by batch into the state, each batch's vector freed once it is: not
    // gathered into the document first, which held every record twice for a moment.
    let count = parsed.iter().map(|(_, instances)| instances.len()).sum();
    let records = parsed.into_iter().flat_map(|(_, instances)| instances);
    state_from_records(document, records, count, name).ok()
}

/// Reads the instance lines, sending them to the parsers in batches, and returns the
/// document's text from the line that closes them on. The parsers stop once `batches`
/// is dropped, as it is when this returns, however it ends.
fn read_instance_lines(
    reader: &mut impl std::io::BufRead,
    batches: std::sync::mpsc::SyncSender<(usize, Vec<u8>)>,
    spare: &std::sync::mpsc::Receiver<Vec<u8>>,
) -> Option<Vec<u8>> {
    let mut batch = Vec::with_capacity(BATCH_BYTES * 2);
    let mut sent = 0;
    loop {
        let start = batch.len();
        if reader.read_until(b'\n', &mut batch).ok()? == 0 {
            return None;
        }
        let line = &batch[start..];
        if INSTANCES_CLOSED.contains(&line) {
            let mut rest = batch.split_off(start);
            if !batch.is_empty() {
                batches.send((sent, batch)).ok()?;
            }
            reader.read_to_end(&mut rest).ok()?;
            return Some(rest);
        }
        if !line.starts_with(INSTANCE_LINE) || !line.ends_with(b"\n") {
            return None;
        }
        if batch.len() >= BATCH_BYTES {
            let next = spare.try_recv().unwrap_or_else(|_| Vec::with_capacity(BATCH_BYTES * 2));
            batches.send((sent, std::mem::replace(&mut batch, next))).ok()?;
            sent += 1;
        }
    }
}

/// The state a parsed document holds, once its version is one this version reads.
fn state_from_document(mut document: Document, name: &str) -> Result<State, StateError> {
    let records = std::mem::take(&mut document.instances);
    let count = records.len();
    state_from_records(document, records, count, name)
}

/// The state of `document` (its instances aside) with the `count` instances of `records`.
fn state_from_records(
    document: Document,
    records: impl IntoIterator<Item = InstanceDocument>,
    count: usize,
    name: &str,
) -> Result<State, StateError> {
    check_version(&Versioned { format_version: document.format_version, encryption: document.encryption }, name)?;
    // Gathered first and built at once: a map built by inserting keys in order (as a
    // snapshot lists them) leaves each node half full, twice the room the entries need.
    let mut listed = Vec::with_capacity(count);
    let mut names = Names::default();
    for (position, record) in records.into_iter().enumerate() {
        let address = parse_address(&record.address, name, &mut names)?;
        listed.push((address, position, instance_from_document(record, name, &mut names)?));
    }
    // Stable, and linear when the snapshot lists its instances in order.
    listed.sort_by(|(a, ..), (b, ..)| a.cmp(b));
    if let Some(pair) = listed.windows(2).find(|pair| pair[0].0 == pair[1].0) {
        let why = format!(
            "instance `{}` is listed twice, as entries {} and {} of `instances`",
            pair[0].0,
            pair[0].1 + 1,
            pair[1].1 + 1
        );
        return Err(corrupt(name, &why));
    }
    let instances = BTreeMap::from_iter(listed.into_iter().map(|(address, _, instance)| (address, instance)));
    let outputs = document
        .outputs
        .into_iter()
        .map(|(output, doc)| {
            let mut value = doc.value.0;
            restore_output_sets(&mut value, &doc.sets);
            (output, value.with_mark(doc.sensitive))
        })
        .collect();
    Ok(State { serial: document.serial, lineage: document.lineage, instances, outputs })
}

fn instance_from_document(record: InstanceDocument, name: &str, names: &mut Names) -> Result<Instance, StateError> {
    let ParsedAttributes(mut attributes) = record.attributes;
    let marked = Marked { sensitive: record.sensitive_attributes, sets: record.set_attributes };
    restore_marked(&mut attributes, &marked);
    let dependencies =
        record.dependencies.iter().map(|text| parse_address(text, name, names)).collect::<Result<Vec<_>, _>>()?;
    Ok(Instance {
        mode: record.mode,
        resource_type: record.resource_type,
        provider: record.provider,
        attributes,
        dependencies,
        status: record.status,
        triggers: record.triggers,
    })
}

/// The serial and lineage of a stored snapshot.
pub fn parse_header(bytes: &[u8], name: &str) -> Result<Header, StateError> {
    #[derive(Deserialize)]
    struct Versioned {
        format_version: Option<Json>,
        serial: Option<u64>,
        lineage: Option<String>,
    }
    let read: Versioned = serde_json::from_slice(bytes).map_err(|e| not_a_state(bytes, name, &e))?;
    check_format_version(read.format_version.as_ref(), name)?;
    match (read.serial, read.lineage) {
        (Some(serial), Some(lineage)) => Ok(Header { serial, lineage }),
        _ => Err(corrupt(name, "no `serial` or `lineage`")),
    }
}

/// The version and encryption fields alone (reading past everything else).
fn parse_versioned(bytes: &[u8], name: &str) -> Result<Versioned, StateError> {
    serde_json::from_slice(bytes).map_err(|e| not_a_state(bytes, name, &e))
}

/// Why `bytes` do not read as a document: not JSON, or JSON but not an object.
fn not_a_state(bytes: &[u8], name: &str, error: &serde_json::Error) -> StateError {
    match serde_json::from_slice::<serde::de::IgnoredAny>(bytes) {
        Ok(_) => corrupt(name, "no `format_version`; this is not an Infra state"),
        Err(_) => corrupt(name, &format!("not valid JSON ({error})")),
    }
}

/// Refuses a newer format before anything else is read, since its fields may mean
/// something else, and an encrypted snapshot, which read as a document would be an
/// empty state (the next plan would create everything again).
fn check_version(versioned: &Versioned, name: &str) -> Result<(), StateError> {
    check_format_version(versioned.format_version.as_ref(), name)?;
    if versioned.encryption.is_some() {
        return Err(StateError::new(
            StateErrorKind::Encrypted,
            format!("`{name}` is encrypted, and no key to decrypt it was given"),
        )
        .with_help("give its key (INFRA_STATE_PASSPHRASE, INFRA_STATE_KEY or the `state` block's `encryption`); nothing was changed"));
    }
    Ok(())
}

fn check_format_version(version: Option<&Json>, name: &str) -> Result<(), StateError> {
    let Some(version) = version else {
        return Err(corrupt(name, "no `format_version`; this is not an Infra state"));
    };
    match version.as_u64() {
        Some(FORMAT_VERSION) => Ok(()),
        Some(version) if version > FORMAT_VERSION => Err(StateError::new(
            StateErrorKind::NewerFormat,
            format!("`{name}` has format version {version}; this version of Infra reads version {FORMAT_VERSION}"),
        )
        .with_help("a newer version of Infra wrote this state; upgrade Infra to use it")),
        _ => Err(corrupt(name, &format!("unknown format version `{version}`"))),
    }
}

/// An address stored as text, its names shared with the other addresses of the
/// document.
fn parse_address(text: &str, name: &str, names: &mut Names) -> Result<Address, StateError> {
    address_from_text(text, names).map_err(|why| corrupt(name, &why))
}

/// An address stored as text, its names made by `names`; the error says why it is not
/// one.
pub(crate) fn address_from_text(text: &str, names: &mut Names) -> Result<Address, String> {
    Address::parse_with(text, names)
        .map_err(|e| format!("`{text}` is not an instance address ({} at offset {})", e.message, e.offset))
}

fn corrupt(name: &str, why: &str) -> StateError {
    StateError::new(StateErrorKind::Corrupt, format!("`{name}` is not a valid state: {why}"))
}
