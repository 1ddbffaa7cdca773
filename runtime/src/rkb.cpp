// .rkb serialisation, the loader with its bounds-checked reader, the verifier and the
// disassembler. A forged or damaged file must be refused here, never crash the VM.
#include "rekindle/runtime/rkb.h"

#include <fmt/format.h>

#include <cstring>

#include "rekindle/core/hash.h"
#include "rekindle/stdlib/builtins.h"

namespace rekindle {
namespace {

constexpr char kMagic[4] = {'R', 'K', 'B', '\0'};
constexpr size_t kHeaderSize = 4 + 2 + 2 + 8 + 4;
constexpr uint32_t kMaxCount = 1u << 24;  // no table in a sane program comes near this
constexpr uint32_t kMaxStack = 4096;

class Writer {
 public:
  void u8(uint8_t v) { out_.push_back(static_cast<char>(v)); }
  void u16(uint16_t v) { raw(&v, 2); }
  void u32(uint32_t v) { raw(&v, 4); }
  void i32(int32_t v) { raw(&v, 4); }
  void u64(uint64_t v) { raw(&v, 8); }
  void i64(int64_t v) { raw(&v, 8); }
  void f64(double v) { raw(&v, 8); }
  void str(const std::string& s) {
    u32(static_cast<uint32_t>(s.size()));
    out_ += s;
  }
  void type(const Type& t) {
    u8(static_cast<uint8_t>(t.kind));
    u8(static_cast<uint8_t>(t.elem));
    u8(t.nullable);
    u8(t.elemNullable);
  }
  void loc(SourceLoc l) {
    u32(l.line);
    u32(l.col);
  }
  std::string& bytes() { return out_; }

 private:
  void raw(const void* p, size_t n) { out_.append(static_cast<const char*>(p), n); }  // host is little-endian (x86-64, arm64)
  std::string out_;
};

// Every read checks the remaining length; the first failure sticks and later reads return 0.
class Reader {
 public:
  explicit Reader(std::string_view b) : b_(b) {}
  bool ok() const { return ok_; }
  bool atEnd() const { return p_ == b_.size(); }
  uint8_t u8() { return take<uint8_t>(); }
  uint16_t u16() { return take<uint16_t>(); }
  uint32_t u32() { return take<uint32_t>(); }
  int32_t i32() { return take<int32_t>(); }
  uint64_t u64() { return take<uint64_t>(); }
  int64_t i64() { return take<int64_t>(); }
  double f64() { return take<double>(); }
  std::string str() {
    uint32_t n = u32();
    if (!ok_ || n > b_.size() - p_) return fail(), std::string();
    std::string s(b_.substr(p_, n));
    p_ += n;
    return s;
  }
  // A count of items each at least `minBytes` long: refuses counts the rest cannot hold.
  uint32_t count(size_t minBytes) {
    uint32_t n = u32();
    if (!ok_ || n > kMaxCount || static_cast<uint64_t>(n) * minBytes > b_.size() - p_) return fail(), 0;
    return n;
  }
  Type type() {
    Type t;
    uint8_t k = u8(), e = u8(), n = u8(), en = u8();
    if (k > static_cast<uint8_t>(Kind::None) || e > static_cast<uint8_t>(Kind::None) || n > 1 || en > 1) fail();
    t.kind = static_cast<Kind>(k);
    t.elem = static_cast<Kind>(e);
    t.nullable = n;
    t.elemNullable = en;
    return t;
  }
  SourceLoc loc() {
    SourceLoc l;
    l.line = u32();
    l.col = u32();
    return l;
  }
  void fail() { ok_ = false; }

 private:
  template <class T>
  T take() {
    T v{};
    if (!ok_ || b_.size() - p_ < sizeof(T)) return fail(), v;
    std::memcpy(&v, b_.data() + p_, sizeof(T));
    p_ += sizeof(T);
    return v;
  }
  std::string_view b_;
  size_t p_ = 0;
  bool ok_ = true;
};

void writeNamed(Writer& w, const std::vector<NamedChunk>& v) {
  w.u32(static_cast<uint32_t>(v.size()));
  for (const auto& n : v) {
    w.str(n.name);
    w.i32(n.chunk);
    w.type(n.type);
    w.loc(n.loc);
    w.u32(n.file);
  }
}

void readNamed(Reader& r, std::vector<NamedChunk>& v) {
  uint32_t n = r.count(4 + 4 + 4 + 8 + 4);
  v.resize(n);
  for (auto& x : v) {
    x.name = r.str();
    x.chunk = r.i32();
    x.type = r.type();
    x.loc = r.loc();
    x.file = r.u32();
  }
}

void writeNames(Writer& w, const std::vector<std::string>& v) {
  w.u32(static_cast<uint32_t>(v.size()));
  for (const auto& s : v) w.str(s);
}

void readNames(Reader& r, std::vector<std::string>& v) {
  uint32_t n = r.count(4);
  v.resize(n);
  for (auto& s : v) s = r.str();
}

}  // namespace

std::string serializeProgram(const Program& p) {
  Writer w;
  w.str(p.rulesName);
  w.str(p.rulesVersion);
  writeNames(w, p.files);
  w.u64(p.schemaFingerprint);
  w.u32(p.customerFieldCount);
  w.u32(p.eventFieldCount);
  w.u32(p.features);
  writeNames(w, p.strings);
  w.u32(static_cast<uint32_t>(p.constants.size()));
  for (const auto& c : p.constants) {
    w.u8(static_cast<uint8_t>(c.kind));
    w.i64(c.i);
    w.f64(c.f);
  }
  writeNames(w, p.stages);
  writeNames(w, p.channels);
  writeNames(w, p.offers);
  w.u32(static_cast<uint32_t>(p.params.size()));
  for (const auto& pd : p.params) {
    w.str(pd.name);
    w.type(pd.type);
    w.u8(pd.isList);
    w.u32(pd.defaultConst);
    w.u32(static_cast<uint32_t>(pd.listItems.size()));
    for (uint32_t c : pd.listItems) w.u32(c);
  }
  writeNamed(w, p.lets);
  writeNamed(w, p.segments);
  for (const auto& t : p.tables) {
    w.u8(t.present);
    w.loc(t.loc);
    w.u32(static_cast<uint32_t>(t.rows.size()));
    for (const auto& row : t.rows) {
      w.i32(row.outcome);
      w.i32(row.condition);
      w.i64(row.limit);
      w.i32(row.limitParam);
      w.i32(row.rankBy);
      w.u8(row.descending);
      w.loc(row.loc);
    }
  }
  w.u32(static_cast<uint32_t>(p.decisionOrder.size()));
  for (uint8_t d : p.decisionOrder) w.u8(d);
  w.u32(static_cast<uint32_t>(p.caps.size()));
  for (const auto& c : p.caps) {
    w.i32(c.channel);
    w.u32(static_cast<uint32_t>(c.windows.size()));
    for (const auto& win : c.windows) {
      w.i64(win.count);
      w.i64(win.seconds);
      w.u8(static_cast<uint8_t>(win.unit));
    }
    w.i32(c.condition);
    w.loc(c.loc);
    w.str(c.text);
  }
  w.u8(p.holdout.present);
  w.f64(p.holdout.fraction);
  w.str(p.holdout.salt);
  w.loc(p.holdout.loc);
  writeNames(w, p.natives);
  w.u32(static_cast<uint32_t>(p.quantiles.size()));
  for (int32_t q : p.quantiles) w.i32(q);
  for (int32_t c : p.rfmChunks) w.i32(c);
  w.str(p.rfmPurchase);
  w.str(p.rfmAmount);
  for (int32_t c : p.clvChunks) w.i32(c);
  w.str(p.clvPurchase);
  w.str(p.clvAmount);
  w.u32(static_cast<uint32_t>(p.chunks.size()));
  for (const auto& c : p.chunks) {
    w.u8(static_cast<uint8_t>(c.kind));
    w.str(c.label);
    w.u32(c.file);
    w.u32(static_cast<uint32_t>(c.code.size()));
    for (uint32_t insn : c.code) w.u32(insn);
    for (const auto& l : c.locs) w.loc(l);
  }

  std::string body = std::move(w.bytes());
  Writer h;
  for (char c : kMagic) h.u8(static_cast<uint8_t>(c));
  h.u16(Program::kFormatVersion);
  h.u16(0);
  h.u64(mix64(fnv1a64(body)));
  h.u32(static_cast<uint32_t>(body.size()));
  return h.bytes() + body;
}

std::optional<Program> loadProgram(std::string_view bytes, std::string& error) {
  if (bytes.size() < kHeaderSize || std::memcmp(bytes.data(), kMagic, 4) != 0) {
    error = bytes.size() >= 4 && std::memcmp(bytes.data(), kMagic, 4) == 0
                ? "truncated header"
                : "not a Rekindle bytecode file (bad magic number)";
    return std::nullopt;
  }
  Reader h(bytes.substr(4, kHeaderSize - 4));
  uint16_t version = h.u16();
  h.u16();
  uint64_t checksum = h.u64();
  uint32_t length = h.u32();
  if (version != Program::kFormatVersion) {
    error = fmt::format("bytecode format version {}, this build reads version {}; recompile the rules",
                        version, Program::kFormatVersion);
    return std::nullopt;
  }
  std::string_view body = bytes.substr(kHeaderSize);
  if (body.size() != length) {
    error = body.size() < length ? fmt::format("truncated: {} of {} body bytes", body.size(), length)
                                 : "trailing bytes after the program";
    return std::nullopt;
  }
  if (mix64(fnv1a64(body)) != checksum) {
    error = "checksum mismatch: the file is damaged";
    return std::nullopt;
  }

  Program p;
  Reader r(body);
  p.rulesName = r.str();
  p.rulesVersion = r.str();
  readNames(r, p.files);
  p.schemaFingerprint = r.u64();
  p.customerFieldCount = r.u32();
  p.eventFieldCount = r.u32();
  p.features = r.u32();
  readNames(r, p.strings);
  uint32_t nc = r.count(17);
  p.constants.resize(nc);
  for (auto& c : p.constants) {
    uint8_t k = r.u8();
    if (k > static_cast<uint8_t>(Kind::None)) r.fail();
    c.kind = static_cast<Kind>(k);
    c.i = r.i64();
    c.f = r.f64();
  }
  readNames(r, p.stages);
  readNames(r, p.channels);
  readNames(r, p.offers);
  uint32_t np = r.count(4 + 4 + 1 + 4 + 4);
  p.params.resize(np);
  for (auto& pd : p.params) {
    pd.name = r.str();
    pd.type = r.type();
    pd.isList = r.u8();
    pd.defaultConst = r.u32();
    uint32_t ni = r.count(4);
    pd.listItems.resize(ni);
    for (auto& c : pd.listItems) c = r.u32();
  }
  readNamed(r, p.lets);
  readNamed(r, p.segments);
  for (auto& t : p.tables) {
    t.present = r.u8();
    t.loc = r.loc();
    uint32_t nr = r.count(4 + 4 + 8 + 4 + 4 + 1 + 8);
    t.rows.resize(nr);
    for (auto& row : t.rows) {
      row.outcome = r.i32();
      row.condition = r.i32();
      row.limit = r.i64();
      row.limitParam = r.i32();
      row.rankBy = r.i32();
      row.descending = r.u8();
      row.loc = r.loc();
    }
  }
  uint32_t nd = r.count(1);
  p.decisionOrder.resize(nd);
  for (auto& d : p.decisionOrder) d = r.u8();
  uint32_t ncap = r.count(4 + 4 + 4 + 8 + 4);
  p.caps.resize(ncap);
  for (auto& c : p.caps) {
    c.channel = r.i32();
    uint32_t nw = r.count(17);
    c.windows.resize(nw);
    for (auto& win : c.windows) {
      win.count = r.i64();
      win.seconds = r.i64();
      uint8_t u = r.u8();
      if (u > static_cast<uint8_t>(CalendarUnit::Month)) r.fail();
      win.unit = static_cast<CalendarUnit>(u);
    }
    c.condition = r.i32();
    c.loc = r.loc();
    c.text = r.str();
  }
  p.holdout.present = r.u8();
  p.holdout.fraction = r.f64();
  p.holdout.salt = r.str();
  p.holdout.loc = r.loc();
  readNames(r, p.natives);
  uint32_t nq = r.count(4);
  p.quantiles.resize(nq);
  for (auto& q : p.quantiles) q = r.i32();
  for (auto& c : p.rfmChunks) c = r.i32();
  p.rfmPurchase = r.str();
  p.rfmAmount = r.str();
  for (auto& c : p.clvChunks) c = r.i32();
  p.clvPurchase = r.str();
  p.clvAmount = r.str();
  uint32_t nchunks = r.count(1 + 4 + 4 + 4);
  p.chunks.resize(nchunks);
  for (auto& c : p.chunks) {
    uint8_t k = r.u8();
    if (k > static_cast<uint8_t>(ChunkKind::Population)) r.fail();
    c.kind = static_cast<ChunkKind>(k);
    c.label = r.str();
    c.file = r.u32();
    uint32_t n = r.count(4 + 8);
    c.code.resize(n);
    for (auto& insn : c.code) insn = r.u32();
    c.locs.resize(n);
    for (auto& l : c.locs) l = r.loc();
  }
  if (!r.ok()) {
    error = "malformed program body (a count or length runs past the end)";
    return std::nullopt;
  }
  if (!r.atEnd()) {
    error = "malformed program body (bytes left over)";
    return std::nullopt;
  }
  error = verifyProgram(p);
  if (!error.empty()) return std::nullopt;
  return p;
}

namespace {

bool validChunk(const Program& p, int32_t c, ChunkKind kind) {
  return c >= 0 && static_cast<size_t>(c) < p.chunks.size() && p.chunks[c].kind == kind;
}

std::string verifyChunk(Program& p, Chunk& c) {
  const size_t n = c.code.size();
  auto where = [&](size_t i) { return fmt::format("chunk '{}' instruction {}: ", c.label, i); };
  if (n == 0) return fmt::format("chunk '{}' is empty", c.label);
  if (c.locs.size() != n) return fmt::format("chunk '{}' has {} locations for {} instructions", c.label, c.locs.size(), n);
  std::vector<int> depthAt(n, -1);
  int depth = 0, maxDepth = 0;
  bool reachable = true;
  for (size_t i = 0; i < n; ++i) {
    if (depthAt[i] >= 0) {
      if (reachable && depth != depthAt[i]) return where(i) + "stack depth differs between paths";
      depth = depthAt[i];
      reachable = true;
    }
    if (!reachable) return where(i) + "unreachable instruction";
    uint32_t insn = c.code[i];
    if ((insn & 0xFF) >= static_cast<uint32_t>(kOpcodeCount)) return where(i) + fmt::format("unknown opcode {}", insn & 0xFF);
    Opcode op = insnOp(insn);
    const OpcodeInfo& info = opcodeInfo(op);
    uint32_t a = info.format == OperandFormat::AB ? insnA16(insn) : insnA(insn);
    uint32_t b = insnB(insn);
    if (info.format == OperandFormat::None && a != 0) return where(i) + "operand on an instruction that takes none";
    auto bad = [&](const char* what) { return where(i) + fmt::format("{} {} out of range", what, a); };
    switch (op) {
      case Opcode::PushConst:
        if (a >= p.constants.size()) return bad("constant");
        break;
      case Opcode::LoadField:
        if (a >= p.customerFieldCount) return bad("customer field");
        break;
      case Opcode::LoadEventField:
        if (c.kind != ChunkKind::Element) return where(i) + "event field read outside a where/streak condition";
        [[fallthrough]];
      case Opcode::GetField:
      case Opcode::Project:
        if (a >= p.eventFieldCount) return bad("event field");
        break;
      case Opcode::LoadLet:
        if (a >= p.lets.size()) return bad("let");
        break;
      case Opcode::LoadSegment:
        if (a >= p.segments.size()) return bad("segment");
        break;
      case Opcode::LoadDecision:
        if (a >= static_cast<uint32_t>(kTableCount) || !p.tables[a].present) return bad("decision");
        break;
      case Opcode::LoadParam:
        if (a >= p.params.size()) return bad("param");
        break;
      case Opcode::LoadPrevious:
        if (a > 3) return bad("previous field");
        break;
      case Opcode::Filter:
      case Opcode::Streak:
        if (!validChunk(p, static_cast<int32_t>(a), ChunkKind::Element)) return bad("condition chunk");
        break;
      case Opcode::QuantileRank:
        if (a >= p.quantiles.size()) return bad("population statistic");
        break;
      case Opcode::Call: {
        if (a >= p.natives.size()) return bad("native");
        int id = findBuiltinByKey(p.natives[a]);
        if (id < 0 || !builtins()[id].fn) return where(i) + "unknown native '" + p.natives[a] + "'";
        if (b != builtins()[id].params.size()) return where(i) + "wrong argument count for '" + p.natives[a] + "'";
        break;
      }
      default: break;
    }
    int pops = info.pops == kPopA ? static_cast<int>(a) : info.pops == kPopB ? static_cast<int>(b) : info.pops;
    if (info.format == OperandFormat::J && depth < 1) return where(i) + "conditional jump on an empty stack";
    if (depth < pops) return where(i) + "stack underflow";
    if (op == Opcode::Return && depth != 1) return where(i) + "return with more than one value on the stack";
    depth += info.pushes - pops;
    maxDepth = std::max(maxDepth, depth);
    if (maxDepth > static_cast<int>(kMaxStack)) return where(i) + "stack too deep";
    if (info.format == OperandFormat::J) {
      size_t target = i + 1 + a;
      if (target >= n) return where(i) + "jump past the end";
      if (depthAt[target] >= 0 && depthAt[target] != depth) return where(i) + "stack depth differs at jump target";
      depthAt[target] = depth;
    }
    if (op == Opcode::Jump || op == Opcode::Return) reachable = false;
  }
  if (reachable) return fmt::format("chunk '{}' runs off its end without returning", c.label);
  c.maxStack = static_cast<uint32_t>(maxDepth);
  return "";
}

}  // namespace

std::string verifyProgram(Program& p) {
  for (const auto& k : p.constants) {
    switch (k.kind) {
      case Kind::String:
        if (k.i < 0 || static_cast<size_t>(k.i) >= p.strings.size()) return "string constant out of range";
        break;
      case Kind::Stage:
        if (k.i < 0 || static_cast<size_t>(k.i) >= p.stages.size()) return "stage constant out of range";
        break;
      case Kind::Channel:
        if (k.i != kNoOutcome && (k.i < 0 || static_cast<size_t>(k.i) >= p.channels.size())) return "channel constant out of range";
        break;
      case Kind::Offer:
        if (k.i != kNoOutcome && (k.i < 0 || static_cast<size_t>(k.i) >= p.offers.size())) return "offer constant out of range";
        break;
      case Kind::Bool:
        if (k.i != 0 && k.i != 1) return "bool constant out of range";
        break;
      case Kind::Int: case Kind::Float: case Kind::Time: case Kind::Date: case Kind::Duration: case Kind::Null:
        break;
      default: return std::string("constant of kind ") + kindName(k.kind) + " is not allowed";
    }
  }
  if (p.files.empty()) return "program names no source file";
  for (auto& c : p.chunks) {
    if (c.file >= p.files.size()) return "chunk '" + c.label + "' names a file out of range";
    std::string e = verifyChunk(p, c);
    if (!e.empty()) return e;
  }
  for (const auto& pd : p.params) {
    if (pd.defaultConst >= p.constants.size()) return "param '" + pd.name + "' default out of range";
    for (uint32_t c : pd.listItems)
      if (c >= p.constants.size()) return "param '" + pd.name + "' item out of range";
  }
  for (const auto& l : p.lets)
    if (!validChunk(p, l.chunk, ChunkKind::Let)) return "let '" + l.name + "' has no let chunk";
  for (const auto& s : p.segments)
    if (!validChunk(p, s.chunk, ChunkKind::Segment)) return "segment '" + s.name + "' has no segment chunk";
  for (int t = 0; t < kTableCount; ++t) {
    const auto& table = p.tables[t];
    size_t outcomes = t == 0 ? p.stages.size() : t == 1 ? p.channels.size() : p.offers.size();
    for (const auto& row : table.rows) {
      bool noneOk = t != 0;
      if (!(row.outcome == kNoOutcome && noneOk) && (row.outcome < 0 || static_cast<size_t>(row.outcome) >= outcomes))
        return std::string(tableName(static_cast<TableKind>(t))) + " row outcome out of range";
      if (row.condition != -1 && !validChunk(p, row.condition, ChunkKind::RowCondition)) return "row condition chunk out of range";
      if (row.rankBy != -1 && !validChunk(p, row.rankBy, ChunkKind::RankBy)) return "rank chunk out of range";
      if (row.limit < -1) return "negative row limit";
      if (row.limitParam != -1 && (row.limitParam < 0 || static_cast<size_t>(row.limitParam) >= p.params.size() ||
                                   p.params[row.limitParam].type.kind != Kind::Int || p.params[row.limitParam].isList))
        return "row limit param out of range";
    }
    if (!table.present && !table.rows.empty()) return "rows in an absent table";
  }
  for (uint8_t d : p.decisionOrder)
    if (d >= kTableCount) return "decision order out of range";
  for (const auto& c : p.caps) {
    if (c.channel != -1 && (c.channel < 0 || static_cast<size_t>(c.channel) >= p.channels.size())) return "cap channel out of range";
    if (c.condition != -1 && !validChunk(p, c.condition, ChunkKind::CapCondition)) return "cap condition chunk out of range";
    if (c.windows.empty()) return "cap without windows";
    for (const auto& w : c.windows) {
      if (w.count < 0) return "cap count out of range";
      if (w.unit == CalendarUnit::None ? w.seconds <= 0 : w.seconds != 0) return "cap window out of range";
    }
  }
  if (p.holdout.present && !(p.holdout.fraction >= 0 && p.holdout.fraction <= 1)) return "holdout fraction out of range";
  for (int32_t q : p.quantiles)
    if (!validChunk(p, q, ChunkKind::Population)) return "population chunk out of range";
  for (int32_t c : p.rfmChunks)
    if (c != -1 && !validChunk(p, c, ChunkKind::Population)) return "rfm chunk out of range";
  if ((p.features & kUsesRfm) && (p.rfmChunks[0] < 0 || p.rfmChunks[1] < 0 || p.rfmChunks[2] < 0))
    return "the program uses std.rfm but has no rfm chunks";
  for (int32_t c : p.clvChunks)
    if (c != -1 && !validChunk(p, c, ChunkKind::Population)) return "clv chunk out of range";
  if ((p.features & kUsesClv) && (p.clvChunks[0] < 0 || p.clvChunks[1] < 0))
    return "the program uses std.clv but has no clv chunks";
  for (const auto& n : p.natives) {
    if (findBuiltinByKey(n) < 0) return "unknown native '" + n + "'";
    // Module natives read statistics the population pass computes only for programs that say so.
    if ((n.rfind("rfm.", 0) == 0 && !(p.features & kUsesRfm)) || (n.rfind("clv.", 0) == 0 && !(p.features & kUsesClv)))
      return "native '" + n + "' without its module's feature bit";
  }
  return "";
}

std::string disassemble(const Program& p) {
  std::string out;
  out += fmt::format("rules {}", p.rulesName.empty() ? "(unnamed)" : p.rulesName);
  if (!p.rulesVersion.empty()) out += " version " + p.rulesVersion;
  out += fmt::format("\nsource {}\nschema {:016x}\n", p.files.empty() ? "?" : p.files[0], p.schemaFingerprint);
  auto constText = [&](uint32_t k) -> std::string {
    const Constant& c = p.constants[k];
    switch (c.kind) {
      case Kind::String: return "\"" + p.strings[c.i] + "\"";
      case Kind::Float: return fmt::format("{}", c.f);
      case Kind::Bool: return c.i ? "true" : "false";
      case Kind::Duration: return formatDuration(c.i);
      case Kind::Date: return formatDate(c.i);
      case Kind::Time: return formatTime(c.i, TimeZone());
      case Kind::Stage: return "stage " + p.stages[c.i];
      case Kind::Channel: return "channel " + (c.i == kNoOutcome ? std::string("none") : p.channels[c.i]);
      case Kind::Offer: return "offer " + (c.i == kNoOutcome ? std::string("none") : p.offers[c.i]);
      default: return std::to_string(c.i);
    }
  };
  for (size_t i = 0; i < p.params.size(); ++i)
    out += fmt::format("param {} {}: {} = {}\n", i, p.params[i].name, p.params[i].type.str(),
                       p.params[i].isList ? "[...]" : constText(p.params[i].defaultConst));
  for (size_t i = 0; i < p.lets.size(); ++i)
    out += fmt::format("let {} {}: {} -> chunk {}\n", i, p.lets[i].name, p.lets[i].type.str(), p.lets[i].chunk);
  for (size_t i = 0; i < p.segments.size(); ++i)
    out += fmt::format("segment {} {} -> chunk {}\n", i, p.segments[i].name, p.segments[i].chunk);
  for (int t = 0; t < kTableCount; ++t) {
    if (!p.tables[t].present) continue;
    out += fmt::format("table {}\n", tableName(static_cast<TableKind>(t)));
    const auto& names = t == 0 ? p.stages : t == 1 ? p.channels : p.offers;
    for (const auto& row : p.tables[t].rows) {
      std::string name = row.outcome == kNoOutcome ? "none" : names[row.outcome];
      out += fmt::format("  {} @{}:{} {}", name, row.loc.line, row.loc.col,
                         row.condition < 0 ? std::string("otherwise") : fmt::format("when chunk {}", row.condition));
      if (row.limit >= 0) out += fmt::format(" limit {}", row.limit);
      if (row.rankBy >= 0) out += fmt::format(" rank by chunk {} {}", row.rankBy, row.descending ? "desc" : "asc");
      out += "\n";
    }
  }
  for (const auto& c : p.caps)
    out += fmt::format("cap {}{}\n", c.text, c.condition >= 0 ? fmt::format(" when chunk {}", c.condition) : "");
  if (p.holdout.present) out += fmt::format("holdout {} salt \"{}\"\n", p.holdout.fraction, p.holdout.salt);
  for (size_t ci = 0; ci < p.chunks.size(); ++ci) {
    const Chunk& c = p.chunks[ci];
    out += fmt::format("\nchunk {} ({}) {}\n", ci, chunkKindName(c.kind), c.label);
    for (size_t i = 0; i < c.code.size(); ++i) {
      uint32_t insn = c.code[i];
      Opcode op = insnOp(insn);
      const OpcodeInfo& info = opcodeInfo(op);
      std::string operand;
      switch (info.format) {
        case OperandFormat::None: break;
        case OperandFormat::A: operand = std::to_string(insnA(insn)); break;
        case OperandFormat::AB: operand = fmt::format("{} {}", insnA16(insn), insnB(insn)); break;
        case OperandFormat::J: operand = fmt::format("-> {}", i + 1 + insnA(insn)); break;
      }
      std::string note;
      uint32_t a = insnA(insn);
      switch (op) {
        case Opcode::PushConst: if (a < p.constants.size()) note = constText(a); break;
        case Opcode::LoadLet: if (a < p.lets.size()) note = p.lets[a].name; break;
        case Opcode::LoadSegment: if (a < p.segments.size()) note = p.segments[a].name; break;
        case Opcode::LoadParam: if (a < p.params.size()) note = p.params[a].name; break;
        case Opcode::LoadDecision: if (a < 3) note = tableName(static_cast<TableKind>(a)); break;
        case Opcode::Call: if (insnA16(insn) < p.natives.size()) note = p.natives[insnA16(insn)]; break;
        default: break;
      }
      out += fmt::format("  {:4}  {:>4}:{:<3} {:<14} {:<8}{}\n", i, c.locs[i].line, c.locs[i].col, info.name, operand,
                         note.empty() ? "" : "; " + note);
    }
  }
  return out;
}

}  // namespace rekindle
