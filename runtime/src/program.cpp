// The opcode table's data, the Program helpers and the chunk builder.
#include "rekindle/runtime/program.h"

namespace rekindle {

const OpcodeInfo& opcodeInfo(Opcode op) {
  static const OpcodeInfo kTable[] = {
#define REKINDLE_X(name, fmt, pops, pushes, doc) {#name, OperandFormat::fmt, pops, pushes, doc},
      REKINDLE_OPCODES(REKINDLE_X)
#undef REKINDLE_X
  };
  return kTable[static_cast<int>(op)];
}

const char* chunkKindName(ChunkKind k) {
  switch (k) {
    case ChunkKind::Let: return "let";
    case ChunkKind::Segment: return "segment";
    case ChunkKind::RowCondition: return "row";
    case ChunkKind::RankBy: return "rank";
    case ChunkKind::CapCondition: return "cap";
    case ChunkKind::Element: return "element";
    case ChunkKind::Population: return "population";
  }
  return "?";
}

const char* tableName(TableKind k) {
  switch (k) {
    case TableKind::Stage: return "stage";
    case TableKind::Channel: return "channel";
    case TableKind::Offer: return "offer";
  }
  return "?";
}

uint32_t Program::addString(const std::string& s) {
  for (size_t i = 0; i < strings.size(); ++i)
    if (strings[i] == s) return static_cast<uint32_t>(i);
  strings.push_back(s);
  return static_cast<uint32_t>(strings.size() - 1);
}

uint32_t Program::addConstant(const Constant& c) {
  for (size_t i = 0; i < constants.size(); ++i)
    if (constants[i] == c) return static_cast<uint32_t>(i);
  constants.push_back(c);
  return static_cast<uint32_t>(constants.size() - 1);
}

ChunkBuilder::ChunkBuilder(ChunkKind kind, std::string label, uint32_t file) {
  chunk_.kind = kind;
  chunk_.label = std::move(label);
  chunk_.file = file;
}

void ChunkBuilder::emit(Opcode op, SourceLoc loc) {
  chunk_.code.push_back(static_cast<uint32_t>(op));
  chunk_.locs.push_back(loc);
}

void ChunkBuilder::emitA(Opcode op, uint32_t a, SourceLoc loc) {
  if (a > kMaxOperandA) throw std::length_error("operand too large for one instruction");
  chunk_.code.push_back(encodeA(op, a));
  chunk_.locs.push_back(loc);
}

void ChunkBuilder::emitAB(Opcode op, uint32_t a, uint32_t b, SourceLoc loc) {
  if (a > 0xFFFF || b > 0xFF) throw std::length_error("operands too large for one instruction");
  chunk_.code.push_back(encodeAB(op, a, b));
  chunk_.locs.push_back(loc);
}

ChunkBuilder::Label ChunkBuilder::emitJump(Opcode op, SourceLoc loc) {
  Label l{chunk_.code.size()};
  chunk_.code.push_back(static_cast<uint32_t>(op));
  chunk_.locs.push_back(loc);
  ++pendingJumps_;
  return l;
}

void ChunkBuilder::bind(Label label) {
  size_t target = chunk_.code.size();
  uint32_t offset = static_cast<uint32_t>(target - (label.at + 1));
  if (offset > kMaxOperandA) throw std::length_error("jump too long");
  chunk_.code[label.at] = encodeA(insnOp(chunk_.code[label.at]), offset);
  --pendingJumps_;
}

Chunk ChunkBuilder::finish() {
  if (pendingJumps_ != 0) throw std::logic_error("chunk '" + chunk_.label + "' has an unpatched jump");
  return std::move(chunk_);
}

}  // namespace rekindle
