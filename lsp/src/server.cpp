// The server: JSON-RPC dispatch, the lifecycle (initialize, shutdown, exit), open documents and
// their configs, publishing diagnostics. Single-threaded: each message is handled to the end
// before the next is read; files are small, so every change recompiles the whole document.
#include <iostream>
#include <map>
#include <set>

#include "internal.h"

namespace rekindle::lsp {

namespace {

// JSON-RPC and LSP error codes.
constexpr int kParseError = -32700;
constexpr int kInvalidRequest = -32600;
constexpr int kMethodNotFound = -32601;
constexpr int kInvalidParams = -32602;
constexpr int kInternalError = -32603;
constexpr int kServerNotInitialized = -32002;

struct RpcError : std::runtime_error {
  int code;
  RpcError(int c, const std::string& m) : std::runtime_error(m), code(c) {}
};

struct Document {
  std::string uri;
  std::string path;  // "" for documents that are not files
  std::string languageId;
  int64_t version = 0;
  std::string text;
  std::shared_ptr<Analysis> analysis;
  std::shared_ptr<Analysis> lastGood;  // the latest analysis without syntax errors
};

bool isRulesDocument(const Document& d) {
  if (d.languageId == "rekindle" || d.languageId == "rules") return true;
  const std::string& name = d.path.empty() ? d.uri : d.path;
  return name.size() >= 6 && name.compare(name.size() - 6, 6, ".rules") == 0;
}

}  // namespace

struct Server::Impl {
  Send send;
  bool initialized = false;
  bool shutdown = false;
  bool exited = false;
  int nextRequestId = 1;
  bool watchRegistration = false;  // the client can register file watchers dynamically
  std::vector<std::string> roots;  // workspace folders (paths), for documents that are not files
  std::map<std::string, Document> docs;
  std::map<std::string, std::shared_ptr<ConfigInfo>> configs;  // by path
  std::set<std::string> configUrisWithDiagnostics;

  void write(const json& j) {
    send(j.dump(-1, ' ', false, json::error_handler_t::replace));
  }

  void respond(const json& id, json result) {
    write(json{{"jsonrpc", "2.0"}, {"id", id}, {"result", std::move(result)}});
  }

  void respondError(const json& id, int code, const std::string& message) {
    write(json{{"jsonrpc", "2.0"}, {"id", id}, {"error", {{"code", code}, {"message", message}}}});
  }

  void notify(const std::string& method, json params) {
    write(json{{"jsonrpc", "2.0"}, {"method", method}, {"params", std::move(params)}});
  }

  void request(const std::string& method, json params) {
    write(json{{"jsonrpc", "2.0"}, {"id", nextRequestId++}, {"method", method}, {"params", std::move(params)}});
  }

  void log(int type, const std::string& message) { notify("window/logMessage", json{{"type", type}, {"message", message}}); }

  // ---- configs ---------------------------------------------------------------------------------

  std::string configPathFor(const Document& d) {
    if (!d.path.empty()) return findConfigFor(d.path);
    for (const auto& root : roots) {
      std::string p = findConfigFor(root + "/x.rules");
      if (!p.empty()) return p;
    }
    return "";
  }

  std::shared_ptr<ConfigInfo> configFor(const Document& d) {
    std::string path = configPathFor(d);
    if (path.empty()) return std::make_shared<ConfigInfo>();
    auto it = configs.find(path);
    std::error_code ec;
    auto mtime = std::filesystem::last_write_time(path, ec);
    auto size = std::filesystem::file_size(path, ec);
    if (it != configs.end() && it->second->mtime == mtime && it->second->size == size) return it->second;
    auto info = loadConfigInfo(path);
    configs[path] = info;
    publishConfig(*info);
    return info;
  }

  void publishConfig(const ConfigInfo& info) {
    std::string uri = info.uri();
    if (uri.empty()) return;
    if (info.diags.empty() && !configUrisWithDiagnostics.count(uri)) return;
    notify("textDocument/publishDiagnostics", json{{"uri", uri}, {"diagnostics", configDiagnosticsJson(info)}});
    if (info.diags.empty()) configUrisWithDiagnostics.erase(uri);
    else configUrisWithDiagnostics.insert(uri);
  }

  // ---- documents -------------------------------------------------------------------------------

  void analyzeAndPublish(Document& d) {
    if (!isRulesDocument(d)) return;
    auto config = configFor(d);
    d.analysis = analyze(d.uri, d.path.empty() ? d.uri : d.path, d.text, config);
    if (d.analysis->syntaxOk) d.lastGood = d.analysis;
    json params{{"uri", d.uri}, {"diagnostics", diagnosticsJson(*d.analysis)}};
    if (d.version) params["version"] = d.version;
    notify("textDocument/publishDiagnostics", params);
  }

  void reanalyzeAll() {
    for (auto& [uri, d] : docs) analyzeAndPublish(d);
  }

  Document& document(const json& params) {
    std::string uri = params.at("textDocument").at("uri").get<std::string>();
    auto it = docs.find(uri);
    if (it == docs.end()) throw RpcError(kInvalidParams, "document not open: " + uri);
    return it->second;
  }

  const Analysis& analysisOf(const json& params) {
    Document& d = document(params);
    if (!d.analysis) {
      if (!isRulesDocument(d)) throw RpcError(kInvalidParams, "not a rules document: " + d.uri);
      analyzeAndPublish(d);
    }
    return *d.analysis;
  }

  void didOpen(const json& params) {
    const json& td = params.at("textDocument");
    Document d;
    d.uri = td.at("uri").get<std::string>();
    d.path = uriToPath(d.uri).value_or("");
    d.languageId = td.value("languageId", "");
    d.version = td.value("version", int64_t{0});
    d.text = td.at("text").get<std::string>();
    // Opening a file is a good moment to notice a config edited outside the editor.
    std::string configPath = configPathFor(d);
    if (!configPath.empty()) configs.erase(configPath);
    auto [it, inserted] = docs.insert_or_assign(d.uri, std::move(d));
    analyzeAndPublish(it->second);
  }

  void didChange(const json& params) {
    Document& d = document(params);
    d.version = params.at("textDocument").value("version", d.version);
    for (const auto& change : params.at("contentChanges")) {
      std::string text = change.at("text").get<std::string>();
      if (change.contains("range") && !change["range"].is_null()) {
        LineIndex index(d.text);
        size_t b = index.offsetOf(positionFromJson(change["range"].at("start")));
        size_t e = index.offsetOf(positionFromJson(change["range"].at("end")));
        if (e < b) std::swap(b, e);
        d.text.replace(b, e - b, text);
      } else {
        d.text = std::move(text);
      }
    }
    analyzeAndPublish(d);
  }

  void didClose(const json& params) {
    std::string uri = params.at("textDocument").at("uri").get<std::string>();
    auto it = docs.find(uri);
    if (it == docs.end()) return;
    bool rules = isRulesDocument(it->second);
    docs.erase(it);
    if (rules) notify("textDocument/publishDiagnostics", json{{"uri", uri}, {"diagnostics", json::array()}});
  }

  void didSave(const json& params) {
    std::string uri = params.at("textDocument").at("uri").get<std::string>();
    auto path = uriToPath(uri);
    if (path && path->size() >= 13 && path->compare(path->size() - 13, 13, "rekindle.yaml") == 0) {
      configs.clear();
      reanalyzeAll();
    }
  }

  void didChangeWatchedFiles(const json&) {
    // Whatever changed, reload every config on next use and recompile the open documents.
    configs.clear();
    reanalyzeAll();
  }

  // ---- lifecycle -------------------------------------------------------------------------------

  json initialize(const json& params) {
    if (params.is_object()) {
      const json* caps = params.contains("capabilities") ? &params["capabilities"] : nullptr;
      if (caps && caps->is_object() && caps->contains("workspace")) {
        const json& ws = (*caps)["workspace"];
        if (ws.is_object() && ws.contains("didChangeWatchedFiles") && ws["didChangeWatchedFiles"].is_object())
          watchRegistration = ws["didChangeWatchedFiles"].value("dynamicRegistration", false);
      }
      if (params.contains("workspaceFolders") && params["workspaceFolders"].is_array())
        for (const auto& f : params["workspaceFolders"])
          if (f.is_object() && f.contains("uri") && f["uri"].is_string())
            if (auto p = uriToPath(f["uri"].get<std::string>())) roots.push_back(*p);
      if (roots.empty() && params.contains("rootUri") && params["rootUri"].is_string())
        if (auto p = uriToPath(params["rootUri"].get<std::string>())) roots.push_back(*p);
    }
    initialized = true;
    json capabilities{
        {"positionEncoding", "utf-16"},
        {"textDocumentSync", {{"openClose", true}, {"change", 2}, {"save", {{"includeText", false}}}}},
        {"hoverProvider", true},
        {"completionProvider", {{"triggerCharacters", {".", "\"", "[", "="}}, {"resolveProvider", false}}},
        {"definitionProvider", true},
        {"referencesProvider", true},
        {"documentSymbolProvider", true},
        {"documentFormattingProvider", true},
    };
    return json{{"capabilities", capabilities}, {"serverInfo", {{"name", "rekindle"}, {"version", "0.1.0"}}}};
  }

  void initializedNotification() {
    if (!watchRegistration) return;
    request("client/registerCapability",
            json{{"registrations",
                  {{{"id", "rekindle-yaml"},
                    {"method", "workspace/didChangeWatchedFiles"},
                    {"registerOptions", {{"watchers", {{{"globPattern", "**/rekindle.yaml"}}}}}}}}}});
  }

  // ---- dispatch --------------------------------------------------------------------------------

  json handleRequest(const std::string& method, const json& params) {
    if (method == "initialize") {
      if (initialized) throw RpcError(kInvalidRequest, "initialize was already called");
      return initialize(params);
    }
    if (!initialized) throw RpcError(kServerNotInitialized, "the server is not initialized yet");
    if (shutdown) throw RpcError(kInvalidRequest, "the server is shutting down");
    if (method == "shutdown") {
      shutdown = true;
      return nullptr;
    }
    if (method == "textDocument/hover") return hover(analysisOf(params), positionFromJson(params.at("position")));
    if (method == "textDocument/completion") {
      const Analysis& a = analysisOf(params);
      Document& d = document(params);
      return completion(a, d.lastGood.get(), positionFromJson(params.at("position")));
    }
    if (method == "textDocument/definition") return definition(analysisOf(params), positionFromJson(params.at("position")));
    if (method == "textDocument/references") {
      bool decl = params.contains("context") && params["context"].is_object() &&
                  params["context"].value("includeDeclaration", false);
      return references(analysisOf(params), positionFromJson(params.at("position")), decl);
    }
    if (method == "textDocument/documentSymbol") return documentSymbols(analysisOf(params));
    if (method == "textDocument/formatting") return formatting(analysisOf(params));
    throw RpcError(kMethodNotFound, "method not found: " + method);
  }

  void handleNotification(const std::string& method, const json& params) {
    if (method == "exit") {
      exited = true;
      return;
    }
    if (method == "initialized") return initializedNotification();
    if (!initialized) return;  // notifications before initialize are dropped (LSP)
    if (method == "textDocument/didOpen") return didOpen(params);
    if (method == "textDocument/didChange") return didChange(params);
    if (method == "textDocument/didClose") return didClose(params);
    if (method == "textDocument/didSave") return didSave(params);
    if (method == "workspace/didChangeWatchedFiles") return didChangeWatchedFiles(params);
    // $/cancelRequest, $/setTrace, workspace/didChangeConfiguration, ...: nothing to do.
  }

  void handle(const std::string& body) {
    json msg;
    try {
      msg = json::parse(body);
    } catch (const std::exception& e) {
      respondError(nullptr, kParseError, std::string("parse error: ") + e.what());
      return;
    }
    if (!msg.is_object()) {
      respondError(nullptr, kInvalidRequest, "a message must be a JSON object");
      return;
    }
    json id = msg.contains("id") ? msg["id"] : json();
    bool hasId = msg.contains("id");
    if (hasId && !(id.is_number_integer() || id.is_string() || id.is_null())) {
      respondError(nullptr, kInvalidRequest, "the id must be a number or a string");
      return;
    }
    if (!msg.contains("method")) {
      if (hasId && (msg.contains("result") || msg.contains("error"))) return;  // a response to our request
      respondError(id, kInvalidRequest, "a message needs a method");
      return;
    }
    if (!msg["method"].is_string()) {
      if (hasId) respondError(id, kInvalidRequest, "the method must be a string");
      return;
    }
    std::string method = msg["method"].get<std::string>();
    json params = msg.contains("params") ? msg["params"] : json::object();
    if (!hasId) {
      try {
        handleNotification(method, params);
      } catch (const std::exception& e) {
        log(1, "rekindle: could not handle " + method + ": " + e.what());
      }
      return;
    }
    try {
      respond(id, handleRequest(method, params));
    } catch (const RpcError& e) {
      respondError(id, e.code, e.what());
    } catch (const json::exception& e) {
      respondError(id, kInvalidParams, "invalid params for " + method + ": " + e.what());
    } catch (const std::exception& e) {
      respondError(id, kInternalError, "internal error in " + method + ": " + e.what());
    }
  }
};

Server::Server(Send send) : impl_(std::make_unique<Impl>()) { impl_->send = std::move(send); }
Server::~Server() = default;

void Server::handle(const std::string& body) {
  try {
    impl_->handle(body);
  } catch (const std::exception& e) {
    // Only a failing write can get here; there is no one left to tell.
    std::cerr << "rekindle lsp: " << e.what() << "\n";
  }
}

void Server::framingError(const std::string& message) {
  try {
    impl_->respondError(nullptr, kParseError, message);
  } catch (const std::exception&) {
  }
}

bool Server::exited() const { return impl_->exited; }
int Server::exitCode() const { return impl_->shutdown ? 0 : 1; }

int runServer(std::istream& in, std::ostream& out) {
  Server server([&out](const std::string& body) { writeMessage(out, body); });
  MessageReader reader(in);
  std::string body, error;
  for (;;) {
    MessageReader::Status s = reader.read(body, error);
    if (s == MessageReader::Status::Eof) break;
    if (s == MessageReader::Status::Malformed) {
      server.framingError(error);
      continue;
    }
    server.handle(body);
    if (server.exited()) break;
  }
  return server.exitCode();
}

}  // namespace rekindle::lsp
