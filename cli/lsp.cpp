// `rekindle lsp`: the language server over stdio (LSP, JSON-RPC with Content-Length framing).
// Editors start it; see docs/editors.md. Everything it says goes to stdout as protocol messages.
#include <iostream>

#include "common.h"
#include "rekindle/lsp/server.h"

namespace rekindle::cli {

Command addLsp(CLI::App& app) {
  CLI::App* cmd = app.add_subcommand("lsp", "Run the language server over stdio (for editors)");
  // Editors (vscode-languageclient among them) pass --stdio; it is the only transport anyway.
  cmd->add_flag("--stdio", "Talk over stdin/stdout (the default and only transport)");
  return [] {
    std::ios::sync_with_stdio(false);
    return lsp::runServer(std::cin, std::cout);
  };
}

REKINDLE_COMMAND("lsp", addLsp);

}  // namespace rekindle::cli
