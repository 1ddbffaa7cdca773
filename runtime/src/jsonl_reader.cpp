// The JSON Lines reader: one JSON object per line, parsed and fully validated by simdjson's
// DOM parser in place in the input buffer, and validJsonDocument for whole documents.
#include <simdjson.h>

#include <cstring>
#include <unordered_map>

#ifdef __SSE2__
#include <emmintrin.h>
#endif

#include "reader_internal.h"

namespace rekindle {

static_assert(kInputPadding >= simdjson::SIMDJSON_PADDING,
              "lines are parsed in place, so the input buffer must carry simdjson's padding");
static_assert(kInputPadding >= 16, "NumberTextFinder reads 16 bytes at a time");

namespace {

std::string describeError(simdjson::error_code code) {
  // The same short reason as the CSV reader gives, rather than simdjson's longer wording.
  if (code == simdjson::UTF8_ERROR) return "invalid UTF-8";
  return simdjson::error_message(code);
}

const char* describeType(simdjson::dom::element_type type) {
  switch (type) {
    case simdjson::dom::element_type::ARRAY:
      return "an array";
    case simdjson::dom::element_type::OBJECT:
      return "an object";
    case simdjson::dom::element_type::STRING:
      return "a string";
    case simdjson::dom::element_type::INT64:
    case simdjson::dom::element_type::UINT64:
    case simdjson::dom::element_type::DOUBLE:
      return "a number";
    case simdjson::dom::element_type::BOOL:
      return "a boolean";
    case simdjson::dom::element_type::NULL_VALUE:
      return "null";
  }
  return "a value";
}

// Keys are short: comparing 8 bytes at a time inline beats a call to memcmp.
bool sameBytes(std::string_view a, std::string_view b) {
  if (a.size() != b.size()) return false;
  size_t i = 0;
  for (; i + 8 <= a.size(); i += 8) {
    uint64_t x;
    uint64_t y;
    std::memcpy(&x, a.data() + i, 8);
    std::memcpy(&y, b.data() + i, 8);
    if (x != y) return false;
  }
  for (; i < a.size(); ++i) {
    if (a[i] != b[i]) return false;
  }
  return true;
}

bool isJsonSpace(char c) {
  return c == ' ' || c == '\t' || c == '\r' || c == '\n';
}

// The DOM keeps a number's parsed value but not its text, and the loader wants the text (a
// price of 19.90 must not become 19.9000000000000003 or 19.9 depending on who formats it).
// This walks the source of an object that simdjson has already validated, field by field in
// the same order as the DOM iterates, and returns the text of a field's number. It is lazy:
// a line is skimmed only as far as its last wanted number.
class NumberTextFinder {
 public:
  void reset(const char* objectText) {
    p_ = objectText;
    while (*p_ != '{') ++p_;
    ++p_;
    nextField_ = 0;
  }

  // The source text of the value of field `index`, which must be a number. Indexes must
  // increase between calls for one object.
  std::string_view numberText(size_t index) {
    for (; nextField_ < index; ++nextField_) {
      skipToValue();
      skipValue();
    }
    skipToValue();
    const char* start = p_;
    while (!endsScalar(*p_)) ++p_;
    ++nextField_;
    return std::string_view(start, static_cast<size_t>(p_ - start));
  }

 private:
  static bool endsScalar(char c) { return c == ',' || c == '}' || c == ']' || isJsonSpace(c); }

  void skipSpace() {
    while (isJsonSpace(*p_)) ++p_;
  }

  // From after the previous value (or the opening brace) to the start of the next value.
  void skipToValue() {
    skipSpace();
    if (*p_ == ',') ++p_;
    skipSpace();
    skipString();
    skipSpace();
    ++p_;  // the colon
    skipSpace();
  }

  void skipString() {
    ++p_;  // the opening quote
           // The document is valid, so a closing quote exists before the end of the line, and the
           // buffer's padding makes reading up to 15 bytes past it safe.
#ifdef __SSE2__
    const __m128i quote = _mm_set1_epi8('"');
    const __m128i backslash = _mm_set1_epi8('\\');
    for (;;) {
      const __m128i bytes = _mm_loadu_si128(reinterpret_cast<const __m128i*>(p_));
      const int hits = _mm_movemask_epi8(
          _mm_or_si128(_mm_cmpeq_epi8(bytes, quote), _mm_cmpeq_epi8(bytes, backslash)));
      if (hits == 0) {
        p_ += 16;
        continue;
      }
      p_ += __builtin_ctz(static_cast<unsigned>(hits));
      if (*p_ == '"') {
        ++p_;
        return;
      }
      p_ += 2;  // an escape: the byte after the backslash is never the closing quote
    }
#else
    for (;;) {
      const char c = *p_;
      if (c == '"') {
        ++p_;
        return;
      }
      p_ += c == '\\' ? 2 : 1;
    }
#endif
  }

  void skipValue() {
    if (*p_ == '"') {
      skipString();
      return;
    }
    if (*p_ != '{' && *p_ != '[') {
      while (!endsScalar(*p_)) ++p_;
      return;
    }
    int depth = 0;
    do {
      const char c = *p_;
      if (c == '"') {
        skipString();
        continue;
      }
      if (c == '{' || c == '[') ++depth;
      if (c == '}' || c == ']') --depth;
      ++p_;
    } while (depth > 0);
  }

  const char* p_ = nullptr;
  size_t nextField_ = 0;
};

class JsonlReader final : public RecordReader {
 public:
  JsonlReader(const SourceOptions& options, std::unique_ptr<BlockInput> input)
      : input_(std::move(input)), path_(options.path) {}

  void start(const std::vector<std::string>& wanted);

  bool next(std::vector<RawValue>& values, RecordInfo& info) override;
  std::optional<Position> position() const override {
    if (skippingLine_) return std::nullopt;
    return Position{input_->fileOffset() + pos_, line_ + 1};
  }
  bool restartAt(uint64_t offset) override {
    if (!input_->seek(offset)) return false;
    pos_ = 0;
    line_ = 0;
    done_ = false;
    return true;
  }
  const std::string& ioError() const override { return input_->ioError(); }
  const std::string& path() const override { return path_; }

 private:
  static constexpr int32_t kNotWanted = -1;

  // A key seen at some position of an earlier line, and the slot it maps to. Lines of one
  // export nearly always list their keys in the same order, so checking the key seen at the
  // same position last time replaces most hash lookups by one comparison.
  struct KeyAtPosition {
    std::string key;
    int32_t slot = kNotWanted;
  };

  bool nextLine(size_t& start, size_t& length);
  bool readMore();
  int32_t slotFor(size_t position, std::string_view key);
  void reject(RecordInfo& info, std::string reason, std::string field = {});

  std::unique_ptr<BlockInput> input_;
  std::string path_;
  simdjson::dom::parser parser_;
  std::vector<std::string> wanted_;
  std::unordered_map<std::string_view, int32_t> slotByKey_;  // views into wanted_
  std::vector<KeyAtPosition> keyCache_;
  NumberTextFinder numbers_;

  size_t pos_ = 0;     // offset in the buffer of the next unread byte
  uint64_t line_ = 0;  // physical lines read so far
  bool done_ = false;
  bool skippingLine_ = false;  // after an overlong line: drop input up to the next LF
  bool overlong_ = false;      // the current line was rejected for its length
};

void JsonlReader::start(const std::vector<std::string>& wanted) {
  wanted_ = wanted;
  for (size_t i = 0; i < wanted_.size(); ++i) {
    // The first of duplicate wanted names keeps the slot; the loader asks for each once.
    slotByKey_.emplace(wanted_[i], static_cast<int32_t>(i));
  }
  pos_ = skipByteOrderMark(*input_);
}

int32_t JsonlReader::slotFor(size_t position, std::string_view key) {
  if (position >= keyCache_.size()) keyCache_.resize(position + 1);
  KeyAtPosition& cached = keyCache_[position];
  if (sameBytes(cached.key, key)) return cached.slot;
  auto found = slotByKey_.find(key);
  cached.key.assign(key.data(), key.size());
  cached.slot = found == slotByKey_.end() ? kNotWanted : found->second;
  return cached.slot;
}

// Reads another block, keeping the bytes from pos_ on. False when no more will come: then the
// bytes from pos_ on are the incomplete line left by an I/O error.
bool JsonlReader::readMore() {
  if (input_->exhausted()) return false;
  input_->refill(pos_);
  pos_ = 0;
  return true;
}

// Finds the next non-blank line; false at the end of the input or after an I/O error.
bool JsonlReader::nextLine(size_t& start, size_t& length) {
  overlong_ = false;
  for (;;) {
    const char* buffer = input_->data();
    const size_t size = input_->size();
    // After an I/O error the input is cut short, not ended: the complete records already
    // buffered are still read, but a partial one at the end is dropped, not misread.
    const bool final = input_->exhausted() && input_->ioError().empty();
    if (pos_ >= size) {
      if (final || !readMore()) return false;
      continue;
    }
    const void* lf = std::memchr(buffer + pos_, '\n', size - pos_);
    if (skippingLine_) {
      pos_ = lf != nullptr ? static_cast<size_t>(static_cast<const char*>(lf) - buffer) + 1 : size;
      skippingLine_ = lf == nullptr;
      continue;
    }
    size_t lineEnd = size;
    size_t next = size;
    if (lf != nullptr) {
      lineEnd = static_cast<size_t>(static_cast<const char*>(lf) - buffer);
      next = lineEnd + 1;
    } else if (!final) {
      if (size - pos_ > kMaxRecordBytes) {
        // Reject what we have and drop the rest of the line, rather than buffer without end.
        ++line_;
        start = pos_;
        length = size - pos_;
        pos_ = size;
        skippingLine_ = true;
        overlong_ = true;
        return true;
      }
      if (!readMore()) return false;
      continue;
    }
    ++line_;
    start = pos_;
    pos_ = next;
    length = lineEnd - start;
    if (length > 0 && buffer[start + length - 1] == '\r') --length;
    if (length > kMaxRecordBytes) {  // as if its end had not been buffered yet
      overlong_ = true;
      return true;
    }
    size_t i = 0;
    while (i < length && isJsonSpace(buffer[start + i])) ++i;
    if (i < length) return true;  // blank lines are skipped
  }
}

void JsonlReader::reject(RecordInfo& info, std::string reason, std::string field) {
  info.ok = false;
  info.error.line = info.line;
  info.error.column = 0;
  info.error.field = std::move(field);
  info.error.reason = std::move(reason);
}

bool JsonlReader::next(std::vector<RawValue>& values, RecordInfo& info) {
  values.resize(wanted_.size());
  for (RawValue& value : values) value = RawValue{};  // absent keys read as Missing
  info.ok = true;
  info.error.line = 0;
  info.error.column = 0;
  info.error.field.clear();
  info.error.reason.clear();
  size_t start = 0;
  size_t length = 0;
  if (done_ || !nextLine(start, length)) {
    done_ = true;
    info.raw = {};
    return false;
  }
  const char* line = input_->data() + start;
  info.line = line_;
  info.raw = std::string_view(line, length);
  if (overlong_) {
    reject(info, "line longer than 64 MiB");
    return true;
  }

  // In place: the buffer holds at least kInputPadding readable bytes after any line.
  simdjson::dom::element document;
  const simdjson::error_code code = parser_.parse(line, length, false).get(document);
  if (code != simdjson::SUCCESS) {
    reject(info, describeError(code));
    return true;
  }
  if (document.type() != simdjson::dom::element_type::OBJECT) {
    reject(info, std::string("not a JSON object (found ") + describeType(document.type()) + ")");
    return true;
  }

  bool numbersStarted = false;
  size_t position = 0;
  const simdjson::dom::object object = document.get_object().value_unsafe();
  // Strings and keys are views into the parser's string buffer, valid until the next parse,
  // that is until the next call: what RawValue promises.
  for (simdjson::dom::key_value_pair field : object) {
    const int32_t slot = slotFor(position, field.key);
    if (slot != kNotWanted) {
      // With duplicate keys the last one wins, as in JavaScript.
      RawValue& value = values[static_cast<size_t>(slot)];
      value.b = false;
      value.text = {};
      switch (field.value.type()) {
        case simdjson::dom::element_type::STRING:
          value.kind = RawKind::Text;
          value.text = field.value.get_string().value_unsafe();
          break;
        case simdjson::dom::element_type::INT64:
        case simdjson::dom::element_type::UINT64:
        case simdjson::dom::element_type::DOUBLE:
          if (!numbersStarted) {
            numbers_.reset(line);
            numbersStarted = true;
          }
          value.kind = RawKind::Number;
          value.text = numbers_.numberText(position);
          break;
        case simdjson::dom::element_type::BOOL:
          value.kind = RawKind::Bool;
          value.b = field.value.get_bool().value_unsafe();
          value.text = value.b ? "true" : "false";
          break;
        case simdjson::dom::element_type::NULL_VALUE:
          value.kind = RawKind::Null;
          break;
        case simdjson::dom::element_type::OBJECT:
        case simdjson::dom::element_type::ARRAY:
          reject(info,
                 "field '" + std::string(field.key) + "' is " + describeType(field.value.type()) +
                     ", expected a scalar",
                 std::string(field.key));
          return true;
      }
    }
    ++position;
  }
  return true;
}

}  // namespace

std::unique_ptr<RecordReader> openJsonlReader(const SourceOptions& options,
                                              const std::vector<std::string>& wanted,
                                              std::unique_ptr<BlockInput> input,
                                              std::string& error) {
  auto reader = std::make_unique<JsonlReader>(options, std::move(input));
  reader->start(wanted);
  if (!reader->ioError().empty()) {
    error = reader->ioError();
    return nullptr;
  }
  return reader;
}

bool validJsonDocument(std::string_view text, std::string* error) {
  // simdjson's DOM parser validates all of RFC 8259 (structure, escapes, UTF-8, number
  // grammar, no trailing content), and it accepts every y_ and rejects every n_ case of
  // JSONTestSuite as it stands, so no extra checks are needed here. Beyond the RFC it rejects
  // numbers outside the double range (1e400) and integers too big for 64 bits, and nesting
  // deeper than 1024: those are the i_ cases, where either answer is allowed.
  thread_local simdjson::dom::parser parser;
  const simdjson::padded_string padded(text);
  simdjson::dom::element document;
  const simdjson::error_code code = parser.parse(padded).get(document);
  if (code != simdjson::SUCCESS) {
    if (error != nullptr) *error = describeError(code);
    return false;
  }
  return true;
}

}  // namespace rekindle
