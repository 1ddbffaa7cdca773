// Inside the language server: one analysed document (its compile against its config) and the
// request handlers that read it. Everything here is plain data in, JSON out.
#pragma once

#include <nlohmann/json.hpp>

#include <filesystem>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "rekindle/compiler/compiler.h"
#include "rekindle/lsp/server.h"
#include "rekindle/runtime/config.h"

namespace rekindle::lsp {

using json = nlohmann::json;

// A loaded (or failed) rekindle.yaml, with where each name is declared in it.
struct ConfigInfo {
  std::string path;  // "" when no config was found
  std::string text;
  std::optional<Config> config;     // set when it loaded without errors
  std::vector<Diagnostic> diags;    // problems loading it, located in the YAML
  // "customer:NAME", "event:NAME", "channel:NAME", "offer:NAME", "param:NAME", "calendar:NAME"
  std::map<std::string, SourceRange> locations;
  std::filesystem::file_time_type mtime{};
  uintmax_t size = 0;

  std::string uri() const { return path.empty() ? "" : pathToUri(path); }
  const SourceRange* location(const std::string& key) const {
    auto it = locations.find(key);
    return it == locations.end() ? nullptr : &it->second;
  }
};

std::shared_ptr<ConfigInfo> loadConfigInfo(const std::string& path);

// One version of one document, compiled.
struct Analysis {
  std::string uri;
  std::string path;  // the file system path, or the URI for documents that are not files
  SourceFile source;
  std::unique_ptr<LineIndex> index;  // over source.text()
  std::shared_ptr<const ConfigInfo> config;
  CompileResult result;
  bool syntaxOk = false;
  bool checked = false;  // compiled against a real config: semantic diagnostics are meaningful
  std::vector<Diagnostic> diags;  // what is published: errors, lint warnings, config problems

  const Config* cfg() const { return config && config->config ? &*config->config : nullptr; }
  json range(SourceRange r) const;  // an LSP Range in this document
  SourceLoc loc(Position p) const { return index->toSource(p); }
};

// Compiles `text` (at `uri`, a file at `path` when it is one) against `config` (may be null).
std::unique_ptr<Analysis> analyze(const std::string& uri, const std::string& path, const std::string& text,
                                  std::shared_ptr<const ConfigInfo> config);

// The `params` of each request, the result as JSON.
json diagnosticsJson(const Analysis& a);
json configDiagnosticsJson(const ConfigInfo& c);
json hover(const Analysis& a, Position p);
json completion(const Analysis& a, const Analysis* lastGood, Position p);
json definition(const Analysis& a, Position p);
json references(const Analysis& a, Position p, bool includeDeclaration);
json documentSymbols(const Analysis& a);
json formatting(const Analysis& a);

// Shared by the handlers.
json positionJson(Position p);
json rangeJson(const LineIndex& index, SourceRange r);
Position positionFromJson(const json& j);
std::string typeText(const Type& t);

}  // namespace rekindle::lsp
