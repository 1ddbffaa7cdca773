// Fuzz target bodies. Each must return without crashing, hanging or leaking on any input;
// anything suspicious (a consent violation, a verified program the VM faults on in a way the
// verifier should have caught) aborts so the fuzzer records it.
#include "fuzz_targets.h"

#include <sys/mman.h>
#include <unistd.h>

#include <cstdio>
#include <cstdlib>
#include <string>

#include "rekindle/compiler/compiler.h"
#include "rekindle/runtime/dataset.h"
#include "rekindle/runtime/engine.h"
#include "rekindle/runtime/reader.h"
#include "rekindle/runtime/rkb.h"
#include "rekindle/runtime/vm.h"

namespace rekindle::fuzz {
namespace {

// The conformance config and data (tests/conformance): a rich schema, so that the seed
// programs compile and compiled seeds bind and run.
struct World {
  Config config;
  Dataset data;
  World() {
    std::vector<Diagnostic> diags;
    auto c = loadConfig(std::string(REKINDLE_SOURCE_DIR) + "/tests/conformance/rekindle.yaml", diags);
    if (!c) std::abort();
    config = std::move(*c);
    std::string fatal;
    auto d = loadDataset(config, LoadOptions{}, fatal);
    if (!d) std::abort();
    data = std::move(*d);
  }
};

World& world() {
  static World w;
  return w;
}

// Runs a verified program over the dataset; every decision must respect consent.
void runAndCheckConsent(const Program& program) {
  World& w = world();
  std::string error;
  auto exe = Executable::bind(program, w.config, w.data.strings, {}, error);
  if (!exe) return;
  struct Check : DecisionSink {
    const World* w;
    const Executable* exe;
    void write(const Decision& d) override {
      if (d.channel.isNull() || d.channel.i == kNoOutcome) return;
      const ChannelSpec& ch = w->config.channels[exe->configChannel(static_cast<int32_t>(d.channel.i))];
      Value consent = w->data.customers[ch.consentField].get(d.customer);
      bool ok = consent.isTrue();
      if (ch.requiresField >= 0) {
        Value required = w->data.customers[ch.requiresField].get(d.customer);
        ok = ok && !required.isNull() && !required.s->empty();
      }
      if (!ok) {
        std::fprintf(stderr, "CONSENT VIOLATION: customer %s routed to %s\n", w->data.customerId(d.customer).c_str(), ch.name.c_str());
        std::abort();
      }
    }
  } sink;
  sink.w = &w;
  sink.exe = &*exe;
  RunOptions options;
  options.now = *w.config.asOf;
  DecisionRun run(*exe, w.data, options);
  RunSummary summary;
  if (run.prepare(error)) run.decide(sink, summary, error);
}

int readAll(const std::string& path, const SourceOptions& base, const std::vector<std::string>& wanted) {
  SourceOptions o = base;
  o.path = path;
  std::string error;
  auto reader = RecordReader::open(o, wanted, error);
  if (!reader) return 0;
  std::vector<RawValue> values;
  RecordInfo info;
  size_t records = 0;
  while (reader->next(values, info) && records < 1000000) {
    ++records;
    if (info.ok && values.size() != wanted.size()) std::abort();
  }
  return 0;
}

// Writes the input to a reusable in-memory file and returns its path.
std::string inputFile(const uint8_t* data, size_t size) {
  static int fd = ::memfd_create("rekindle-fuzz-input", 0);
  if (::ftruncate(fd, 0) != 0 || ::pwrite(fd, data, size, 0) != static_cast<ssize_t>(size)) std::abort();
  return "/proc/self/fd/" + std::to_string(fd);
}

}  // namespace

int frontend(const uint8_t* data, size_t size) {
  World& w = world();
  SourceFile src("fuzz.rules", std::string(reinterpret_cast<const char*>(data), size));
  CompileOptions options;
  options.limits.maxBytes = 1 << 16;  // keep each run fast; the limit itself is tested elsewhere
  CompileResult r = compileRules(src, w.config, options);
  for (const auto& d : r.diags) (void)renderDiagnostic(d, &src, false);
  if (!r.program) return 0;
  std::string bytes = serializeProgram(*r.program);
  std::string error;
  auto loaded = loadProgram(bytes, error);
  if (!loaded) {
    std::fprintf(stderr, "a compiled program failed to load: %s\n", error.c_str());
    std::abort();
  }
  runAndCheckConsent(*loaded);
  return 0;
}

int csv(const uint8_t* data, size_t size) {
  std::string path = inputFile(data, size);
  SourceOptions withHeader;
  readAll(path, withHeader, {"a", "b"});
  SourceOptions noHeader;
  noHeader.header = false;
  noHeader.columns = {"x", "y", "z"};
  readAll(path, noHeader, {"z", "x"});
  SourceOptions blanks = noHeader;
  blanks.whitespaceDelimited = true;
  readAll(path, blanks, {"y"});
  return 0;
}

int jsonl(const uint8_t* data, size_t size) {
  std::string path = inputFile(data, size);
  SourceOptions o;
  o.format = SourceFormat::Jsonl;
  readAll(path, o, {"a", "b", "c"});
  validJsonDocument(std::string_view(reinterpret_cast<const char*>(data), size));
  return 0;
}

int rkb(const uint8_t* data, size_t size) {
  std::string error;
  auto program = loadProgram(std::string_view(reinterpret_cast<const char*>(data), size), error);
  if (program) runAndCheckConsent(*program);
  return 0;
}

}  // namespace rekindle::fuzz
