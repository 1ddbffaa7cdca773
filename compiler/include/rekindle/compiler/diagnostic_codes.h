// Every compile-time diagnostic code, once: its stable number and a short title (used by
// `rekindle lint --format sarif` as the rule name and by docs/diagnostics.md).
// Codes are never reused or renumbered; retired codes stay listed as retired.
#pragma once

#include <string>

namespace rekindle {

// X(Enumerator, "code", "title")
#define REKINDLE_ERROR_CODES(X)                                                          \
  X(SyntaxError, "E001", "syntax error")                                                 \
  X(BadCharacter, "E002", "unexpected character")                                        \
  X(UnterminatedString, "E003", "unterminated string")                                   \
  X(BadEscape, "E004", "unknown escape sequence")                                        \
  X(NumberOutOfRange, "E005", "number out of range")                                     \
  X(BadDateTime, "E006", "invalid date or time literal")                                 \
  X(InputTooLarge, "E007", "rules file too large")                                       \
  X(NestingTooDeep, "E008", "expression nested too deeply")                              \
  X(DuplicateName, "E010", "duplicate name")                                             \
  X(UnknownName, "E011", "unknown name")                                                 \
  X(UnknownField, "E012", "unknown field")                                               \
  X(UnknownFunction, "E013", "unknown function")                                         \
  X(WrongArgCount, "E014", "wrong number of arguments")                                  \
  X(NoMatchingOverload, "E015", "argument types do not match")                           \
  X(UnknownModule, "E016", "unknown module")                                             \
  X(UnknownChannel, "E017", "unknown channel")                                           \
  X(UnknownOffer, "E018", "unknown offer")                                               \
  X(DuplicateDeclaration, "E019", "declared twice")                                      \
  X(OperandTypes, "E020", "operator does not apply to these types")                      \
  X(IncomparableTypes, "E021", "values of these types cannot be compared")               \
  X(NotBool, "E022", "condition is not a bool")                                          \
  X(DependencyCycle, "E023", "dependency cycle")                                         \
  X(WhereNeedsEvents, "E024", "`where` needs a list of events")                          \
  X(ChainedComparison, "E025", "comparisons cannot be chained")                          \
  X(BadOutcome, "E026", "invalid outcome for this table")                                \
  X(BadCalendarUnit, "E027", "unknown calendar window")                                  \
  X(BadCapTarget, "E028", "cap on an unknown channel")                                   \
  X(BadHoldout, "E029", "invalid holdout")                                               \
  X(BadLimit, "E030", "invalid limit")                                                   \
  X(BadParamValue, "E031", "invalid parameter value")                                    \
  X(BadPrevious, "E032", "invalid use of `previous`")                                    \
  X(MissingTable, "E033", "decision used but not declared")                              \
  X(NoEvents, "E034", "no events in the config")                                         \
  X(BadRankBy, "E035", "`rank by` needs a number, time, date, duration or string")             \
  X(UntypedNull, "E036", "type of null cannot be inferred")                              \
  X(MisplacedNone, "E037", "`none` outside a channel or offer context")                  \
  X(ModuleAsValue, "E038", "a module is not a value")                                    \
  X(MixedList, "E039", "list elements of different types")                               \
  X(BadCapWindow, "E040", "invalid cap window")                                          \
  X(InNeedsList, "E041", "`in` needs a list on the right")                               \
  X(NameClash, "E042", "name clashes with a stage")                                      \
  X(UnknownHoliday, "E043", "unknown calendar entry")                                    \
  X(NotAList, "E044", "a list is needed here")                                           \
  X(EmptyTable, "E045", "decision table has no rows")                                    \
  X(CapReadsDecision, "E046", "a cap condition cannot depend on the channel or offer")   \
  X(BadQuantileRank, "E047", "invalid quantile_rank value")                              \
  X(ConfigError, "E050", "invalid configuration")                                        \
  X(ConsentFieldMissing, "E051", "channel consent or required field not in the schema")  \
  X(NotSupported, "E090", "not supported yet")

enum class ErrorCode {
#define REKINDLE_X(e, code, title) e,
  REKINDLE_ERROR_CODES(REKINDLE_X)
#undef REKINDLE_X
};

const char* errorCodeString(ErrorCode c);
const char* errorCodeTitle(ErrorCode c);

}  // namespace rekindle
