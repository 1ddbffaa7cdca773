// RecordReader::open (format by extension, looking through .gz) and the machinery the CSV and
// JSONL readers share: block-buffered input from a plain file or a gzip stream, the byte-order
// mark, and UTF-8 validation.
#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>
#include <zlib.h>

#include <algorithm>
#include <cerrno>
#include <cstdlib>
#include <cstring>
#include <filesystem>

#ifdef __SSE2__
#include <emmintrin.h>
#endif

#include "reader_internal.h"

namespace rekindle {

namespace {

// zlib's own buffer for inflating; the output side is our block, so this only sizes the
// compressed reads.
constexpr unsigned kGzipBufferBytes = 256 * 1024;

gzFile asGzip(void* gz) {
  return static_cast<gzFile>(gz);
}

bool endsWithIgnoringCase(const std::string& text, const char* suffix) {
  const size_t n = std::strlen(suffix);
  if (text.size() < n) return false;
  for (size_t i = 0; i < n; ++i) {
    char c = text[text.size() - n + i];
    if (c >= 'A' && c <= 'Z') c = static_cast<char>(c - 'A' + 'a');
    if (c != suffix[i]) return false;
  }
  return true;
}

}  // namespace

size_t readerBlockBytes() {
  if (const char* env = std::getenv("REKINDLE_READER_BLOCK")) {
    char* end = nullptr;
    const unsigned long long bytes = std::strtoull(env, &end, 10);
    if (end != env && *end == '\0' && bytes > 0) return static_cast<size_t>(bytes);
  }
  return kDefaultBlockBytes;
}

BlockInput::~BlockInput() {
  if (gz_ != nullptr) {
    gzclose(asGzip(gz_));  // also closes fd_
  } else if (fd_ >= 0) {
    ::close(fd_);
  }
}

bool BlockInput::open(const std::string& path, bool gzip, size_t blockBytes, std::string& error) {
  path_ = path;
  blockBytes_ = std::max<size_t>(blockBytes, 1);
  fd_ = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
  if (fd_ < 0) {
    error = "cannot open '" + path + "': " + std::strerror(errno);
    return false;
  }
  struct stat st;
  if (::fstat(fd_, &st) == 0 && S_ISDIR(st.st_mode)) {
    error = "cannot open '" + path + "': " + std::strerror(EISDIR);
    return false;
  }
#ifdef POSIX_FADV_SEQUENTIAL
  ::posix_fadvise(fd_, 0, 0, POSIX_FADV_SEQUENTIAL);
#endif
  if (gzip) {
    gz_ = gzdopen(fd_, "rb");
    if (gz_ == nullptr) {
      error = "cannot open '" + path + "': out of memory for the gzip stream";
      return false;
    }
    gzbuffer(asGzip(gz_), kGzipBufferBytes);
  }
  reserve(blockBytes_);
  refill(0);
  if (!ioError_.empty()) {
    error = ioError_;
    return false;
  }
  // zlib reads non-gzip data through unchanged ("transparent" mode). A file named .gz that is
  // not gzip is more likely a mislabelled or damaged export than something to read as text.
  if (gz_ != nullptr && size_ > 0 && gzdirect(asGzip(gz_))) {
    error = "cannot read '" + path + "': not gzip data (the name ends in .gz)";
    return false;
  }
  return true;
}

void BlockInput::reserve(size_t bytes) {
  if (bytes <= capacity_ && buffer_) return;
  const size_t capacity = std::max(bytes, capacity_ * 2);
  std::unique_ptr<char[]> grown(new char[capacity + kInputPadding]);
  if (size_ > 0) std::memcpy(grown.get(), buffer_.get(), size_);
  buffer_ = std::move(grown);
  capacity_ = capacity;
}

size_t BlockInput::readSome(char* dst, size_t n) {
  if (gz_ != nullptr) {
    const int got = gzread(asGzip(gz_), dst, static_cast<unsigned>(n));
    if (got < 0) {
      int code = Z_OK;
      const char* message = gzerror(asGzip(gz_), &code);
      ioError_ = "cannot read '" + path_ + "': bad gzip data (" +
                 (code == Z_ERRNO ? std::strerror(errno) : message) + ")";
      return 0;
    }
    if (got == 0) {
      // At the end of input zlib reports a stream cut short as Z_BUF_ERROR, without failing
      // the read: check, or a truncated download would look like a shorter file.
      int code = Z_OK;
      const char* message = gzerror(asGzip(gz_), &code);
      if (code != Z_OK) {
        ioError_ = "cannot read '" + path_ + "': " +
                   (code == Z_BUF_ERROR ? std::string("truncated gzip data")
                                        : std::string("bad gzip data (") + message + ")");
      }
    }
    return static_cast<size_t>(got);
  }
  for (;;) {
    const ssize_t got = ::read(fd_, dst, n);
    if (got >= 0) return static_cast<size_t>(got);
    if (errno == EINTR) continue;
    ioError_ = "cannot read '" + path_ + "': " + std::strerror(errno);
    return 0;
  }
}

bool BlockInput::seek(uint64_t offset) {
  if (gz_ != nullptr || ::lseek(fd_, static_cast<off_t>(offset), SEEK_SET) < 0) return false;
  size_ = 0;
  fileOffset_ = offset;
  exhausted_ = false;
  refill(0);
  return ioError_.empty();
}

size_t BlockInput::refill(size_t keepFrom) {
  if (exhausted_) return 0;
  fileOffset_ += keepFrom;
  const size_t kept = size_ - keepFrom;
  if (keepFrom > 0 && kept > 0) std::memmove(buffer_.get(), buffer_.get() + keepFrom, kept);
  size_ = kept;
  const size_t want = std::max(blockBytes_, kept);
  reserve(size_ + want);
  size_t got = 0;
  while (got < want) {
    const size_t n = readSome(buffer_.get() + size_ + got, want - got);
    if (n == 0) {
      exhausted_ = true;
      break;
    }
    got += n;
  }
  size_ += got;
  // Deterministic padding: parsers may look (but never depend) on the bytes past the end.
  std::memset(buffer_.get() + size_, 0, kInputPadding);
  return keepFrom;
}

size_t skipByteOrderMark(BlockInput& input) {
  while (input.size() < 3 && !input.exhausted()) input.refill(0);
  const unsigned char* p = reinterpret_cast<const unsigned char*>(input.data());
  if (input.size() >= 3 && p[0] == 0xEF && p[1] == 0xBB && p[2] == 0xBF) return 3;
  return 0;
}

bool isAscii(const char* text, size_t size) {
  size_t i = 0;
#ifdef __SSE2__
  __m128i high = _mm_setzero_si128();
  for (; i + 16 <= size; i += 16) {
    high = _mm_or_si128(high, _mm_loadu_si128(reinterpret_cast<const __m128i*>(text + i)));
  }
  if (_mm_movemask_epi8(high) != 0) return false;
#endif
  uint64_t word = 0;
  for (; i + 8 <= size; i += 8) {
    uint64_t next;
    std::memcpy(&next, text + i, 8);
    word |= next;
  }
  for (; i < size; ++i) word |= static_cast<unsigned char>(text[i]);
  return (word & 0x8080808080808080ull) == 0;
}

uint64_t plainFileBytes(const std::string& path) {
  std::error_code ec;
  if (endsWithIgnoringCase(path, ".gz") || !std::filesystem::is_regular_file(path, ec)) return 0;
  const uint64_t size = std::filesystem::file_size(path, ec);
  return ec ? 0 : size;
}

uint64_t lineStartFrom(const std::string& path, uint64_t offset) {
  const uint64_t size = plainFileBytes(path);
  if (offset == 0 || offset >= size) return std::min(offset, size);
  const int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
  if (fd < 0) return size;
  char block[4096];
  uint64_t at = offset - 1;  // a line starts at `offset` if the byte before it ends one
  uint64_t found = size;
  for (;;) {
    const ssize_t got = ::pread(fd, block, sizeof block, static_cast<off_t>(at));
    if (got <= 0) break;
    if (const void* lf = std::memchr(block, '\n', static_cast<size_t>(got))) {
      found = at + static_cast<uint64_t>(static_cast<const char*>(lf) - block) + 1;
      break;
    }
    at += static_cast<uint64_t>(got);
  }
  ::close(fd);
  return found;
}

std::unique_ptr<RecordReader> RecordReader::open(const SourceOptions& options,
                                                 const std::vector<std::string>& wanted,
                                                 std::string& error) {
  const bool gzip = endsWithIgnoringCase(options.path, ".gz");
  SourceFormat format = options.format;
  if (format == SourceFormat::Auto) {
    const std::string inner = gzip ? options.path.substr(0, options.path.size() - 3) : options.path;
    format = endsWithIgnoringCase(inner, ".jsonl") || endsWithIgnoringCase(inner, ".ndjson")
                 ? SourceFormat::Jsonl
                 : SourceFormat::Csv;
  }
  auto input = std::make_unique<BlockInput>();
  if (!input->open(options.path, gzip, readerBlockBytes(), error)) return nullptr;
  if (format == SourceFormat::Jsonl) {
    return openJsonlReader(options, wanted, std::move(input), error);
  }
  return openCsvReader(options, wanted, std::move(input), error);
}

}  // namespace rekindle
