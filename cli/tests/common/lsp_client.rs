//! A minimal LSP client for driving `infra lsp` over stdio, as an editor does: the
//! end-to-end tests and the benchmark share it.

#![allow(dead_code)] // The tests and the benchmark each use a subset.

use std::io::{BufRead, BufReader, Write};
use std::path::Path;
use std::process::{Child, ChildStdin, Command, Stdio};
use std::sync::mpsc::{channel, Receiver};
use std::time::Duration;

use serde_json::{json, Value};

/// How long to wait for any one message before failing (not a speed assertion: a hung
/// server must fail the test rather than hang it).
const PATIENCE: Duration = Duration::from_secs(30);

pub struct Client {
    child: Child,
    stdin: ChildStdin,
    messages: Receiver<Value>,
    next_id: i64,
    /// Notifications that arrived while waiting for something else.
    pending: Vec<Value>,
    /// The server's answer to `initialize`.
    initialized: Value,
}

impl Client {
    pub fn start(binary: &Path, root: &Path) -> Client {
        let mut child = Command::new(binary)
            .arg("lsp")
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::inherit())
            .spawn()
            .expect("start infra lsp");
        let stdin = child.stdin.take().expect("stdin");
        let stdout = child.stdout.take().expect("stdout");
        let (sender, messages) = channel();
        std::thread::spawn(move || {
            let mut reader = BufReader::new(stdout);
            while let Some(message) = read_message(&mut reader) {
                if sender.send(message).is_err() {
                    break;
                }
            }
        });
        let mut client = Client { child, stdin, messages, next_id: 0, pending: Vec::new(), initialized: Value::Null };
        let root_uri = uri(root);
        let result = client.request(
            "initialize",
            json!({
                "processId": null,
                "rootUri": root_uri,
                "capabilities": {},
                "workspaceFolders": [{ "uri": root_uri, "name": "examples" }],
            }),
        );
        assert!(result["capabilities"]["hoverProvider"].as_bool().unwrap_or(false), "{result}");
        assert!(result["capabilities"]["renameProvider"].is_object(), "{result}");
        client.notify("initialized", json!({}));
        client.initialized = result;
        client
    }

    pub fn initialize_result(&self) -> &Value {
        &self.initialized
    }

    fn send(&mut self, message: Value) {
        let body = message.to_string();
        write!(self.stdin, "Content-Length: {}\r\n\r\n{body}", body.len()).expect("write to server");
        self.stdin.flush().expect("flush");
    }

    /// Sends `body` framed as a message, whatever it is.
    pub fn send_raw(&mut self, body: &[u8]) {
        write!(self.stdin, "Content-Length: {}\r\n\r\n", body.len()).expect("write to server");
        self.stdin.write_all(body).expect("write to server");
        self.stdin.flush().expect("flush");
    }

    /// The next message that is neither a notification nor kept for later.
    pub fn next_response(&mut self) -> Value {
        loop {
            let message = self.messages.recv_timeout(PATIENCE).expect("a response from the server");
            if message.get("method").is_none() {
                return message;
            }
            self.pending.push(message);
        }
    }

    pub fn notify(&mut self, method: &str, params: Value) {
        self.send(json!({ "jsonrpc": "2.0", "method": method, "params": params }));
    }

    /// Sends a request and returns its whole response (`result` or `error`).
    pub fn call(&mut self, method: &str, params: Value) -> Value {
        self.next_id += 1;
        let id = self.next_id;
        self.send(json!({ "jsonrpc": "2.0", "id": id, "method": method, "params": params }));
        loop {
            let message = self.messages.recv_timeout(PATIENCE).expect("a response from the server");
            if message["id"] == json!(id) && message.get("method").is_none() {
                return message;
            }
            self.pending.push(message);
        }
    }

    pub fn request(&mut self, method: &str, params: Value) -> Value {
        let response = self.call(method, params);
        assert!(response.get("error").is_none(), "{method} failed: {response}");
        response["result"].clone()
    }

    /// The next `publishDiagnostics` for `uri`.
    pub fn diagnostics_for(&mut self, file: &Path) -> Vec<Value> {
        let wanted = uri(file);
        if let Some(i) = self.pending.iter().position(|m| is_diagnostics_for(m, &wanted)) {
            let message = self.pending.remove(i);
            return message["params"]["diagnostics"].as_array().cloned().unwrap_or_default();
        }
        loop {
            let message = self.messages.recv_timeout(PATIENCE).expect("diagnostics from the server");
            if is_diagnostics_for(&message, &wanted) {
                return message["params"]["diagnostics"].as_array().cloned().unwrap_or_default();
            }
            self.pending.push(message);
        }
    }

    /// The first `publishDiagnostics` for `file` made at document version `version` or
    /// later (earlier ones are skipped).
    pub fn diagnostics_at_version(&mut self, file: &Path, version: i64) -> Vec<Value> {
        let wanted = uri(file);
        loop {
            let message = match self.pending.iter().position(|m| is_diagnostics_for(m, &wanted)) {
                Some(i) => self.pending.remove(i),
                None => loop {
                    let message = self.messages.recv_timeout(PATIENCE).expect("diagnostics from the server");
                    if is_diagnostics_for(&message, &wanted) {
                        break message;
                    }
                    self.pending.push(message);
                },
            };
            if message["params"]["version"].as_i64().is_some_and(|v| v >= version) {
                return message["params"]["diagnostics"].as_array().cloned().unwrap_or_default();
            }
        }
    }

    pub fn open(&mut self, file: &Path, text: &str) {
        let params = json!({ "textDocument": { "uri": uri(file), "languageId": "infra", "version": 1, "text": text } });
        self.notify("textDocument/didOpen", params);
    }

    pub fn change(&mut self, file: &Path, version: i32, text: &str) {
        let params = json!({
            "textDocument": { "uri": uri(file), "version": version },
            "contentChanges": [{ "text": text }],
        });
        self.notify("textDocument/didChange", params);
    }

    /// Sends `exit` without `shutdown` first and returns the exit code.
    pub fn exit_without_shutdown(mut self) -> i32 {
        self.notify("exit", Value::Null);
        let status = self.child.wait().expect("server exits");
        status.code().unwrap_or(-1)
    }

    /// Shuts down and returns the exit code.
    pub fn shutdown(mut self) -> i32 {
        let response = self.call("shutdown", Value::Null);
        assert!(response.get("error").is_none(), "{response}");
        self.notify("exit", Value::Null);
        let status = self.child.wait().expect("server exits");
        status.code().unwrap_or(-1)
    }
}

fn is_diagnostics_for(message: &Value, uri: &str) -> bool {
    message["method"] == "textDocument/publishDiagnostics" && message["params"]["uri"] == uri
}

fn read_message(reader: &mut impl BufRead) -> Option<Value> {
    let mut length = None;
    loop {
        let mut line = String::new();
        if reader.read_line(&mut line).ok()? == 0 {
            return None;
        }
        let line = line.trim_end();
        if line.is_empty() {
            break;
        }
        if let Some(value) = line.strip_prefix("Content-Length: ") {
            length = value.parse::<usize>().ok();
        }
    }
    let mut body = vec![0; length?];
    reader.read_exact(&mut body).ok()?;
    serde_json::from_slice(&body).ok()
}

pub fn uri(path: &Path) -> String {
    format!("file://{}", path.display())
}
