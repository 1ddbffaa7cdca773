// The compile pipeline: parse, check, emit, verify.
#include <fmt/format.h>

#include "checked.h"
#include "rekindle/runtime/rkb.h"

namespace rekindle {

namespace ast {

const char* tableKindName(TableKind k) {
  switch (k) {
    case TableKind::Stage: return "stage";
    case TableKind::Channel: return "channel";
    case TableKind::Offer: return "offer";
  }
  return "?";
}

const char* opSpelling(Op op) {
  switch (op) {
    case Op::Neg: return "-";
    case Op::Not: return "not";
    case Op::Add: return "+";
    case Op::Sub: return "-";
    case Op::Mul: return "*";
    case Op::Div: return "/";
    case Op::Mod: return "%";
    case Op::Eq: return "==";
    case Op::Ne: return "!=";
    case Op::Lt: return "<";
    case Op::Le: return "<=";
    case Op::Gt: return ">";
    case Op::Ge: return ">=";
    case Op::In: return "in";
    case Op::NotIn: return "not in";
    case Op::And: return "and";
    case Op::Or: return "or";
    case Op::Coalesce: return "??";
    case Op::IsNull: return "is null";
    case Op::IsNotNull: return "is not null";
    case Op::None: return "";
  }
  return "";
}

}  // namespace ast

const char* errorCodeString(ErrorCode c) {
  switch (c) {
#define REKINDLE_X(e, code, title) \
  case ErrorCode::e:               \
    return code;
    REKINDLE_ERROR_CODES(REKINDLE_X)
#undef REKINDLE_X
  }
  return "E000";
}

const char* errorCodeTitle(ErrorCode c) {
  switch (c) {
#define REKINDLE_X(e, code, title) \
  case ErrorCode::e:               \
    return title;
    REKINDLE_ERROR_CODES(REKINDLE_X)
#undef REKINDLE_X
  }
  return "";
}

int SemanticModel::find(SymbolKind kind, const std::string& name) const {
  for (size_t i = 0; i < symbols.size(); ++i)
    if (symbols[i].kind == kind && symbols[i].name == name) return static_cast<int>(i);
  return -1;
}

std::string locationText(const std::string& file, SourceLoc loc) {
  return fmt::format("{}:{}:{}", file, loc.line, loc.col);
}

CompileResult compileRules(const SourceFile& source, const Config& config, const CompileOptions& options) {
  CompileResult result;
  ParseResult parsed = parseRules(source, options.limits);
  result.module = std::move(parsed.module);
  result.diags = std::move(parsed.diags);
  bool syntaxOk = !hasErrors(result.diags);
  CheckedProgram checked;
  // After a syntax error the tree is partial: check it for the symbols (hover, completion)
  // but keep only the syntax errors, or one typo would come back as a cascade.
  std::vector<Diagnostic> semantic;
  checkProgram(*result.module, result.preludes, result.preludeSources, config, checked, result.model, semantic);
  if (syntaxOk) result.diags.insert(result.diags.end(), semantic.begin(), semantic.end());
  sortDiagnostics(result.diags);
  if (!syntaxOk || hasErrors(result.diags)) return result;
  Program program = emitProgram(checked);
  std::string problem = verifyProgram(program);
  if (!problem.empty()) {
    // The emitter produced something the verifier refuses: our bug, said plainly.
    Diagnostic d;
    d.code = "E000";
    d.file = source.path();
    d.message = "internal compiler error: " + problem;
    result.diags.push_back(d);
    return result;
  }
  result.program = std::move(program);
  return result;
}

}  // namespace rekindle
