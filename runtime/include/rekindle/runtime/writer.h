// Writers for the decisions file (CSV or JSON Lines, SPEC §5.7) and the rejects file, and the
// atomic output file they go through: written beside the target, renamed into place only on
// success, removed if the run fails.
#pragma once

#include <cstdio>
#include <memory>
#include <string>
#include <vector>

#include "rekindle/runtime/dataset.h"
#include "rekindle/runtime/engine.h"

namespace rekindle {

enum class OutputFormat : uint8_t { Csv, Jsonl };

// Picks the format from a path's extension (.jsonl/.ndjson -> JSONL, else CSV).
OutputFormat formatForPath(const std::string& path);

// A file written under a temporary name and renamed into place by commit(). Destroyed without
// commit(), it removes the temporary: a failed run leaves no partial file under the final name.
// The path "-" is standard output (no temporary).
class AtomicFile {
 public:
  AtomicFile() = default;
  ~AtomicFile();
  AtomicFile(const AtomicFile&) = delete;
  AtomicFile& operator=(const AtomicFile&) = delete;

  bool open(const std::string& path, std::string& error);
  FILE* stream() const { return file_; }
  bool commit(std::string& error);
  void abandon();
  const std::string& path() const { return path_; }
  const std::string& tempPath() const { return temp_; }

 private:
  std::string path_;
  std::string temp_;
  FILE* file_ = nullptr;
  bool stdout_ = false;
  bool direct_ = false;  // a device or a pipe: written in place
};

// True for an existing path that is neither a regular file nor a folder (/dev/null, a FIFO):
// such outputs are written in place, and no rejects file is put beside them.
bool isDeviceOrPipe(const std::string& path);

// Writes `bytes` as the whole of `path` through an AtomicFile ("-": standard output).
bool writeFileAtomically(const std::string& path, std::string_view bytes, std::string& error);

// Removes every temporary an AtomicFile has open; safe in a signal handler's path (best effort).
void removeOpenTemporaries();

// Formats decisions as CSV or JSON Lines. format() is safe to call from several threads.
// `header`: write the CSV header line (not for the second and later batches of a grouped run).
class DecisionWriter : public DecisionSink {
 public:
  DecisionWriter(FILE* out, OutputFormat format, const Executable& exe, const Dataset& data,
                 const RunClock& clock, bool explain, bool header = true);
  void write(const Decision& d) override;
  bool formatsConcurrently() const override { return true; }
  void format(const Decision& d, std::string& out) const override;
  void writeFormatted(const std::string& text) override;

  // "stage: dormant @ retail.rules:23; channel: email @ retail.rules:31; ..."
  std::string explanation(const Decision& d) const;

 private:
  std::string timeText(uint32_t customer, int64_t t) const;
  FILE* out_;
  OutputFormat format_;
  const Executable& exe_;
  const Dataset& data_;
  RunClock clock_;
  std::string decidedAt_;  // the same on every row: formatted once
  bool explain_;
  std::string line_;
};

// Writes the rejects: source, file, line, column, field, reason, raw.
void writeRejects(FILE* out, OutputFormat format, const std::vector<RejectedRow>& rejects);

// CSV field quoting (RFC 4180) and JSON string escaping, shared by every writer.
void appendCsvField(std::string& out, std::string_view s);
void appendJsonString(std::string& out, std::string_view s);

}  // namespace rekindle
