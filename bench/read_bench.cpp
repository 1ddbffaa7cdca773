// rekindle_bench_read: the record readers alone. Reads an export with RecordReader (CSV or JSON
// Lines, by extension) for the named columns, touches every value, and prints MB/s and
// records/s of the best of --repeat passes. No typing, joining or storing: that is the loader's
// work, timed by rekindle_bench_decide.
//
//   rekindle_bench_read FILE --columns a,b,c [--repeat K]
#include <fmt/format.h>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <string>
#include <vector>

#include "rekindle/runtime/reader.h"

using namespace rekindle;

namespace {

[[noreturn]] void fail(const std::string& message) {
  std::fprintf(stderr, "rekindle_bench_read: %s\n", message.c_str());
  std::exit(1);
}

}  // namespace

int main(int argc, char** argv) {
  std::string path;
  std::vector<std::string> columns;
  int repeat = 3;
  for (int i = 1; i < argc; ++i) {
    std::string a = argv[i];
    auto value = [&]() -> std::string {
      if (i + 1 >= argc) fail("missing value after " + a);
      return argv[++i];
    };
    if (a == "--columns") {
      std::string list = value();
      for (size_t from = 0;;) {
        size_t comma = list.find(',', from);
        columns.push_back(list.substr(from, comma - from));
        if (comma == std::string::npos) break;
        from = comma + 1;
      }
    } else if (a == "--repeat") {
      repeat = std::max(1, std::atoi(value().c_str()));
    } else if (path.empty()) {
      path = a;
    } else {
      fail("unexpected argument " + a);
    }
  }
  if (path.empty() || columns.empty()) fail("usage: rekindle_bench_read FILE --columns a,b,c [--repeat K]");
  const double megabytes = static_cast<double>(std::filesystem::file_size(path)) / 1e6;

  double best = 1e300;
  uint64_t records = 0, bad = 0, bytes = 0;
  for (int r = 0; r < repeat; ++r) {
    SourceOptions options;
    options.path = path;
    std::string error;
    auto start = std::chrono::steady_clock::now();
    auto reader = RecordReader::open(options, columns, error);
    if (!reader) fail(error);
    std::vector<RawValue> values;
    RecordInfo info;
    records = bad = bytes = 0;
    while (reader->next(values, info)) {
      ++records;
      if (!info.ok) {
        ++bad;
        continue;
      }
      for (const RawValue& v : values) bytes += v.text.size();  // touch every value
    }
    if (!reader->ioError().empty()) fail(reader->ioError());
    best = std::min(best, std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count());
  }
  fmt::print("{}: {:.0f} MB, {} records ({} malformed), {} value bytes: best of {} {:.3f} s, {:.0f} MB/s, {:.2f}M records/s\n",
             std::filesystem::path(path).filename().string(), megabytes, records, bad, bytes, repeat, best,
             megabytes / best, static_cast<double>(records) / best / 1e6);
  return 0;
}
