// Compiling a document for the server: find and load its config (with the YAML locations of
// every name, for go-to-definition), compile, lint, and turn the diagnostics into LSP's form.
#include <yaml-cpp/yaml.h>

#include <fstream>
#include <sstream>

#include "internal.h"
#include "rekindle/compiler/lint.h"

namespace rekindle::lsp {

// ---- small JSON helpers ----------------------------------------------------------------------

json positionJson(Position p) { return json{{"line", p.line}, {"character", p.character}}; }

json rangeJson(const LineIndex& index, SourceRange r) {
  Position b = index.toLsp(r.begin);
  Position e = r.end.line ? index.toLsp(r.end) : b;
  if (e.line < b.line || (e.line == b.line && e.character < b.character)) e = b;
  return json{{"start", positionJson(b)}, {"end", positionJson(e)}};
}

Position positionFromJson(const json& j) {
  Position p;
  int64_t line = j.at("line").get<int64_t>();
  int64_t character = j.at("character").get<int64_t>();
  p.line = static_cast<uint32_t>(std::max<int64_t>(0, std::min<int64_t>(line, UINT32_MAX)));
  p.character = static_cast<uint32_t>(std::max<int64_t>(0, std::min<int64_t>(character, UINT32_MAX)));
  return p;
}

std::string typeText(const Type& t) {
  if (t.kind == Kind::Null) return t.nullable ? "null" : "";
  if (t.kind == Kind::None) return "none";
  if (t.kind == Kind::Event) return t.nullable ? "event?" : "event";
  return t.str();
}

json Analysis::range(SourceRange r) const { return rangeJson(*index, r); }

// ---- the config ------------------------------------------------------------------------------

namespace {

SourceRange nodeRange(const YAML::Node& n, size_t length) {
  const YAML::Mark m = n.Mark();
  if (m.line < 0 || m.column < 0) return {};
  uint32_t line = static_cast<uint32_t>(m.line + 1), col = static_cast<uint32_t>(m.column + 1);
  return SourceRange{{line, col}, {line, col + static_cast<uint32_t>(std::max<size_t>(length, 1))}};
}

void keysOf(const YAML::Node& map, const std::string& prefix, std::map<std::string, SourceRange>& out) {
  if (!map || !map.IsMap()) return;
  for (const auto& kv : map) {
    if (!kv.first.IsScalar()) continue;
    std::string name = kv.first.Scalar();
    out.emplace(prefix + name, nodeRange(kv.first, name.size()));
  }
}

void scalarAt(const YAML::Node& n, const std::string& prefix, std::map<std::string, SourceRange>& out) {
  if (!n || !n.IsScalar()) return;
  out.emplace(prefix + n.Scalar(), nodeRange(n, n.Scalar().size()));
}

void readYamlExtras(ConfigInfo& info) {
  YAML::Node root;
  try {
    root = YAML::Load(info.text);
  } catch (const std::exception&) {
    return;  // the config's own diagnostics say why
  }
  if (!root.IsMap()) return;
  try {
    if (YAML::Node c = root["customers"]; c && c.IsMap()) {
      std::string id = c["id"] && c["id"].IsScalar() ? c["id"].Scalar() : "";
      if (id == "@row") info.locations.emplace("customer:row", nodeRange(c["id"], 4));
      else scalarAt(c["id"], "customer:", info.locations);
      keysOf(c["fields"], "customer:", info.locations);
    }
    if (YAML::Node e = root["events"]; e && e.IsMap()) {
      scalarAt(e["time"], "event:", info.locations);
      keysOf(e["fields"], "event:", info.locations);
    }
    keysOf(root["channels"], "channel:", info.locations);
    keysOf(root["offers"], "offer:", info.locations);
    keysOf(root["params"], "param:", info.locations);
    keysOf(root["calendar"], "calendar:", info.locations);
  } catch (const std::exception&) {
    // Locations are a convenience: a config odd enough to trip them just has fewer.
  }
}

}  // namespace

std::shared_ptr<ConfigInfo> loadConfigInfo(const std::string& path) {
  auto info = std::make_shared<ConfigInfo>();
  info->path = path;
  if (path.empty()) return info;
  std::error_code ec;
  info->mtime = std::filesystem::last_write_time(path, ec);
  info->size = std::filesystem::file_size(path, ec);
  std::ifstream in(path, std::ios::binary);
  if (!in) {
    Diagnostic d;
    d.code = errorCodeString(ErrorCode::ConfigError);
    d.file = path;
    d.message = "cannot read the config file";
    info->diags.push_back(d);
    return info;
  }
  std::stringstream ss;
  ss << in.rdbuf();
  info->text = ss.str();
  try {
    info->config = parseConfig(path, info->text, info->diags);
  } catch (const std::exception& e) {
    Diagnostic d;
    d.code = errorCodeString(ErrorCode::ConfigError);
    d.file = path;
    d.message = std::string("cannot load the config: ") + e.what();
    info->diags.push_back(d);
    info->config.reset();
  }
  if (hasErrors(info->diags)) info->config.reset();
  readYamlExtras(*info);
  return info;
}

// ---- compiling a document --------------------------------------------------------------------

namespace {

bool isSyntaxCode(const std::string& code) {
  return code.size() == 4 && code[0] == 'E' && code[1] == '0' && code[2] == '0' && code[3] >= '1' && code[3] <= '8';
}

SourceRange firstLine(const SourceFile& s) {
  std::string_view l = s.line(1);
  uint32_t cols = static_cast<uint32_t>(codePointCount(l));
  return SourceRange{{1, 1}, {1, 1 + std::max<uint32_t>(cols, 1)}};
}

const Config& emptyConfig() {
  static const Config c = [] {
    Config cfg;
    cfg.path = "(no config)";
    return cfg;
  }();
  return c;
}

}  // namespace

std::unique_ptr<Analysis> analyze(const std::string& uri, const std::string& path, const std::string& text,
                                  std::shared_ptr<const ConfigInfo> config) {
  auto a = std::make_unique<Analysis>();
  a->uri = uri;
  a->path = path;
  a->source = SourceFile(path, text);
  a->index = std::make_unique<LineIndex>(a->source.text());
  a->config = config;
  const Config* cfg = a->cfg();
  a->result = compileRules(a->source, cfg ? *cfg : emptyConfig());
  a->checked = cfg != nullptr;
  a->syntaxOk = true;
  for (const auto& d : a->result.diags)
    if (d.severity == Severity::Error && isSyntaxCode(d.code)) a->syntaxOk = false;

  if (cfg) {
    a->diags = a->result.diags;
    if (a->syntaxOk) {
      try {
        std::vector<Diagnostic> lint = lintRules(a->source, a->result, *cfg);
        a->diags.insert(a->diags.end(), lint.begin(), lint.end());
      } catch (const std::exception& e) {
        Diagnostic d;
        d.severity = Severity::Warning;
        d.code = "W000";
        d.file = path;
        d.range = firstLine(a->source);
        d.message = std::string("the linter failed on this file: ") + e.what();
        a->diags.push_back(d);
      }
    }
  } else {
    // Without a usable config only the syntax can be checked: every field would be unknown.
    for (const auto& d : a->result.diags)
      if (isSyntaxCode(d.code)) a->diags.push_back(d);
    Diagnostic d;
    d.severity = Severity::Error;
    d.code = errorCodeString(ErrorCode::ConfigError);
    d.file = path;
    d.range = firstLine(a->source);
    if (!config || config->path.empty()) {
      d.message = "no rekindle.yaml beside this file or in a folder above: only the syntax is checked";
      d.suggestion = "put the rules file in the folder of its rekindle.yaml (or below it); the schema, channels and offers come from there";
    } else {
      const Diagnostic* first = nullptr;
      for (const auto& c : config->diags)
        if (c.severity == Severity::Error) {
          first = &c;
          break;
        }
      std::string where = config->path;
      if (first && first->range.valid())
        where += ":" + std::to_string(first->range.begin.line) + ":" + std::to_string(first->range.begin.col);
      d.message = "the config " + where + " has errors, so only the syntax is checked" +
                  (first ? ": " + first->message : std::string());
      for (const auto& c : config->diags)
        if (c.severity == Severity::Error) d.notes.push_back(DiagnosticNote{c.file, c.range, c.message});
    }
    a->diags.push_back(d);
  }
  sortDiagnostics(a->diags);
  return a;
}

// ---- diagnostics as LSP --------------------------------------------------------------------

namespace {

int severityNumber(Severity s) {
  switch (s) {
    case Severity::Error: return 1;
    case Severity::Warning: return 2;
    case Severity::Note: return 3;
  }
  return 1;
}

std::string locText(const std::string& file, SourceRange r) {
  if (!r.valid()) return file;
  return file + ":" + std::to_string(r.begin.line) + ":" + std::to_string(r.begin.col);
}

// Where in the rules file to show a problem located in a prelude (std/lifecycle.rules, the
// config's rfm expressions): on the `use` that brought it in, else on the first line.
SourceRange anchorFor(const Analysis& a, const std::string& file) {
  if (a.result.module) {
    for (const auto& use : a.result.module->uses) {
      if (use.path.size() < 2) continue;
      const std::string& m = use.path[1];
      bool rfmExpr = m == "rfm" && file.find("(rfm.") != std::string::npos;
      if (rfmExpr || file == "std/" + m + ".rules") return use.range;
    }
  }
  return firstLine(a.source);
}

}  // namespace

json diagnosticsJson(const Analysis& a) {
  json out = json::array();
  const ConfigInfo* ci = a.config.get();
  std::unique_ptr<LineIndex> configIndex;
  if (ci && !ci->text.empty()) configIndex = std::make_unique<LineIndex>(ci->text);
  for (const auto& d : a.diags) {
    bool inMain = d.file.empty() || d.file == a.source.path();
    json item;
    std::string message = d.message;
    SourceRange r = d.range;
    if (!inMain) {
      message = locText(d.file, d.range) + ": " + message;
      r = anchorFor(a, d.file);
    }
    if (!d.suggestion.empty()) message += "\nhelp: " + d.suggestion;
    item["range"] = a.range(r);
    item["severity"] = severityNumber(d.severity);
    if (!d.code.empty()) item["code"] = d.code;
    item["source"] = "rekindle";
    json related = json::array();
    for (const auto& n : d.notes) {
      if (n.file.empty() || n.file == a.source.path()) {
        if (n.range.valid()) {
          related.push_back({{"location", {{"uri", a.uri}, {"range", a.range(n.range)}}}, {"message", n.message}});
          continue;
        }
      } else if (ci && n.file == ci->path && configIndex) {
        related.push_back({{"location", {{"uri", ci->uri()}, {"range", rangeJson(*configIndex, n.range)}}},
                           {"message", n.message}});
        continue;
      }
      message += "\nnote: " + (n.range.valid() ? locText(n.file, n.range) + ": " : std::string()) + n.message;
    }
    item["message"] = message;
    if (!related.empty()) item["relatedInformation"] = related;
    out.push_back(std::move(item));
  }
  return out;
}

json configDiagnosticsJson(const ConfigInfo& c) {
  json out = json::array();
  LineIndex index(c.text);
  for (const auto& d : c.diags) {
    json item;
    item["range"] = rangeJson(index, d.range);
    item["severity"] = severityNumber(d.severity);
    if (!d.code.empty()) item["code"] = d.code;
    item["source"] = "rekindle";
    item["message"] = d.suggestion.empty() ? d.message : d.message + "\nhelp: " + d.suggestion;
    out.push_back(std::move(item));
  }
  return out;
}

}  // namespace rekindle::lsp
