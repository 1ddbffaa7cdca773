// Record readers for exports: CSV (RFC 4180, and whitespace-separated files like CDNOW) and
// JSON Lines, plain or gzip-compressed. A reader yields, per record, the raw values of the
// columns the schema wants, its line number and its raw text (for the rejects file).
// Typing the values is the loader's job (dataset.h), not the reader's.
#pragma once

#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace rekindle {

enum class RawKind : uint8_t {
  Missing,  // JSONL: the key is absent
  Null,     // JSONL null, or an empty CSV cell
  Text,     // CSV cell, or JSON string (unescaped)
  Number,   // JSON number, as its source text
  Bool,     // JSON true/false
};

struct RawValue {
  RawKind kind = RawKind::Missing;
  std::string_view text;  // valid until the next call to next()
  bool b = false;
};

enum class SourceFormat : uint8_t { Auto, Csv, Jsonl };

struct SourceOptions {
  std::string path;
  SourceFormat format = SourceFormat::Auto;  // Auto: by extension (.jsonl/.ndjson, else CSV),
                                             // looking through a trailing .gz
  char delimiter = ',';
  bool whitespaceDelimited = false;  // fields separated by runs of blanks; leading blanks skipped
  bool header = true;                // CSV: the first record names the columns
  std::vector<std::string> columns;  // CSV without a header: the column names, in order
};

// Where and why a record could not be read. Line and column are 1-based; column is the
// 1-based field number for CSV (0 when the whole record is at fault).
struct RecordError {
  uint64_t line = 0;
  uint32_t column = 0;
  std::string field;  // the column name, when one field is at fault
  std::string reason;
};

struct RecordInfo {
  uint64_t line = 0;     // physical line where the record starts (the header is line 1)
  std::string_view raw;  // the record's text without its line terminator; valid until next()
  bool ok = true;        // false: `error` says why; `values` must not be used
  RecordError error;
};

class RecordReader {
 public:
  virtual ~RecordReader() = default;

  // Opens a source for the named columns. On failure (file missing, unreadable, a wanted
  // column absent from the CSV header, bad gzip) returns null and sets `error` to a message
  // naming the file and, where it applies, the column.
  static std::unique_ptr<RecordReader> open(const SourceOptions& options,
                                            const std::vector<std::string>& wanted,
                                            std::string& error);

  // Reads the next record into `values` (one per wanted column, in order). Returns false at
  // the end of the input. A malformed record (wrong field count, bad quoting, invalid JSON,
  // not an object, invalid UTF-8) returns true with info.ok = false, so the caller can reject
  // it and go on. A hard I/O error mid-file sets `ioError()`.
  virtual bool next(std::vector<RawValue>& values, RecordInfo& info) = 0;

  // Where the next record starts: its byte offset in the file and its physical line. Lets a
  // reader of the first part of a file check that it ends exactly where a reader of the next
  // part began. nullopt while the reader is dropping the rest of an overlong line.
  struct Position {
    uint64_t offset = 0;
    uint64_t line = 0;
  };
  virtual std::optional<Position> position() const = 0;
  // Goes on reading at byte `offset` of the file, which must be a line start after the header,
  // counting lines from 1 there: a second reader of a file split in parts (lineStartFrom). The
  // header and column numbers stay those read at open. False for a compressed file or one that
  // cannot seek.
  virtual bool restartAt(uint64_t offset) = 0;

  virtual const std::string& ioError() const = 0;
  virtual const std::string& path() const = 0;
  // The 1-based position in the file of wanted column `slot` (CSV), or 0 (JSON Lines: keys
  // have no position). For the rejects file.
  virtual uint32_t columnNumber(size_t /*slot*/) const { return 0; }
};

// The size in bytes of an export that is read as it is stored: a regular file not named .gz
// (RecordReader::open's rule). 0 for compressed files, pipes and devices. For size estimates.
uint64_t plainFileBytes(const std::string& path);

// The first line start at or after byte `offset` of a plain file (offset itself if the byte
// before it is a line feed); the file's size if there is none. Where to split a file for several
// readers; the split holds only if the reader before it ends exactly there (position()).
uint64_t lineStartFrom(const std::string& path, uint64_t offset);

// Parses one complete JSON document (RFC 8259) and says whether it is valid; used by the JSONL
// reader for each line and by tests against JSONTestSuite.
bool validJsonDocument(std::string_view text, std::string* error = nullptr);

}  // namespace rekindle
