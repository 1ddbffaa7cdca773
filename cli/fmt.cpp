// `rekindle fmt [--check] RULES...`: rewrite rules files in the canonical layout (docs/fmt.md).
// In place and atomically (a temporary file renamed over the original, its permissions kept);
// a file already formatted is not touched. `--check` writes nothing: it lists the files that
// would change, with the first lines of a diff, and exits 1 if there is any. `-` formats
// standard input to standard output.
#include <fmt/format.h>
#include <sys/stat.h>

#include <algorithm>
#include <filesystem>
#include <iostream>
#include <iterator>
#include <sstream>

#include "common.h"
#include "rekindle/compiler/format.h"
#include "rekindle/runtime/writer.h"

namespace rekindle::cli {

namespace {

constexpr size_t kDiffLines = 24;  // lines of diff shown per file by --check
constexpr int kContext = 2;

std::vector<std::string> splitLines(const std::string& text) {
  std::vector<std::string> out;
  std::istringstream in(text);
  std::string line;
  while (std::getline(in, line)) {
    if (!line.empty() && line.back() == '\r') line.pop_back();
    out.push_back(line);
  }
  return out;
}

// A unified diff of two texts, cut after `limit` lines of output. Line-level LCS on the part
// between the common prefix and suffix; a change too large for that is shown as one block.
std::string unifiedDiff(const std::string& path, const std::string& before, const std::string& after,
                        size_t limit) {
  std::vector<std::string> a = splitLines(before), b = splitLines(after);
  size_t pre = 0;
  while (pre < a.size() && pre < b.size() && a[pre] == b[pre]) ++pre;
  size_t suf = 0;
  while (suf < a.size() - pre && suf < b.size() - pre && a[a.size() - 1 - suf] == b[b.size() - 1 - suf]) ++suf;
  size_t n = a.size() - pre - suf, m = b.size() - pre - suf;
  // ops: ' ' both, '-' only a, '+' only b, over the whole files.
  std::vector<std::pair<char, std::string>> ops;
  for (size_t k = 0; k < pre; ++k) ops.emplace_back(' ', a[k]);
  if (n * m <= 4000000) {
    std::vector<std::vector<uint32_t>> lcs(n + 1, std::vector<uint32_t>(m + 1, 0));
    for (size_t i = n; i-- > 0;)
      for (size_t j = m; j-- > 0;)
        lcs[i][j] = a[pre + i] == b[pre + j] ? lcs[i + 1][j + 1] + 1 : std::max(lcs[i + 1][j], lcs[i][j + 1]);
    size_t i = 0, j = 0;
    while (i < n || j < m) {
      if (i < n && j < m && a[pre + i] == b[pre + j]) {
        ops.emplace_back(' ', a[pre + i]);
        ++i, ++j;
      } else if (i < n && (j == m || lcs[i + 1][j] >= lcs[i][j + 1])) {
        ops.emplace_back('-', a[pre + i++]);  // removals before additions, as diff -u shows them
      } else {
        ops.emplace_back('+', b[pre + j++]);
      }
    }
  } else {
    for (size_t k = 0; k < n; ++k) ops.emplace_back('-', a[pre + k]);
    for (size_t k = 0; k < m; ++k) ops.emplace_back('+', b[pre + k]);
  }
  for (size_t k = a.size() - suf; k < a.size(); ++k) ops.emplace_back(' ', a[k]);

  std::string out = fmt::format("--- {}\n+++ {} (formatted)\n", path, path);
  size_t shown = 0, total = 0;
  for (const auto& op : ops) total += op.first != ' ';
  size_t changedShown = 0;
  size_t k = 0;
  while (k < ops.size() && shown < limit) {
    if (ops[k].first == ' ') {
      ++k;
      continue;
    }
    // A hunk: context before, changes with short runs of context between them, context after.
    size_t start = k >= static_cast<size_t>(kContext) ? k - kContext : 0;
    size_t end = k;
    while (end < ops.size()) {
      size_t next = end;
      while (next < ops.size() && ops[next].first != ' ') ++next;
      size_t gap = next;
      while (gap < ops.size() && ops[gap].first == ' ') ++gap;
      if (gap < ops.size() && gap - next <= 2 * static_cast<size_t>(kContext)) {
        end = gap;
      } else {
        end = std::min(ops.size(), next + kContext);
        break;
      }
    }
    size_t la = 1, lb = 1;
    for (size_t q = 0; q < start; ++q) {
      la += ops[q].first != '+';
      lb += ops[q].first != '-';
    }
    size_t ca = 0, cb = 0;
    for (size_t q = start; q < end; ++q) {
      ca += ops[q].first != '+';
      cb += ops[q].first != '-';
    }
    out += fmt::format("@@ -{},{} +{},{} @@\n", la, ca, lb, cb);
    for (size_t q = start; q < end && shown < limit; ++q, ++shown) {
      out += ops[q].first + ops[q].second + "\n";
      changedShown += ops[q].first != ' ';
    }
    k = end;
  }
  if (changedShown < total) out += fmt::format("... ({} more changed lines)\n", total - changedShown);
  return out;
}

// Writes `text` over `path` through a temporary file renamed into place, keeping the mode.
bool writeInPlace(const std::string& path, const std::string& text, std::string& error) {
  namespace fs = std::filesystem;
  std::error_code ec;
  std::string target = path;
  if (fs::is_symlink(path, ec)) {
    fs::path real = fs::canonical(path, ec);
    if (!ec) target = real.string();
  }
  struct stat st;
  bool haveMode = ::stat(target.c_str(), &st) == 0;
  AtomicFile out;
  if (!out.open(target, error)) return false;
  if (std::fwrite(text.data(), 1, text.size(), out.stream()) != text.size()) {
    error = "cannot write '" + path + "'";
    out.abandon();
    return false;
  }
  if (haveMode) ::chmod(out.tempPath().c_str(), st.st_mode & 07777);
  return out.commit(error);
}

}  // namespace

Command addFmt(CLI::App& app) {
  struct Args {
    std::vector<std::string> rules;
    bool check = false;
  };
  auto args = std::make_shared<Args>();
  CLI::App* cmd = app.add_subcommand("fmt", "Rewrite rules files in the canonical layout");
  cmd->add_option("rules", args->rules, "Rules files ('-': standard input to standard output)")->required();
  cmd->add_flag("--check", args->check, "Write nothing; list the files that would change and exit 1 if any");
  return [args] {
    int status = kExitOk;
    for (const auto& path : args->rules) {
      std::string text, err;
      if (path == "-") {
        text.assign(std::istreambuf_iterator<char>(std::cin), std::istreambuf_iterator<char>());
      } else if (!readFile(path, text, err)) {
        printError(err);
        status = kExitErrors;
        continue;
      }
      SourceFile src(path == "-" ? "<stdin>" : path, text);
      std::vector<Diagnostic> diags;
      std::optional<std::string> formatted = formatRules(src, diags);
      if (!formatted) {
        printDiagnostics(diags, &src);
        status = kExitErrors;
        continue;
      }
      if (path == "-") {
        if (args->check) {
          if (*formatted != text) {
            fmt::print("{}", unifiedDiff(src.path(), text, *formatted, kDiffLines));
            status = kExitErrors;
          }
        } else {
          fmt::print("{}", *formatted);
        }
        continue;
      }
      if (*formatted == text) continue;
      if (args->check) {
        fmt::print("{}: not formatted\n{}", path, unifiedDiff(path, text, *formatted, kDiffLines));
        status = kExitErrors;
        continue;
      }
      if (!writeInPlace(path, *formatted, err)) {
        printError(err);
        status = kExitErrors;
      }
    }
    std::fflush(stdout);
    return status;
  };
}

REKINDLE_COMMAND("fmt", addFmt);

}  // namespace rekindle::cli
