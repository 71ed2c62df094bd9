//! `infra lsp`: a language server over stdio.
//!
//! The protocol plumbing (framing, JSON-RPC messages, the initialize handshake) is the
//! `lsp-server` crate's and the message types are `lsp-types`'; this module owns the main
//! loop and dispatch. The server is single-threaded: a request is answered from an
//! analysis of its module that is current with every edit received before it.
//! Diagnostics are published after a short pause in typing (see [`DEBOUNCE`]) for every
//! module that has an open document. The language logic is the `infra-ide` crate's:
//! `lsp/handlers.rs` asks it one question per request and `lsp/convert.rs` turns its
//! plain-data answers into `lsp-types` values.

mod convert;
mod handlers;
mod transport;

use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use clap::Args;
use lsp_server::{Connection, ErrorCode, Message, Notification, Request, Response};
use lsp_types::notification::Notification as _;
use lsp_types::request::Request as _;
use lsp_types::{notification, request, Uri};

use infra_ide::{TextChange, Workspace};

use crate::output::{Report, EXIT_ERRORS, EXIT_OK};

/// How long the server waits after an edit before analysing and publishing
/// diagnostics, so that changes arriving together (several notifications for one
/// multi-cursor edit, a paste or an undo; key repeat) cost one analysis. Typed keys are
/// rarely closer than 30 ms, so this adds little to what a typist waits for. A request
/// that needs the analysis does not wait: it analyses at once.
pub const DEBOUNCE: Duration = Duration::from_millis(10);

#[derive(Args, Debug)]
pub struct LspArgs {
    /// Accepted for editors that pass it; stdio is the only transport
    #[arg(long)]
    stdio: bool,
}

pub fn run(_args: &LspArgs) -> Report {
    let (connection, io_threads) = transport::stdio();
    let result = serve(&connection);
    drop(connection);
    let joined = io_threads.join().map_err(|e| e.to_string());
    match (result, joined) {
        (Ok(true), Ok(())) => Report::exit(EXIT_OK),
        // An `exit` without `shutdown` first: the protocol asks for exit code 1.
        (Ok(false), Ok(())) => Report::exit(EXIT_ERRORS),
        // The transport's reason first: it is why the loop saw the connection close.
        (_, Err(message)) | (Err(message), Ok(())) => Report::error(
            crate::codes::COMMAND_FAILED,
            &format!("language server stopped: {message}"),
            "the editor closed the connection or sent something that is not LSP; restart the server",
        ),
    }
}

/// Runs the handshake and the main loop; true when the client shut down properly.
fn serve(connection: &Connection) -> Result<bool, String> {
    let capabilities = serde_json::to_value(capabilities()).map_err(|e| e.to_string())?;
    let params = connection.initialize(capabilities).map_err(|e| e.to_string())?;
    let params: lsp_types::InitializeParams = serde_json::from_value(params).unwrap_or_default();
    let mut server = Server { workspace: Workspace::default(), connection, published: Default::default() };
    server.workspace.folders = workspace_folders(&params);
    server.main_loop()
}

fn workspace_folders(params: &lsp_types::InitializeParams) -> Vec<PathBuf> {
    let mut folders: Vec<PathBuf> =
        params.workspace_folders.iter().flatten().filter_map(|f| uri_to_path(&f.uri).ok()).collect();
    #[allow(deprecated)] // Older clients send only `rootUri`.
    if folders.is_empty() {
        folders.extend(params.root_uri.as_ref().and_then(|u| uri_to_path(u).ok()));
    }
    folders
}

fn capabilities() -> lsp_types::ServerCapabilities {
    use lsp_types::*;
    ServerCapabilities {
        text_document_sync: Some(TextDocumentSyncCapability::Options(TextDocumentSyncOptions {
            open_close: Some(true),
            change: Some(TextDocumentSyncKind::INCREMENTAL),
            save: Some(TextDocumentSyncSaveOptions::Supported(true)),
            ..Default::default()
        })),
        hover_provider: Some(HoverProviderCapability::Simple(true)),
        completion_provider: Some(CompletionOptions {
            trigger_characters: Some(vec![".".to_string()]),
            ..Default::default()
        }),
        signature_help_provider: Some(SignatureHelpOptions {
            trigger_characters: Some(vec!["(".to_string(), ",".to_string()]),
            ..Default::default()
        }),
        definition_provider: Some(OneOf::Left(true)),
        references_provider: Some(OneOf::Left(true)),
        rename_provider: Some(OneOf::Right(RenameOptions {
            prepare_provider: Some(true),
            work_done_progress_options: Default::default(),
        })),
        document_symbol_provider: Some(OneOf::Left(true)),
        workspace_symbol_provider: Some(OneOf::Left(true)),
        document_formatting_provider: Some(OneOf::Left(true)),
        code_action_provider: Some(CodeActionProviderCapability::Simple(true)),
        inlay_hint_provider: Some(OneOf::Left(true)),
        semantic_tokens_provider: Some(SemanticTokensServerCapabilities::SemanticTokensOptions(
            SemanticTokensOptions {
                legend: convert::legend(),
                full: Some(SemanticTokensFullOptions::Bool(true)),
                ..Default::default()
            },
        )),
        ..Default::default()
    }
}

/// An error answer to a request.
#[derive(Debug)]
pub struct LspError {
    pub code: ErrorCode,
    pub message: String,
}

impl LspError {
    pub fn invalid_params(message: impl Into<String>) -> LspError {
        LspError { code: ErrorCode::InvalidParams, message: message.into() }
    }

    pub fn failed(message: impl Into<String>) -> LspError {
        LspError { code: ErrorCode::RequestFailed, message: message.into() }
    }
}

pub type LspResult<T> = Result<T, LspError>;

pub struct Server<'a> {
    pub workspace: Workspace,
    connection: &'a Connection,
    /// Files we published non-empty diagnostics for, so they can be cleared.
    published: std::collections::BTreeSet<PathBuf>,
}

impl Server<'_> {
    fn main_loop(&mut self) -> Result<bool, String> {
        let mut deadline: Option<Instant> = None;
        let mut shut_down = false;
        loop {
            let message = match deadline {
                Some(at) => match self.connection.receiver.recv_deadline(at) {
                    Ok(message) => message,
                    Err(error) if error.is_timeout() => {
                        deadline = None;
                        self.publish_diagnostics();
                        continue;
                    }
                    Err(_) => return Ok(false),
                },
                None => match self.connection.receiver.recv() {
                    Ok(message) => message,
                    Err(_) => return Ok(false),
                },
            };
            match message {
                Message::Request(request) if request.method == request::Shutdown::METHOD => {
                    shut_down = true;
                    self.send(Response::new_ok(request.id, ()));
                }
                Message::Request(request) if shut_down => {
                    let code = ErrorCode::InvalidRequest as i32;
                    self.send(Response::new_err(request.id, code, "the server is shutting down".to_string()));
                }
                Message::Request(request) => {
                    let response = self.request(request);
                    self.send(response);
                }
                Message::Notification(n) if n.method == notification::Exit::METHOD => return Ok(shut_down),
                Message::Notification(n) => {
                    if self.notification(n) {
                        deadline = Some(Instant::now() + DEBOUNCE);
                    }
                }
                Message::Response(_) => {}
            }
        }
    }

    fn send(&self, message: impl Into<Message>) {
        // A closed channel means the client is gone; the loop ends on the next receive.
        let _ = self.connection.sender.send(message.into());
    }

    /// Handles a notification; true when documents changed.
    fn notification(&mut self, n: Notification) -> bool {
        match n.method.as_str() {
            notification::DidOpenTextDocument::METHOD => {
                let Ok(params) = serde_json::from_value::<lsp_types::DidOpenTextDocumentParams>(n.params) else {
                    return false;
                };
                let Ok(path) = uri_to_path(&params.text_document.uri) else { return false };
                self.workspace.open(path, params.text_document.text, params.text_document.version);
                true
            }
            notification::DidChangeTextDocument::METHOD => {
                let Ok(params) = serde_json::from_value::<lsp_types::DidChangeTextDocumentParams>(n.params) else {
                    return false;
                };
                let Ok(path) = uri_to_path(&params.text_document.uri) else { return false };
                let changes = params
                    .content_changes
                    .into_iter()
                    .map(|change| TextChange { range: change.range.map(convert::range), text: change.text });
                self.workspace.edit(&path, params.text_document.version, changes)
            }
            notification::DidCloseTextDocument::METHOD => {
                let Ok(params) = serde_json::from_value::<lsp_types::DidCloseTextDocumentParams>(n.params) else {
                    return false;
                };
                let Ok(path) = uri_to_path(&params.text_document.uri) else { return false };
                self.workspace.close(&path);
                true
            }
            // Saving changes nothing the server sees (it has the buffer), but a file
            // changed on disk by another program may.
            notification::DidSaveTextDocument::METHOD | notification::DidChangeWatchedFiles::METHOD => {
                self.workspace.touch();
                true
            }
            _ => false,
        }
    }

    fn request(&mut self, request: Request) -> Response {
        use handlers::*;
        use request::*;
        let id = request.id.clone();
        match request.method.as_str() {
            HoverRequest::METHOD => self.answer::<HoverRequest>(request, hover),
            Completion::METHOD => self.answer::<Completion>(request, completion),
            SignatureHelpRequest::METHOD => self.answer::<SignatureHelpRequest>(request, signature_help),
            GotoDefinition::METHOD => self.answer::<GotoDefinition>(request, definition),
            References::METHOD => self.answer::<References>(request, references),
            PrepareRenameRequest::METHOD => self.answer::<PrepareRenameRequest>(request, prepare_rename),
            Rename::METHOD => self.answer::<Rename>(request, rename),
            DocumentSymbolRequest::METHOD => self.answer::<DocumentSymbolRequest>(request, document_symbols),
            WorkspaceSymbolRequest::METHOD => self.answer::<WorkspaceSymbolRequest>(request, workspace_symbols),
            Formatting::METHOD => self.answer::<Formatting>(request, formatting),
            CodeActionRequest::METHOD => self.answer::<CodeActionRequest>(request, code_actions),
            InlayHintRequest::METHOD => self.answer::<InlayHintRequest>(request, inlay_hints),
            SemanticTokensFullRequest::METHOD => self.answer::<SemanticTokensFullRequest>(request, semantic_tokens),
            method => Response::new_err(id, ErrorCode::MethodNotFound as i32, format!("unknown method `{method}`")),
        }
    }

    fn answer<R: request::Request>(
        &mut self,
        request: Request,
        handler: fn(&mut Server, R::Params) -> LspResult<R::Result>,
    ) -> Response {
        let params: R::Params = match serde_json::from_value(request.params) {
            Ok(params) => params,
            Err(error) => {
                let code = ErrorCode::InvalidParams as i32;
                return Response::new_err(request.id, code, format!("invalid parameters: {error}"));
            }
        };
        // A bug in a feature answers this request with an error rather than ending the
        // server (the panic message goes to stderr, which editors log).
        match std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| handler(self, params))) {
            Ok(Ok(result)) => Response::new_ok(request.id, result),
            Ok(Err(error)) => Response::new_err(request.id, error.code as i32, error.message),
            Err(_) => {
                let code = ErrorCode::InternalError as i32;
                Response::new_err(request.id, code, format!("`{}` failed inside the server", R::METHOD))
            }
        }
    }

    fn publish_diagnostics(&mut self) {
        let published = infra_ide::diagnostics(&mut self.workspace, &self.published);
        self.published = published.iter().filter(|(_, d)| !d.is_empty()).map(|(p, _)| p.clone()).collect();
        for (path, diagnostics) in published {
            let Ok(uri) = path_to_uri(&path) else { continue };
            let version = self.workspace.documents.get(&path).map(|d| d.version);
            let diagnostics = diagnostics.into_iter().map(convert::diagnostic).collect();
            let params = lsp_types::PublishDiagnosticsParams { uri, diagnostics, version };
            self.send(Notification::new(notification::PublishDiagnostics::METHOD.to_string(), params));
        }
    }
}

/// The local path of a `file:` URI.
pub fn uri_to_path(uri: &Uri) -> LspResult<PathBuf> {
    let scheme = uri.scheme().map(|s| s.as_str().to_ascii_lowercase());
    if scheme.as_deref() != Some("file") {
        return Err(LspError::invalid_params(format!("`{}` is not a `file:` URI", uri.as_str())));
    }
    let decoded = uri
        .path()
        .as_estr()
        .decode()
        .into_string()
        .map_err(|_| LspError::invalid_params(format!("`{}` is not a UTF-8 path", uri.as_str())))?;
    if !decoded.starts_with('/') {
        return Err(LspError::invalid_params(format!("`{}` is not an absolute path", uri.as_str())));
    }
    Ok(infra_compiler::resolve::normalize(Path::new(decoded.as_ref())))
}

/// The `file:` URI of a local path.
pub fn path_to_uri(path: &Path) -> LspResult<Uri> {
    use percent_encoding::{utf8_percent_encode, AsciiSet, CONTROLS};
    // Everything but unreserved characters and `/` is escaped, as editors do.
    const PATH: &AsciiSet = &CONTROLS
        .add(b' ')
        .add(b'"')
        .add(b'#')
        .add(b'%')
        .add(b'<')
        .add(b'>')
        .add(b'?')
        .add(b'[')
        .add(b']')
        .add(b'\\')
        .add(b'^')
        .add(b'`')
        .add(b'{')
        .add(b'|')
        .add(b'}');
    let text = path.to_string_lossy();
    let encoded = utf8_percent_encode(&text, PATH);
    format!("file://{encoded}").parse::<Uri>().map_err(|_| LspError::failed(format!("cannot make a URI of `{text}`")))
}
