// End-to-end test of `rekindle lsp` with a real LSP client library (vscode-languageserver-protocol,
// the one VS Code's client is built on). Spawns the server, opens a rules file with an error in a
// temporary folder holding a copy of the conformance config, and checks diagnostics (range and
// code, in UTF-16 after CJK text), their clearing after a fix, hover, completion, definition,
// references, document symbols and formatting; then shuts the server down.
//
// Usage: node tests/lsp/e2e.js PATH_TO_rekindle   (tests/lsp/run.sh installs the packages first)
'use strict';

const cp = require('child_process');
const fs = require('fs');
const os = require('os');
const path = require('path');
const {
  createProtocolConnection,
  StreamMessageReader,
  StreamMessageWriter,
  InitializeRequest,
  InitializedNotification,
  DidOpenTextDocumentNotification,
  DidChangeTextDocumentNotification,
  PublishDiagnosticsNotification,
  RegistrationRequest,
  HoverRequest,
  CompletionRequest,
  DefinitionRequest,
  ReferencesRequest,
  DocumentSymbolRequest,
  DocumentFormattingRequest,
  ShutdownRequest,
  ExitNotification,
} = require('vscode-languageserver-protocol/node');

const TOTAL_TIMEOUT_MS = 30000;
const STEP_TIMEOUT_MS = 8000;

const repo = path.resolve(__dirname, '..', '..');
const binary = process.argv[2] ? path.resolve(process.argv[2]) : '';
if (!binary || !fs.existsSync(binary)) {
  console.error(`lsp e2e: FAIL: no rekindle binary at '${process.argv[2] || ''}' (usage: node e2e.js PATH_TO_rekindle)`);
  process.exit(2);
}

let server = null;
let tmp = null;
let step = 'starting';

function cleanup() {
  if (server && server.exitCode === null) server.kill('SIGKILL');
  if (tmp) fs.rmSync(tmp, { recursive: true, force: true });
}

function fail(message) {
  console.error(`lsp e2e: FAIL (${step}): ${message}`);
  cleanup();
  process.exit(1);
}

function check(condition, message) {
  if (!condition) fail(message);
}

const watchdog = setTimeout(() => fail(`did not finish within ${TOTAL_TIMEOUT_MS / 1000}s`), TOTAL_TIMEOUT_MS);

function withTimeout(promise, what) {
  let timer;
  const timeout = new Promise((_, reject) => {
    timer = setTimeout(() => reject(new Error(`timed out after ${STEP_TIMEOUT_MS / 1000}s waiting for ${what}`)), STEP_TIMEOUT_MS);
  });
  return Promise.race([promise, timeout]).finally(() => clearTimeout(timer));
}

// ---- the workspace ---------------------------------------------------------------------------

tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'rekindle-lsp-e2e-'));
const dataDir = path.join(repo, 'tests', 'conformance', 'data');
const config = fs
  .readFileSync(path.join(repo, 'tests', 'conformance', 'rekindle.yaml'), 'utf8')
  .replace(/^(\s*path:\s*)data\//gm, (_, lead) => `${lead}${dataDir}/`);
fs.writeFileSync(path.join(tmp, 'rekindle.yaml'), config);
const rulesDir = path.join(tmp, 'rules');  // one folder down: the config is found above
fs.mkdirSync(rulesDir);
const rulesPath = path.join(rulesDir, 'winback.rules');
const uri = `file://${rulesPath.split('/').map(encodeURIComponent).join('/')}`;
const configUri = `file://${path.join(tmp, 'rekindle.yaml').split('/').map(encodeURIComponent).join('/')}`;

// The error: `repeat_buyr` is unknown, after a CJK string on the same line.
const fixedText = `# Win-back rules for the editor test.
rules editor_test version 1

# Purchases of the customer.
let purchases = events where kind == "purchase"
let orders    = count(purchases)

segment repeat_buyer when orders >= 2
segment vip when account_type == "沉睡客户" or repeat_buyer

stage
  new     when orders == 0
  active  when orders >= 1 and account_type == "b2c"
  dormant otherwise
end

channel
  email when stage == active
  none  otherwise
end
`;
const brokenText = fixedText.replace('"沉睡客户" or repeat_buyer', '"沉睡客户" or repeat_buyr');
fs.writeFileSync(rulesPath, brokenText);

// LSP positions: 0-based line, UTF-16 code units (JavaScript strings are UTF-16 already).
function positionOf(text, needle, delta = 0) {
  const at = text.indexOf(needle);
  if (at < 0) fail(`test bug: '${needle}' not in the text`);
  const before = text.slice(0, at);
  const line = before.split('\n').length - 1;
  const character = at - (before.lastIndexOf('\n') + 1) + delta;
  return { line, character };
}

function sameRange(r, start, length) {
  return r.start.line === start.line && r.start.character === start.character &&
         r.end.line === start.line && r.end.character === start.character + length;
}

// ---- the server ------------------------------------------------------------------------------

server = cp.spawn(binary, ['lsp'], { stdio: ['pipe', 'pipe', 'pipe'] });
let stderr = '';
server.stderr.on('data', (d) => { stderr += d.toString(); });
let expectExit = false;
server.on('exit', (code, signal) => {
  if (!expectExit) fail(`the server exited early (code ${code}, signal ${signal})${stderr ? `; stderr:\n${stderr}` : ''}`);
});
server.on('error', (e) => fail(`cannot start the server: ${e.message}`));

const connection = createProtocolConnection(new StreamMessageReader(server.stdout), new StreamMessageWriter(server.stdin));
connection.onError(([e]) => fail(`connection error: ${e && e.message}`));

// Diagnostics as they are published, and waiters for the next ones matching a predicate.
const published = new Map();
const waiters = [];
connection.onNotification(PublishDiagnosticsNotification.type, (params) => {
  published.set(params.uri, params.diagnostics);
  for (let i = waiters.length - 1; i >= 0; --i) {
    const w = waiters[i];
    if (w.uri === params.uri && w.predicate(params.diagnostics)) {
      waiters.splice(i, 1);
      w.resolve(params.diagnostics);
    }
  }
});
function nextDiagnostics(forUri, predicate, what) {
  return withTimeout(new Promise((resolve) => waiters.push({ uri: forUri, predicate, resolve })), what);
}
connection.onRequest(RegistrationRequest.type, () => null);  // the rekindle.yaml watcher
connection.onNotification('window/logMessage', () => {});
connection.listen();

async function main() {
  step = 'initialize';
  const init = await withTimeout(connection.sendRequest(InitializeRequest.type, {
    processId: process.pid,
    rootUri: `file://${tmp}`,
    workspaceFolders: [{ uri: `file://${tmp}`, name: 'e2e' }],
    capabilities: {
      textDocument: {
        hover: { contentFormat: ['markdown', 'plaintext'] },
        completion: { completionItem: { documentationFormat: ['markdown'] } },
        documentSymbol: { hierarchicalDocumentSymbolSupport: true },
        publishDiagnostics: { relatedInformation: true },
      },
      workspace: { didChangeWatchedFiles: { dynamicRegistration: true } },
    },
  }), 'the initialize response');
  const caps = init.capabilities;
  for (const cap of ['hoverProvider', 'completionProvider', 'definitionProvider', 'referencesProvider',
                     'documentSymbolProvider', 'documentFormattingProvider']) {
    check(caps[cap], `the server does not announce ${cap}`);
  }
  check(caps.textDocumentSync && caps.textDocumentSync.openClose, 'the server does not announce open/close sync');
  connection.sendNotification(InitializedNotification.type, {});

  // ---- diagnostics: the error, located in UTF-16 units after the CJK string ----
  step = 'diagnostics on open';
  const firstDiags = nextDiagnostics(uri, () => true, 'diagnostics after didOpen');
  connection.sendNotification(DidOpenTextDocumentNotification.type, {
    textDocument: { uri, languageId: 'rekindle', version: 1, text: brokenText },
  });
  const diags = await firstDiags;
  const unknown = diags.find((d) => d.code === 'E011');
  check(unknown, `expected an E011 diagnostic, got ${JSON.stringify(diags)}`);
  const at = positionOf(brokenText, 'repeat_buyr');
  check(sameRange(unknown.range, at, 'repeat_buyr'.length),
        `E011 range is ${JSON.stringify(unknown.range)}, expected line ${at.line} characters ${at.character}-${at.character + 11}`);
  check(unknown.severity === 1, `E011 severity is ${unknown.severity}, expected 1 (error)`);
  check(/repeat_buyr/.test(unknown.message) && /repeat_buyer/.test(unknown.message),
        `E011 message should name the typo and suggest the fix: ${unknown.message}`);

  // ---- the fix clears it ----
  step = 'diagnostics after the fix';
  const cleared = nextDiagnostics(uri, () => true, 'diagnostics after didChange');
  connection.sendNotification(DidChangeTextDocumentNotification.type, {
    textDocument: { uri, version: 2 },
    contentChanges: [{ text: fixedText }],
  });
  const after = await cleared;
  const errors = after.filter((d) => d.severity === 1);
  check(errors.length === 0, `errors remain after the fix: ${JSON.stringify(errors)}`);
  check(!after.some((d) => d.code === 'E011'), 'the E011 diagnostic was not cleared');
  if (after.length) console.log(`lsp e2e: note: ${after.length} lint warning(s) on the fixed file: ${after.map((d) => d.code).join(', ')}`);

  // ---- hover ----
  step = 'hover';
  const td = { uri };
  const onOrders = positionOf(fixedText, 'orders >= 2', 2);
  const hover = await withTimeout(connection.sendRequest(HoverRequest.type, { textDocument: td, position: onOrders }), 'hover');
  check(hover && hover.contents, 'no hover on a let');
  const hoverText = typeof hover.contents === 'string' ? hover.contents : hover.contents.value;
  check(/let orders/.test(hoverText) && /`int`/.test(hoverText), `hover on 'orders' should show the let and its type int: ${hoverText}`);
  const onField = positionOf(fixedText, 'account_type ==', 3);
  const fieldHover = await withTimeout(connection.sendRequest(HoverRequest.type, { textDocument: td, position: onField }), 'hover');
  const fieldText = fieldHover && (fieldHover.contents.value || fieldHover.contents);
  check(/account_type: string/.test(fieldText), `hover on a customer field should show its type: ${fieldText}`);
  const onCount = positionOf(fixedText, 'count(', 1);
  const countHover = await withTimeout(connection.sendRequest(HoverRequest.type, { textDocument: td, position: onCount }), 'hover');
  check(/count\(xs: list<T>\) -> int/.test(countHover.contents.value), `hover on count should show its signature: ${countHover.contents.value}`);

  // ---- completion ----
  step = 'completion';
  const labelsAt = async (position) => {
    const r = await withTimeout(connection.sendRequest(CompletionRequest.type, { textDocument: td, position }), 'completion');
    const items = Array.isArray(r) ? r : (r && r.items) || [];
    return items.map((i) => i.label);
  };
  const inWhere = await labelsAt(positionOf(fixedText, 'kind == "purchase"'));
  for (const x of ['kind', 'amount', 'opened', 'purchases', 'count']) check(inWhere.includes(x), `completion in a where condition lacks '${x}': ${inWhere.join(' ')}`);
  const afterStageEq = await labelsAt(positionOf(fixedText, 'active\n  none', 0));
  for (const x of ['new', 'active', 'dormant']) check(afterStageEq.includes(x), `completion after 'stage ==' lacks '${x}': ${afterStageEq.join(' ')}`);
  check(!afterStageEq.includes('count'), `completion after 'stage ==' should offer only stages: ${afterStageEq.join(' ')}`);
  const channelRow = await labelsAt(positionOf(fixedText, 'email when'));
  for (const x of ['email', 'sms', 'push', 'none']) check(channelRow.includes(x), `completion at a channel row lacks '${x}': ${channelRow.join(' ')}`);

  // ---- definition ----
  step = 'definition';
  const def = await withTimeout(connection.sendRequest(DefinitionRequest.type, { textDocument: td, position: onOrders }), 'definition');
  const loc = Array.isArray(def) ? def[0] : def;
  const declared = positionOf(fixedText, 'orders    =');
  check(loc && loc.uri === uri && sameRange(loc.range, declared, 'orders'.length),
        `definition of 'orders' is ${JSON.stringify(def)}, expected ${uri} at ${JSON.stringify(declared)}`);
  const fieldDef = await withTimeout(connection.sendRequest(DefinitionRequest.type, { textDocument: td, position: onField }), 'definition');
  const fieldLoc = Array.isArray(fieldDef) ? fieldDef[0] : fieldDef;
  const inYaml = positionOf(config, 'account_type:');
  check(fieldLoc && fieldLoc.uri === configUri && fieldLoc.range.start.line === inYaml.line,
        `definition of a customer field should be in rekindle.yaml line ${inYaml.line}: ${JSON.stringify(fieldDef)}`);

  // ---- references ----
  step = 'references';
  const refs = await withTimeout(connection.sendRequest(ReferencesRequest.type, {
    textDocument: td, position: declared, context: { includeDeclaration: true },
  }), 'references');
  // The declaration, `orders >= 2`, `orders == 0`, `orders >= 1`.
  check(Array.isArray(refs) && refs.length === 4, `references of 'orders': expected 4, got ${JSON.stringify(refs)}`);
  check(refs.every((r) => r.uri === uri), 'references outside the document');

  // ---- document symbols ----
  step = 'document symbols';
  const symbols = await withTimeout(connection.sendRequest(DocumentSymbolRequest.type, { textDocument: td }), 'document symbols');
  const names = symbols.map((s) => s.name);
  for (const x of ['purchases', 'orders', 'repeat_buyer', 'vip', 'stage', 'channel']) check(names.includes(x), `document symbols lack '${x}': ${names.join(' ')}`);
  const stage = symbols.find((s) => s.name === 'stage');
  check(stage.children && stage.children.map((c) => c.name).join(',') === 'new,active,dormant',
        `the stage table's rows should be its children: ${JSON.stringify(stage.children)}`);

  // ---- formatting ----
  step = 'formatting';
  const edits = await withTimeout(connection.sendRequest(DocumentFormattingRequest.type, {
    textDocument: td, options: { tabSize: 2, insertSpaces: true },
  }), 'formatting');
  check(Array.isArray(edits), `formatting should give a list of edits: ${JSON.stringify(edits)}`);
  if (edits.length) {
    check(edits.length === 1, `formatting should replace the document in one edit: ${edits.length} edits`);
    const r = edits[0].range;
    const lines = fixedText.split('\n');
    check(r.start.line === 0 && r.start.character === 0 && r.end.line === lines.length - 1 &&
          r.end.character === lines[lines.length - 1].length, `the edit should span the document: ${JSON.stringify(r)}`);
    check(typeof edits[0].newText === 'string' && edits[0].newText.includes('segment vip'), 'the formatted text lost declarations');
  }

  // ---- shutdown ----
  step = 'shutdown';
  await withTimeout(connection.sendRequest(ShutdownRequest.type), 'the shutdown response');
  expectExit = true;
  const exited = new Promise((resolve) => server.on('exit', (code) => resolve(code)));
  connection.sendNotification(ExitNotification.type);
  const code = await withTimeout(exited, 'the server to exit');
  check(code === 0, `the server exited with ${code} after shutdown + exit, expected 0`);
  connection.dispose();
  clearTimeout(watchdog);
  cleanup();
  console.log('lsp e2e: all checks passed');
}

main().catch((e) => fail(e && e.stack ? e.stack : String(e)));
