// The .rkb file: a versioned, checksummed binary of a Program (SPEC §8), its verifier and
// its disassembler. Layout (little-endian):
//   "RKB\0"  u16 format version  u16 reserved  u64 checksum of the body  u32 body length  body
// The body holds the names, constant pool, strings, tables, caps, holdout, natives and chunks
// (docs/bytecode.md). Loading refuses a file unless every check below passes.
#pragma once

#include <optional>
#include <string>
#include <string_view>

#include "rekindle/runtime/program.h"

namespace rekindle {

std::string serializeProgram(const Program& program);

// Parses and verifies. On failure returns nullopt and a message saying what is wrong
// ("truncated", "checksum mismatch", "format version 7, this build reads 1", "chunk 'let idle'
// instruction 4: jump past the end", ...).
std::optional<Program> loadProgram(std::string_view bytes, std::string& error);

// Checks every chunk (opcodes, operand ranges, stack depth at every instruction and jump
// target, forward jumps only, ends in Return with one value), the tables, caps, params,
// constants and natives. Sets each chunk's maxStack. Returns "" when the program is sound.
std::string verifyProgram(Program& program);

// Human-readable listing: `rekindle disasm`. Golden tests compare it.
std::string disassemble(const Program& program);

}  // namespace rekindle
