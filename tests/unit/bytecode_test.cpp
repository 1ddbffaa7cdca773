// Bytecode format: pinned opcode numbers, the builder's jump patching, the verifier refusing
// malformed chunks, and .rkb round trips and damage detection.
#include <catch2/catch.hpp>

#include <cstring>

#include "rekindle/runtime/rkb.h"
#include "rekindle/stdlib/builtins.h"

using namespace rekindle;

TEST_CASE("opcode numbers are pinned: the .rkb format cannot drift silently", "[bytecode]") {
  // Append new opcodes at the end of REKINDLE_OPCODES; never renumber these.
  const std::pair<const char*, int> pinned[] = {
      {"PushNull", 0},      {"PushTrue", 1},       {"PushFalse", 2},      {"PushConst", 3},
      {"LoadField", 4},     {"LoadEventField", 5}, {"LoadEvents", 6},     {"LoadLet", 7},
      {"LoadSegment", 8},   {"LoadDecision", 9},   {"LoadParam", 10},     {"LoadNow", 11},
      {"LoadToday", 12},    {"LoadPrevious", 13},  {"GetField", 14},      {"Project", 15},
      {"Filter", 16},       {"Streak", 17},        {"QuantileRank", 18},  {"MakeList", 19},
      {"Call", 20},         {"Neg", 21},           {"Add", 22},           {"Sub", 23},
      {"Mul", 24},          {"Div", 25},           {"Mod", 26},           {"Eq", 27},
      {"Ne", 28},           {"Lt", 29},            {"Le", 30},            {"Gt", 31},
      {"Ge", 32},           {"In", 33},            {"NotIn", 34},         {"IsNull", 35},
      {"IsNotNull", 36},    {"Not", 37},           {"And", 38},           {"Or", 39},
      {"Jump", 40},         {"JumpIfFalse", 41},   {"JumpIfTrue", 42},    {"JumpIfNotNull", 43},
      {"Pop", 44},          {"Return", 45},
  };
  REQUIRE(kOpcodeCount == static_cast<int>(std::size(pinned)));
  for (const auto& [name, number] : pinned) {
    INFO(name);
    CHECK(std::string(opcodeInfo(static_cast<Opcode>(number)).name) == name);
  }
  CHECK(Program::kFormatVersion == 2);
}

namespace {

Program tinyProgram() {
  Program p;
  p.rulesName = "tiny";
  p.files = {"tiny.rules"};
  p.customerFieldCount = 2;
  p.eventFieldCount = 1;
  Constant c;
  c.kind = Kind::Int;
  c.i = 42;
  p.constants.push_back(c);
  ChunkBuilder b(ChunkKind::Let, "let answer");
  b.emitA(Opcode::PushConst, 0, SourceLoc{1, 14});
  b.emit(Opcode::Return, SourceLoc{1, 14});
  p.chunks.push_back(b.finish());
  p.lets.push_back(NamedChunk{"answer", 0, Type::of(Kind::Int), SourceLoc{1, 5}, 0});
  return p;
}

Chunk chunkOf(std::initializer_list<uint32_t> code, ChunkKind kind = ChunkKind::Let) {
  Chunk c;
  c.kind = kind;
  c.label = "test";
  c.code = code;
  c.locs.assign(c.code.size(), SourceLoc{1, 1});
  return c;
}

std::string verifyOne(Chunk c) {
  Program p = tinyProgram();
  p.chunks.push_back(std::move(c));
  return verifyProgram(p);
}

uint32_t op(Opcode o, uint32_t a = 0) { return encodeA(o, a); }

}  // namespace

TEST_CASE("the builder patches jumps and refuses an unpatched one", "[bytecode]") {
  ChunkBuilder b(ChunkKind::Segment, "segment s");
  b.emit(Opcode::PushTrue, {});
  auto skip = b.emitJump(Opcode::JumpIfFalse, {});
  b.emit(Opcode::PushFalse, {});
  b.emit(Opcode::And, {});
  b.bind(skip);
  b.emit(Opcode::Return, {});
  Chunk c = b.finish();
  CHECK(insnOp(c.code[1]) == Opcode::JumpIfFalse);
  CHECK(insnA(c.code[1]) == 2);  // over PushFalse and And, to Return

  ChunkBuilder bad(ChunkKind::Let, "let broken");
  bad.emit(Opcode::PushTrue, {});
  auto dangling = bad.emitJump(Opcode::Jump, {});
  (void)dangling;
  CHECK_THROWS_AS(bad.finish(), std::logic_error);
}

TEST_CASE("the verifier accepts sound chunks and computes their stack depth", "[bytecode]") {
  Program p = tinyProgram();
  CHECK(verifyProgram(p).empty());
  CHECK(p.chunks[0].maxStack == 1);
  Chunk c = chunkOf({op(Opcode::PushTrue), op(Opcode::JumpIfFalse, 2), op(Opcode::PushFalse), op(Opcode::And), op(Opcode::Return)});
  CHECK(verifyOne(c).empty());
}

TEST_CASE("the verifier refuses malformed chunks", "[bytecode]") {
  CHECK_THAT(verifyOne(chunkOf({op(Opcode::Return)})), Catch::Contains("underflow"));
  CHECK_THAT(verifyOne(chunkOf({op(Opcode::PushTrue), op(Opcode::PushTrue), op(Opcode::Return)})), Catch::Contains("more than one value"));
  CHECK_THAT(verifyOne(chunkOf({op(Opcode::Add), op(Opcode::Return)})), Catch::Contains("underflow"));
  CHECK_THAT(verifyOne(chunkOf({op(Opcode::PushConst, 7), op(Opcode::Return)})), Catch::Contains("constant 7 out of range"));
  CHECK_THAT(verifyOne(chunkOf({op(Opcode::LoadField, 2), op(Opcode::Return)})), Catch::Contains("customer field"));
  CHECK_THAT(verifyOne(chunkOf({op(Opcode::LoadEventField, 0), op(Opcode::Return)})), Catch::Contains("outside"));
  CHECK_THAT(verifyOne(chunkOf({op(Opcode::PushTrue), op(Opcode::Jump, 5), op(Opcode::Return)})), Catch::Contains("past the end"));
  CHECK_THAT(verifyOne(chunkOf({op(Opcode::PushTrue)})), Catch::Contains("runs off its end"));
  CHECK_THAT(verifyOne(chunkOf({0xEE, op(Opcode::Return)})), Catch::Contains("unknown opcode"));
  CHECK_THAT(verifyOne(chunkOf({op(Opcode::PushTrue), op(Opcode::Return), op(Opcode::PushTrue), op(Opcode::Return)})),
             Catch::Contains("unreachable"));
  // Paths that meet with different stack depths.
  CHECK_THAT(verifyOne(chunkOf({op(Opcode::PushTrue), op(Opcode::JumpIfTrue, 1), op(Opcode::PushTrue), op(Opcode::Return)})),
             Catch::Contains("depth differs"));
  CHECK_THAT(verifyOne(chunkOf({op(Opcode::PushTrue), op(Opcode::Filter, 0), op(Opcode::Return)})), Catch::Contains("condition chunk"));
  CHECK_THAT(verifyOne(chunkOf({encodeAB(Opcode::Call, 0, 1), op(Opcode::Return)})), Catch::Contains("native"));
}

TEST_CASE(".rkb round trip keeps every part of a program", "[bytecode]") {
  Program p = tinyProgram();
  p.rulesVersion = "3";
  p.stages = {"new", "dormant"};
  p.tables[0].present = true;
  p.tables[0].rows.push_back(DecisionRow{0, -1, -1, -1, -1, true, SourceLoc{3, 3}});
  p.natives.push_back(builtins()[findBuiltins("", "count")[0]].key());
  REQUIRE(verifyProgram(p).empty());
  std::string bytes = serializeProgram(p);
  std::string error;
  auto q = loadProgram(bytes, error);
  REQUIRE(q);
  CHECK(error.empty());
  CHECK(serializeProgram(*q) == bytes);
  CHECK(disassemble(*q) == disassemble(p));
}

TEST_CASE(".rkb damage is detected before anything runs", "[bytecode]") {
  Program p = tinyProgram();
  std::string bytes = serializeProgram(p);
  std::string error;

  SECTION("truncated") {
    for (size_t n : {size_t(0), size_t(3), size_t(10), bytes.size() - 1}) {
      CHECK_FALSE(loadProgram(bytes.substr(0, n), error));
      CHECK_FALSE(error.empty());
    }
  }
  SECTION("a flipped byte fails the checksum") {
    std::string b = bytes;
    b[b.size() - 5] ^= 0x40;
    CHECK_FALSE(loadProgram(b, error));
    CHECK_THAT(error, Catch::Contains("checksum"));
  }
  SECTION("another format version") {
    std::string b = bytes;
    b[4] = 9;
    CHECK_FALSE(loadProgram(b, error));
    CHECK_THAT(error, Catch::Contains("format version 9"));
  }
  SECTION("not a .rkb at all") {
    CHECK_FALSE(loadProgram("rules x\nstage\n  a otherwise\nend\n", error));
    CHECK_THAT(error, Catch::Contains("magic"));
  }
}
