// The Infra extension: starts `infra lsp` and connects VS Code to it. Plain JavaScript,
// so there is nothing to compile.
"use strict";

const vscode = require("vscode");
const { LanguageClient, TransportKind } = require("vscode-languageclient/node");

let client;

function activate(context) {
  const command = vscode.workspace.getConfiguration("infra").get("server.path") || "infra";
  const server = { command, args: ["lsp"], transport: TransportKind.stdio };
  client = new LanguageClient(
    "infra",
    "Infra language server",
    { run: server, debug: server },
    {
      documentSelector: [{ scheme: "file", language: "infra" }],
      synchronize: {
        fileEvents: vscode.workspace.createFileSystemWatcher("**/*.infra"),
      },
    },
  );
  context.subscriptions.push(client);
  return client.start();
}

function deactivate() {
  return client ? client.stop() : undefined;
}

module.exports = { activate, deactivate };
