// The dispatch loop and the per-customer memo of lets, segments and decisions.
//
// Invariants:
// - Programs reaching the VM passed verifyProgram: opcodes, operand ranges, stack depth and
//   forward-only jumps are sound, so the loop does not re-check them.
// - Value tags are NOT trusted: a forged .rkb may still ask to add a string to a list. Every
//   operation checks its tags and turns a mismatch into a fault, which stops the run with a
//   message; it never reinterprets memory.
// - A chunk is never active twice at once (a cycle through lets or where-conditions is a
//   fault), so the value stack never needs more than the sum of all chunks' maxStack.
// - Evaluation reads only the current customer's row, events and contacts, the run clock and
//   params: no I/O, no other clock (SPEC §3.6).
#include "rekindle/runtime/vm.h"

#include <fmt/format.h>

#include <algorithm>
#include <cmath>
#include <limits>

#include "rekindle/core/suggest.h"
#include "rekindle/runtime/population.h"
#include "rekindle/runtime/previous.h"
#include "customer_conditions.h"
#include "event_scan.h"
#include "event_test.h"
#include "operators.h"

namespace rekindle {

// Instructions only the Evaluator writes, in its own copy of a chunk (loopCode_), never in a
// program: the verifier refuses opcodes past the table. kScan: A = the event scan it starts;
// kFused: A = the fused_ operator it applies.
constexpr uint32_t kScan = 0xFF;
constexpr uint32_t kFused = 0xFE;
static_assert(kOpcodeCount < kFused, "kScan and kFused must stay out of the opcode table");

RunClock RunClock::at(int64_t now, const TimeZone& zone) {
  RunClock c;
  c.now = now;
  c.zone = zone;
  c.today = floorDiv(zone.toLocal(now), kSecondsPerDay);
  return c;
}

// ---- binding -------------------------------------------------------------------------------

std::optional<Value> parseParamValue(std::string_view text, const Type& type, const TimeZone& zone,
                                     StringPool& pool, std::string& error) {
  FieldSpec f{"param", "param", type.asNullable(false), ""};
  RawValue raw;
  raw.kind = RawKind::Text;
  raw.text = text;
  std::string ignored;
  std::optional<Value> v;
  if (type.kind == Kind::Float && !text.empty() && text.back() == '%') {
    std::string num(text.substr(0, text.size() - 1));
    raw.text = num;
    v = convertValue(raw, f, zone, pool, ignored);
    if (v) v = Value::real(v->f / 100.0);
  } else {
    v = convertValue(raw, f, zone, pool, ignored);
  }
  if (!v) {
    static const char* kArticle[] = {"", "a bool", "an int", "a number", "a string", "a time", "a date", "a duration"};
    int k = static_cast<int>(type.kind);
    error = fmt::format("'{}' is not {}", text, k >= 1 && k <= 7 ? kArticle[k] : type.str().c_str());
  }
  return v;
}

void keepFieldsRead(const Program& program, const Config& config, LoadOptions& options) {
  const Schema& schema = config.schema;
  std::vector<bool> customer(schema.customerFields.size(), false), event(schema.eventFields.size(), false);
  auto keep = [](std::vector<bool>& fields, int64_t k) {
    if (k >= 0 && static_cast<size_t>(k) < fields.size()) fields[static_cast<size_t>(k)] = true;
  };
  for (const Chunk& chunk : program.chunks)
    for (uint32_t insn : chunk.code) {
      switch (insnOp(insn)) {
        case Opcode::LoadField: keep(customer, insnA(insn)); break;
        case Opcode::LoadEventField:
        case Opcode::GetField:
        case Opcode::Project: keep(event, insnA(insn)); break;
        default: break;
      }
    }
  keep(customer, 0);  // the id
  keep(customer, schema.customerTimezoneField);
  for (const ChannelSpec& ch : config.channels) {
    keep(customer, ch.consentField);
    keep(customer, ch.requiresField);
  }
  keep(event, 0);  // the time
  if (config.contacts.present && !config.contacts.fromEventsField.empty()) {
    keep(event, schema.eventField(config.contacts.fromEventsField));
    keep(event, schema.eventField(config.contacts.channelColumn));
  }
  options.keepCustomerFields = std::move(customer);
  options.keepEventFields = std::move(event);
}

std::optional<Executable> Executable::bind(const Program& program, const Config& config, StringPool& pool,
                                           const std::vector<std::pair<std::string, std::string>>& overrides,
                                           std::string& error) {
  Executable x;
  x.program_ = &program;
  x.config_ = &config;
  if (program.schemaFingerprint != config.schema.fingerprint() ||
      program.customerFieldCount != config.schema.customerFields.size() ||
      program.eventFieldCount != config.schema.eventFields.size()) {
    error = fmt::format("the program was compiled for another schema (fingerprint {:016x}, config has {:016x}); "
                        "recompile it against this config",
                        program.schemaFingerprint, config.schema.fingerprint());
    return std::nullopt;
  }
  if ((program.features & kUsesRfm) &&
      (program.rfmPurchase != config.rfm.purchase || program.rfmAmount != config.rfm.amount)) {
    error = "the program was compiled with rfm.purchase '" + program.rfmPurchase + "' and rfm.amount '" +
            program.rfmAmount + "', and the config now says otherwise; recompile it";
    return std::nullopt;
  }
  if ((program.features & kUsesClv) &&
      (program.clvPurchase != config.clv.purchase || program.clvAmount != config.clv.amount)) {
    error = "the program was compiled with clv.purchase '" + program.clvPurchase + "' and clv.amount '" +
            program.clvAmount + "', and the config now says otherwise; recompile it";
    return std::nullopt;
  }
  // The program's channels and offers by name in the config's catalogues.
  auto bindNames = [&](const std::vector<std::string>& names, const auto& catalogue, const char* what,
                       std::vector<int>& index) {
    for (const auto& name : names) {
      auto it = std::find_if(catalogue.begin(), catalogue.end(), [&](const auto& e) { return e.name == name; });
      if (it == catalogue.end()) {
        error = std::string("the program names ") + what + " '" + name + "', which the config does not declare";
        return false;
      }
      index.push_back(static_cast<int>(it - catalogue.begin()));
    }
    return true;
  };
  if (!bindNames(program.channels, config.channels, "channel", x.channelIndex_) ||
      !bindNames(program.offers, config.offers, "offer", x.offerIndex_))
    return std::nullopt;
  for (const auto& c : program.constants) {
    Value v;
    switch (c.kind) {
      case Kind::String: v = Value::string(pool.intern(program.strings[c.i])); break;
      case Kind::Float: v = Value::real(c.f); break;
      case Kind::Bool: v = Value::boolean(c.i != 0); break;
      case Kind::Null: v = Value::null(); break;
      default: v = Value::tagged(c.kind, c.i); break;
    }
    x.constants_.push_back(v);
  }
  for (const auto& n : program.natives) {
    const int id = findBuiltinByKey(n);
    if (id < 0 || !builtins()[id].fn) {
      error = "the program calls native '" + n + "', which this build does not have";
      return std::nullopt;
    }
    x.natives_.push_back(&builtins()[id]);
  }
  for (const auto& p : program.params) {
    Value v;
    if (p.isList) {
      auto list = std::make_unique<ListObj>();
      for (uint32_t item : p.listItems) list->items.push_back(x.constants_[item]);
      v = Value::listOf(list.get());
      x.paramLists_.push_back(std::move(list));
    } else {
      v = x.constants_[p.defaultConst];
    }
    x.params_.push_back(v);
  }
  // Overrides: the config's params, then the command line's. One config serves many rules
  // files, so a config param these rules do not declare is not theirs; a --param is a typo.
  std::vector<std::pair<std::string, std::string>> all;
  for (const auto& p : config.params) all.emplace_back(p.name, p.text);
  all.insert(all.end(), overrides.begin(), overrides.end());
  for (size_t n = 0; n < all.size(); ++n) {
    const auto& [name, text] = all[n];
    bool fromConfig = n < config.params.size();
    size_t k = 0;
    while (k < program.params.size() && program.params[k].name != name) ++k;
    if (k == program.params.size()) {
      if (fromConfig) continue;
      std::vector<std::string> names;
      for (const auto& p : program.params) names.push_back(p.name);
      std::string near = closestName(name, names);
      error = "--param " + name + ": the rules declare no param '" + name + "'" +
              (near.empty() ? "" : " (did you mean '" + near + "'?)");
      return std::nullopt;
    }
    const ParamDef& pd = program.params[k];
    if (pd.isList) {
      auto list = std::make_unique<ListObj>();
      std::string_view rest = text;
      while (!rest.empty()) {
        size_t comma = rest.find(',');
        std::string_view item = rest.substr(0, comma);
        std::string why;
        auto v = parseParamValue(item, pd.type.element(), config.zone, pool, why);
        if (!v) {
          error = std::string(fromConfig ? "config param '" : "--param '") + name + "': " + why;
          return std::nullopt;
        }
        list->items.push_back(*v);
        if (comma == std::string_view::npos) break;
        rest.remove_prefix(comma + 1);
      }
      x.params_[k] = Value::listOf(list.get());
      x.paramLists_.push_back(std::move(list));
    } else {
      std::string why;
      auto v = parseParamValue(text, pd.type, config.zone, pool, why);
      if (!v) {
        error = std::string(fromConfig ? "config param '" : "--param '") + name + "': " + why;
        return std::nullopt;
      }
      x.params_[k] = *v;
    }
  }
  return x;
}

const std::string& Executable::outcomeName(TableKind k, int64_t index) const {
  static const std::string kNone = "none";
  if (index == kNoOutcome) return kNone;
  switch (k) {
    case TableKind::Stage: return program_->stages[index];
    case TableKind::Channel: return program_->channels[index];
    case TableKind::Offer: return program_->offers[index];
  }
  return kNone;
}

// ---- evaluator -----------------------------------------------------------------------------

int Evaluator::CustomerPopulation::rfmScore(char which) const {
  return population ? population->rfmScore(customer, which) : 0;
}
const std::string* Evaluator::CustomerPopulation::rfmSegment() const { return population->rfmSegment(customer); }
const std::string* Evaluator::CustomerPopulation::rfmScoreString() const { return population->rfmScoreText(customer); }
Value Evaluator::CustomerPopulation::clv(std::string_view what, const Value* args, int argc) const {
  return population ? population->clv(customer, what, args, argc) : Value::null();
}

NativeContext nativeContext(const Executable& exe, const RunClock& clock) {
  NativeContext natives;
  natives.now = clock.now;
  natives.setToday(clock.today);
  natives.zone = &clock.zone;
  natives.calendar = &exe.config().calendar;
  return natives;
}

Evaluator::Evaluator(const Executable& exe, const Dataset& data, const RunContext& context)
    : exe_(exe), prog_(exe.program()), data_(data), clock_(context.clock), context_(context) {
  size_t stack = 1;
  for (const auto& c : prog_.chunks) stack += c.maxStack;
  stack_.resize(stack);
  top_ = stack_.data();
  active_.assign(prog_.chunks.size(), 0);
  letGen_.assign(prog_.lets.size(), 0);
  letBusy_.assign(prog_.lets.size(), 0);
  letVal_.resize(prog_.lets.size());
  segGen_.assign(prog_.segments.size(), 0);
  segBusy_.assign(prog_.segments.size(), 0);
  segVal_.resize(prog_.segments.size());
  native_ = rekindle::nativeContext(exe_, clock_);
  native_.arena = &arena_;
  customerPopulation_.population = context.population;
  native_.population = context.population ? &customerPopulation_ : nullptr;
  // The where-conditions (the chunks Filter and Streak run per event), compiled once.
  eventTests_ = EventTest::compileAll(exe_, clock_, data_);
  // The list expressions over the events that run as scans, each marked in a copy of its chunk.
  scans_ = findEventScans(exe_, eventTests_);
  loopCode_.resize(prog_.chunks.size());
  for (const auto& c : prog_.chunks) loopCode_[&c - prog_.chunks.data()] = c.code;
  for (uint32_t k = 0; k < scans_.size(); ++k) loopCode_[scans_[k].chunk][scans_[k].start] = kScan | (k << 8);
  scanKept_.resize(scans_.size());
  quickScans_.assign(scans_.size(), 0);
  for (uint32_t k = 0; k < scans_.size(); ++k) quickScans_[k] = isQuickScan(scans_[k], context_.selections, data_);
  shortcuts_.resize(prog_.chunks.size());
  for (uint32_t k = 0; k < scans_.size(); ++k) {
    const std::vector<uint32_t>& code = prog_.chunks[scans_[k].chunk].code;
    if (scans_[k].start == 0 && scans_[k].end + 1 == code.size() && insnOp(code.back()) == Opcode::Return) {
      shortcuts_[scans_[k].chunk].shape = Shortcut::Shape::Scan;
      shortcuts_[scans_[k].chunk].scan = k;
    }
  }
  for (size_t c = 0; c < prog_.chunks.size(); ++c) {
    const std::vector<uint32_t>& code = prog_.chunks[c].code;
    // Not fused: an instruction of a scan, or one a jump lands on (other than the first).
    std::vector<uint8_t> scanned(code.size(), 0), landed(code.size() + 1, 0);
    for (const EventScan& sc : scans_)
      if (sc.chunk == c) std::fill(scanned.begin() + sc.start, scanned.begin() + sc.end, 1);
    for (size_t j = 0; j < code.size(); ++j)
      if (opcodeInfo(insnOp(code[j])).format == OperandFormat::J && j + 1 + insnA(code[j]) <= code.size())
        landed[j + 1 + insnA(code[j])] = 1;
    for (size_t p = 0; p + 3 <= code.size();) {
      std::optional<Shortcut> s;
      if (!scanned[p] && !scanned[p + 1] && !scanned[p + 2] && !landed[p + 1] && !landed[p + 2])
        s = operatorShortcut(code.data() + p, exe_, clock_);
      if (!s) {
        ++p;
        continue;
      }
      loopCode_[c][p] = kFused | static_cast<uint32_t>(fused_.size() << 8);
      fused_.push_back(*s);
      p += 3;
    }
    // A chunk that starts with a fused operator runs it without the loop when the operator is all
    // of it (`stage == active`), or as a guard when its value goes on to JumpIfFalse whose jumps
    // reach the Return (`stage == active and ...`): a false ends the chunk.
    if (shortcuts_[c].shape != Shortcut::Shape::None || (loopCode_[c][0] & 0xFF) != kFused) continue;
    size_t t = 3;
    while (t < code.size() && insnOp(code[t]) == Opcode::JumpIfFalse) t += 1 + insnA(code[t]);
    if (t >= code.size() || insnOp(code[t]) != Opcode::Return) continue;
    shortcuts_[c] = fused_[insnA(loopCode_[c][0])];
    shortcuts_[c].guard = t != 3;
  }
  outcomeGuards_.resize(prog_.chunks.size());
  for (const DecisionTable& t : prog_.tables)
    for (const DecisionRow& row : t.rows) {
      if (row.condition < 0) continue;
      const Shortcut& s = shortcuts_[static_cast<size_t>(row.condition)];
      if (s.shape != Shortcut::Shape::Compare || s.op != Opcode::Eq) continue;
      const bool decisionFirst = s.x.source == Shortcut::Source::Decision;
      const Shortcut::Operand& decision = decisionFirst ? s.x : s.y;
      const Shortcut::Operand& other = decisionFirst ? s.y : s.x;
      if (decision.source != Shortcut::Source::Decision || other.source != Shortcut::Source::Constant ||
          decision.index >= kTableCount ||
          other.value.tag != outcomeValue(static_cast<TableKind>(decision.index), 0).tag)
        continue;
      outcomeGuards_[static_cast<size_t>(row.condition)] =
          OutcomeGuard{static_cast<int8_t>(decision.index), other.value.i};
    }
  // A condition tested up front is read there, whatever shortcut it had. Its outcome guard stays:
  // a row that a known decision rules out is not read at all.
  if (context_.customers)
    for (uint32_t c = 0; c < prog_.chunks.size(); ++c)
      if (const CustomerAnswers* a = context_.customers->answers(c)) {
        shortcuts_[c] = Shortcut();
        shortcuts_[c].shape = Shortcut::Shape::UpFront;
        shortcuts_[c].answers = a;
      }
  selection_.resize(prog_.chunks.size());
  selectionGen_.assign(prog_.chunks.size(), 0);
  selectionOk_.assign(prog_.chunks.size(), 0);
}

Evaluator::~Evaluator() = default;

size_t Evaluator::eventScans() const { return scans_.size(); }

size_t Evaluator::quickScans() const {
  return static_cast<size_t>(std::count(quickScans_.begin(), quickScans_.end(), 1));
}

size_t Evaluator::compiledConditions() const {
  return static_cast<size_t>(std::count_if(eventTests_.begin(), eventTests_.end(), [](const auto& t) { return t != nullptr; }));
}

void Evaluator::begin(uint32_t customer) {
  customer_ = customer;
  ++gen_;
  arena_.reset();
  for (int k = 0; k < kTableCount; ++k) decidedRow_[k] = -1;
  native_.customerId = &data_.customerId(customer);  // its address: the string is read only if bucket() runs
  customerPopulation_.customer = customer;
}

std::optional<Value> runConstant(uint32_t insn, const Executable& exe, const RunClock& clock) {
  const uint32_t a = insnA(insn);
  switch (insnOp(insn)) {
    case Opcode::PushNull: return Value::null();
    case Opcode::PushTrue: return Value::boolean(true);
    case Opcode::PushFalse: return Value::boolean(false);
    case Opcode::PushConst: return exe.constants()[a];
    case Opcode::LoadParam: return exe.params()[a];
    case Opcode::LoadNow: return Value::time(clock.now);
    case Opcode::LoadToday: return Value::date(clock.today);
    default: return std::nullopt;
  }
}

std::optional<Evaluator::Shortcut::Operand> Evaluator::simpleOperand(uint32_t insn, const Executable& exe,
                                                                     const RunClock& clock) {
  Shortcut::Operand o;
  if (std::optional<Value> v = runConstant(insn, exe, clock)) {
    o.value = *v;
    return o;
  }
  const uint32_t a = insnA(insn);
  switch (insnOp(insn)) {
    case Opcode::LoadField: o.source = Shortcut::Source::Field; break;
    case Opcode::LoadLet: o.source = Shortcut::Source::Let; break;
    case Opcode::LoadDecision: o.source = Shortcut::Source::Decision; break;
    default: return std::nullopt;
  }
  o.index = a;
  return o;
}

std::optional<Evaluator::Shortcut> Evaluator::operatorShortcut(const uint32_t* insns, const Executable& exe,
                                                               const RunClock& clock) {
  Shortcut s;
  s.op = insnOp(insns[2]);
  switch (s.op) {
    case Opcode::Eq: case Opcode::Ne: case Opcode::Lt: case Opcode::Le: case Opcode::Gt: case Opcode::Ge:
      s.shape = Shortcut::Shape::Compare;
      break;
    case Opcode::Add: case Opcode::Sub: case Opcode::Mul: case Opcode::Div: case Opcode::Mod:
      s.shape = Shortcut::Shape::Arith;
      break;
    case Opcode::Call:  // the verifier checked the native and its argument count
      if (insnB(insns[2]) != 2) return std::nullopt;
      s.fn = &exe.native(insnA16(insns[2]));
      s.shape = Shortcut::Shape::Call;
      break;
    default: return std::nullopt;
  }
  std::optional<Shortcut::Operand> x = simpleOperand(insns[0], exe, clock), y = simpleOperand(insns[1], exe, clock);
  if (!x || !y) return std::nullopt;
  s.x = *x;
  s.y = *y;
  return s;
}

std::optional<Value> Evaluator::apply(const Shortcut& s, const Value* xy) {
  if (s.shape == Shortcut::Shape::Compare) {
    if (std::optional<bool> r = compare(s.op, xy[0], xy[1])) return Value::boolean(*r);
    return std::nullopt;
  }
  if (s.shape == Shortcut::Shape::Arith) return arith(s.op, xy[0], xy[1]);
  return callNative(*s.fn, native_, xy, 2);
}

inline Value Evaluator::execute(int32_t chunk, int64_t element) {
  const Shortcut& s = shortcuts_[chunk];
  // Tested up front: the answer is two bits, unless both are set (in bytecode). Most rows and
  // segments a customer meets are so; nothing else is checked for them. (Tested first, on its own:
  // under one test shared with the other shortcuts, a run took about 35 more instructions per
  // customer, measured.)
  if (s.shape == Shortcut::Shape::UpFront && element < 0 && useCompiled_ && !tracer_ && fault_.empty() && !active_[chunk]) {
    const uint64_t bit = uint64_t(1) << (customer_ & 63);
    const bool t = s.answers->isTrue[customer_ >> 6] & bit, f = s.answers->isFalse[customer_ >> 6] & bit;
    if (t != f) return Value::boolean(t);
    return t ? interpret(chunk, element) : Value::null();
  }
  if (s.shape >= Shortcut::Shape::Scan && element < 0 && useCompiled_ && !tracer_ && fault_.empty() && !active_[chunk]) {
    active_[chunk] = 1;
    std::optional<Value> v;
    if (s.shape == Shortcut::Shape::Scan) {
      v = scan(s.scan);
    } else {
      // As the loop would: left operand first; a let's fault does not stop the operator.
      const Value xy[2] = {operand(s.x), operand(s.y)};
      v = apply(s, xy);
    }
    active_[chunk] = 0;
    if (v && s.guard && !v->isFalse()) return interpret(chunk, element, &*v);
    if (v) return *v;
    // A value of the wrong kind (forged bytecode): the loop reports where, or the fault stands.
  }
  return interpret(chunk, element);
}

Value Evaluator::computeLet(uint32_t i) {
  if (letBusy_[i] == gen_) {
    fault_ = "let '" + prog_.lets[i].name + "' depends on itself";
    return Value::null();
  }
  letBusy_[i] = gen_;
  Value v = execute(prog_.lets[i].chunk, -1);
  letVal_[i] = v;
  letGen_[i] = gen_;
  if (tracer_) tracer_->letComputed(i, v);
  return v;
}

Value Evaluator::computeSegment(uint32_t i) {
  if (segBusy_[i] == gen_) {
    fault_ = "segment '" + prog_.segments[i].name + "' depends on itself";
    return Value::null();
  }
  segBusy_[i] = gen_;
  Value v = execute(prog_.segments[i].chunk, -1);
  segVal_[i] = v;
  segGen_[i] = gen_;
  return v;
}

ConsentResult Evaluator::consent(int32_t programChannel) const {
  int idx = exe_.configChannel(programChannel);
  if (idx < 0) return ConsentResult::NotInConfig;
  const ChannelSpec& ch = exe_.config().channels[idx];
  if (ch.consentField < 0) return ConsentResult::NoConsent;
  Value c = data_.customers[ch.consentField].get(customer_);
  if (!c.isTrue()) return ConsentResult::NoConsent;
  if (ch.requiresField >= 0) {
    Value r = data_.customers[ch.requiresField].get(customer_);
    if (r.isNull()) return ConsentResult::MissingField;
    // Blank is missing. Every string of the run is the dataset's pool's, which knows the blank ones.
    if (r.tag == Kind::String && data_.strings.isBlank(r.s)) return ConsentResult::MissingField;
  }
  return ConsentResult::Allowed;
}

Value Evaluator::outcomeValue(TableKind k, int32_t outcome) const {
  switch (k) {
    case TableKind::Stage: return Value::outcome(Kind::Stage, outcome);
    case TableKind::Channel: return Value::outcome(Kind::Channel, outcome);
    case TableKind::Offer: return Value::outcome(Kind::Offer, outcome);
  }
  return Value::null();
}

Value Evaluator::rowCondition(TableKind k, const DecisionRow& row) {
  Value cond = row.condition < 0       ? Value::boolean(true)
               : ruledOut(row.condition) ? Value::boolean(false)
                                         : execute(row.condition, -1);
  if (tracer_) tracer_->rowTried(k, static_cast<size_t>(&row - prog_.table(k).rows.data()), cond);
  return cond;
}

void Evaluator::eligibleRows(TableKind k, std::vector<int>& rows, const std::vector<bool>* last) {
  rows.clear();
  const auto& table = prog_.table(k);
  for (size_t r = 0; r < table.rows.size(); ++r) {
    const DecisionRow& row = table.rows[r];
    if (!rowCondition(k, row).isTrue()) continue;
    if (k == TableKind::Channel && row.outcome != kNoOutcome) {
      ConsentResult why = consent(row.outcome);
      if (why != ConsentResult::Allowed) {
        if (tracer_) tracer_->rowSkipped(k, r, why);
        continue;
      }
    }
    rows.push_back(static_cast<int>(r));
    if (last && (*last)[r]) break;
  }
}

Value Evaluator::computeDecision(TableKind k) {
  int t = static_cast<int>(k);
  if (decBusy_[t] == gen_) {
    fault_ = std::string("decision '") + tableName(k) + "' depends on itself";
    return Value::null();
  }
  decBusy_[t] = gen_;
  const auto& table = prog_.table(k);
  Value result = Value::null();
  int decided = -1;
  if (fixedGen_[t] == gen_) {
    decided = fixedRow_[t];
    if (decided >= 0) result = outcomeValue(k, table.rows[decided].outcome);
  } else {
    for (size_t r = 0; r < table.rows.size() && fault_.empty(); ++r) {
      const DecisionRow& row = table.rows[r];
      if (!rowCondition(k, row).isTrue()) continue;
      // Consent is the runtime's, not the rules': a row for a channel the customer did not
      // agree to, or cannot be reached on, is passed over (SPEC §5.2).
      if (k == TableKind::Channel && row.outcome != kNoOutcome) {
        ConsentResult why = consent(row.outcome);
        if (why != ConsentResult::Allowed) {
          if (tracer_) tracer_->rowSkipped(k, r, why);
          continue;
        }
      }
      decided = static_cast<int>(r);
      result = outcomeValue(k, row.outcome);
      break;
    }
  }
  decidedRow_[t] = decided;
  decVal_[t] = result;
  decGen_[t] = gen_;
  return result;
}

Value Evaluator::runChunk(int32_t chunk) { return execute(chunk, -1); }

Value Evaluator::events() {
  if (eventsGen_ == gen_) return eventsVal_;
  ListObj* l = arena_.newList();
  uint32_t b = data_.eventBegin[customer_], e = data_.eventBegin[customer_ + 1];
  l->items.reserve(e - b);
  for (uint32_t k = b; k < e; ++k) l->items.push_back(Value::event(k));
  eventsVal_ = Value::listOf(l);
  eventsGen_ = gen_;
  return eventsVal_;
}

bool Evaluator::holds(uint32_t condition, int64_t event) {
  const EventTest* test = useCompiled_ && !tracer_ && !active_[condition] ? eventTests_[condition].get() : nullptr;
  auto letFn = [this](uint32_t i) { return let(i); };
  std::optional<bool> r;
  if (test) {
    active_[condition] = 1;  // as if the chunk ran: re-entering it through a let is still a cycle
    r = test->test(data_, customer_, event, letFn);
    active_[condition] = 0;
  }
  // Compiled when it can be, else (or on a tag mismatch) in bytecode.
  if (!r && fault_.empty()) r = execute(static_cast<int32_t>(condition), event).isTrue();
  return r.value_or(false);
}

const uint64_t* Evaluator::selection(uint32_t condition) {
  std::vector<uint64_t>& bits = selection_[condition];
  if (selectionGen_[condition] != gen_) {
    const uint32_t b = data_.eventBegin[customer_], e = data_.eventBegin[customer_ + 1];
    bits.resize((e - b + 63) / 64);
    selectionOk_[condition] = eventTests_[condition]->select(data_, customer_, b, e, bits.data(), scratch_);
    selectionGen_[condition] = gen_;
  }
  return selectionOk_[condition] ? bits.data() : nullptr;
}

std::optional<Value> Evaluator::scan(uint32_t s) {
  const EventScan& sc = scans_[s];
  // Every condition's bits are there: nothing to check, nothing to test.
  if (quickScans_[s]) return quickScanValue(sc, *context_.selections, data_, customer_, scanKept_[s]);
  const uint32_t begin = data_.eventBegin[customer_], end = data_.eventBegin[customer_ + 1];
  const uint32_t count = end - begin;
  // Most customers have at most 64 events: their kept bits are one word, kept in a register.
  if (count <= 64) {
    uint64_t kept = count == 64 ? ~uint64_t(0) : (uint64_t(1) << count) - 1;
    for (uint32_t condition : sc.selections) {
      // No event left: the rest would not be tested, as a Filter tests no event of an empty list.
      if (!kept) break;
      if (context_.selections && context_.selections->has(condition)) {
        kept &= context_.selections->word(condition, begin);
        continue;
      }
      const uint64_t* bits = selection(condition);
      if (!bits) return std::nullopt;  // forged bytecode: the expression runs in bytecode
      kept &= bits[0];
    }
    return reduce(sc, begin, &kept, 1);
  }
  const size_t words = (count + 63) / 64;
  std::vector<uint64_t>& kept = scanKept_[s];
  kept.assign(words, ~uint64_t(0));  // every event kept to begin with
  if (count % 64) kept[words - 1] = (uint64_t(1) << (count % 64)) - 1;
  for (uint32_t condition : sc.selections) {
    // Tested up front for every event of the run, or else for this customer's, once.
    if (context_.selections && context_.selections->has(condition)) {
      context_.selections->keep(condition, begin, end, kept.data());
      continue;
    }
    const uint64_t* bits = selection(condition);
    if (!bits) return std::nullopt;  // forged bytecode: the expression runs in bytecode
    for (size_t w = 0; w < words; ++w) kept[w] &= bits[w];
  }
  return reduce(sc, begin, kept.data(), words);
}

std::optional<Value> Evaluator::reduce(const EventScan& sc, uint32_t begin, const uint64_t* kept, size_t words) {
  if (const std::optional<Value> v = keptValue(sc, data_, begin, kept, words)) return *v;
  Reducer acc(sc.reduction);
  ListObj* out = sc.reduction == Reduction::None ? arena_.newList() : nullptr;
  for (size_t w = 0; w < words; ++w) {
    for (uint64_t bits = kept[w]; bits; bits &= bits - 1) {
      const uint32_t event = begin + static_cast<uint32_t>(w * 64 + __builtin_ctzll(bits));
      // The last condition as its Filter would test it: on the events the others keep, in order.
      if (sc.last >= 0) {
        bool keep = holds(static_cast<uint32_t>(sc.last), event);
        if (!fault_.empty()) return std::nullopt;
        if (!keep) continue;
      }
      Value v = sc.field >= 0 ? data_.events[sc.field].get(event) : Value::event(event);
      if (out) out->items.push_back(v);
      else acc.add(v);
    }
  }
  return out ? Value::listOf(out) : acc.result();
}

Value Evaluator::setFault(const Chunk& c, size_t pc, const std::string& what) {
  if (fault_.empty()) {
    SourceLoc loc = pc < c.locs.size() ? c.locs[pc] : SourceLoc{};
    fault_ = fmt::format("bytecode fault in {} at {}:{}: {}", c.label, loc.line, loc.col, what);
  }
  return Value::null();
}


#define CASE(name) case Opcode::name:
#define NEXT break
#define FAULT(msg)                                      \
  do {                                                  \
    active_[chunkIndex] = 0;                            \
    top_ = base;                                        \
    return setFault(chunk, pc - 1, msg);                \
  } while (0)

__attribute__((noinline)) Value Evaluator::interpret(int32_t chunkIndex, int64_t element, const Value* first) {
  const Chunk& chunk = prog_.chunks[chunkIndex];
  if (!fault_.empty() && !first) return Value::null();  // (a fault in the guard's operands: inside the chunk)
  if (active_[chunkIndex]) return setFault(chunk, 0, "a chunk re-entered itself (dependency cycle)");
  active_[chunkIndex] = 1;
  Value* const base = top_;
  Value* sp = base;
  const uint32_t* code = useCompiled_ && !tracer_ ? loopCode_[chunkIndex].data() : chunk.code.data();
  size_t pc = 0;
  if (first) {  // the guard applied the first three instructions
    *sp++ = *first;
    pc = 3;
  }
  // Calls out of the loop (lets, decisions, conditions) run above our stack top.
  auto callOut = [&](auto fn) {
    top_ = sp;
    Value v = fn();
    top_ = base;
    return v;
  };
  for (;;) {
    const uint32_t insn = code[pc++];
    const uint32_t a = insnA(insn);
    switch (insnOp(insn)) {
      CASE(PushNull) { *sp++ = Value::null(); NEXT; }
      CASE(PushTrue) { *sp++ = Value::boolean(true); NEXT; }
      CASE(PushFalse) { *sp++ = Value::boolean(false); NEXT; }
      CASE(PushConst) { *sp++ = exe_.constants()[a]; NEXT; }
      CASE(LoadField) {
        Value v = data_.customers[a].get(customer_);
        if (tracer_) tracer_->fieldRead(a, v);
        *sp++ = v;
        NEXT;
      }
      CASE(LoadEventField) {
        if (element < 0) FAULT("event field read with no event in scope");
        *sp++ = data_.events[a].get(static_cast<size_t>(element));
        NEXT;
      }
      CASE(LoadEvents) { *sp++ = events(); NEXT; }
      CASE(LoadLet) { *sp++ = callOut([&] { return let(a); }); NEXT; }
      CASE(LoadSegment) { *sp++ = callOut([&] { return segment(a); }); NEXT; }
      CASE(LoadDecision) { *sp++ = callOut([&] { return decision(static_cast<TableKind>(a)); }); NEXT; }
      CASE(LoadParam) { *sp++ = exe_.params()[a]; NEXT; }
      CASE(LoadNow) { *sp++ = Value::time(clock_.now); NEXT; }
      CASE(LoadToday) { *sp++ = Value::date(clock_.today); NEXT; }
      CASE(LoadPrevious) {
        const PreviousDecisions* prev = context_.previous;
        Value v;
        if (prev && prev->present[customer_]) {
          int32_t idx = a == 0 ? prev->stage[customer_] : a == 1 ? prev->channel[customer_] : a == 2 ? prev->offer[customer_] : 0;
          if (a == 3) {
            if (prev->at[customer_]) v = Value::time(*prev->at[customer_]);
          } else if (idx != kUnknownOutcome) {
            v = Value::outcome(a == 0 ? Kind::Stage : a == 1 ? Kind::Channel : Kind::Offer, idx);
          }
        }
        *sp++ = v;
        NEXT;
      }
      CASE(GetField) {
        Value& v = sp[-1];
        if (v.isNull()) NEXT;
        if (v.tag != Kind::Event) FAULT("field of a value that is not an event");
        v = data_.events[a].get(static_cast<size_t>(v.i));
        NEXT;
      }
      CASE(Project) {
        Value& v = sp[-1];
        if (v.tag != Kind::List) FAULT("projection of a value that is not a list");
        ListObj* out = arena_.newList();
        out->items.reserve(v.list->items.size());
        for (const Value& e : v.list->items) {
          if (e.tag != Kind::Event) FAULT("projection of a list that is not of events");
          out->items.push_back(data_.events[a].get(static_cast<size_t>(e.i)));
        }
        v = Value::listOf(out);
        NEXT;
      }
      CASE(Filter) CASE(Streak) {
        const bool filter = insnOp(insn) == Opcode::Filter;
        Value list = sp[-1];
        if (list.tag != Kind::List) FAULT(filter ? "where on a value that is not a list" : "streak of a value that is not a list");
        const auto& items = list.list->items;
        auto holdsHere = [&](int64_t event) {
          top_ = sp;
          bool r = holds(a, event);
          top_ = base;
          return r;
        };
        if (filter) {
          ListObj* out = arena_.newList();
          for (const Value& e : items) {
            if (e.tag != Kind::Event) FAULT("where on a list that is not of events");
            bool keep = holdsHere(e.i);
            if (!fault_.empty()) FAULT("in a where condition");
            if (keep) out->items.push_back(e);
          }
          sp[-1] = Value::listOf(out);
        } else {
          int64_t n = 0;
          for (size_t k = items.size(); k-- > 0;) {
            if (items[k].tag != Kind::Event) FAULT("streak of a list that is not of events");
            bool ok = holdsHere(items[k].i);
            if (!fault_.empty()) FAULT("in a streak condition");
            if (!ok) break;
            ++n;
          }
          sp[-1] = Value::integer(n);
        }
        NEXT;
      }
      CASE(QuantileRank) {
        if (!context_.population) FAULT("population statistics are not available in this run");
        Value& v = sp[-1];
        if (v.isNull()) NEXT;
        if (v.tag != Kind::Int && v.tag != Kind::Float) FAULT("quantile_rank of a value that is not a number");
        v = context_.population->quantileRank(a, v.asNumber());
        NEXT;
      }
      CASE(MakeList) {
        ListObj* out = arena_.newList();
        out->items.assign(sp - a, sp);
        sp -= a;
        *sp++ = Value::listOf(out);
        NEXT;
      }
      CASE(Call) {
        const uint32_t id = insnA16(insn), argc = insnB(insn);
        const Builtin& fn = exe_.native(id);
        Value* args = sp - argc;
        const std::optional<Value> r = callNative(fn, native_, args, static_cast<int>(argc));
        if (!r) {  // forged bytecode: say which argument
          uint32_t k = 0;
          while (k + 1 < argc && argumentFits(fn.params[k], args[k])) ++k;
          FAULT("argument " + std::to_string(k + 1) + " of " + fn.name + " has the wrong type");
        }
        sp = args;
        *sp++ = *r;
        NEXT;
      }
      CASE(Neg) {
        Value& v = sp[-1];
        if (v.isNull()) NEXT;
        if (v.tag == Kind::Float) v.f = -v.f;
        else if (v.tag == Kind::Int || v.tag == Kind::Duration) {
          if (v.i == std::numeric_limits<int64_t>::min()) v = Value::null();
          else v.i = -v.i;
        } else FAULT("negation of a value that is not a number or duration");
        NEXT;
      }
      CASE(Add) CASE(Sub) CASE(Mul) CASE(Div) CASE(Mod) {
        auto r = arith(insnOp(insn), sp[-2], sp[-1]);
        if (!r) FAULT(std::string("operator on ") + kindName(sp[-2].tag) + " and " + kindName(sp[-1].tag));
        --sp;
        sp[-1] = *r;
        NEXT;
      }
      CASE(Eq) CASE(Ne) CASE(Lt) CASE(Le) CASE(Gt) CASE(Ge) {
        const Value x = sp[-2], y = sp[-1];
        auto r = compare(insnOp(insn), x, y);
        if (!r) {
          bool eq = insnOp(insn) == Opcode::Eq || insnOp(insn) == Opcode::Ne;
          FAULT(std::string(eq ? "comparison of " : "ordering of ") + kindName(x.tag) + " and " + kindName(y.tag));
        }
        --sp;
        sp[-1] = Value::boolean(*r);
        NEXT;
      }
      CASE(In) CASE(NotIn) {
        auto r = member(insnOp(insn), sp[-2], sp[-1]);
        if (!r) FAULT("`in` on a value that is not a list");
        --sp;
        sp[-1] = Value::boolean(*r);
        NEXT;
      }
      CASE(IsNull) { sp[-1] = Value::boolean(sp[-1].isNull()); NEXT; }
      CASE(IsNotNull) { sp[-1] = Value::boolean(!sp[-1].isNull()); NEXT; }
      CASE(Not) {
        if (!sp[-1].isNull() && sp[-1].tag != Kind::Bool) FAULT("not of a value that is not a bool");
        sp[-1] = threeValuedNot(sp[-1]);
        NEXT;
      }
      CASE(And) CASE(Or) {
        Value x = sp[-2], y = sp[-1];
        --sp;
        if ((!x.isNull() && x.tag != Kind::Bool) || (!y.isNull() && y.tag != Kind::Bool))
          FAULT("and/or of a value that is not a bool");
        bool isAnd = insnOp(insn) == Opcode::And;
        // Three-valued logic: false dominates `and`, true dominates `or`, else null wins.
        if (isAnd) sp[-1] = (x.isFalse() || y.isFalse()) ? Value::boolean(false) : (x.isNull() || y.isNull()) ? Value::null() : Value::boolean(true);
        else sp[-1] = (x.isTrue() || y.isTrue()) ? Value::boolean(true) : (x.isNull() || y.isNull()) ? Value::null() : Value::boolean(false);
        NEXT;
      }
      CASE(Jump) { pc += a; NEXT; }
      CASE(JumpIfFalse) { if (sp[-1].isFalse()) pc += a; NEXT; }
      CASE(JumpIfTrue) { if (sp[-1].isTrue()) pc += a; NEXT; }
      CASE(JumpIfNotNull) { if (!sp[-1].isNull()) pc += a; NEXT; }
      CASE(Pop) { --sp; NEXT; }
      CASE(Return) {
        Value r = sp[-1];
        active_[chunkIndex] = 0;
        top_ = base;
        return r;
      }
      default: {
        if ((insn & 0xFF) == kFused) {
          // x, y and an operator in one step; on a value of the wrong kind, x and y are pushed and
          // the operator's own instruction runs next, to fault where it is.
          const Shortcut& f = fused_[a];
          top_ = sp;
          const Value xy[2] = {operand(f.x), operand(f.y)};
          top_ = base;
          if (std::optional<Value> v = apply(f, xy)) {
            *sp++ = *v;
            pc += 2;
          } else {
            *sp++ = xy[0];
            *sp++ = xy[1];
            ++pc;
          }
          NEXT;
        }
        if ((insn & 0xFF) != kScan) FAULT("unknown opcode");
        // An event scan: the list expression's value without its lists, and on past its end.
        top_ = sp;
        std::optional<Value> v = scan(a);
        top_ = base;
        if (!fault_.empty()) FAULT("in a where condition");
        if (v) {
          *sp++ = *v;
          pc = scans_[a].end;
          NEXT;
        }
        // A condition met a value of the wrong kind (forged bytecode): the expression in bytecode.
        const uint32_t source = chunk.code[pc - 1];
        if (insnOp(source) == Opcode::LoadEvents) *sp++ = events();
        else *sp++ = callOut([&] { return let(insnA(source)); });
        NEXT;
      }
    }
  }
}

#undef CASE
#undef NEXT
#undef FAULT

}  // namespace rekindle
