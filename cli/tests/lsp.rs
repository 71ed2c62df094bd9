//! `infra lsp` end to end: the binary is started as an editor starts it and spoken to in
//! JSON-RPC over stdio, on the example modules.

mod common;

use std::path::{Path, PathBuf};

use common::lsp_client::{uri, Client};
use serde_json::{json, Value};

fn examples() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../examples").canonicalize().expect("examples directory")
}

fn read(path: &Path) -> String {
    std::fs::read_to_string(path).expect("read example")
}

/// The LSP position (line, UTF-16 column) of the `nth` occurrence of `needle`, plus
/// `shift` characters.
fn position_of(text: &str, needle: &str, nth: usize, shift: usize) -> Value {
    let offset = text.match_indices(needle).nth(nth).unwrap_or_else(|| panic!("`{needle}` #{nth} in text")).0;
    let before = &text[..offset];
    let line = before.matches('\n').count();
    let line_start = before.rfind('\n').map_or(0, |i| i + 1);
    let character: usize = text[line_start..offset].chars().map(char::len_utf16).sum::<usize>() + shift;
    json!({ "line": line, "character": character })
}

fn at(file: &Path, position: Value) -> Value {
    json!({ "textDocument": { "uri": uri(file) }, "position": position })
}

#[test]
fn diagnostics_match_infra_check_and_clear_when_fixed() {
    let dir = examples().join("local-files");
    let file = dir.join("main.infra");
    let text = read(&file);
    let mut client = Client::start(Path::new(env!("CARGO_BIN_EXE_infra")), &examples());
    client.open(&file, &text);
    assert_eq!(client.diagnostics_for(&file), Vec::<Value>::new(), "the example checks clean");

    // A typo in one item, and a half-typed item after it: the typo is still reported.
    let broken = format!("{text}\nlet greeting_text = greeting(usr, project)\nresource local.file {{\n");
    client.change(&file, 2, &broken);
    let diagnostics = client.diagnostics_for(&file);
    let codes: Vec<&str> = diagnostics.iter().filter_map(|d| d["code"].as_str()).collect();
    assert!(codes.contains(&"E0201"), "{diagnostics:#?}");
    assert!(codes.contains(&"E0100"), "{diagnostics:#?}");

    // The same codes and messages as `infra check` on the same text.
    let copy = tempfile::tempdir().expect("temp dir");
    for entry in std::fs::read_dir(&dir).expect("example dir").flatten() {
        std::fs::copy(entry.path(), copy.path().join(entry.file_name())).expect("copy example");
    }
    std::fs::write(copy.path().join("main.infra"), &broken).expect("write copy");
    let output = common::run(copy.path(), &["check", "--format", "json", "."]);
    let report: Value = serde_json::from_slice(&output.stdout).expect("check --format json");
    let mut expected: Vec<(String, String)> = report["diagnostics"]
        .as_array()
        .expect("diagnostics array")
        .iter()
        .map(|d| (d["code"].as_str().unwrap_or("").to_string(), d["message"].as_str().unwrap_or("").to_string()))
        .collect();
    let mut actual: Vec<(String, String)> = diagnostics
        .iter()
        .map(|d| {
            let message = d["message"].as_str().unwrap_or("");
            let first_line = message.lines().next().unwrap_or("");
            let code = d["code"].as_str().unwrap_or("").to_string();
            // The LSP message adds the label after `: ` and help on later lines.
            let check_message = expected
                .iter()
                .find(|(c, m)| *c == code && first_line.starts_with(m.as_str()))
                .map_or(first_line.to_string(), |(_, m)| m.clone());
            (code, check_message)
        })
        .collect();
    expected.sort();
    actual.sort();
    assert_eq!(actual, expected);
    let undefined = diagnostics.iter().find(|d| d["code"] == "E0201").expect("E0201");
    assert_eq!(undefined["range"]["start"], position_of(&broken, "usr", 0, 0));
    assert!(
        undefined["message"].as_str().unwrap_or("").contains("help: did you mean `user`?")
            || undefined["message"].as_str().unwrap_or("").contains("help:")
    );

    client.change(&file, 3, &text);
    assert_eq!(client.diagnostics_for(&file), Vec::<Value>::new(), "fixed, so cleared");
    assert_eq!(client.shutdown(), 0);
}

#[test]
fn hover_shows_types_docs_schemas_and_signatures() {
    let file = examples().join("local-files/main.infra");
    let text = read(&file);
    let mut client = Client::start(Path::new(env!("CARGO_BIN_EXE_infra")), &examples());
    client.open(&file, &text);

    let hover = client.request("textDocument/hover", at(&file, position_of(&text, "${project}", 0, 3)));
    let value = hover["contents"]["value"].as_str().unwrap_or("");
    assert!(value.contains("input project: string"), "{value}");
    assert!(value.contains("A short name for the project"), "{value}");

    let hover = client.request("textDocument/hover", at(&file, position_of(&text, "byte_length", 0, 2)));
    let value = hover["contents"]["value"].as_str().unwrap_or("");
    assert!(value.contains("byte_length: number"), "{value}");
    assert!(value.contains("required"), "{value}");
    assert!(value.contains("forces replacement"), "{value}");

    let hover = client.request("textDocument/hover", at(&file, position_of(&text, "join(", 0, 1)));
    let value = hover["contents"]["value"].as_str().unwrap_or("");
    assert!(value.contains("join(separator: string, list: list(string)): string"), "{value}");
    assert!(value.contains("Concatenates the strings of a list"), "{value}");

    let hover = client.request("textDocument/hover", at(&file, position_of(&text, "${user}", 0, 3)));
    let value = hover["contents"]["value"].as_str().unwrap_or("");
    assert!(value.contains("(local) user: string"), "{value}");

    let hover = client.request("textDocument/hover", at(&file, position_of(&text, "let out_dir", 0, 5)));
    let value = hover["contents"]["value"].as_str().unwrap_or("");
    assert!(value.contains("let out_dir: string"), "{value}");
    assert_eq!(client.shutdown(), 0);
}

fn labels(completion: &Value) -> Vec<String> {
    let items = completion.as_array().or(completion["items"].as_array()).cloned().unwrap_or_default();
    let mut items: Vec<(String, String)> = items
        .iter()
        .map(|i| {
            let label = i["label"].as_str().unwrap_or("").to_string();
            (i["sortText"].as_str().unwrap_or(&label).to_string(), label)
        })
        .collect();
    items.sort();
    items.into_iter().map(|(_, label)| label).collect()
}

#[test]
fn completion_offers_what_fits_where_the_cursor_is() {
    let file = examples().join("modules/main.infra");
    let original = read(&file);
    let mut client = Client::start(Path::new(env!("CARGO_BIN_EXE_infra")), &examples());
    let text = format!("{original}\nresource local.file extra {{\n  \n}}\nlet x = site[\"blog\"].\nresource lo");
    client.open(&file, &text);

    // Inside a resource body: the schema's attributes, required ones first.
    let body = position_of(&text, "extra {\n  ", 0, "extra {\n  ".len());
    let body = json!({ "line": body["line"].as_u64().unwrap_or(0) + 1, "character": 2 });
    let names = labels(&client.request("textDocument/completion", at(&file, body)));
    let path = names.iter().position(|n| n == "path").expect("path offered");
    let mode = names.iter().position(|n| n == "mode").expect("mode offered");
    assert!(path < mode, "required `path` before optional `mode`: {names:?}");

    // After a module call's name and `.`: the module's outputs.
    let dot = position_of(&text, "site[\"blog\"].", 0, "site[\"blog\"].".len());
    let names = labels(&client.request("textDocument/completion", at(&file, dot)));
    assert_eq!(names, ["domain", "files", "pages", "url"]);

    // After `resource`: resource types.
    let kind = position_of(&text, "resource lo", 0, "resource lo".len());
    let names = labels(&client.request("textDocument/completion", at(&file, kind)));
    assert!(names.contains(&"local.file".to_string()), "{names:?}");

    // In an expression: names in scope and functions, as snippets.
    let expression = position_of(&text, "let site_urls = ", 0, "let site_urls = ".len());
    let completion = client.request("textDocument/completion", at(&file, expression));
    let names = labels(&completion);
    assert!(names.contains(&"sites".to_string()) && names.contains(&"with_admin".to_string()), "{names:?}");
    let items = completion.as_array().cloned().unwrap_or_default();
    let join = items.iter().find(|i| i["label"] == "join").expect("join offered");
    assert_eq!(join["insertText"], "join(${1:separator}, ${2:list})");

    // At the start of a line: item keywords.
    let start = json!({ "line": 0, "character": 0 });
    let names = labels(&client.request("textDocument/completion", at(&file, start)));
    assert!(names.contains(&"resource".to_string()) && names.contains(&"output".to_string()), "{names:?}");
    assert_eq!(client.shutdown(), 0);
}

#[test]
fn definition_references_and_rename_cross_module_boundaries() {
    let root = examples().join("modules");
    let caller = root.join("main.infra");
    let site = root.join("modules/site/main.infra");
    let caller_text = read(&caller);
    let site_text = read(&site);
    let mut client = Client::start(Path::new(env!("CARGO_BIN_EXE_infra")), &examples());
    client.open(&caller, &caller_text);

    // A name goes to its declaration.
    let definition =
        client.request("textDocument/definition", at(&caller, position_of(&caller_text, "in sites", 0, 4)));
    assert_eq!(definition["uri"], uri(&caller));
    assert_eq!(definition["range"]["start"], position_of(&caller_text, "sites:", 0, 0));

    // A module source goes to the module.
    let definition =
        client.request("textDocument/definition", at(&caller, position_of(&caller_text, "./modules/site", 0, 3)));
    assert_eq!(definition["uri"], uri(&site));

    // An output read by the caller goes to the output in the called module.
    let definition =
        client.request("textDocument/definition", at(&caller, position_of(&caller_text, "admin.url", 0, 7)));
    assert_eq!(definition["uri"], uri(&site));
    assert_eq!(definition["range"]["start"], position_of(&site_text, "url =", 0, 0));

    // References of an input include the declaration and every use.
    let references = client.request(
        "textDocument/references",
        json!({
            "textDocument": { "uri": uri(&caller) },
            "position": position_of(&caller_text, "with_admin", 0, 0),
            "context": { "includeDeclaration": true },
        }),
    );
    let references = references.as_array().cloned().unwrap_or_default();
    let uses: usize =
        caller_text.lines().filter(|l| !l.trim_start().starts_with('#')).map(|l| l.matches("with_admin").count()).sum();
    assert_eq!(references.len(), uses, "{references:#?}");

    // Renaming the output from inside the called module edits its callers too, including
    // `s.url` where `s` is an instance of the call.
    client.open(&site, &site_text);
    let rename = client.request(
        "textDocument/rename",
        json!({
            "textDocument": { "uri": uri(&site) },
            "position": position_of(&site_text, "output url", 0, 7),
            "newName": "address",
        }),
    );
    let changes = &rename["changes"];
    let in_site = changes[uri(&site)].as_array().cloned().unwrap_or_default();
    let in_caller = changes[uri(&caller)].as_array().cloned().unwrap_or_default();
    assert_eq!(in_site.len(), 1, "{rename:#}");
    let mut starts: Vec<Value> = in_caller.iter().map(|e| e["range"]["start"].clone()).collect();
    starts.sort_by_key(|p| (p["line"].as_u64(), p["character"].as_u64()));
    assert_eq!(starts, vec![position_of(&caller_text, "s.url", 0, 2), position_of(&caller_text, "admin.url", 0, 6)]);
    assert!(in_caller.iter().all(|e| e["newText"] == "address"));

    // A name that is not an identifier is refused with an error, not a crash.
    let refused = client.call(
        "textDocument/rename",
        json!({
            "textDocument": { "uri": uri(&site) },
            "position": position_of(&site_text, "output url", 0, 7),
            "newName": "not a name",
        }),
    );
    assert_eq!(refused["error"]["code"], -32602, "{refused}");
    assert_eq!(client.shutdown(), 0);
}

#[test]
fn formatting_matches_infra_fmt() {
    let file = examples().join("quickstart/main.infra");
    let formatted = read(&file);
    // Comments are kept byte for byte, so only code lines are messed up.
    let messy: String = formatted
        .lines()
        .map(|l| {
            if l.starts_with('#') {
                format!("{l}\n")
            } else {
                format!("{}\n", l.replace("  ", "    ").replace(" = ", "="))
            }
        })
        .collect();
    assert_ne!(messy, formatted);
    let mut client = Client::start(Path::new(env!("CARGO_BIN_EXE_infra")), &examples());
    client.open(&file, &messy);
    let edits = client.request(
        "textDocument/formatting",
        json!({ "textDocument": { "uri": uri(&file) }, "options": { "tabSize": 2, "insertSpaces": true } }),
    );
    let edits = edits.as_array().cloned().unwrap_or_default();
    assert_eq!(edits.len(), 1);
    assert_eq!(edits[0]["newText"], formatted.as_str());

    // A file with syntax errors is refused with an error the editor shows.
    client.change(&file, 2, "let = \n");
    let refused = client.call(
        "textDocument/formatting",
        json!({ "textDocument": { "uri": uri(&file) }, "options": { "tabSize": 2, "insertSpaces": true } }),
    );
    assert_eq!(refused["error"]["code"], -32803, "{refused}");
    assert_eq!(client.shutdown(), 0);
}

#[test]
fn symbols_tokens_hints_signature_help_and_code_actions() {
    let file = examples().join("local-files/main.infra");
    let text = read(&file);
    let mut client = Client::start(Path::new(env!("CARGO_BIN_EXE_infra")), &examples());
    let typo = format!("{text}\nlet shout = uper(project)\nresource random.id extra {{\n}}\n");
    client.open(&file, &typo);

    let symbols = client.request("textDocument/documentSymbol", json!({ "textDocument": { "uri": uri(&file) } }));
    let names: Vec<&str> = symbols.as_array().into_iter().flatten().filter_map(|s| s["name"].as_str()).collect();
    assert!(names.contains(&"project") && names.contains(&"random.id.suffix"), "{names:?}");

    let symbols = client.request("workspace/symbol", json!({ "query": "site_urls" }));
    let found: Vec<&str> = symbols.as_array().into_iter().flatten().filter_map(|s| s["name"].as_str()).collect();
    assert_eq!(found, vec!["site_urls"]);

    let tokens = client.request("textDocument/semanticTokens/full", json!({ "textDocument": { "uri": uri(&file) } }));
    let data = tokens["data"].as_array().cloned().unwrap_or_default();
    assert!(data.len() > 50 && data.len() % 5 == 0, "{} numbers", data.len());

    let hints = client.request(
        "textDocument/inlayHint",
        json!({
            "textDocument": { "uri": uri(&file) },
            "range": { "start": { "line": 0, "character": 0 }, "end": { "line": 10000, "character": 0 } },
        }),
    );
    let labels: Vec<&str> = hints.as_array().into_iter().flatten().filter_map(|h| h["label"].as_str()).collect();
    assert!(labels.contains(&": string"), "{labels:?}");
    // `for name, settings in environments`: the key variable is a map key.
    let key_hint = hints
        .as_array()
        .into_iter()
        .flatten()
        .find(|h| h["position"] == position_of(&typo, "name, settings", 0, 4))
        .expect("a hint after the key variable");
    assert_eq!(key_hint["label"], ": string");
    // Every `for` variable has its type, in expressions too; instances of a `for` without
    // a key variable say what they are keyed by.
    let hint_labels_at = |needle: &str, shift: usize| -> Vec<String> {
        let position = position_of(&typo, needle, 0, shift);
        hints
            .as_array()
            .into_iter()
            .flatten()
            .filter(|h| h["position"] == position)
            .filter_map(|h| h["label"].as_str().map(str::to_string))
            .collect()
    };
    assert_eq!(hint_labels_at("user in users", 4), vec![": string", " (key: the element)"]);
    assert_eq!(hint_labels_at("i in range(shards)", 1), vec![": number", " (key: its position)"]);
    assert_eq!(hint_labels_at("for user, file in home", 8), vec![": string"]);

    let help = client.request("textDocument/signatureHelp", at(&file, position_of(&typo, "join(\", \", ", 0, 10)));
    assert_eq!(help["signatures"][0]["label"], "join(separator: string, list: list(string)): string");
    assert_eq!(help["activeParameter"], 1);

    let diagnostics = client.diagnostics_for(&file);
    let undefined = diagnostics.iter().find(|d| d["code"] == "E0202" || d["code"] == "E0201").cloned();
    let everything = json!({ "start": { "line": 0, "character": 0 }, "end": { "line": 10000, "character": 0 } });
    let actions = client.request(
        "textDocument/codeAction",
        json!({ "textDocument": { "uri": uri(&file) }, "range": everything, "context": { "diagnostics": [] } }),
    );
    let titles: Vec<&str> = actions.as_array().into_iter().flatten().filter_map(|a| a["title"].as_str()).collect();
    assert!(titles.contains(&"Replace with `upper`"), "{titles:?} for {undefined:?}");
    assert!(titles.contains(&"Add missing attribute `byte_length`"), "{titles:?}");
    let add = actions.as_array().into_iter().flatten().find(|a| a["title"] == "Add missing attribute `byte_length`");
    let edit = &add.expect("action")["edit"]["changes"][uri(&file)][0];
    assert_eq!(edit["newText"], "  byte_length = 0\n");
    assert_eq!(client.shutdown(), 0);
}

#[test]
fn bad_requests_get_errors_and_the_server_keeps_serving() {
    let file = examples().join("local-files/main.infra");
    let text = read(&file);
    let mut client = Client::start(Path::new(env!("CARGO_BIN_EXE_infra")), &examples());
    client.open(&file, &text);

    let unknown = client.call("textDocument/notAThing", json!({}));
    assert_eq!(unknown["error"]["code"], -32601, "{unknown}");

    let past_end = client.call("textDocument/hover", at(&file, json!({ "line": 99999, "character": 0 })));
    assert_eq!(past_end["error"]["code"], -32602, "{past_end}");

    // UTF-16 column 3 of `# 🚀` is inside the rocket's surrogate pair.
    let rocket = examples().join("local-files/rocket.infra");
    client.open(&rocket, "# 🚀\nlet x = 1\n");
    let inside = client.call("textDocument/hover", at(&rocket, json!({ "line": 0, "character": 3 })));
    assert_eq!(inside["error"]["code"], -32602, "{inside}");

    let outside = client.call(
        "textDocument/hover",
        json!({ "textDocument": { "uri": "untitled:Untitled-1" }, "position": { "line": 0, "character": 0 } }),
    );
    assert_eq!(outside["error"]["code"], -32602, "{outside}");
    let missing = client
        .call("textDocument/hover", at(Path::new("/nonexistent/dir/x.infra"), json!({ "line": 0, "character": 0 })));
    assert_eq!(missing["error"]["code"], -32602, "{missing}");

    let bad_params = client.call("textDocument/hover", json!({ "nonsense": true }));
    assert_eq!(bad_params["error"]["code"], -32602, "{bad_params}");

    // A change to a document that was never opened, and a change past its end, are ignored.
    client.change(Path::new("/nowhere/never.infra"), 2, "let a = 1");
    client.notify(
        "textDocument/didChange",
        json!({
            "textDocument": { "uri": uri(&file), "version": 5 },
            "contentChanges": [{ "range": { "start": { "line": 9999, "character": 0 }, "end": { "line": 9999, "character": 1 } }, "text": "x" }],
        }),
    );

    // A body that is not JSON-RPC: a parse error with a null id, and reading goes on.
    client.send_raw(b"{ this is not json");
    let parse_error = client.next_response();
    assert_eq!(parse_error["error"]["code"], -32700, "{parse_error}");
    assert_eq!(parse_error["id"], Value::Null, "{parse_error}");
    client.send_raw(&[0xff, 0xfe, 0xfd]);
    assert_eq!(client.next_response()["error"]["code"], -32700);

    // Still serving.
    let hover = client.request("textDocument/hover", at(&file, position_of(&text, "${project}", 0, 3)));
    assert!(hover["contents"]["value"].as_str().unwrap_or("").contains("input project"));
    assert_eq!(client.shutdown(), 0);
}

/// `{"jsonrpc":"2.0","id":78,"method":5}` was taken for a response by `lsp-server` and
/// never answered, and a batch got a parse error. Each is an invalid request now, answered
/// with the message's id when it has one, and the server goes on.
#[test]
fn regression_invalid_requests_and_batches_get_invalid_request_errors() {
    let file = examples().join("local-files/main.infra");
    let text = read(&file);
    let mut client = Client::start(Path::new(env!("CARGO_BIN_EXE_infra")), &examples());
    client.open(&file, &text);

    client.send_raw(br#"{"jsonrpc":"2.0","id":78,"method":5}"#);
    let invalid = client.next_response();
    assert_eq!(invalid["error"]["code"], -32600, "{invalid}");
    assert_eq!(invalid["id"], 78, "{invalid}");

    client.send_raw(br#"[{"jsonrpc":"2.0","id":79,"method":"shutdown"}]"#);
    let batch = client.next_response();
    assert_eq!(batch["error"]["code"], -32600, "{batch}");
    assert_eq!(batch["id"], Value::Null, "{batch}");

    // Still serving, and not shut down by the batch's `shutdown`.
    let hover = client.request("textDocument/hover", at(&file, position_of(&text, "${project}", 0, 3)));
    assert!(hover["contents"]["value"].as_str().unwrap_or("").contains("input project"));
    assert_eq!(client.shutdown(), 0);
}

/// A `Content-Length` of 10^12 was allocated, and the server aborted out of memory.
#[test]
fn regression_a_huge_content_length_ends_the_server_with_a_message() {
    use std::io::Write;
    use std::process::{Command, Stdio};
    // Under a 4 GiB address-space limit, so that a server that tries to allocate the
    // length fails at once (as it does on a machine that refuses to overcommit) rather
    // than filling memory where the kernel lets it.
    let mut child = Command::new("sh")
        .args(["-c", "ulimit -v 4194304 && exec \"$0\" lsp", env!("CARGO_BIN_EXE_infra")])
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("start infra lsp");
    let mut stdin = child.stdin.take().expect("stdin");
    stdin.write_all(b"Content-Length: 1000000000000\r\n\r\n{}").expect("write to server");
    drop(stdin);
    let output = child.wait_with_output().expect("server exits");
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert_eq!(output.status.code(), Some(1), "{stderr}");
    // The message as one line, however the report wrapped it.
    let message = stderr.split_whitespace().filter(|w| *w != "│").collect::<Vec<_>>().join(" ");
    assert!(message.contains("a message of 1000000000000 bytes: messages are limited to 64 MiB"), "{stderr}");
    assert!(!stderr.contains("panicked") && !stderr.contains("memory allocation"), "{stderr}");
}

/// Decodes semantic tokens into (line, character, length, type index).
fn decode_tokens(tokens: &Value) -> Vec<(u64, u64, u64, u64)> {
    let data: Vec<u64> = tokens["data"].as_array().into_iter().flatten().filter_map(Value::as_u64).collect();
    let (mut line, mut character) = (0, 0);
    let mut decoded = Vec::new();
    for token in data.chunks(5) {
        if token[0] > 0 {
            character = 0;
        }
        line += token[0];
        character += token[1];
        decoded.push((line, character, token[2], token[3]));
    }
    decoded
}

#[test]
fn conditions_and_refactoring_items_in_outline_completion_and_tokens() {
    let dir = tempfile::tempdir().expect("temp dir");
    let dir = dir.path().canonicalize().expect("temp dir path");
    let file = dir.join("main.infra");
    let text = "input project: string = \"demo\"\n\n\
                resource local.file notes {\n  path    = \"out/${project}.txt\"\n  content = \"\"\n  \
                precondition project != \"\", \"a project is named\"\n  \
                postcondition self.size >= 0, \"written\"\n  lifecycle {\n    \n  }\n}\n\n\
                moved old_notes -> notes\n\nforget scratch\n";
    std::fs::write(&file, text).expect("write module");
    let mut client = Client::start(Path::new(env!("CARGO_BIN_EXE_infra")), &dir);
    client.open(&file, text);
    assert_eq!(client.diagnostics_for(&file), Vec::<Value>::new(), "the module checks clean");

    let symbols = client.request("textDocument/documentSymbol", json!({ "textDocument": { "uri": uri(&file) } }));
    let names: Vec<&str> = symbols.as_array().into_iter().flatten().filter_map(|s| s["name"].as_str()).collect();
    assert_eq!(names, vec!["project", "local.file.notes", "moved old_notes -> notes", "forget scratch"]);

    // `project` inside a precondition is a reference to the input.
    let references = client.request(
        "textDocument/references",
        json!({
            "textDocument": { "uri": uri(&file) },
            "position": position_of(text, "project != ", 0, 0),
            "context": { "includeDeclaration": true },
        }),
    );
    assert_eq!(references.as_array().map(Vec::len), Some(3), "{references:#}");

    // `moved` names the resource it moves to: that is a reference too.
    let definition = client.request("textDocument/definition", at(&file, position_of(text, "-> notes", 0, 3)));
    assert_eq!(definition["range"]["start"], position_of(text, "notes {", 0, 0));

    let start = json!({ "line": 0, "character": 0 });
    let names = labels(&client.request("textDocument/completion", at(&file, start)));
    assert!(names.contains(&"forget".to_string()) && names.contains(&"moved".to_string()), "{names:?}");

    // In the resource body, after the schema's attributes: meta-arguments and conditions;
    // not `path` and `lifecycle`, which the body sets already (`content` is where the
    // cursor is).
    let body = position_of(text, "  content", 0, 2);
    let names = labels(&client.request("textDocument/completion", at(&file, body)));
    let content = names.iter().position(|n| n == "content").expect("content offered");
    let precondition = names.iter().position(|n| n == "precondition").expect("precondition offered");
    assert!(content < precondition, "{names:?}");
    assert!(!names.contains(&"path".to_string()) && !names.contains(&"lifecycle".to_string()), "{names:?}");
    assert!(names.contains(&"postcondition".to_string()), "{names:?}");

    let hover = client.request("textDocument/hover", at(&file, position_of(text, "self.size", 0, 2)));
    let value = hover["contents"]["value"].as_str().unwrap_or("");
    assert!(value.contains("self: local.file") && value.contains("`notes`"), "{value}");

    // After `self.` in a postcondition: the attributes of the resource it is in.
    let names = labels(&client.request("textDocument/completion", at(&file, position_of(text, "self.", 0, 5))));
    assert!(names.contains(&"size".to_string()) && names.contains(&"content".to_string()), "{names:?}");

    let in_lifecycle = position_of(text, "lifecycle {\n    ", 0, 0);
    let in_lifecycle = json!({ "line": in_lifecycle["line"].as_u64().unwrap_or(0) + 1, "character": 4 });
    let names = labels(&client.request("textDocument/completion", at(&file, in_lifecycle)));
    assert!(names.contains(&"prevent_destroy".to_string()) && names.contains(&"ignore_changes".to_string()));
    assert!(!names.contains(&"path".to_string()), "{names:?}");

    // Keywords are tokens (index 6 of the legend) where items and statements start.
    let legend = client.initialize_result()["capabilities"]["semanticTokensProvider"]["legend"]["tokenTypes"].clone();
    assert_eq!(legend[6], "keyword");
    let tokens = decode_tokens(
        &client.request("textDocument/semanticTokens/full", json!({ "textDocument": { "uri": uri(&file) } })),
    );
    let keyword_at = |needle: &str| {
        let p = position_of(text, needle, 0, 0);
        (p["line"].as_u64().unwrap_or(0), p["character"].as_u64().unwrap_or(0), needle.len() as u64, 6)
    };
    for keyword in ["input", "resource", "precondition", "postcondition", "moved", "forget"] {
        assert!(tokens.contains(&keyword_at(keyword)), "`{keyword}` in {tokens:?}");
    }
    assert_eq!(client.shutdown(), 0);
}

#[test]
fn renaming_a_module_input_edits_the_callers_and_functions_have_definitions() {
    let root = examples().join("modules");
    let caller = root.join("main.infra");
    let site = root.join("modules/site/main.infra");
    let caller_text = read(&caller);
    let site_text = read(&site);
    let mut client = Client::start(Path::new(env!("CARGO_BIN_EXE_infra")), &examples());
    client.open(&site, &site_text);

    let definition =
        client.request("textDocument/definition", at(&site, position_of(&site_text, "page_html(domain", 0, 2)));
    assert_eq!(definition["uri"], uri(&site));
    assert_eq!(definition["range"]["start"], position_of(&site_text, "page_html(title", 0, 0));

    let rename = client.request(
        "textDocument/rename",
        json!({
            "textDocument": { "uri": uri(&site) },
            "position": position_of(&site_text, "input domain", 0, 7),
            "newName": "host",
        }),
    );
    let changes = &rename["changes"];
    // In the module: the declaration and every reference, but not the object key in
    // `keepers = { domain = domain }`.
    let mut in_site: Vec<Value> =
        changes[uri(&site)].as_array().into_iter().flatten().map(|e| e["range"]["start"].clone()).collect();
    in_site.sort_by_key(|p| (p["line"].as_u64(), p["character"].as_u64()));
    let expected: Vec<Value> = [
        ("input domain", 6),
        ("{ domain = domain }", 11),
        ("page_html(domain", 10),
        ("domain = domain\n", 9),
        ("${domain}/", 2),
        // The value of the output `domain`, which is the input; not the output's name.
        ("output domain = domain", 16),
    ]
    .iter()
    .map(|(needle, shift)| position_of(&site_text, needle, 0, *shift))
    .collect();
    assert_eq!(in_site, expected, "{rename:#}");
    // In the caller: the attribute that sets the input in each call, not `spec.domain`.
    let mut in_caller: Vec<Value> =
        changes[uri(&caller)].as_array().into_iter().flatten().map(|e| e["range"]["start"].clone()).collect();
    in_caller.sort_by_key(|p| (p["line"].as_u64(), p["character"].as_u64()));
    assert_eq!(
        in_caller,
        vec![position_of(&caller_text, "domain  = spec", 0, 0), position_of(&caller_text, "domain     =", 0, 0)]
    );

    // Renaming the output `domain` edits the output and where the caller reads it
    // (`s.domain`), never the input of the same name (#18 item 11).
    let rename = client.request(
        "textDocument/rename",
        json!({
            "textDocument": { "uri": uri(&site) },
            "position": position_of(&site_text, "output domain", 0, 7),
            "newName": "served_from",
        }),
    );
    let starts = |file: &Path| -> Vec<Value> {
        let edits = rename["changes"][uri(file)].as_array().cloned().unwrap_or_default();
        edits.iter().map(|e| e["range"]["start"].clone()).collect()
    };
    assert_eq!(starts(&site), [position_of(&site_text, "output domain", 0, 7)], "{rename:#}");
    assert_eq!(starts(&caller), [position_of(&caller_text, "domain = s.domain", 0, 11)], "{rename:#}");
    assert_eq!(client.shutdown(), 0);
}

#[test]
fn unsaved_buffers_count_and_a_syntax_error_leaves_the_other_items_working() {
    let dir = tempfile::tempdir().expect("temp dir");
    let dir = dir.path().canonicalize().expect("temp dir path");
    let main = dir.join("main.infra");
    let other = dir.join("names.infra");
    let main_text = "let greeting = upper(shared)\n\nresource random.id suffix {\n  byte_length = 4\n}\n";
    std::fs::write(&main, main_text).expect("write main");
    std::fs::write(&other, "# nothing yet\n").expect("write names");
    let mut client = Client::start(Path::new(env!("CARGO_BIN_EXE_infra")), &dir);
    client.open(&main, main_text);
    // The errors' codes (`greeting` is never used, which is a warning).
    let codes = |diagnostics: Vec<Value>| -> Vec<String> {
        diagnostics
            .iter()
            .filter(|d| d["severity"] == 1)
            .filter_map(|d| d["code"].as_str().map(str::to_string))
            .collect()
    };
    assert_eq!(codes(client.diagnostics_for(&main)), vec!["E0201"], "`shared` is not declared on disk");

    // Declared in the other file's unsaved text: the module checks clean.
    client.open(&other, "let shared = \"a\"\n");
    assert_eq!(codes(client.diagnostics_for(&main)), Vec::<String>::new());
    let hover = client.request("textDocument/hover", at(&main, position_of(main_text, "shared", 0, 1)));
    let value = hover["contents"]["value"].as_str().unwrap_or("");
    assert!(value.contains("let shared: string"), "{value}");

    // A half-typed item after the others: a syntax error, and the rest keeps working.
    let broken = format!("{main_text}\nresource local.file {{\n  path = \n");
    client.change(&main, 2, &broken);
    let diagnostics = client.diagnostics_for(&main);
    assert!(codes(diagnostics.clone()).iter().all(|c| c.starts_with("E01")), "only syntax errors: {diagnostics:#?}");
    assert!(!diagnostics.is_empty());
    let hover = client.request("textDocument/hover", at(&main, position_of(&broken, "shared", 0, 1)));
    assert!(hover["contents"]["value"].as_str().unwrap_or("").contains("let shared"), "{hover}");
    let hover = client.request("textDocument/hover", at(&main, position_of(&broken, "byte_length", 0, 1)));
    assert!(hover["contents"]["value"].as_str().unwrap_or("").contains("byte_length: number"), "{hover}");
    let in_body = position_of(&broken, "  byte_length", 0, 2);
    let names = labels(&client.request("textDocument/completion", at(&main, in_body)));
    assert!(names.contains(&"keepers".to_string()), "{names:?}");

    // Closing the other file falls back to its text on disk: `shared` is undefined again.
    client.change(&main, 3, main_text);
    client.notify("textDocument/didClose", json!({ "textDocument": { "uri": uri(&other) } }));
    assert_eq!(codes(client.diagnostics_for(&main)), vec!["E0201"]);
    assert_eq!(client.shutdown(), 0);
}

#[test]
fn a_module_with_open_files_around_a_subdirectory_reports_each_problem_once() {
    let dir = tempfile::tempdir().expect("temp dir");
    let dir = dir.path().canonicalize().expect("temp dir path");
    std::fs::create_dir(dir.join("sub")).expect("subdirectory");
    // In path order the subdirectory's file falls between the module's two files.
    let main = dir.join("main.infra");
    let sub = dir.join("sub/x.infra");
    let vars = dir.join("vars.infra");
    let files = [(&main, "output shout = upper(nme)\n"), (&sub, "let y = 1\n"), (&vars, "let name = \"a\"\n")];
    for (path, text) in files {
        std::fs::write(path, text).expect("write file");
    }
    let mut client = Client::start(Path::new(env!("CARGO_BIN_EXE_infra")), &dir);
    for (path, text) in files {
        client.open(path, text);
    }
    client.change(&main, 2, files[0].1);
    let diagnostics = client.diagnostics_at_version(&main, 2);
    let errors: Vec<&Value> = diagnostics.iter().filter(|d| d["severity"] == 1).collect();
    assert_eq!(errors.len(), 1, "{diagnostics:#?}");
    assert_eq!(errors[0]["code"], "E0201");
    assert!(errors[0]["message"].as_str().unwrap_or("").contains("did you mean `name`?"), "{errors:#?}");
    assert_eq!(client.shutdown(), 0);
}

/// Every position of a text, in LSP terms (line, UTF-16 column), including each line's end.
fn every_position(text: &str) -> Vec<Value> {
    let mut positions = Vec::new();
    for (line, content) in text.split('\n').enumerate() {
        let mut character = 0;
        for c in content.chars() {
            positions.push(json!({ "line": line, "character": character }));
            character += c.len_utf16();
        }
        positions.push(json!({ "line": line, "character": character }));
    }
    positions
}

#[test]
fn every_position_of_whole_and_half_typed_files_gets_an_answer() {
    let mut client = Client::start(Path::new(env!("CARGO_BIN_EXE_infra")), &examples());
    for file in [examples().join("modules/modules/site/main.infra"), examples().join("language-tour/main.infra")] {
        answers_everywhere(&mut client, &file);
    }
    assert_eq!(client.shutdown(), 0);
}

fn answers_everywhere(client: &mut Client, file: &Path) {
    let text = read(file);
    client.open(file, &text);
    // The whole file, then the file cut in the middle of every tenth line: half-typed
    // code, as an editor sends it while someone types.
    let mut versions = vec![text.clone()];
    let line_starts: Vec<usize> = text.match_indices('\n').map(|(i, _)| i + 1).collect();
    for start in line_starts.iter().step_by(10) {
        let line_end = text[*start..].find('\n').map_or(text.len(), |i| start + i);
        let middle = (start + line_end) / 2;
        versions.push(text[..middle].to_string());
    }
    let methods = [
        "textDocument/hover",
        "textDocument/completion",
        "textDocument/definition",
        "textDocument/signatureHelp",
        "textDocument/prepareRename",
    ];
    for (version, content) in versions.iter().enumerate() {
        client.change(file, version as i32 + 2, content);
        // Every position of the whole file; a sample of the cut ones, and all of their
        // last line, the half-typed one.
        let positions = every_position(content);
        let last_line = positions.last().map(|p| p["line"].clone()).unwrap_or_default();
        let sample = positions.iter().enumerate().filter(|(i, p)| version == 0 || i % 7 == 0 || p["line"] == last_line);
        for (_, position) in sample {
            for method in methods {
                let response = client.call(method, at(file, position.clone()));
                // An answer, or (prepareRename where nothing can be renamed) a request
                // error; never an internal error or an invalid-position error.
                let code = response["error"]["code"].as_i64();
                assert!(
                    code.is_none() || (method == "textDocument/prepareRename" && code == Some(-32803)),
                    "{method} at {position} of version {version} of {}: {response}",
                    file.display()
                );
            }
        }
    }
}

#[test]
fn exit_without_shutdown_is_status_one() {
    let client = Client::start(Path::new(env!("CARGO_BIN_EXE_infra")), &examples());
    assert_eq!(client.exit_without_shutdown(), 1);
}
