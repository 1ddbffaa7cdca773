// Tests for the record readers (runtime/reader.h): the csv-spectrum and JSONTestSuite suites,
// the CSV and JSONL edge cases the loader relies on, gzip input, and records that straddle
// block boundaries (the block size is forced tiny through REKINDLE_READER_BLOCK).
#include "rekindle/runtime/reader.h"

#include <stdlib.h>
#include <unistd.h>
#include <zlib.h>

#include <catch2/catch.hpp>
#include <filesystem>
#include <fstream>
#include <nlohmann/json.hpp>
#include <random>
#include <sstream>

namespace fs = std::filesystem;
using rekindle::RawKind;
using rekindle::RawValue;
using rekindle::RecordInfo;
using rekindle::RecordReader;
using rekindle::SourceFormat;
using rekindle::SourceOptions;

namespace {

const std::string kSourceDir = REKINDLE_SOURCE_DIR;

// A fresh directory under the system temp directory, removed with its contents at scope end.
class TempDir {
 public:
  TempDir() {
    std::string pattern = (fs::temp_directory_path() / "rekindle_reader_XXXXXX").string();
    path_ = ::mkdtemp(pattern.data());
  }
  ~TempDir() {
    std::error_code ignored;
    fs::remove_all(path_, ignored);
  }
  std::string file(const std::string& name) const { return (fs::path(path_) / name).string(); }

 private:
  std::string path_;
};

// Forces the reader's block size for the readers opened in its scope.
class ScopedBlockSize {
 public:
  explicit ScopedBlockSize(size_t bytes) {
    ::setenv("REKINDLE_READER_BLOCK", std::to_string(bytes).c_str(), 1);
  }
  ~ScopedBlockSize() { ::unsetenv("REKINDLE_READER_BLOCK"); }
};

void writeFile(const std::string& path, const std::string& bytes) {
  std::ofstream out(path, std::ios::binary);
  out.write(bytes.data(), static_cast<std::streamsize>(bytes.size()));
}

void writeGzip(const std::string& path, const std::string& bytes) {
  gzFile gz = gzopen(path.c_str(), "wb");
  REQUIRE(gz != nullptr);
  REQUIRE(gzwrite(gz, bytes.data(), static_cast<unsigned>(bytes.size())) ==
          static_cast<int>(bytes.size()));
  REQUIRE(gzclose(gz) == Z_OK);
}

std::string readFile(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  std::ostringstream out;
  out << in.rdbuf();
  return out.str();
}

// A value as comparable text: T:text, N:number, B:true/false, null, missing.
std::string show(const RawValue& value) {
  switch (value.kind) {
    case RawKind::Missing:
      return "missing";
    case RawKind::Null:
      return "null";
    case RawKind::Text:
      return "T:" + std::string(value.text);
    case RawKind::Number:
      return "N:" + std::string(value.text);
    case RawKind::Bool:
      return value.b ? "B:true" : "B:false";
  }
  return "?";
}

struct Row {
  bool ok = true;
  uint64_t line = 0;
  std::string raw;
  std::vector<std::string> values;  // show() of each wanted value; empty when !ok
  uint32_t column = 0;
  std::string field;
  std::string reason;

  bool operator==(const Row& o) const {
    return ok == o.ok && line == o.line && raw == o.raw && values == o.values &&
           column == o.column && field == o.field && reason == o.reason;
  }
};

struct ReadResult {
  std::string openError;
  std::string ioError;
  std::vector<Row> rows;
};

ReadResult readAll(const SourceOptions& options, const std::vector<std::string>& wanted) {
  ReadResult result;
  auto reader = RecordReader::open(options, wanted, result.openError);
  if (!reader) return result;
  std::vector<RawValue> values;
  RecordInfo info;
  while (reader->next(values, info)) {
    Row row;
    row.ok = info.ok;
    row.line = info.line;
    row.raw = std::string(info.raw);
    if (info.ok) {
      REQUIRE(values.size() == wanted.size());
      for (const RawValue& value : values) row.values.push_back(show(value));
    } else {
      CHECK(info.error.line == info.line);
      row.column = info.error.column;
      row.field = info.error.field;
      row.reason = info.error.reason;
    }
    result.rows.push_back(std::move(row));
  }
  result.ioError = reader->ioError();
  return result;
}

SourceOptions csvOptions(const std::string& path) {
  SourceOptions options;
  options.path = path;
  return options;
}

// Writes `text` to a file named `name` in a fresh temp dir and reads it.
ReadResult readText(const std::string& name, const std::string& text,
                    const std::vector<std::string>& wanted,
                    SourceOptions options = SourceOptions{}) {
  TempDir dir;
  options.path = dir.file(name);
  writeFile(options.path, text);
  return readAll(options, wanted);
}

const std::vector<size_t> kTinyBlocks = {1, 2, 3, 5, 7, 16};

}  // namespace

// --- Suites -------------------------------------------------------------------------------

TEST_CASE("every csv-spectrum file reads as its JSON", "[reader]") {
  const fs::path suite = fs::path(kSourceDir) / "tests/suites/csv-spectrum";
  size_t files = 0;
  for (const auto& entry : fs::directory_iterator(suite / "csvs")) {
    const std::string name = entry.path().stem().string();
    INFO("csv-spectrum/" << name);
    const nlohmann::json expected =
        nlohmann::json::parse(readFile((suite / "json" / (name + ".json")).string()));
    ++files;

    if (name == "location_coordinates") {
      // This case is broken upstream: its JSON is not an array and its phone number differs
      // from the CSV's, and the CSV has a bare quote (37'37.8"N) inside an unquoted field,
      // which RFC 4180 does not allow. Our reader rejects that record, naming the field.
      std::vector<std::string> wanted;
      for (const auto& item : expected.items()) wanted.push_back(item.key());
      ReadResult read = readAll(csvOptions(entry.path().string()), wanted);
      REQUIRE(read.openError.empty());
      REQUIRE(read.rows.size() == 1);
      CHECK_FALSE(read.rows[0].ok);
      CHECK(read.rows[0].line == 2);
      CHECK(read.rows[0].column == 2);
      CHECK(read.rows[0].field == "Location Coordinates");
      CHECK(read.rows[0].reason == "stray quote in an unquoted field");
      continue;
    }

    REQUIRE(expected.is_array());
    REQUIRE(!expected.empty());
    std::vector<std::string> wanted;
    for (const auto& item : expected[0].items()) wanted.push_back(item.key());

    ReadResult read = readAll(csvOptions(entry.path().string()), wanted);
    REQUIRE(read.openError.empty());
    REQUIRE(read.rows.size() == expected.size());
    for (size_t r = 0; r < expected.size(); ++r) {
      REQUIRE(read.rows[r].ok);
      for (size_t c = 0; c < wanted.size(); ++c) {
        const std::string want = expected[r][wanted[c]].get<std::string>();
        // csv-spectrum writes an empty cell as ""; the reader gives Null for it.
        CHECK(read.rows[r].values[c] == (want.empty() ? "null" : "T:" + want));
      }
    }
    // The same file, with every record straddling block boundaries, reads the same.
    for (size_t block : kTinyBlocks) {
      ScopedBlockSize tiny(block);
      INFO("block " << block);
      CHECK(readAll(csvOptions(entry.path().string()), wanted).rows == read.rows);
    }
  }
  CHECK(files == 12);
}

TEST_CASE("JSONTestSuite: y_ accepted, n_ rejected, i_ either", "[reader]") {
  const fs::path suite = fs::path(kSourceDir) / "tests/suites/JSONTestSuite/test_parsing";
  size_t accepted = 0;
  size_t rejected = 0;
  size_t either = 0;
  for (const auto& entry : fs::directory_iterator(suite)) {
    const std::string name = entry.path().filename().string();
    INFO(name);
    const std::string text = readFile(entry.path().string());
    std::string error;
    const bool valid = rekindle::validJsonDocument(text, &error);
    if (name.rfind("y_", 0) == 0) {
      CHECK(valid);
      ++accepted;
    } else if (name.rfind("n_", 0) == 0) {
      CHECK_FALSE(valid);
      CHECK_FALSE(error.empty());
      ++rejected;
    } else {
      ++either;
    }
  }
  CHECK(accepted == 95);
  CHECK(rejected == 188);
  CHECK(either == 35);
}

// --- CSV --------------------------------------------------------------------------------

TEST_CASE("CSV: a UTF-8 byte-order mark is skipped", "[reader]") {
  ReadResult read = readText("bom.csv",
                             "\xEF\xBB\xBF"
                             "id,name\n1,Ann\n",
                             {"id", "name"});
  REQUIRE(read.openError.empty());
  REQUIRE(read.rows.size() == 1);
  CHECK(read.rows[0].values == std::vector<std::string>{"T:1", "T:Ann"});
}

TEST_CASE("CSV: CRLF and LF line ends, last line without a newline", "[reader]") {
  ReadResult read = readText("crlf.csv", "a,b\r\n1,2\r\n3,4\n5,6", {"b", "a"});
  REQUIRE(read.rows.size() == 3);
  CHECK(read.rows[0].values == std::vector<std::string>{"T:2", "T:1"});
  CHECK(read.rows[0].raw == "1,2");
  CHECK(read.rows[0].line == 2);
  CHECK(read.rows[1].raw == "3,4");
  CHECK(read.rows[2].raw == "5,6");
  CHECK(read.rows[2].line == 4);
}

TEST_CASE("CSV: quoted line breaks keep the line numbers physical", "[reader]") {
  const std::string text =
      "a,b\n"
      "\"x\ny\",1\n"            // lines 2-3
      "\"p\r\nq\",2\r\n"        // lines 4-5
      "\"r\rs\",3\n"            // lines 6-7 (a lone CR counts as a line break)
      "\"say \"\"hi\"\"\",4\n"  // line 8
      "last,5\n";               // line 9
  ReadResult read = readText("nl.csv", text, {"a", "b"});
  REQUIRE(read.rows.size() == 5);
  CHECK(read.rows[0].line == 2);
  CHECK(read.rows[0].raw == "\"x\ny\",1");
  CHECK(read.rows[0].values == std::vector<std::string>{"T:x\ny", "T:1"});
  CHECK(read.rows[1].line == 4);
  CHECK(read.rows[1].values[0] == "T:p\r\nq");
  CHECK(read.rows[2].line == 6);
  CHECK(read.rows[2].values[0] == "T:r\rs");
  CHECK(read.rows[3].line == 8);
  CHECK(read.rows[3].values[0] == "T:say \"hi\"");
  CHECK(read.rows[4].line == 9);
  for (size_t block : kTinyBlocks) {
    ScopedBlockSize tiny(block);
    CHECK(readText("nl.csv", text, {"a", "b"}).rows == read.rows);
  }
}

TEST_CASE("CSV: 1 MB fields, quoted and not, across tiny blocks", "[reader]") {
  std::string big(1 << 20, 'x');
  for (size_t i = 0; i < big.size(); i += 4099) big[i] = ',';
  std::string bigQuoted = big;
  bigQuoted[17] = '"';
  std::string escaped;
  for (char c : bigQuoted) {
    escaped += c;
    if (c == '"') escaped += '"';
  }
  std::string plain(1 << 20, 'p');
  const std::string text = "id,text\n1,\"" + escaped + "\"\n2," + plain + "\n3,short\n";
  for (size_t block : {size_t{0}, size_t{7}, size_t{4096}}) {
    INFO("block " << block);
    std::unique_ptr<ScopedBlockSize> tiny;
    if (block > 0) tiny = std::make_unique<ScopedBlockSize>(block);
    ReadResult read = readText("big.csv", text, {"id", "text"});
    REQUIRE(read.rows.size() == 3);
    CHECK(read.rows[0].values[1] == "T:" + bigQuoted);
    CHECK(read.rows[1].values[1] == "T:" + plain);
    CHECK(read.rows[2].values == std::vector<std::string>{"T:3", "T:short"});
    CHECK(read.rows[2].line == 4);
  }
}

TEST_CASE("CSV: empty file and header-only file give no records", "[reader]") {
  ReadResult empty = readText("empty.csv", "", {"a", "b"});
  CHECK(empty.openError.empty());
  CHECK(empty.rows.empty());
  ReadResult blank = readText("blank.csv", "\n\r\n", {"a"});
  CHECK(blank.openError.empty());
  CHECK(blank.rows.empty());
  ReadResult headerOnly = readText("header.csv", "a,b\n", {"b"});
  CHECK(headerOnly.openError.empty());
  CHECK(headerOnly.rows.empty());
  ReadResult headerNoNewline = readText("header2.csv", "a,b", {"a"});
  CHECK(headerNoNewline.openError.empty());
  CHECK(headerNoNewline.rows.empty());
}

TEST_CASE("CSV: a missing column fails open, naming it and the header", "[reader]") {
  TempDir dir;
  const std::string path = dir.file("customers.csv");
  writeFile(path, "a, b ,c\n1,2,3\n");
  std::string error;
  auto reader = RecordReader::open(csvOptions(path), {"a", "signup_at"}, error);
  CHECK(reader == nullptr);
  CHECK(error == path +
                     ": missing column 'signup_at' (the schema needs it; the header has: a, "
                     "b, c)");

  SourceOptions noHeader = csvOptions(path);
  noHeader.header = false;
  noHeader.columns = {"x", "y", "z"};
  reader = RecordReader::open(noHeader, {"w"}, error);
  CHECK(reader == nullptr);
  CHECK(error.find("missing column 'w'") != std::string::npos);
  CHECK(error.find("x, y, z") != std::string::npos);
}

TEST_CASE("CSV: extra columns are ignored and header names are trimmed", "[reader]") {
  ReadResult read = readText("extra.csv", " id ,skip,\tname\t,more\n7,x,Bo,y\n", {"name", "id"});
  REQUIRE(read.openError.empty());
  REQUIRE(read.rows.size() == 1);
  CHECK(read.rows[0].values == std::vector<std::string>{"T:Bo", "T:7"});
}

TEST_CASE("CSV: empty and quoted-empty cells are Null, blanks are kept", "[reader]") {
  ReadResult read = readText("null.csv", "a,b,c,d\n,\"\", x ,\"\"\"\"\n", {"a", "b", "c", "d"});
  REQUIRE(read.rows.size() == 1);
  CHECK(read.rows[0].values == std::vector<std::string>{"null", "null", "T: x ", "T:\""});
}

TEST_CASE("CSV: NUL bytes are data", "[reader]") {
  const std::string text = std::string("a,b\n\0x,", 7) + std::string(100, 'y') + '\0' + "z\n";
  ReadResult read = readText("nul.csv", text, {"a", "b"});
  REQUIRE(read.rows.size() == 1);
  CHECK(read.rows[0].values == std::vector<std::string>{std::string("T:\0x", 4),
                                                        "T:" + std::string(100, 'y') + '\0' + "z"});
}

TEST_CASE("CSV: blank lines between records are skipped", "[reader]") {
  ReadResult read = readText("blank.csv", "a\n\n1\n\r\n\n2\n\n", {"a"});
  REQUIRE(read.rows.size() == 2);
  CHECK(read.rows[0].line == 3);
  CHECK(read.rows[1].line == 6);
}

TEST_CASE("CSV: a wrong field count rejects the record, and reading goes on", "[reader]") {
  ReadResult read = readText("count.csv", "a,b,c\n1,2\n1,2,3,4\n5,6,7\n", {"a"});
  REQUIRE(read.rows.size() == 3);
  CHECK_FALSE(read.rows[0].ok);
  CHECK(read.rows[0].reason == "expected 3 fields, found 2");
  CHECK(read.rows[0].column == 0);
  CHECK(read.rows[0].line == 2);
  CHECK(read.rows[0].raw == "1,2");
  CHECK_FALSE(read.rows[1].ok);
  CHECK(read.rows[1].reason == "expected 3 fields, found 4");
  CHECK(read.rows[2].ok);
  CHECK(read.rows[2].values == std::vector<std::string>{"T:5"});
}

TEST_CASE("CSV: bad quoting names the field", "[reader]") {
  ReadResult read =
      readText("quote.csv", "a,b\n1,x\"y\n\"ab\"c,2\n\"ok\",\"fine\"\n\"u\" ,3\n", {"a", "b"});
  REQUIRE(read.rows.size() == 4);
  CHECK_FALSE(read.rows[0].ok);
  CHECK(read.rows[0].column == 2);
  CHECK(read.rows[0].field == "b");
  CHECK(read.rows[0].reason == "stray quote in an unquoted field");
  CHECK_FALSE(read.rows[1].ok);
  CHECK(read.rows[1].column == 1);
  CHECK(read.rows[1].field == "a");
  CHECK(read.rows[1].reason == "unexpected text after a closing quote");
  CHECK(read.rows[1].line == 3);
  CHECK(read.rows[2].ok);
  CHECK(read.rows[2].values == std::vector<std::string>{"T:ok", "T:fine"});
  CHECK_FALSE(read.rows[3].ok);
  CHECK(read.rows[3].column == 1);
}

TEST_CASE("CSV: an unterminated quoted field ends the input", "[reader]") {
  const std::string text = "a,b\n1,2\n3,\"abc\ndef\n";
  ReadResult read = readText("open.csv", text, {"a", "b"});
  REQUIRE(read.rows.size() == 2);
  CHECK(read.rows[0].ok);
  CHECK_FALSE(read.rows[1].ok);
  CHECK(read.rows[1].reason == "unterminated quoted field");
  CHECK(read.rows[1].column == 2);
  CHECK(read.rows[1].line == 3);
  CHECK(read.rows[1].raw == "3,\"abc\ndef");
  for (size_t block : kTinyBlocks) {
    ScopedBlockSize tiny(block);
    CHECK(readText("open.csv", text, {"a", "b"}).rows == read.rows);
  }
}

TEST_CASE("CSV: invalid UTF-8 rejects the record and names the field", "[reader]") {
  const std::vector<std::string> bad = {
      "\xC3\x28",          // a lead byte without its continuation
      "\x80",              // a lone continuation byte
      "\xC0\xAF",          // overlong '/'
      "\xE0\x80\xAF",      // overlong, 3 bytes
      "\xED\xA0\x80",      // UTF-16 surrogate U+D800
      "\xF4\x90\x80\x80",  // above U+10FFFF
      "\xF8\x88\x80\x80\x80",
      "ok\xE2\x82",  // truncated at the end of the record
  };
  for (const std::string& cell : bad) {
    INFO("cell bytes: " << cell);
    ReadResult read = readText("utf8.csv", "a,b,c\n1,\"q\"," + cell + "\n2,3,4\n", {"a"});
    REQUIRE(read.rows.size() == 2);
    CHECK_FALSE(read.rows[0].ok);
    CHECK(read.rows[0].reason == "invalid UTF-8");
    CHECK(read.rows[0].column == 3);
    CHECK(read.rows[0].field == "c");
    CHECK(read.rows[1].ok);
  }
  ReadResult good =
      readText("utf8.csv", "a\n\xC3\xA9\xE2\x82\xAC\xF0\x9F\x98\x80\xF4\x8F\xBF\xBF\n", {"a"});
  REQUIRE(good.rows.size() == 1);
  CHECK(good.rows[0].ok);
}

TEST_CASE("CSV: other delimiters, and no header with configured columns", "[reader]") {
  SourceOptions semicolon;
  semicolon.delimiter = ';';
  ReadResult read = readText("semi.csv", "a;b\n\"x;y\";2\n", {"a", "b"}, semicolon);
  REQUIRE(read.rows.size() == 1);
  CHECK(read.rows[0].values == std::vector<std::string>{"T:x;y", "T:2"});

  SourceOptions tab;
  tab.delimiter = '\t';
  tab.header = false;
  tab.columns = {"id", "name"};
  read = readText("tab.tsv", "1\tAnn Lee\n2\t\"Bo\tB\"\n", {"name"}, tab);
  REQUIRE(read.rows.size() == 2);
  CHECK(read.rows[0].line == 1);
  CHECK(read.rows[0].values == std::vector<std::string>{"T:Ann Lee"});
  CHECK(read.rows[1].values == std::vector<std::string>{"T:Bo\tB"});
}

TEST_CASE("CSV: whitespace-delimited CDNOW files", "[reader]") {
  SourceOptions sample;
  sample.path = kSourceDir + "/examples/cdnow/data/CDNOW_sample.txt";
  sample.whitespaceDelimited = true;
  sample.header = false;
  sample.columns = {"master_id", "sample_id", "date", "cds", "dollars"};
  ReadResult read = readAll(sample, {"sample_id", "date", "cds", "dollars"});
  REQUIRE(read.openError.empty());
  REQUIRE(read.rows.size() == 6919);
  CHECK(read.rows[0].line == 1);
  CHECK(read.rows[0].raw == " 00004 0001 19970101  2   29.33");
  CHECK(read.rows[0].values == std::vector<std::string>{"T:0001", "T:19970101", "T:2", "T:29.33"});
  CHECK(read.rows[1].values[3] == "T:29.73");
  CHECK(read.rows.back().line == 6919);
  CHECK(read.rows.back().values ==
        std::vector<std::string>{"T:2357", "T:19970325", "T:2", "T:25.74"});
  for (const Row& row : read.rows) REQUIRE(row.ok);

  SourceOptions master;
  master.path = kSourceDir + "/examples/cdnow/data/CDNOW_master.txt";
  master.whitespaceDelimited = true;
  ReadResult all = readAll(master, {"customer_id", "dollar_value"});
  REQUIRE(all.openError.empty());
  CHECK(all.rows.size() == 69659);
  CHECK(all.rows[0].values == std::vector<std::string>{"T:00001", "T:11.77"});

  // Tabs, trailing blanks, a line of blanks only, and quotes that are just text here.
  SourceOptions options;
  options.whitespaceDelimited = true;
  options.header = false;
  options.columns = {"a", "b"};
  const std::string text = "\t1 \t \"x\"  \r\n   \n2 3\n4\n5 6";
  read = readText("ws.txt", text, {"b", "a"}, options);
  REQUIRE(read.rows.size() == 4);
  CHECK(read.rows[0].values == std::vector<std::string>{"T:\"x\"", "T:1"});
  CHECK(read.rows[1].line == 3);
  CHECK(read.rows[2].reason == "expected 2 fields, found 1");
  CHECK(read.rows[3].values == std::vector<std::string>{"T:6", "T:5"});
  for (size_t block : kTinyBlocks) {
    ScopedBlockSize tiny(block);
    CHECK(readText("ws.txt", text, {"b", "a"}, options).rows == read.rows);
  }
}

TEST_CASE("open reports missing files and directories", "[reader]") {
  TempDir dir;
  std::string error;
  const std::string missing = dir.file("nope.csv");
  CHECK(RecordReader::open(csvOptions(missing), {"a"}, error) == nullptr);
  CHECK(error == "cannot open '" + missing + "': No such file or directory");
  const std::string folder = dir.file("folder.csv");
  fs::create_directory(folder);
  CHECK(RecordReader::open(csvOptions(folder), {"a"}, error) == nullptr);
  CHECK(error == "cannot open '" + folder + "': Is a directory");
}

// --- JSON Lines ---------------------------------------------------------------------------

TEST_CASE("JSONL: value kinds, number text and missing keys", "[reader]") {
  const std::string text =
      "{\"s\":\"a\\\"b\\u00e9\",\"n\":-12.50e1,\"i\":42,\"t\":true,\"f\":false,\"z\":null,"
      "\"u\":18446744073709551615,\"big\":0.1000000000000000000001}\n";
  const std::vector<std::string> wanted = {"s", "n", "i", "t", "f", "z", "u", "big", "absent"};
  ReadResult read = readText("types.jsonl", text, wanted);
  REQUIRE(read.openError.empty());
  REQUIRE(read.rows.size() == 1);
  CHECK(read.rows[0].ok);
  CHECK(read.rows[0].line == 1);
  CHECK(read.rows[0].values == std::vector<std::string>{"T:a\"b\xC3\xA9", "N:-12.50e1", "N:42",
                                                        "B:true", "B:false", "null",
                                                        "N:18446744073709551615",
                                                        "N:0.1000000000000000000001", "missing"});
}

TEST_CASE("JSONL: number text is found past nested values and tricky strings", "[reader]") {
  const std::string text =
      "{ \"x\" : [1,{\"y\":\"}\\\\\"},[]] , \"s\":\"q\\\\\\\"\\\"\", \"k\\\"\":{} ,\"n\" : 7 ,"
      "\"m\":1e-3}\n"
      "{\"n\":8}\n"
      "{\"m\":2,\"n\":9}\n";
  ReadResult read = readText("skim.jsonl", text, {"n", "m", "s"});
  REQUIRE(read.rows.size() == 3);
  CHECK(read.rows[0].values == std::vector<std::string>{"N:7", "N:1e-3", "T:q\\\"\""});
  CHECK(read.rows[1].values == std::vector<std::string>{"N:8", "missing", "missing"});
  CHECK(read.rows[2].values == std::vector<std::string>{"N:9", "N:2", "missing"});
}

TEST_CASE("JSONL: keys in any order, escaped keys, duplicates", "[reader]") {
  const std::string text =
      "{\"a\":1,\"b\":\"x\"}\n"
      "{\"b\":\"y\",\"a\":2}\n"
      "{\"\\u0061\":3,\"c\":0}\n"
      "{\"a\":4,\"a\":5}\n";
  ReadResult read = readText("order.jsonl", text, {"a", "b"});
  REQUIRE(read.rows.size() == 4);
  CHECK(read.rows[0].values == std::vector<std::string>{"N:1", "T:x"});
  CHECK(read.rows[1].values == std::vector<std::string>{"N:2", "T:y"});
  CHECK(read.rows[2].values == std::vector<std::string>{"N:3", "missing"});
  CHECK(read.rows[3].values == std::vector<std::string>{"N:5", "missing"});
}

TEST_CASE("JSONL: nested values, invalid lines and non-objects are rejected", "[reader]") {
  const std::string text =
      "{\"a\":{\"x\":1}}\n"
      "{\"a\":[1]}\n"
      "{\"a\":1,\"other\":{\"deep\":[]}}\n"
      "{\"a\":1,}\n"
      "[1,2]\n"
      "\"text\"\n"
      "{\"a\":\"\xC3\x28\"}\n"
      "{\"a\":1} {\"a\":2}\n"
      "{\"a\":true}";
  ReadResult read = readText("bad.jsonl", text, {"a"});
  REQUIRE(read.rows.size() == 9);
  CHECK_FALSE(read.rows[0].ok);
  CHECK(read.rows[0].reason == "field 'a' is an object, expected a scalar");
  CHECK(read.rows[0].field == "a");
  CHECK(read.rows[1].reason == "field 'a' is an array, expected a scalar");
  CHECK(read.rows[2].ok);  // nested values in unwanted keys are fine
  CHECK_FALSE(read.rows[3].ok);
  CHECK_FALSE(read.rows[3].reason.empty());
  CHECK(read.rows[3].line == 4);
  CHECK(read.rows[3].raw == "{\"a\":1,}");
  CHECK(read.rows[4].reason == "not a JSON object (found an array)");
  CHECK(read.rows[5].reason == "not a JSON object (found a string)");
  CHECK(read.rows[6].reason == "invalid UTF-8");
  CHECK_FALSE(read.rows[7].ok);
  CHECK(read.rows[8].ok);
  CHECK(read.rows[8].values == std::vector<std::string>{"B:true"});
}

TEST_CASE("JSONL: blank lines, CRLF and a BOM", "[reader]") {
  const std::string text = "\xEF\xBB\xBF{\"a\":1}\r\n\r\n   \n\t\r\n{\"a\":2}\n\n";
  ReadResult read = readText("blank.ndjson", text, {"a"});
  REQUIRE(read.rows.size() == 2);
  CHECK(read.rows[0].line == 1);
  CHECK(read.rows[0].raw == "{\"a\":1}");
  CHECK(read.rows[1].line == 5);
  CHECK(read.rows[1].values == std::vector<std::string>{"N:2"});
  for (size_t block : kTinyBlocks) {
    ScopedBlockSize tiny(block);
    CHECK(readText("blank.ndjson", text, {"a"}).rows == read.rows);
  }
  CHECK(readText("empty.jsonl", "", {"a"}).rows.empty());
}

TEST_CASE("JSONL: explicit format overrides the extension", "[reader]") {
  SourceOptions options;
  options.format = SourceFormat::Jsonl;
  ReadResult read = readText("events.txt", "{\"a\":\"x\"}\n", {"a"}, options);
  REQUIRE(read.rows.size() == 1);
  CHECK(read.rows[0].values == std::vector<std::string>{"T:x"});
  options.format = SourceFormat::Csv;
  read = readText("events.jsonl", "a\nx\n", {"a"}, options);
  REQUIRE(read.rows.size() == 1);
  CHECK(read.rows[0].values == std::vector<std::string>{"T:x"});
}

// --- gzip ---------------------------------------------------------------------------------

TEST_CASE("gzip input is read transparently, format from the inner extension", "[reader]") {
  TempDir dir;
  const std::string csv = dir.file("customers.csv.gz");
  writeGzip(csv, "id,name\n1,\"A, B\"\n2,C\n");
  ReadResult read = readAll(csvOptions(csv), {"name"});
  REQUIRE(read.openError.empty());
  REQUIRE(read.rows.size() == 2);
  CHECK(read.rows[0].values == std::vector<std::string>{"T:A, B"});

  const std::string jsonl = dir.file("events.JSONL.gz");
  writeGzip(jsonl, "{\"a\":1}\n{\"a\":2}\n");
  for (size_t block : {size_t{0}, size_t{3}}) {
    std::unique_ptr<ScopedBlockSize> tiny;
    if (block > 0) tiny = std::make_unique<ScopedBlockSize>(block);
    read = readAll(csvOptions(jsonl), {"a"});
    REQUIRE(read.rows.size() == 2);
    CHECK(read.rows[1].values == std::vector<std::string>{"N:2"});
    CHECK(read.ioError.empty());
  }

  const std::string empty = dir.file("empty.csv.gz");
  writeGzip(empty, "");
  read = readAll(csvOptions(empty), {"a"});
  CHECK(read.openError.empty());
  CHECK(read.rows.empty());
}

TEST_CASE("gzip errors: not gzip, corrupt, truncated", "[reader]") {
  TempDir dir;
  std::string error;
  const std::string plain = dir.file("plain.csv.gz");
  writeFile(plain, "a,b\n1,2\n");
  CHECK(RecordReader::open(csvOptions(plain), {"a"}, error) == nullptr);
  CHECK(error.find("not gzip data") != std::string::npos);

  // Many records, so that the stream is far longer than the first block.
  std::string text = "id,value\n";
  std::mt19937 random(42);
  for (int i = 0; i < 400000; ++i) {
    text += std::to_string(i) + "," + std::to_string(random()) + "\n";
  }
  const std::string good = dir.file("good.csv.gz");
  writeGzip(good, text);
  const std::string compressed = readFile(good);

  const std::string corrupt = dir.file("corrupt.csv.gz");
  std::string broken = compressed;
  for (size_t i = 20; i < 60; ++i) broken[i] = static_cast<char>(broken[i] ^ 0x5A);
  writeFile(corrupt, broken);
  CHECK(RecordReader::open(csvOptions(corrupt), {"id"}, error) == nullptr);
  CHECK(error.find("bad gzip data") != std::string::npos);

  const std::string truncated = dir.file("truncated.csv.gz");
  writeFile(truncated, compressed.substr(0, compressed.size() / 2));
  ReadResult read = readAll(csvOptions(truncated), {"id", "value"});
  REQUIRE(read.openError.empty());
  CHECK(read.ioError.find("truncated.csv.gz") != std::string::npos);
  CHECK(!read.rows.empty());
  CHECK(read.rows.size() < 400000);
  for (size_t i = 0; i < read.rows.size(); ++i) {
    REQUIRE(read.rows[i].ok);  // the cut-off record at the end is dropped, not misread
    REQUIRE(read.rows[i].values[0] == "T:" + std::to_string(i));
  }
}

// --- Block boundaries ---------------------------------------------------------------------

TEST_CASE("generated CSV reads back exactly, whatever the block size", "[reader]") {
  // Random records over an alphabet full of the bytes that matter (delimiters, quotes, CR,
  // LF, multi-byte UTF-8), written the way an RFC 4180 writer would, then read back.
  std::mt19937 random(7);
  const std::vector<std::string> pieces = {"a",
                                           "b",
                                           ",",
                                           "\"",
                                           "\n",
                                           "\r",
                                           "\r\n",
                                           " ",
                                           "\xC3\xA9",
                                           "\xF0\x9F\x98\x80",
                                           std::string(1, '\0'),
                                           std::string(70, 'x')};
  const std::vector<std::string> columns = {"c1", "c2", "c3"};
  for (int round = 0; round < 60; ++round) {
    std::string text = "c1,c2,c3\r\n";
    uint64_t line = 2;
    std::vector<Row> expected;
    const int records = 1 + static_cast<int>(random() % 20);
    for (int r = 0; r < records; ++r) {
      Row row;
      row.line = line;
      std::string raw;
      for (size_t c = 0; c < columns.size(); ++c) {
        std::string cell;
        const int length = static_cast<int>(random() % 6);
        for (int i = 0; i < length; ++i) cell += pieces[random() % pieces.size()];
        const bool quote = cell.find_first_of(",\"\r\n") != std::string::npos || random() % 4 == 0;
        std::string written = cell;
        if (quote) {
          written = "\"";
          for (char ch : cell) {
            written += ch;
            if (ch == '"') written += '"';
          }
          written += "\"";
        }
        if (c > 0) raw += ",";
        raw += written;
        row.values.push_back(cell.empty() ? "null" : "T:" + cell);
      }
      for (size_t i = 0; i < raw.size(); ++i) {
        if (raw[i] == '\n' || (raw[i] == '\r' && (i + 1 == raw.size() || raw[i + 1] != '\n'))) {
          ++line;
        }
      }
      ++line;
      row.raw = raw;
      text += raw;
      const bool last = r + 1 == records;
      if (!last || random() % 2 == 0) text += random() % 2 == 0 ? "\n" : "\r\n";
      // A record of one empty unquoted cell would be a blank line; the generator avoids it
      // by construction (three columns), but blank lines are added on purpose here.
      if (!last && random() % 5 == 0) {
        text += "\n";
        ++line;
      }
      expected.push_back(std::move(row));
    }
    INFO("round " << round << " text: " << text);
    ReadResult read = readText("gen.csv", text, columns);
    REQUIRE(read.openError.empty());
    CHECK(read.rows == expected);
    for (size_t block : {1, 2, 3, 4, 5, 8, 13}) {
      ScopedBlockSize tiny(block);
      INFO("block " << block);
      CHECK(readText("gen.csv", text, columns).rows == expected);
    }
  }
}

TEST_CASE("random bytes read the same at every block size", "[reader]") {
  // Malformed input too: whatever the reader decides, the block size must not change it.
  std::mt19937 random(11);
  const std::string alphabet = "ab,\"\"\n\r \t{}:[]1\xC3\xA9\x80";
  for (int round = 0; round < 200; ++round) {
    std::string text;
    const int length = static_cast<int>(random() % 80);
    for (int i = 0; i < length; ++i) text += alphabet[random() % alphabet.size()];
    INFO("round " << round);
    for (const char* name : {"r.csv", "r.jsonl"}) {
      SourceOptions options;
      options.header = false;
      options.columns = {"a", "b"};
      ReadResult reference = readText(name, text, {"a", "b"}, options);
      for (size_t block : {1, 2, 3, 7}) {
        ScopedBlockSize tiny(block);
        ReadResult read = readText(name, text, {"a", "b"}, options);
        CHECK(read.openError == reference.openError);
        CHECK(read.rows == reference.rows);
      }
      options.whitespaceDelimited = true;
      reference = readText("w.txt", text, {"a", "b"}, options);
      for (size_t block : {1, 2, 5}) {
        ScopedBlockSize tiny(block);
        CHECK(readText("w.txt", text, {"a", "b"}, options).rows == reference.rows);
      }
    }
  }
}
