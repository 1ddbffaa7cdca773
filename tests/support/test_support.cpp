// Test helpers.
#include "test_support.h"

#include <dirent.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <cstdio>
#include <fstream>
#include <sstream>
#include <stdexcept>

#include "rekindle/runtime/dataset.h"
#include "rekindle/runtime/engine.h"
#include "rekindle/runtime/previous.h"
#include "rekindle/runtime/rkb.h"
#include "rekindle/runtime/vm.h"
#include "rekindle/runtime/writer.h"

namespace rekindle::test {

std::string sourcePath(const std::string& relative) { return std::string(REKINDLE_SOURCE_DIR) + "/" + relative; }

std::string readText(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  std::stringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

bool fileExists(const std::string& path) {
  struct stat st;
  return ::stat(path.c_str(), &st) == 0;
}

std::string tempDir(const std::string& name) {
  std::string pattern = "/tmp/rekindle-" + name + "-XXXXXX";
  if (!::mkdtemp(pattern.data())) throw std::runtime_error("cannot make a folder " + pattern);
  return pattern;
}

std::vector<std::string> listFiles(const std::string& dir, const std::string& suffix) {
  std::vector<std::string> out;
  if (DIR* d = ::opendir(dir.c_str())) {
    while (dirent* e = ::readdir(d)) {
      std::string n = e->d_name;
      if (n == "." || n == "..") continue;
      if (n.size() > suffix.size() && n.compare(n.size() - suffix.size(), suffix.size(), suffix) == 0)
        out.push_back(dir + "/" + n);
    }
    ::closedir(d);
  }
  std::sort(out.begin(), out.end());
  return out;
}

BoundRules bindRules(const std::string& rulesPath, const std::string& rulesText, const std::string& configPath,
                     const std::function<void(Program&)>& forge) {
  BoundRules b;
  std::vector<Diagnostic> diags;
  auto config = loadConfig(configPath, diags);
  if (!config) throw std::runtime_error(configPath + ": " + (diags.empty() ? std::string("?") : diags[0].message));
  b.config = std::make_unique<Config>(std::move(*config));
  SourceFile source{rulesPath, rulesText.empty() ? readText(rulesPath) : rulesText};
  auto compiled = compileRules(source, *b.config);
  if (!compiled.program) {
    std::string messages;
    for (const auto& d : compiled.diags) messages += d.message + "\n";
    throw std::runtime_error(rulesPath + ": " + messages);
  }
  std::string error;
  Program program = std::move(*compiled.program);
  if (forge) {
    forge(program);
    auto loaded = loadProgram(serializeProgram(program), error);
    if (!loaded) throw std::runtime_error(rulesPath + " (forged): " + error);
    program = std::move(*loaded);
  }
  b.program = std::make_unique<Program>(std::move(program));
  auto data = loadDataset(*b.config, LoadOptions{}, error);
  if (!data) throw std::runtime_error(configPath + ": " + error);
  b.data = std::make_unique<Dataset>(std::move(*data));
  auto exe = Executable::bind(*b.program, *b.config, b.data->strings, {}, error);
  if (!exe) throw std::runtime_error(rulesPath + ": " + error);
  b.exe = std::make_unique<Executable>(std::move(*exe));
  return b;
}

RunOutcome runRules(const RunRequest& r) {
  RunOutcome out;
  std::vector<Diagnostic> diags;
  auto config = loadConfig(r.configPath, diags);
  if (!config) {
    out.diags = diags;
    out.error = "config: " + (diags.empty() ? std::string("?") : diags[0].message);
    return out;
  }
  SourceFile src(r.rulesPath, r.rulesText.empty() ? readText(r.rulesPath) : r.rulesText);
  CompileResult compiled = compileRules(src, *config);
  out.diags = compiled.diags;
  if (!compiled.program) {
    for (const auto& d : compiled.diags) out.error += renderDiagnostic(d, &src, false);
    return out;
  }
  Program program = std::move(*compiled.program);
  if (r.viaRkb) {
    std::string error;
    auto loaded = loadProgram(serializeProgram(program), error);
    if (!loaded) {
      out.error = "rkb: " + error;
      return out;
    }
    program = std::move(*loaded);
  }
  std::string fatal;
  LoadOptions load;
  if (!r.allFields) keepFieldsRead(program, *config, load);  // as `rekindle run` does
  auto data = loadDataset(*config, load, fatal);
  if (!data) {
    out.error = fatal;
    return out;
  }
  auto exe = Executable::bind(program, *config, data->strings, r.params, fatal);
  if (!exe) {
    out.error = fatal;
    return out;
  }
  RunOptions options;
  options.now = r.asOf.value_or(config->asOf.value_or(0));
  options.threads = r.threads;
  std::optional<PreviousDecisions> previous;
  if (!r.previousPath.empty()) {
    previous = loadPrevious(r.previousPath, program, *data, config->zone, fatal);
    if (!previous) {
      out.error = fatal;
      return out;
    }
    options.previous = &*previous;
  }
  DecisionRun run(*exe, *data, options);
  char* buf = nullptr;
  size_t len = 0;
  FILE* mem = ::open_memstream(&buf, &len);
  RunSummary summary;
  bool ok = run.prepare(fatal);
  if (ok) {
    DecisionWriter writer(mem, r.jsonl ? OutputFormat::Jsonl : OutputFormat::Csv, *exe, *data, RunClock::at(options.now, config->zone), r.explain);
    ok = run.decide(writer, summary, fatal);
  }
  out.summary = summary;
  std::fclose(mem);
  out.output.assign(buf, len);
  std::free(buf);
  out.ok = ok;
  if (!ok) out.error = fatal;
  out.program = std::move(program);
  return out;
}

std::vector<std::vector<std::string>> parseCsv(const std::string& text) {
  std::vector<std::vector<std::string>> rows;
  std::vector<std::string> row;
  std::string field;
  bool quoted = false, any = false;
  for (size_t i = 0; i < text.size(); ++i) {
    char c = text[i];
    if (quoted) {
      if (c == '"' && i + 1 < text.size() && text[i + 1] == '"') {
        field += '"';
        ++i;
      } else if (c == '"') {
        quoted = false;
      } else {
        field += c;
      }
      continue;
    }
    if (c == '"') {
      quoted = true;
      any = true;
    } else if (c == ',') {
      row.push_back(field);
      field.clear();
      any = true;
    } else if (c == '\n') {
      row.push_back(field);
      rows.push_back(row);
      row.clear();
      field.clear();
      any = false;
    } else if (c != '\r') {
      field += c;
      any = true;
    }
  }
  if (any) {
    row.push_back(field);
    rows.push_back(row);
  }
  return rows;
}

int runCommand(const std::string& command, std::string& output) {
  output.clear();
  FILE* p = ::popen(("(" + command + ") 2>&1").c_str(), "r");
  if (!p) return -1;
  char buf[4096];
  size_t n;
  while ((n = std::fread(buf, 1, sizeof buf, p)) > 0) output.append(buf, n);
  int status = ::pclose(p);
  return WIFEXITED(status) ? WEXITSTATUS(status) : -1;
}

}  // namespace rekindle::test
