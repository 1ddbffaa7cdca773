// The data contract, `rekindle.yaml` (SPEC §2): where the exports are, their schema, the
// channel catalog with its consent rules, the offer catalog, the calendar and param overrides.
// Owned by data engineering; rules cannot override it. Read with yaml-cpp.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "rekindle/core/diagnostic.h"
#include "rekindle/core/time.h"
#include "rekindle/core/value.h"
#include "rekindle/runtime/reader.h"
#include "rekindle/stdlib/builtins.h"

namespace rekindle {

struct FieldSpec {
  std::string name;    // the name rules use
  std::string column;  // the export's column (defaults to name)
  Type type;
  std::string format;  // strptime-like layout for time/date columns ("%Y%m%d"), optional
};

// One export: customers, events or contacts.
struct ExportSpec {
  bool present = false;
  SourceOptions source;           // path resolved against the config's folder
  std::string keyColumn;          // customers: id; events/contacts: the customer id column
  std::string timeColumn;         // events/contacts: the event time column
  std::string timeFormat;         // optional layout for the time column
  std::string channelColumn;      // contacts: the channel column (an event field with from_events)
  // contacts only: taken from the events whose field `fromEventsField` holds one of these
  // values, instead of a file of their own.
  std::string fromEventsField;
  std::vector<std::string> fromEventsValues;
  // customers only: no customer file; the customers are the distinct ids of the events, in the
  // order they first appear (exports such as CDNOW's that hold only transactions).
  bool customersFromEvents = false;
  // customers only: `id: "@row"`: the export has no id column; the id is the data row number.
  bool rowIds = false;
  std::vector<FieldSpec> fields;  // declared fields, in config order
  int line = 0;                   // where it is declared in the config, for messages
};

struct QuietHours {
  int startMinute = 0;  // minutes after local midnight, inclusive
  int endMinute = 0;    // exclusive; end < start means the window crosses midnight
  std::string text;
};

struct ChannelSpec {
  std::string name;
  std::string consent;   // customer field (bool) that must be true
  std::string requires;  // customer field that must be non-null and non-empty
  std::optional<QuietHours> quiet;
  int consentField = -1;   // index into Schema::customerFields
  int requiresField = -1;
};

struct OfferSpec {
  std::string name;
  std::string description;
  double cost = 0;
};

// Fields as rules see them. customerFields[0] is the customer id (string); eventFields[0]
// is the event time (time). Indices are what bytecode refers to.
struct Schema {
  std::vector<FieldSpec> customerFields;
  std::vector<FieldSpec> eventFields;
  bool hasEvents = false;
  int customerTimezoneField = -1;  // customers.timezone: a string field of IANA names

  int customerField(std::string_view name) const;
  int eventField(std::string_view name) const;
  // A stable hash of everything compiled bytecode depends on: field names, types and order.
  uint64_t fingerprint() const;
};

// A `params:` entry: the text is typed by the rules' declaration when it is applied.
struct ParamSetting {
  std::string name;
  std::string text;
  int line = 0;
};

struct RfmSettings {
  std::string purchase = "kind == \"purchase\"";  // rules expression selecting purchases
  std::string amount = "amount";                  // event field summed for monetary
};

// `clv:` (std.clv and `rekindle fit`): what a purchase is and its amount, as for rfm; the time
// unit of frequency, recency and T; the parameters file `rekindle fit` wrote.
struct ClvSettings {
  std::string purchase = "kind == \"purchase\"";  // rules expression selecting purchases
  std::string amount = "amount";                  // event field: the purchase's amount
  std::string unit = "weeks";                     // weeks or days
  std::string fitted;                             // resolved against the config's folder; "" when unset
};

// One entry of the config's `lint:` section: `disable: [W012]` or `severity: { W003: error }`.
// The code may also be a rule's name (`unreachable-row`); `rekindle lint` checks that it exists.
struct LintSetting {
  std::string code;
  bool disabled = false;  // `disable:`, or severity `off`
  Severity severity = Severity::Warning;
  int line = 0;  // 1-based position in the config, for messages
  int column = 0;
};

struct Config {
  std::string path;  // as given
  std::string dir;   // folder holding it; relative paths resolve against it
  std::string text;  // the file's text, for rendering diagnostics
  std::string timezoneName = "UTC";
  TimeZone zone;
  std::optional<int64_t> asOf;  // `as_of:` pins the run's clock (examples, reruns)
  ExportSpec customers;
  ExportSpec events;
  ExportSpec contacts;
  std::vector<ChannelSpec> channels;
  std::vector<OfferSpec> offers;
  Calendar calendar;
  std::vector<ParamSetting> params;
  RfmSettings rfm;
  ClvSettings clv;
  std::vector<LintSetting> lint;
  Schema schema;

  const ChannelSpec* channel(std::string_view name) const;
  const OfferSpec* offer(std::string_view name) const;
};

// Loads and validates a config. Problems come back as diagnostics located in the YAML file
// (code E050 or E051); the config is usable only when no error was reported.
std::optional<Config> loadConfig(const std::string& path, std::vector<Diagnostic>& diags);
// The same from text (tests, the language server); `path` names it in messages.
std::optional<Config> parseConfig(const std::string& path, const std::string& text,
                                  std::vector<Diagnostic>& diags);

// Reads "21:00-08:00".
std::optional<QuietHours> parseQuietHours(std::string_view text);

}  // namespace rekindle
