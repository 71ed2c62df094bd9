//! One function per request: read the parameters, ask the `ide` crate, convert its answer.

use lsp_types::{
    CodeActionKind, CodeActionOrCommand, CodeActionParams, CodeActionResponse, CompletionParams, CompletionResponse,
    DocumentFormattingParams, DocumentSymbolParams, DocumentSymbolResponse, GotoDefinitionParams,
    GotoDefinitionResponse, Hover, HoverContents, HoverParams, InlayHint, InlayHintKind, InlayHintLabel,
    InlayHintParams, MarkupContent, MarkupKind, OneOf, ParameterInformation, ParameterLabel, PrepareRenameResponse,
    ReferenceParams, RenameParams, SemanticTokens, SemanticTokensParams, SemanticTokensResult, SignatureHelp,
    SignatureHelpParams, SignatureInformation, TextDocumentPositionParams, TextEdit, WorkspaceEdit, WorkspaceSymbol,
    WorkspaceSymbolParams, WorkspaceSymbolResponse,
};

use super::convert::{self, error, lsp_range, position};
use super::{uri_to_path, LspResult, Server};

pub fn hover(server: &mut Server, params: HoverParams) -> LspResult<Option<Hover>> {
    let at = &params.text_document_position_params;
    let path = uri_to_path(&at.text_document.uri)?;
    let hover = infra_ide::hover(&mut server.workspace, &path, position(at.position)).map_err(error)?;
    Ok(hover.map(|hover| Hover {
        contents: HoverContents::Markup(MarkupContent { kind: MarkupKind::Markdown, value: hover.markdown }),
        range: hover.range.map(lsp_range),
    }))
}

pub fn signature_help(server: &mut Server, params: SignatureHelpParams) -> LspResult<Option<SignatureHelp>> {
    let at = &params.text_document_position_params;
    let path = uri_to_path(&at.text_document.uri)?;
    let help = infra_ide::signature_help(&mut server.workspace, &path, position(at.position)).map_err(error)?;
    Ok(help.map(|help| SignatureHelp {
        signatures: vec![SignatureInformation {
            label: help.label,
            documentation: Some(lsp_types::Documentation::String(help.documentation)),
            parameters: Some(
                help.parameters
                    .into_iter()
                    .map(|p| ParameterInformation { label: ParameterLabel::Simple(p), documentation: None })
                    .collect(),
            ),
            active_parameter: None,
        }],
        active_signature: Some(0),
        active_parameter: Some(help.active_parameter as u32),
    }))
}

pub fn completion(server: &mut Server, params: CompletionParams) -> LspResult<Option<CompletionResponse>> {
    let at = &params.text_document_position;
    let path = uri_to_path(&at.text_document.uri)?;
    let items = infra_ide::completion(&mut server.workspace, &path, position(at.position)).map_err(error)?;
    Ok(items.map(|items| CompletionResponse::Array(items.into_iter().map(convert::completion_item).collect())))
}

pub fn definition(server: &mut Server, params: GotoDefinitionParams) -> LspResult<Option<GotoDefinitionResponse>> {
    let at = &params.text_document_position_params;
    let path = uri_to_path(&at.text_document.uri)?;
    let target = infra_ide::definition(&mut server.workspace, &path, position(at.position)).map_err(error)?;
    Ok(target.as_ref().and_then(convert::location).map(GotoDefinitionResponse::Scalar))
}

pub fn references(server: &mut Server, params: ReferenceParams) -> LspResult<Option<Vec<lsp_types::Location>>> {
    let at = &params.text_document_position;
    let path = uri_to_path(&at.text_document.uri)?;
    let declarations = params.context.include_declaration;
    let found =
        infra_ide::references(&mut server.workspace, &path, position(at.position), declarations).map_err(error)?;
    Ok(found.map(|found| found.iter().filter_map(convert::location).collect()))
}

pub fn prepare_rename(
    server: &mut Server,
    params: TextDocumentPositionParams,
) -> LspResult<Option<PrepareRenameResponse>> {
    let path = uri_to_path(&params.text_document.uri)?;
    let range = infra_ide::prepare_rename(&mut server.workspace, &path, position(params.position)).map_err(error)?;
    Ok(range.map(|range| PrepareRenameResponse::Range(lsp_range(range))))
}

pub fn rename(server: &mut Server, params: RenameParams) -> LspResult<Option<WorkspaceEdit>> {
    let at = &params.text_document_position;
    let path = uri_to_path(&at.text_document.uri)?;
    let changes =
        infra_ide::rename(&mut server.workspace, &path, position(at.position), &params.new_name).map_err(error)?;
    convert::workspace_edit(changes).map(Some)
}

pub fn document_symbols(
    server: &mut Server,
    params: DocumentSymbolParams,
) -> LspResult<Option<DocumentSymbolResponse>> {
    let path = uri_to_path(&params.text_document.uri)?;
    let symbols = infra_ide::document_symbols(&mut server.workspace, &path).map_err(error)?;
    let symbol = |symbol: infra_ide::DocumentSymbol| {
        #[allow(deprecated)] // `deprecated` is a required field of the type.
        lsp_types::DocumentSymbol {
            name: symbol.name,
            detail: Some(symbol.detail),
            kind: convert::symbol_kind(symbol.kind),
            tags: None,
            deprecated: None,
            range: lsp_range(symbol.range),
            selection_range: lsp_range(symbol.selection_range),
            children: None,
        }
    };
    Ok(symbols.map(|symbols| DocumentSymbolResponse::Nested(symbols.into_iter().map(symbol).collect())))
}

pub fn workspace_symbols(
    server: &mut Server,
    params: WorkspaceSymbolParams,
) -> LspResult<Option<WorkspaceSymbolResponse>> {
    let symbols = infra_ide::workspace_symbols(&mut server.workspace, &params.query);
    let symbol = |symbol: infra_ide::WorkspaceSymbol| {
        Some(WorkspaceSymbol {
            location: OneOf::Left(convert::location(&symbol.location)?),
            name: symbol.name,
            kind: convert::symbol_kind(symbol.kind),
            tags: None,
            container_name: Some(symbol.container),
            data: None,
        })
    };
    Ok(Some(WorkspaceSymbolResponse::Nested(symbols.into_iter().filter_map(symbol).collect())))
}

pub fn formatting(server: &mut Server, params: DocumentFormattingParams) -> LspResult<Option<Vec<TextEdit>>> {
    let path = uri_to_path(&params.text_document.uri)?;
    let edit = infra_ide::formatting(&mut server.workspace, &path).map_err(error)?;
    Ok(Some(edit.into_iter().map(convert::text_edit).collect()))
}

pub fn code_actions(server: &mut Server, params: CodeActionParams) -> LspResult<Option<CodeActionResponse>> {
    let path = uri_to_path(&params.text_document.uri)?;
    let diagnostics: Vec<_> = params.context.diagnostics.iter().map(|d| convert::range(d.range)).collect();
    let range = convert::range(params.range);
    let actions = infra_ide::code_actions(&mut server.workspace, &path, range, &diagnostics).map_err(error)?;
    let mut answer = Vec::new();
    for action in actions {
        let edit = convert::workspace_edit([(path.clone(), action.edits)].into())?;
        answer.push(CodeActionOrCommand::CodeAction(lsp_types::CodeAction {
            title: action.title,
            kind: Some(CodeActionKind::QUICKFIX),
            diagnostics: Some(vec![convert::diagnostic(action.diagnostic)]),
            edit: Some(edit),
            is_preferred: Some(true),
            ..Default::default()
        }));
    }
    Ok(Some(answer))
}

pub fn inlay_hints(server: &mut Server, params: InlayHintParams) -> LspResult<Option<Vec<InlayHint>>> {
    let path = uri_to_path(&params.text_document.uri)?;
    let hints = infra_ide::inlay_hints(&mut server.workspace, &path, convert::range(params.range)).map_err(error)?;
    let hint = |hint: infra_ide::InlayHint| InlayHint {
        position: convert::lsp_position(hint.position),
        label: InlayHintLabel::String(hint.label),
        kind: Some(InlayHintKind::TYPE),
        text_edits: None,
        tooltip: None,
        padding_left: None,
        padding_right: None,
        data: None,
    };
    Ok(Some(hints.into_iter().map(hint).collect()))
}

pub fn semantic_tokens(server: &mut Server, params: SemanticTokensParams) -> LspResult<Option<SemanticTokensResult>> {
    let path = uri_to_path(&params.text_document.uri)?;
    let tokens = infra_ide::semantic_tokens(&mut server.workspace, &path).map_err(error)?;
    let data = convert::semantic_tokens(tokens);
    Ok(Some(SemanticTokensResult::Tokens(SemanticTokens { result_id: None, data })))
}
