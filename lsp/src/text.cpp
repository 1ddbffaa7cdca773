// The language server's plumbing: JSON-RPC framing, LSP positions (UTF-16) against our source
// locations (code points), file URIs and finding the config.
#include <algorithm>
#include <cctype>
#include <filesystem>

#include "rekindle/lsp/server.h"

namespace rekindle::lsp {

// ---- framing ----------------------------------------------------------------------------------

namespace {

std::string lowerAscii(std::string s) {
  for (char& c : s) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return s;
}

std::string trim(std::string s) {
  size_t b = 0, e = s.size();
  while (b < e && (s[b] == ' ' || s[b] == '\t')) ++b;
  while (e > b && (s[e - 1] == ' ' || s[e - 1] == '\t' || s[e - 1] == '\r')) --e;
  return s.substr(b, e - b);
}

}  // namespace

MessageReader::Status MessageReader::read(std::string& body, std::string& error) {
  body.clear();
  error.clear();
  bool sawHeader = false;
  bool haveLength = false;
  bool badLength = false;
  size_t length = 0;
  std::string line;
  for (;;) {
    if (!std::getline(in_, line)) return Status::Eof;
    if (!line.empty() && line.back() == '\r') line.pop_back();
    if (line.empty()) {
      if (!sawHeader) continue;  // stray blank lines between messages
      break;
    }
    sawHeader = true;
    size_t colon = line.find(':');
    if (colon == std::string::npos) {
      error = "malformed header line '" + line.substr(0, 80) + "'";
      continue;
    }
    std::string name = lowerAscii(trim(line.substr(0, colon)));
    std::string value = trim(line.substr(colon + 1));
    if (name == "content-length") {
      size_t n = 0;
      bool ok = !value.empty() && value.size() <= 18;
      for (char c : value) {
        if (c < '0' || c > '9') {
          ok = false;
          break;
        }
        n = n * 10 + static_cast<size_t>(c - '0');
      }
      if (ok) {
        haveLength = true;
        length = n;
      } else {
        badLength = true;
      }
    }
  }
  if (!haveLength) {
    error = badLength ? "the Content-Length header is not a number" : "missing Content-Length header";
    return Status::Malformed;
  }
  if (length > kMaxBody) {
    in_.ignore(static_cast<std::streamsize>(length));
    error = "message of " + std::to_string(length) + " bytes is larger than the limit";
    return in_ ? Status::Malformed : Status::Eof;
  }
  body.resize(length);
  if (length > 0 && !in_.read(&body[0], static_cast<std::streamsize>(length))) return Status::Eof;
  error.clear();
  return Status::Ok;
}

void writeMessage(std::ostream& out, std::string_view body) {
  out << "Content-Length: " << body.size() << "\r\n\r\n";
  out.write(body.data(), static_cast<std::streamsize>(body.size()));
  out.flush();
}

// ---- positions --------------------------------------------------------------------------------

namespace {

bool isContinuationByte(unsigned char c) { return (c & 0xC0) == 0x80; }

// Length in bytes of the code point starting at s[i] as the compiler counts them: a lead byte and
// the continuation bytes after it (a stray continuation byte is one code point of its own).
size_t codePointBytes(std::string_view s, size_t i) {
  size_t k = i + 1;
  while (k < s.size() && isContinuationByte(static_cast<unsigned char>(s[k]))) ++k;
  return k - i;
}

// UTF-16 units of the code point at s[i] (of `bytes` bytes): 2 for a valid 4-byte sequence.
uint32_t unitsOf(std::string_view s, size_t i, size_t bytes) {
  unsigned char c = static_cast<unsigned char>(s[i]);
  return (c >= 0xF0 && c <= 0xF4 && bytes == 4) ? 2 : 1;
}

}  // namespace

size_t utf16Length(std::string_view s) {
  size_t n = 0;
  for (size_t i = 0; i < s.size();) {
    size_t b = codePointBytes(s, i);
    n += unitsOf(s, i, b);
    i += b;
  }
  return n;
}

LineIndex::LineIndex(std::string_view text) : text_(text) {
  starts_.push_back(0);
  for (size_t k = 0; k < text_.size(); ++k)
    if (text_[k] == '\n') starts_.push_back(k + 1);
}

std::string_view LineIndex::lineText(size_t line) const {
  if (line >= starts_.size()) return {};
  size_t b = starts_[line];
  size_t e = line + 1 < starts_.size() ? starts_[line + 1] - 1 : text_.size();
  std::string_view v = text_.substr(b, e - b);
  if (!v.empty() && v.back() == '\r') v.remove_suffix(1);
  return v;
}

size_t LineIndex::offsetOf(Position p) const {
  if (p.line >= starts_.size()) return text_.size();
  std::string_view line = lineText(p.line);
  size_t i = 0;
  uint32_t units = 0;
  while (i < line.size()) {
    size_t b = codePointBytes(line, i);
    uint32_t u = unitsOf(line, i, b);
    if (units + u > p.character) break;  // a position inside a surrogate pair rounds down
    units += u;
    i += b;
  }
  return starts_[p.line] + i;
}

Position LineIndex::positionOf(size_t offset) const {
  offset = std::min(offset, text_.size());
  auto it = std::upper_bound(starts_.begin(), starts_.end(), offset);
  size_t line = static_cast<size_t>(it - starts_.begin()) - 1;
  std::string_view l = lineText(line);
  size_t within = std::min(offset - starts_[line], l.size());
  return Position{static_cast<uint32_t>(line), static_cast<uint32_t>(utf16Length(l.substr(0, within)))};
}

Position LineIndex::toLsp(SourceLoc loc) const {
  if (loc.line == 0) return Position{};
  size_t line = loc.line - 1;
  if (line >= starts_.size()) return end();
  std::string_view l = lineText(line);
  uint32_t col = 1, units = 0;
  size_t i = 0;
  while (col < loc.col && i < l.size()) {
    size_t b = codePointBytes(l, i);
    units += unitsOf(l, i, b);
    i += b;
    ++col;
  }
  // Past the end of the line (an end-of-file token, a range ending after the last character):
  // one unit per column, as a client would clamp it anyway.
  if (col < loc.col) units += loc.col - col;
  return Position{static_cast<uint32_t>(line), units};
}

SourceLoc LineIndex::toSource(Position p) const {
  if (p.line >= starts_.size()) {
    size_t last = starts_.size() - 1;
    return SourceLoc{static_cast<uint32_t>(last + 1), static_cast<uint32_t>(1 + codePointCount(lineText(last)))};
  }
  std::string_view l = lineText(p.line);
  uint32_t units = 0, col = 1;
  size_t i = 0;
  while (i < l.size()) {
    size_t b = codePointBytes(l, i);
    uint32_t u = unitsOf(l, i, b);
    if (units + u > p.character) break;
    units += u;
    i += b;
    ++col;
  }
  return SourceLoc{p.line + 1, col};
}

Position LineIndex::end() const {
  size_t last = starts_.size() - 1;
  return Position{static_cast<uint32_t>(last), static_cast<uint32_t>(utf16Length(lineText(last)))};
}

// ---- URIs ------------------------------------------------------------------------------------

namespace {

int hexValue(char c) {
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  if (c >= 'A' && c <= 'F') return c - 'A' + 10;
  return -1;
}

}  // namespace

std::optional<std::string> uriToPath(std::string_view uri) {
  constexpr std::string_view scheme = "file://";
  if (uri.size() < scheme.size() || lowerAscii(std::string(uri.substr(0, scheme.size()))) != scheme)
    return std::nullopt;
  std::string_view rest = uri.substr(scheme.size());
  // file://host/path: only the local host (empty or "localhost") is a path here.
  size_t slash = rest.find('/');
  if (slash == std::string_view::npos) return std::nullopt;
  std::string_view host = rest.substr(0, slash);
  if (!host.empty() && host != "localhost") return std::nullopt;
  rest = rest.substr(slash);
  size_t cut = rest.find_first_of("?#");
  if (cut != std::string_view::npos) rest = rest.substr(0, cut);
  std::string out;
  for (size_t i = 0; i < rest.size(); ++i) {
    if (rest[i] == '%' && i + 2 < rest.size() && hexValue(rest[i + 1]) >= 0 && hexValue(rest[i + 2]) >= 0) {
      out += static_cast<char>(hexValue(rest[i + 1]) * 16 + hexValue(rest[i + 2]));
      i += 2;
    } else {
      out += rest[i];
    }
  }
  // Windows drive letters (file:///c%3A/x) are not this server's concern: it runs on POSIX.
  return out;
}

std::string pathToUri(std::string_view path) {
  static const char* hex = "0123456789ABCDEF";
  std::string out = "file://";
  if (path.empty() || path[0] != '/') out += '/';
  for (unsigned char c : path) {
    if (std::isalnum(c) || c == '/' || c == '-' || c == '.' || c == '_' || c == '~') {
      out += static_cast<char>(c);
    } else {
      out += '%';
      out += hex[c >> 4];
      out += hex[c & 15];
    }
  }
  return out;
}

std::string findConfigFor(const std::string& rulesPath) {
  namespace fs = std::filesystem;
  std::error_code ec;
  fs::path dir = fs::absolute(fs::path(rulesPath), ec).parent_path();
  if (ec) return "";
  for (int depth = 0; depth < 64 && !dir.empty(); ++depth) {
    fs::path candidate = dir / "rekindle.yaml";
    if (fs::is_regular_file(candidate, ec)) return candidate.lexically_normal().string();
    if (dir == dir.parent_path()) break;
    dir = dir.parent_path();
  }
  return "";
}

}  // namespace rekindle::lsp
