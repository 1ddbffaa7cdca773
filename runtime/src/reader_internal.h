// Private to the record readers: the buffered input they share (plain file or gzip stream,
// read in large blocks into one growable buffer) and the per-format constructors that
// RecordReader::open dispatches to. Not installed; nothing outside runtime/src includes it.
#pragma once

#include <cstddef>
#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "rekindle/runtime/reader.h"

namespace rekindle {

// One read(2)/gzread call asks for this much; large enough that per-call overhead vanishes,
// small enough to stay in L2/L3 while the parser walks it.
constexpr size_t kDefaultBlockBytes = size_t{1} << 20;

// A record longer than this is taken to be a runaway (an unterminated quote in a CSV, a JSONL
// file with no line breaks) rather than data: it is rejected, so a broken export cannot make
// the reader buffer the whole file.
constexpr size_t kMaxRecordBytes = size_t{64} << 20;

// Readable bytes kept after the end of the buffered data. simdjson reads up to 64 bytes past
// the end of a document, which lets the JSONL reader parse lines in place without copying.
constexpr size_t kInputPadding = 64;

// The block size for a new reader: kDefaultBlockBytes, unless the environment variable
// REKINDLE_READER_BLOCK holds a positive byte count. Tests set it tiny (e.g. 7) so that records
// straddle block boundaries everywhere. Read at every open, so a test can change it.
size_t readerBlockBytes();

// A file (optionally gzip-compressed) read forward in blocks into one buffer. Readers scan the
// buffered bytes in place and ask for more when a record runs past the end; the bytes of the
// record in progress are kept (moved to the front), earlier ones are dropped.
class BlockInput {
 public:
  BlockInput() = default;
  BlockInput(const BlockInput&) = delete;
  BlockInput& operator=(const BlockInput&) = delete;
  ~BlockInput();

  // Opens the file and reads the first block, so that a missing file, a directory or a
  // broken gzip stream is reported by open. `error` names the path.
  bool open(const std::string& path, bool gzip, size_t blockBytes, std::string& error);

  const char* data() const { return buffer_.get(); }
  size_t size() const { return size_; }
  // True once the source has no more bytes (end of file, or an I/O error).
  bool exhausted() const { return exhausted_; }
  const std::string& ioError() const { return ioError_; }

  // The file offset of data()[0] (of the uncompressed stream, for gzip).
  uint64_t fileOffset() const { return fileOffset_; }
  // Drops the buffer and reads on from `offset` of the file. Plain files only: false for gzip
  // (which cannot seek cheaply) or when the file cannot seek (a pipe).
  bool seek(uint64_t offset);

  // Drops the buffered bytes before `keepFrom`, moves the rest to the front and reads more.
  // Returns how far the kept bytes moved, so the caller can rebase its offsets. It reads at
  // least as many new bytes as it keeps (or a block, whichever is more): a record that
  // spans many blocks is rescanned a logarithmic number of times, not once per block.
  size_t refill(size_t keepFrom);

 private:
  // Reads up to `n` bytes into `dst`; 0 at end of input or on error (then ioError_ is set).
  size_t readSome(char* dst, size_t n);
  void reserve(size_t bytes);

  std::string path_;
  int fd_ = -1;
  void* gz_ = nullptr;  // gzFile; kept opaque so that zlib.h stays in reader.cpp
  std::unique_ptr<char[]> buffer_;
  size_t capacity_ = 0;  // usable bytes, not counting kInputPadding
  size_t size_ = 0;
  size_t blockBytes_ = kDefaultBlockBytes;
  uint64_t fileOffset_ = 0;
  bool exhausted_ = false;
  std::string ioError_;
};

// Skips a UTF-8 byte-order mark at the start of the input (making sure enough bytes are
// buffered to see one). Returns the offset of the first byte after it.
size_t skipByteOrderMark(BlockInput& input);

// The per-format readers. `input` is open and positioned at the start of the file.
std::unique_ptr<RecordReader> openCsvReader(const SourceOptions& options,
                                            const std::vector<std::string>& wanted,
                                            std::unique_ptr<BlockInput> input, std::string& error);
std::unique_ptr<RecordReader> openJsonlReader(const SourceOptions& options,
                                              const std::vector<std::string>& wanted,
                                              std::unique_ptr<BlockInput> input,
                                              std::string& error);


// Fast check used before the exact one: true when every byte is below 0x80.
bool isAscii(const char* text, size_t size);

}  // namespace rekindle
