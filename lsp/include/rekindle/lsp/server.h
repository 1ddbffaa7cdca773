// The Rekindle language server (LSP 3.17 over JSON-RPC 2.0): diagnostics (compile errors and
// lint warnings), hover, completion, go to definition, find references, document symbols and
// formatting for `.rules` files, each compiled against the `rekindle.yaml` beside it or in the
// nearest folder above. `rekindle lsp` runs it over stdio (docs/editors.md).
//
// The interface is text in, text out: a Server takes one JSON-RPC message body at a time and
// hands what it sends (responses, notifications, requests to the client) to a callback, so tests
// drive it in-process without pipes. The framing (Content-Length headers) and the position
// conversions (LSP counts UTF-16 code units, our SourceRange 1-based code points) are public
// for the same reason.
#pragma once

#include <cstdint>
#include <functional>
#include <istream>
#include <memory>
#include <optional>
#include <ostream>
#include <string>
#include <string_view>
#include <vector>

#include "rekindle/core/diagnostic.h"

namespace rekindle::lsp {

// ---- framing ----------------------------------------------------------------------------------

// Reads `Content-Length: N\r\n[other headers]\r\n\r\n` + N bytes of body, one message at a time.
class MessageReader {
 public:
  enum class Status { Ok, Eof, Malformed };
  explicit MessageReader(std::istream& in) : in_(in) {}
  // Ok: `body` holds the next message. Malformed: the header block was unusable (no or a bad
  // Content-Length, or an oversized body); `error` says why and reading may go on with the next
  // header block. Eof: the stream ended (mid-message counts as Eof).
  Status read(std::string& body, std::string& error);

  static constexpr size_t kMaxBody = 64u << 20;  // a larger message is refused, not allocated

 private:
  std::istream& in_;
};

// Writes one framed message and flushes.
void writeMessage(std::ostream& out, std::string_view body);

// ---- positions --------------------------------------------------------------------------------

// An LSP position: 0-based line, 0-based column in UTF-16 code units.
struct Position {
  uint32_t line = 0;
  uint32_t character = 0;
  bool operator==(const Position& o) const { return line == o.line && character == o.character; }
};

// A line index over a text, converting between byte offsets, LSP positions and our SourceLocs
// (1-based line, 1-based code point column). Lines end at '\n' (a '\r' before it belongs to the
// line break). Out-of-range positions clamp to the line's end or the text's end.
class LineIndex {
 public:
  explicit LineIndex(std::string_view text);
  size_t lineCount() const { return starts_.size(); }
  size_t offsetOf(Position p) const;
  Position positionOf(size_t offset) const;
  Position toLsp(SourceLoc loc) const;     // an invalid loc (line 0) is 0:0
  SourceLoc toSource(Position p) const;
  Position end() const;                    // one past the last character

 private:
  std::string_view lineText(size_t line) const;  // without the line break
  std::string_view text_;
  std::vector<size_t> starts_;
};

// UTF-16 code units of a UTF-8 text (4-byte sequences count 2, malformed bytes 1 each).
size_t utf16Length(std::string_view utf8);

// file:// URIs <-> paths (percent-encoding both ways). uriToPath returns nullopt for other schemes.
std::optional<std::string> uriToPath(std::string_view uri);
std::string pathToUri(std::string_view path);

// The config for a rules file: rekindle.yaml beside it or in the nearest folder above (the CLI's
// rule), or "" when there is none.
std::string findConfigFor(const std::string& rulesPath);

// ---- the server -------------------------------------------------------------------------------

class Server {
 public:
  using Send = std::function<void(const std::string& body)>;
  explicit Server(Send send);
  ~Server();
  Server(const Server&) = delete;
  Server& operator=(const Server&) = delete;

  // Handles one message body (a request, a notification or a response from the client). Never
  // throws: a malformed message gets an error response (or is dropped when it is a notification).
  void handle(const std::string& body);
  // The framing layer's report of a message it could not read.
  void framingError(const std::string& message);

  bool exited() const;  // `exit` received
  int exitCode() const;  // 0 after shutdown + exit, 1 for an exit without shutdown

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

// The stdio loop behind `rekindle lsp`: reads framed messages until `exit` or end of input.
// Returns the process exit code.
int runServer(std::istream& in, std::ostream& out);

}  // namespace rekindle::lsp
