// Finding the event scans of a program: the bytecode shapes of event_scan.h.
#include "event_scan.h"

#include <algorithm>

#include "event_test.h"
#include "parts.h"
#include "rekindle/runtime/vm.h"

namespace rekindle {

namespace {

class ScanFinder {
 public:
  ScanFinder(const Executable& exe, const std::vector<std::unique_ptr<EventTest>>& tests)
      : prog_(exe.program()), exe_(exe), tests_(tests) {}

  void chunk(uint32_t index, std::vector<EventScan>& out) {
    const std::vector<uint32_t>& code = prog_.chunks[index].code;
    for (size_t pc = 0; pc < code.size();) {
      EventScan scan;
      if (expression(index, pc, scan)) {
        out.push_back(scan);
        pc = scan.end;
      } else {
        ++pc;
      }
    }
  }

 private:
  // The expression starting at `pc`, if it is a scan worth running: more than a bare source.
  bool expression(uint32_t index, size_t pc, EventScan& scan) {
    const std::vector<uint32_t>& code = prog_.chunks[index].code;
    size_t q = pc;
    std::vector<uint32_t> conditions;
    if (!source(code, q, conditions, 0)) return false;
    filters(code, q, conditions);
    if (q < code.size() && insnOp(code[q]) == Opcode::Project) scan.field = static_cast<int32_t>(insnA(code[q++]));
    if (q < code.size() && insnOp(code[q]) == Opcode::Call && insnB(code[q]) == 1) {
      Reduction r = exe_.native(insnA16(code[q])).reduction;
      // Sums, min and max reduce a field's values; on events themselves they are forged bytecode.
      bool ofValues = r == Reduction::Sum || r == Reduction::SumFloat || r == Reduction::SumDuration ||
                      r == Reduction::Min || r == Reduction::Max;
      if (r != Reduction::None && (scan.field >= 0 || !ofValues)) {
        scan.reduction = r;
        ++q;
      }
    }
    if (q == pc + 1 || !conditionsFit(conditions) || jumpsInto(code, pc, q)) return false;
    scan.chunk = index;
    scan.start = static_cast<uint32_t>(pc);
    scan.end = static_cast<uint32_t>(q);
    scan.selections = conditions;
    if (!conditions.empty() && !pure(conditions.back())) {
      scan.last = static_cast<int32_t>(conditions.back());
      scan.selections.pop_back();
    }
    return true;
  }

  // LoadEvents, or a let whose chunk is a source and filters alone: the let's conditions.
  bool source(const std::vector<uint32_t>& code, size_t& q, std::vector<uint32_t>& conditions, int depth) {
    if (q >= code.size()) return false;
    const uint32_t insn = code[q];
    if (insnOp(insn) == Opcode::LoadEvents) {
      ++q;
      return true;
    }
    if (insnOp(insn) != Opcode::LoadLet || depth > 16 || insnA(insn) >= prog_.lets.size()) return false;
    const int32_t letChunk = prog_.lets[insnA(insn)].chunk;
    if (letChunk < 0 || static_cast<size_t>(letChunk) >= prog_.chunks.size()) return false;
    const std::vector<uint32_t>& let = prog_.chunks[letChunk].code;
    size_t k = 0;
    if (!source(let, k, conditions, depth + 1)) return false;
    filters(let, k, conditions);
    if (k >= let.size() || insnOp(let[k]) != Opcode::Return) return false;
    ++q;
    return true;
  }

  static void filters(const std::vector<uint32_t>& code, size_t& q, std::vector<uint32_t>& conditions) {
    for (; q < code.size() && insnOp(code[q]) == Opcode::Filter; ++q) conditions.push_back(insnA(code[q]));
  }

  bool pure(uint32_t condition) const { return tests_[condition] && !tests_[condition]->readsLets(); }

  bool conditionsFit(const std::vector<uint32_t>& conditions) const {
    for (size_t k = 0; k + 1 < conditions.size(); ++k)
      if (!pure(conditions[k])) return false;
    return true;
  }

  // A jump landing strictly inside [begin, end) would skip part of the expression.
  static bool jumpsInto(const std::vector<uint32_t>& code, size_t begin, size_t end) {
    for (size_t j = 0; j < code.size(); ++j) {
      if (opcodeInfo(insnOp(code[j])).format != OperandFormat::J) continue;
      size_t target = j + 1 + insnA(code[j]);
      if (target > begin && target < end) return true;
    }
    return false;
  }

  const Program& prog_;
  const Executable& exe_;
  const std::vector<std::unique_ptr<EventTest>>& tests_;
};

}  // namespace

Value quickScanOfMany(const EventScan& sc, const EventSelections& selections, const Dataset& data,
                      uint32_t begin, uint32_t end, std::vector<uint64_t>& kept) {
  const uint32_t count = end - begin;
  const size_t words = (count + 63) / 64;
  kept.assign(words, ~uint64_t(0));
  if (count % 64) kept[words - 1] = (uint64_t(1) << (count % 64)) - 1;
  for (uint32_t condition : sc.selections) selections.keep(condition, begin, end, kept.data());
  return *keptValue(sc, data, begin, kept.data(), words);
}

bool isQuickScan(const EventScan& sc, const EventSelections* selections, const Dataset& data) {
  const bool time = sc.field == 0;
  const bool ends = sc.reduction == Reduction::Count || sc.reduction == Reduction::Exists ||
                    sc.reduction == Reduction::First || sc.reduction == Reduction::Last ||
                    (time && (sc.reduction == Reduction::Min || sc.reduction == Reduction::Max));
  const bool sum = sc.field >= 0 && static_cast<size_t>(sc.field) < data.events.size() &&
                   sumsOwnKind(sc.reduction, data.events[sc.field].kind());
  return sc.last < 0 && (ends || sum) && selections &&
         std::all_of(sc.selections.begin(), sc.selections.end(),
                     [&](uint32_t c) { return selections->has(c); });
}

std::vector<EventScan> findEventScans(const Executable& exe, const std::vector<std::unique_ptr<EventTest>>& tests) {
  std::vector<EventScan> scans;
  ScanFinder finder(exe, tests);
  for (uint32_t c = 0; c < exe.program().chunks.size(); ++c) finder.chunk(c, scans);
  return scans;
}

EventSelections::EventSelections(const Executable& exe, const RunClock& clock, const Dataset& data, int threads) {
  const Program& prog = exe.program();
  const std::vector<std::unique_ptr<EventTest>> tests = EventTest::compileAll(exe, clock, data);
  std::vector<uint32_t> conditions;
  for (const EventScan& scan : findEventScans(exe, tests))
    for (uint32_t c : scan.selections)
      if (tests[c]->readsOnlyEvents() && std::find(conditions.begin(), conditions.end(), c) == conditions.end())
        conditions.push_back(c);
  bits_.resize(prog.chunks.size());
  if (conditions.empty()) return;

  const uint32_t events = data.eventBegin.empty() ? 0 : data.eventBegin.back();
  const size_t words = (events + 63) / 64;
  // Two words more than the events need: word() reads a word past the customer's last one, and
  // two from where a customer with no events begins.
  for (uint32_t c : conditions) bits_[c].assign(words + 2, 0);
  // Each part a range of whole words, its own: the threads share nothing they write.
  const size_t parts = std::max<size_t>(1, std::min<size_t>(static_cast<size_t>(threads), words / 1024 + 1));
  // A kind mismatch (forged bytecode) drops the condition: the passes then meet it per customer,
  // where the expression falls back to bytecode and reports the fault.
  std::vector<uint8_t> failed(parts * conditions.size(), 0);
  auto part = [&](size_t t) {
    std::vector<uint64_t> scratch;
    EventTest::SharedLeaves shared;
    // Every condition on a stretch of events before the next stretch, while its columns are in
    // the cache (condition by condition over the whole export would read them from memory
    // again), sharing the leaves they have in common (`kind == "purchase"`).
    constexpr size_t kStretch = 32;  // words
    for (size_t w0 = words * t / parts, w1 = words * (t + 1) / parts; w0 < w1; w0 += kStretch) {
      const uint32_t begin = static_cast<uint32_t>(w0 * 64);
      const uint32_t end = static_cast<uint32_t>(std::min<size_t>(events, std::min(w1, w0 + kStretch) * 64));
      shared.clear();
      for (size_t k = 0; k < conditions.size(); ++k)
        if (!tests[conditions[k]]->select(data, 0, begin, end, bits_[conditions[k]].data() + w0, scratch, &shared))
          failed[t * conditions.size() + k] = 1;
    }
  };
  inParts(parts, part);
  for (size_t t = 0; t < parts; ++t)
    for (size_t k = 0; k < conditions.size(); ++k)
      if (failed[t * conditions.size() + k]) bits_[conditions[k]].clear();
}

size_t EventSelections::conditions() const {
  return static_cast<size_t>(std::count_if(bits_.begin(), bits_.end(), [](const auto& b) { return !b.empty(); }));
}

}  // namespace rekindle
