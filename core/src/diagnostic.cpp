// Rendering of diagnostics for terminals, and source position bookkeeping.
#include "rekindle/core/diagnostic.h"

#include <algorithm>

namespace rekindle {

const char* severityName(Severity s) {
  switch (s) {
    case Severity::Error: return "error";
    case Severity::Warning: return "warning";
    case Severity::Note: return "note";
  }
  return "error";
}

SourceFile::SourceFile(std::string path, std::string text)
    : path_(std::move(path)), text_(std::move(text)) {
  lineStarts_.push_back(0);
  for (size_t k = 0; k < text_.size(); ++k)
    if (text_[k] == '\n') lineStarts_.push_back(k + 1);
}

std::string_view SourceFile::line(uint32_t line) const {
  if (line == 0 || line > lineStarts_.size()) return {};
  size_t b = lineStarts_[line - 1];
  size_t e = line < lineStarts_.size() ? lineStarts_[line] - 1 : text_.size();
  std::string_view v(text_.data() + b, e - b);
  if (!v.empty() && v.back() == '\r') v.remove_suffix(1);
  return v;
}

namespace {
bool isContinuation(unsigned char c) { return (c & 0xC0) == 0x80; }
}  // namespace

size_t SourceFile::offsetOf(SourceLoc loc) const {
  if (loc.line == 0) return 0;
  if (loc.line > lineStarts_.size()) return text_.size();
  size_t off = lineStarts_[loc.line - 1];
  uint32_t col = 1;
  while (off < text_.size() && col < loc.col && text_[off] != '\n') {
    ++off;
    while (off < text_.size() && isContinuation(static_cast<unsigned char>(text_[off]))) ++off;
    ++col;
  }
  return off;
}

SourceLoc SourceFile::locOf(size_t offset) const {
  offset = std::min(offset, text_.size());
  auto it = std::upper_bound(lineStarts_.begin(), lineStarts_.end(), offset);
  uint32_t line = static_cast<uint32_t>(it - lineStarts_.begin());
  size_t start = lineStarts_[line - 1];
  uint32_t col = 1 + static_cast<uint32_t>(
                         codePointCount(std::string_view(text_.data() + start, offset - start)));
  return SourceLoc{line, col};
}

std::string SourceFile::oneLine(SourceRange r) const {
  const size_t begin = offsetOf(r.begin), end = offsetOf(r.end);
  std::string out;
  bool space = false, inString = false;
  for (size_t k = begin; k < end; ++k) {
    char c = text_[k];
    if (!inString && c == '#') {
      while (k < end && text_[k] != '\n') ++k;
      space = true;
      continue;
    }
    if (c == '"' && (k == begin || text_[k - 1] != '\\')) inString = !inString;
    if (!inString && (c == ' ' || c == '\t' || c == '\n' || c == '\r')) {
      space = true;
      continue;
    }
    if (space && !out.empty()) out += ' ';
    space = false;
    out += c;
  }
  return out;
}

size_t codePointCount(std::string_view s) {
  size_t n = 0;
  for (unsigned char c : s)
    if (!isContinuation(c)) ++n;
  return n;
}

namespace {
// Decodes one UTF-8 code point starting at s[k]; advances k. Invalid bytes count as one each.
uint32_t decode(std::string_view s, size_t& k) {
  unsigned char c = static_cast<unsigned char>(s[k++]);
  if (c < 0x80) return c;
  int extra = c >= 0xF0 ? 3 : c >= 0xE0 ? 2 : c >= 0xC0 ? 1 : 0;
  uint32_t cp = c & (0x3F >> extra);
  while (extra-- > 0 && k < s.size() && isContinuation(static_cast<unsigned char>(s[k])))
    cp = (cp << 6) | (static_cast<unsigned char>(s[k++]) & 0x3F);
  return cp;
}

bool isWide(uint32_t cp) {
  return (cp >= 0x1100 && cp <= 0x115F) || (cp >= 0x2E80 && cp <= 0xA4CF) ||
         (cp >= 0xAC00 && cp <= 0xD7A3) || (cp >= 0xF900 && cp <= 0xFAFF) ||
         (cp >= 0xFE30 && cp <= 0xFE4F) || (cp >= 0xFF00 && cp <= 0xFF60) ||
         (cp >= 0xFFE0 && cp <= 0xFFE6) || (cp >= 0x1F300 && cp <= 0x1FAFF) ||
         (cp >= 0x20000 && cp <= 0x3FFFD);
}

// Width on a terminal of the first `cols` code points of a line (tabs as 1, kept as tabs).
std::string padTo(std::string_view line, uint32_t cols) {
  std::string pad;
  size_t k = 0;
  for (uint32_t c = 0; c < cols && k < line.size(); ++c) {
    if (line[k] == '\t') {
      pad += '\t';
      ++k;
      continue;
    }
    uint32_t cp = decode(line, k);
    pad += isWide(cp) ? "  " : " ";
  }
  return pad;
}
}  // namespace

size_t displayWidth(std::string_view s) {
  size_t w = 0;
  for (size_t k = 0; k < s.size();) w += isWide(decode(s, k)) ? 2 : 1;
  return w;
}

void sortDiagnostics(std::vector<Diagnostic>& diags) {
  std::stable_sort(diags.begin(), diags.end(), [](const Diagnostic& a, const Diagnostic& b) {
    if (a.file != b.file) return a.file < b.file;
    if (!(a.range.begin == b.range.begin)) return a.range.begin < b.range.begin;
    return a.code < b.code;
  });
}

bool hasErrors(const std::vector<Diagnostic>& diags) {
  for (const auto& d : diags)
    if (d.severity == Severity::Error) return true;
  return false;
}

std::string renderDiagnostic(const Diagnostic& d, const SourceFile* source, bool color) {
  const char* bold = color ? "\x1b[1m" : "";
  const char* reset = color ? "\x1b[0m" : "";
  const char* sevColor = "";
  if (color) sevColor = d.severity == Severity::Error ? "\x1b[1;31m" : d.severity == Severity::Warning ? "\x1b[1;33m" : "\x1b[1;36m";
  std::string out;
  out += bold;
  out += d.file;
  if (d.range.valid()) out += ":" + std::to_string(d.range.begin.line) + ":" + std::to_string(d.range.begin.col);
  out += ": ";
  out += reset;
  out += sevColor;
  out += severityName(d.severity);
  if (!d.code.empty()) out += "[" + d.code + "]";
  out += reset;
  out += bold;
  out += ": " + d.message;
  out += reset;
  out += "\n";
  if (source && d.range.valid() && d.range.begin.line <= source->lineCount()) {
    std::string_view text = source->line(d.range.begin.line);
    std::string gutter = std::to_string(d.range.begin.line);
    std::string blank(gutter.size(), ' ');
    out += " " + gutter + " | " + std::string(text) + "\n";
    uint32_t startCol = d.range.begin.col ? d.range.begin.col - 1 : 0;
    uint32_t lineLen = static_cast<uint32_t>(codePointCount(text));
    uint32_t endCol = d.range.end.line == d.range.begin.line ? d.range.end.col - 1 : lineLen;
    if (endCol <= startCol) endCol = startCol + 1;
    std::string pad = padTo(text, startCol);
    // Carets span the display width of the range's text.
    size_t b = source->offsetOf(SourceLoc{d.range.begin.line, startCol + 1});
    size_t e = source->offsetOf(SourceLoc{d.range.begin.line, endCol + 1});
    size_t width = e > b ? displayWidth(std::string_view(source->text()).substr(b, e - b)) : 1;
    if (width == 0) width = 1;
    out += " " + blank + " | " + pad + sevColor + std::string(width, '^') + reset + "\n";
  }
  if (!d.suggestion.empty()) out += std::string(" = ") + bold + "help" + reset + ": " + d.suggestion + "\n";
  for (const auto& n : d.notes) {
    out += " = note: ";
    if (n.range.valid()) out += n.file + ":" + std::to_string(n.range.begin.line) + ":" + std::to_string(n.range.begin.col) + ": ";
    out += n.message + "\n";
  }
  return out;
}

}  // namespace rekindle
