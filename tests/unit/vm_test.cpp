// The VM and the decision engine beyond what source programs can reach: consent is enforced on
// any bytecode, forged programs fault instead of crashing, lets are computed once and only
// when used, and and/or short-circuit.
#include <catch2/catch.hpp>

#include <cstdio>
#include <set>

#include "rekindle/runtime/dataset.h"
#include "rekindle/runtime/engine.h"
#include "rekindle/runtime/rkb.h"
#include "rekindle/runtime/vm.h"
#include "rekindle/runtime/writer.h"
#include "test_support.h"

using namespace rekindle;
using namespace rekindle::test;

namespace {

struct Fixture {
  Config config;
  Dataset data;
  Fixture() {
    std::vector<Diagnostic> diags;
    auto c = loadConfig(sourcePath("tests/conformance/rekindle.yaml"), diags);
    REQUIRE(c);
    config = std::move(*c);
    std::string fatal;
    auto d = loadDataset(config, LoadOptions{}, fatal);
    REQUIRE(d);
    data = std::move(*d);
  }

  // A program for this schema with one channel table row `email otherwise`.
  Program emailForEveryone() {
    Program p;
    p.rulesName = "forged";
    p.files = {"forged.rules"};
    p.schemaFingerprint = config.schema.fingerprint();
    p.customerFieldCount = static_cast<uint32_t>(config.schema.customerFields.size());
    p.eventFieldCount = static_cast<uint32_t>(config.schema.eventFields.size());
    for (const auto& c : config.channels) p.channels.push_back(c.name);
    p.tables[1].present = true;
    p.tables[1].rows.push_back(DecisionRow{0, -1, -1, -1, -1, true, SourceLoc{1, 1}});
    p.decisionOrder = {1};
    return p;
  }

  std::vector<Decision> run(Program p, std::string* error = nullptr) {
    std::string e = verifyProgram(p);
    REQUIRE(e.empty());
    auto exe = Executable::bind(p, config, data.strings, {}, e);
    REQUIRE(exe);
    struct Collect : DecisionSink {
      std::vector<Decision> rows;
      void write(const Decision& d) override { rows.push_back(d); }
    } sink;
    RunSummary summary;
    std::string fault;
    RunOptions options;
    options.now = *config.asOf;
    DecisionRun run(*exe, data, options);
    bool ok = run.prepare(fault) && run.decide(sink, summary, fault);
    if (error) *error = fault;
    if (!error) REQUIRE(ok);
    return sink.rows;
  }

  // let bad = "x" + [true]: verifies (stack-sound), but the tags do not fit; it faults at 3:13
  // ("string and list") and its value is null. Adds its string constant to `p`.
  static Chunk stringPlusList(Program& p) {
    Constant x;
    x.kind = Kind::String;
    x.i = p.addString("x");
    p.constants.push_back(x);
    ChunkBuilder b(ChunkKind::Let, "let bad");
    b.emitA(Opcode::PushConst, static_cast<uint32_t>(p.constants.size() - 1), SourceLoc{3, 9});
    b.emit(Opcode::PushTrue, SourceLoc{3, 15});
    b.emitA(Opcode::MakeList, 1, SourceLoc{3, 15});
    b.emit(Opcode::Add, SourceLoc{3, 13});
    b.emit(Opcode::Return, SourceLoc{3, 9});
    return b.finish();
  }

  // The fault of a run of `p` with `let` as its let 0, named `name`, which a segment reads
  // (`segment s when name is null`): "" when there is none.
  std::string faultWithLet(Program p, Chunk let, const std::string& name, Type type = Type::of(Kind::Int)) {
    p.chunks.push_back(std::move(let));
    p.lets.push_back(NamedChunk{name, static_cast<int32_t>(p.chunks.size() - 1), type, SourceLoc{3, 5}, 0});
    ChunkBuilder seg(ChunkKind::Segment, "segment s");
    seg.emitA(Opcode::LoadLet, 0, SourceLoc{4, 18});
    seg.emit(Opcode::IsNull, SourceLoc{4, 18});
    seg.emit(Opcode::Return, SourceLoc{4, 18});
    p.chunks.push_back(seg.finish());
    p.segments.push_back(NamedChunk{"s", static_cast<int32_t>(p.chunks.size() - 1), Type::of(Kind::Bool), SourceLoc{4, 9}, 0});
    std::string error;
    run(p, &error);
    return error;
  }
};

}  // namespace

TEST_CASE("consent is enforced by the runtime on any bytecode", "[vm][consent]") {
  Fixture f;
  // The rules say "email for everyone"; the runtime gives email only to those who agreed to it
  // and have an address: A1, C3, E5, F6 (B2 and D4 did not consent).
  auto rows = f.run(f.emailForEveryone());
  REQUIRE(rows.size() == 6);
  const char* expected[] = {"email", "", "email", "", "email", "email"};
  for (size_t i = 0; i < rows.size(); ++i) {
    INFO(f.data.customerId(static_cast<uint32_t>(i)));
    CHECK((rows[i].channel.isNull() ? std::string() : std::string("email")) == expected[i]);
    CHECK(rows[i].send == !rows[i].channel.isNull());
  }
  // The same through .rkb bytes.
  std::string error;
  auto loaded = loadProgram(serializeProgram(f.emailForEveryone()), error);
  REQUIRE(loaded);
  auto again = f.run(*loaded);
  for (size_t i = 0; i < rows.size(); ++i) CHECK(again[i].channel.isNull() == rows[i].channel.isNull());
}

TEST_CASE("a forged program that misuses types faults cleanly", "[vm]") {
  Fixture f;
  Program p = f.emailForEveryone();
  Chunk bad = Fixture::stringPlusList(p);
  const std::string error = f.faultWithLet(p, std::move(bad), "bad");
  CHECK_THAT(error, Catch::Contains("bytecode fault in let bad at 3:13"));
  CHECK_THAT(error, Catch::Contains("string and list"));
}

TEST_CASE("a forged let cycle faults instead of recursing forever", "[vm]") {
  Fixture f;
  Program p = f.emailForEveryone();
  ChunkBuilder b(ChunkKind::Let, "let loop");
  b.emitA(Opcode::LoadLet, 0, SourceLoc{1, 1});
  b.emit(Opcode::Return, SourceLoc{1, 1});
  CHECK_THAT(f.faultWithLet(p, b.finish(), "loop"), Catch::Contains("depends on itself"));
}

namespace {
struct CountingTracer : EvalTracer {
  std::vector<int> lets;
  void rowTried(TableKind, size_t, const Value&) override {}
  void rowSkipped(TableKind, size_t, ConsentResult) override {}
  void letComputed(uint32_t let, const Value&) override { lets.push_back(static_cast<int>(let)); }
  void fieldRead(uint32_t, const Value&) override {}
};
}  // namespace

TEST_CASE("lets are computed at most once and only when used, and and-or short-circuit", "[vm]") {
  Fixture f;
  RunRequest r;
  r.configPath = sourcePath("tests/conformance/rekindle.yaml");
  r.rulesPath = "lazy.rules";
  r.rulesText =
      "let used = count(events)\n"
      "let unused = sum(events.amount)\n"
      "let guarded = count(events where kind == \"visit\")\n"
      "segment twice when used >= 0 and used >= 0\n"
      "segment short when false and guarded > 0\n";
  RunOutcome out = runRules(r);
  REQUIRE(out.ok);
  std::string e;
  auto exe = Executable::bind(*out.program, f.config, f.data.strings, {}, e);
  REQUIRE(exe);
  RunContext context;
  context.clock = RunClock::at(*f.config.asOf, f.config.zone);
  Evaluator ev(*exe, f.data, context);
  CountingTracer tracer;
  ev.setTracer(&tracer);
  ev.begin(0);
  CHECK(ev.segment(0).isTrue());
  CHECK(ev.segment(1).isFalse());
  CHECK(ev.segment(0).isTrue());
  // `used` once (memoised), `unused` never, `guarded` never (behind `false and`).
  CHECK(tracer.lets == std::vector<int>{0});
  ev.begin(1);  // a new customer starts afresh
  ev.segment(0);
  CHECK(tracer.lets == std::vector<int>{0, 0});
}

TEST_CASE("a forged operator the VM runs without its dispatch loop still faults where it is", "[vm]") {
  // let bad = account_type OP 1 — one operator on a field and a constant, which execute()
  // applies directly, or (followed by more: `(account_type OP 1) is null`) the dispatch loop runs
  // as one fused step; the tags do not fit, and the bytecode must report it as it always has.
  Fixture f;
  const struct {
    Opcode op;
    const char* fault;
  } cases[] = {{Opcode::Lt, "ordering of string and int"},
               {Opcode::Sub, "operator on string and int"},
               {Opcode::Call, "argument 1 of anniversary_within has the wrong type"}};
  for (bool fused : {false, true})
    for (const auto& c : cases) {
      INFO(c.fault << (fused ? ", fused" : ", the whole chunk"));
      Program p = f.emailForEveryone();
      Constant one;
      one.kind = Kind::Int;
      one.i = 1;
      p.constants.push_back(one);
      p.natives.push_back(builtins()[findBuiltins("", "anniversary_within")[0]].key());
      ChunkBuilder b(ChunkKind::Let, "let bad");
      b.emitA(Opcode::LoadField, static_cast<uint32_t>(f.config.schema.customerField("account_type")), SourceLoc{3, 9});
      b.emitA(Opcode::PushConst, 0, SourceLoc{3, 24});
      if (c.op == Opcode::Call) b.emitAB(Opcode::Call, 0, 2, SourceLoc{3, 22});
      else b.emit(c.op, SourceLoc{3, 22});
      if (fused) b.emit(Opcode::IsNull, SourceLoc{3, 30});
      b.emit(Opcode::Return, SourceLoc{3, 9});
      CHECK_THAT(f.faultWithLet(p, b.finish(), "bad", Type::of(Kind::Bool)),
                 Catch::Contains(std::string("bytecode fault in let bad at 3:22: ") + c.fault));
    }
}

TEST_CASE("a chunk that starts with an operator and `and` ends on false, and otherwise goes on in the loop as bytecode", "[vm]") {
  // segment s: anniversary_within(bad, 7d), then an `and`-shaped jump to the Return over `or
  // true`. The let faults and is null; null is not false, so the chunk goes on to `null or true`,
  // in the loop from where the guard stopped, the fault notwithstanding.
  Fixture f;
  Program p = f.emailForEveryone();
  p.chunks.push_back(Fixture::stringPlusList(p));  // constant 0
  Constant week;
  week.kind = Kind::Duration;
  week.i = 7 * kSecondsPerDay;
  p.constants.push_back(week);  // constant 1
  p.natives.push_back(builtins()[findBuiltins("", "anniversary_within")[0]].key());
  p.lets.push_back(NamedChunk{"bad", 0, Type::of(Kind::Date), SourceLoc{3, 5}, 0});
  ChunkBuilder seg(ChunkKind::Segment, "segment s");
  seg.emitA(Opcode::LoadLet, 0, SourceLoc{4, 30});
  seg.emitA(Opcode::PushConst, 1, SourceLoc{4, 35});
  seg.emitAB(Opcode::Call, 0, 2, SourceLoc{4, 12});
  ChunkBuilder::Label end = seg.emitJump(Opcode::JumpIfFalse, SourceLoc{4, 12});
  seg.emit(Opcode::PushTrue, SourceLoc{4, 45});
  seg.emit(Opcode::Or, SourceLoc{4, 42});
  seg.bind(end);
  seg.emit(Opcode::Return, SourceLoc{4, 12});
  p.chunks.push_back(seg.finish());
  p.segments.push_back(NamedChunk{"s", 1, Type::of(Kind::Bool), SourceLoc{4, 9}, 0});
  REQUIRE(verifyProgram(p).empty());
  std::string e;
  auto exe = Executable::bind(p, f.config, f.data.strings, {}, e);
  REQUIRE(exe);
  RunContext context;
  context.clock = RunClock::at(*f.config.asOf, f.config.zone);
  Evaluator compiled(*exe, f.data, context), bytecode(*exe, f.data, context);
  bytecode.useCompiled(false);
  compiled.begin(0);
  bytecode.begin(0);
  CHECK(bytecode.segment(0).isTrue());
  CHECK(compiled.segment(0).isTrue());
  CHECK_THAT(compiled.fault(), Catch::Contains("bytecode fault in let bad at 3:13"));
  CHECK(compiled.fault() == bytecode.fault());
}

TEST_CASE("a row that starts with `stage == x` is passed over once the stage is another, as in bytecode", "[vm]") {
  // Rows guarded by a decision, either way round, alone or before `and`; a stage that is null for
  // the customers with no tier (a null decision rules nothing out). Each customer is evaluated in
  // bytecode, and compiled three ways: with the stage unknown when the rows run, computed before
  // them, and fixed to its row before them (as the allocator and the carried values fix it).
  const std::string rules =
      "rules guards\n"
      "stage\n"
      "  gold_tier   when tier == \"gold\"\n"
      "  silver_tier when tier == \"silver\"\n"
      "end\n"
      "channel\n"
      "  email when stage == gold_tier and score > 50\n"
      "  sms   when silver_tier == stage\n"
      "  push  when stage == gold_tier\n"
      "  none  otherwise\n"
      "end\n"
      "offer\n"
      "  none      when channel == none\n"
      "  WINBACK20 when stage == silver_tier limit 1 rank by score desc\n"
      "  FREESHIP  when stage == gold_tier and (balance ?? 0.0) > 0.0\n"
      "  BOGO_YEAR when stage == gold_tier\n"
      "end\n";
  BoundRules bound = bindRules("guards.rules", rules, sourcePath("tests/conformance/rekindle.yaml"));
  RunContext context;
  context.clock = RunClock::at(*bound.config->asOf, bound.config->zone);
  Evaluator bytecode(*bound.exe, *bound.data, context), late(*bound.exe, *bound.data, context),
      early(*bound.exe, *bound.data, context), fixed(*bound.exe, *bound.data, context);
  bytecode.useCompiled(false);
  std::vector<int> stageRow(bound.data->customerCount);
  for (uint32_t c = 0; c < bound.data->customerCount; ++c) {
    bytecode.begin(c);
    bytecode.decision(TableKind::Stage);
    stageRow[c] = bytecode.decidedRow(TableKind::Stage);
  }
  auto begin = [&](uint32_t c) {
    bytecode.begin(c);
    late.begin(c);
    early.begin(c);
    early.decision(TableKind::Stage);
    fixed.begin(c);
    fixed.fixRow(TableKind::Stage, stageRow[c]);
  };
  std::set<std::string> stages;
  for (uint32_t c = 0; c < bound.data->customerCount; ++c) {
    INFO("customer " << bound.data->customerId(c));
    for (TableKind k : {TableKind::Channel, TableKind::Offer}) {
      INFO("table " << tableName(k));
      begin(c);
      if (k == TableKind::Offer)  // as the offer's allocation pass sees it: the channel decided
        for (Evaluator* ev : {&bytecode, &late, &early, &fixed}) ev->decision(TableKind::Channel);
      std::vector<int> expected, rows;
      bytecode.eligibleRows(k, expected);
      for (Evaluator* ev : {&late, &early, &fixed}) {
        ev->eligibleRows(k, rows);
        CHECK(rows == expected);
      }
      begin(c);
      const Value want = bytecode.decision(k);
      for (Evaluator* ev : {&late, &early, &fixed}) {
        CHECK(outcomeLabel(*bound.exe, k, ev->decision(k)) == outcomeLabel(*bound.exe, k, want));
        CHECK(ev->decidedRow(k) == bytecode.decidedRow(k));
      }
    }
    stages.insert(outcomeLabel(*bound.exe, TableKind::Stage, bytecode.decision(TableKind::Stage)));
  }
  // Gold, silver and no stage at all: every guard is both true and false for someone.
  CHECK(stages == std::set<std::string>{"", "gold_tier", "silver_tier"});
}
