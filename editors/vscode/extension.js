// The Rekindle extension: starts `rekindle lsp` (the binary from the `rekindle.path` setting)
// and talks to it over stdio with vscode-languageclient. Highlighting comes from the TextMate
// grammar in syntaxes/, so it works even when the server cannot start.
'use strict';

const path = require('node:path');
const vscode = require('vscode');
const { LanguageClient } = require('vscode-languageclient/node');

/** @type {LanguageClient | undefined} */
let client;
/** @type {vscode.OutputChannel | undefined} */
let outputChannel;

// `rekindle.path`: a bare name is looked up on PATH by the system; a relative path with a
// directory part (`./build/cli/rekindle`) is resolved against the first workspace folder; `~/`
// is the home directory.
function serverCommand() {
  let command = (vscode.workspace.getConfiguration('rekindle').get('path') || '').trim() || 'rekindle';
  if (command === '~' || command.startsWith('~/')) {
    command = path.join(require('node:os').homedir(), command.slice(1));
  }
  const folders = vscode.workspace.workspaceFolders;
  if (!path.isAbsolute(command) && /[\\/]/.test(command) && folders && folders.length > 0) {
    command = path.resolve(folders[0].uri.fsPath, command);
  }
  return command;
}

async function startClient() {
  const command = serverCommand();
  const folders = vscode.workspace.workspaceFolders;
  /** @type {import('vscode-languageclient/node').ServerOptions} */
  const serverOptions = {
    // `[path, "lsp"]` over stdio. No `transport` here: with TransportKind.stdio the client
    // would append `--stdio` to the arguments.
    command,
    args: ['lsp'],
    options: folders && folders.length > 0 ? { cwd: folders[0].uri.fsPath } : undefined,
  };
  /** @type {import('vscode-languageclient/node').LanguageClientOptions} */
  const clientOptions = {
    documentSelector: [
      { scheme: 'file', language: 'rekindle' },
      { scheme: 'untitled', language: 'rekindle' },
    ],
    // Rules are checked against the data contract: tell the server when it changes.
    synchronize: {
      fileEvents: vscode.workspace.createFileSystemWatcher('**/rekindle.{yaml,yml}'),
    },
    outputChannel,
  };
  const c = new LanguageClient('rekindle', 'Rekindle', serverOptions, clientOptions);
  client = c;
  try {
    await c.start();
  } catch (err) {
    if (client === c) client = undefined;
    const message = err instanceof Error ? err.message : String(err);
    // Not awaited: activation must not wait for the user to answer.
    vscode.window
      .showErrorMessage(
        `Rekindle: could not start the language server (\`${command} lsp\`): ${message}. ` +
          'Set "rekindle.path" to the rekindle binary.',
        'Open Settings'
      )
      .then((choice) => {
        if (choice === 'Open Settings') {
          vscode.commands.executeCommand('workbench.action.openSettings', 'rekindle.path');
        }
      });
  }
}

async function stopClient() {
  const c = client;
  client = undefined;
  if (c) {
    try {
      await c.stop();
    } catch {
      // Already stopped or never started: nothing to do.
    }
  }
}

async function restartClient() {
  await stopClient();
  await startClient();
}

/** @param {vscode.ExtensionContext} context */
async function activate(context) {
  outputChannel = vscode.window.createOutputChannel('Rekindle', { log: true });
  context.subscriptions.push(
    outputChannel,
    vscode.commands.registerCommand('rekindle.restartServer', restartClient),
    vscode.workspace.onDidChangeConfiguration((e) => {
      if (e.affectsConfiguration('rekindle.path')) restartClient();
    }),
    { dispose: () => { stopClient(); } }
  );
  await startClient();
}

function deactivate() {
  return stopClient();
}

module.exports = { activate, deactivate };
