// The one diagnostic type: what the compiler, linter, language server and CLI report about a
// rules file, and how it is rendered for a terminal (`file:line:col: error[E012]: ...`, the
// source line and a caret range, like clang and rustc).
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

namespace rekindle {

// 1-based line; 1-based column counted in Unicode code points.
struct SourceLoc {
  uint32_t line = 0;
  uint32_t col = 0;
  bool operator<(const SourceLoc& o) const {
    return line < o.line || (line == o.line && col < o.col);
  }
  bool operator==(const SourceLoc& o) const { return line == o.line && col == o.col; }
  bool operator<=(const SourceLoc& o) const { return !(o < *this); }
};

// Half-open: `end` is one past the last character.
struct SourceRange {
  SourceLoc begin;
  SourceLoc end;
  bool valid() const { return begin.line > 0; }
  bool contains(SourceLoc p) const { return begin <= p && p < end; }
};

enum class Severity : uint8_t { Error, Warning, Note };
const char* severityName(Severity s);

struct DiagnosticNote {
  std::string file;
  SourceRange range;
  std::string message;
};

struct Diagnostic {
  Severity severity = Severity::Error;
  std::string code;  // stable: E0xx for errors, W0xx for lint warnings
  std::string file;
  SourceRange range;
  std::string message;
  std::string suggestion;  // "did you mean 'signup_at'?" — rendered as `help:`
  std::vector<DiagnosticNote> notes;
};

// A source text with a line index, for rendering and for position conversions.
class SourceFile {
 public:
  SourceFile() = default;
  SourceFile(std::string path, std::string text);
  const std::string& path() const { return path_; }
  const std::string& text() const { return text_; }
  size_t lineCount() const { return lineStarts_.size(); }
  std::string_view line(uint32_t line) const;  // without its newline; empty if out of range
  // Byte offset of a location; clamps to the text.
  size_t offsetOf(SourceLoc loc) const;
  SourceLoc locOf(size_t offset) const;
  // The text of a range on one line, for messages: comments dropped, line breaks and runs of
  // blanks as one space, strings as written.
  std::string oneLine(SourceRange r) const;

 private:
  std::string path_;
  std::string text_;
  std::vector<size_t> lineStarts_;
};

// Sorts by file, position, then code, so output order never depends on discovery order.
void sortDiagnostics(std::vector<Diagnostic>& diags);
bool hasErrors(const std::vector<Diagnostic>& diags);

// Renders one diagnostic with the source line and carets. `source` may be null.
std::string renderDiagnostic(const Diagnostic& d, const SourceFile* source, bool color);

// Counts code points of UTF-8 text; the width of the text on a terminal (wide CJK = 2).
size_t codePointCount(std::string_view utf8);
size_t displayWidth(std::string_view utf8);

}  // namespace rekindle
