// Loading and validating rekindle.yaml. Every problem is a located diagnostic: a data engineer
// editing the config gets `rekindle.yaml:12:5: error[E050]: ...` like a rules author does.
#include "rekindle/runtime/config.h"

#include <yaml-cpp/yaml.h>

#include <algorithm>
#include <fstream>
#include <functional>
#include <set>
#include <sstream>

#include "rekindle/core/hash.h"
#include "rekindle/core/suggest.h"

namespace rekindle {

int Schema::customerField(std::string_view name) const {
  for (size_t i = 0; i < customerFields.size(); ++i)
    if (customerFields[i].name == name) return static_cast<int>(i);
  return -1;
}

int Schema::eventField(std::string_view name) const {
  for (size_t i = 0; i < eventFields.size(); ++i)
    if (eventFields[i].name == name) return static_cast<int>(i);
  return -1;
}

uint64_t Schema::fingerprint() const {
  std::string s = "rekindle-schema-1;";
  for (const auto& f : customerFields) s += "c:" + f.name + ":" + f.type.str() + ";";
  for (const auto& f : eventFields) s += "e:" + f.name + ":" + f.type.str() + ";";
  return mix64(fnv1a64(s));
}

const ChannelSpec* Config::channel(std::string_view name) const {
  for (const auto& c : channels)
    if (c.name == name) return &c;
  return nullptr;
}

const OfferSpec* Config::offer(std::string_view name) const {
  for (const auto& o : offers)
    if (o.name == name) return &o;
  return nullptr;
}

std::optional<QuietHours> parseQuietHours(std::string_view text) {
  auto hm = [](std::string_view s, int& minutes) {
    if (s.size() != 5 || s[2] != ':') return false;
    for (int k : {0, 1, 3, 4})
      if (s[k] < '0' || s[k] > '9') return false;
    int h = (s[0] - '0') * 10 + (s[1] - '0');
    int m = (s[3] - '0') * 10 + (s[4] - '0');
    if (h > 24 || m > 59 || (h == 24 && m != 0)) return false;
    minutes = h * 60 + m;
    return true;
  };
  size_t dash = text.find('-');
  if (dash == std::string_view::npos) return std::nullopt;
  QuietHours q;
  q.text = std::string(text);
  if (!hm(text.substr(0, dash), q.startMinute) || !hm(text.substr(dash + 1), q.endMinute))
    return std::nullopt;
  if (q.startMinute == q.endMinute) return std::nullopt;
  return q;
}

namespace {

class ConfigReader {
 public:
  ConfigReader(const std::string& path, std::vector<Diagnostic>& diags) : path_(path), diags_(diags) {}

  void error(const YAML::Node& at, const std::string& message, const std::string& help = "",
             const char* code = "E050") {
    Diagnostic d;
    d.severity = Severity::Error;
    d.code = code;
    d.file = path_;
    if (at.IsDefined() && at.Mark().line >= 0) {
      uint32_t line = static_cast<uint32_t>(at.Mark().line + 1);
      uint32_t col = static_cast<uint32_t>(at.Mark().column + 1);
      d.range = SourceRange{{line, col}, {line, col + 1}};
    }
    d.message = message;
    d.suggestion = help;
    diags_.push_back(std::move(d));
    failed_ = true;
  }
  bool failed() const { return failed_; }

  // Rejects keys outside `allowed` (a typo in a config must not be silently ignored).
  void checkKeys(const YAML::Node& map, const std::string& where, std::initializer_list<const char*> allowed) {
    if (!map.IsMap()) return;
    for (const auto& kv : map) {
      std::string key = kv.first.as<std::string>();
      bool ok = false;
      for (const char* a : allowed) ok = ok || key == a;
      if (ok) continue;
      std::string best = closestName(key, std::vector<std::string>(allowed.begin(), allowed.end()));
      error(kv.first, "unknown key '" + key + "' in " + where,
            best.empty() ? "" : "did you mean '" + best + "'?");
    }
  }

  std::optional<std::string> scalar(const YAML::Node& n, const std::string& what) {
    if (!n.IsDefined() || n.IsNull()) {
      error(n, "missing `" + what + ":`");
      return std::nullopt;
    }
    if (!n.IsScalar()) {
      error(n, what + " must be a single value");
      return std::nullopt;
    }
    return n.Scalar();
  }

  std::optional<bool> boolean(const YAML::Node& n, const std::string& what) {
    auto s = scalar(n, what);
    if (!s) return std::nullopt;
    if (*s == "true" || *s == "yes") return true;
    if (*s == "false" || *s == "no") return false;
    error(n, what + " must be true or false, not '" + *s + "'");
    return std::nullopt;
  }

  std::string resolvePath(const std::string& dir, const std::string& p) {
    if (p.empty() || p[0] == '/' || dir.empty()) return p;
    return dir + "/" + p;
  }

  void readSource(const YAML::Node& n, const std::string& dir, ExportSpec& spec, const std::string& where) {
    auto path = scalar(n["path"], where + ".path");
    if (path) spec.source.path = resolvePath(dir, *path);
    if (n["format"]) {
      auto f = scalar(n["format"], where + ".format");
      if (f && *f == "csv") spec.source.format = SourceFormat::Csv;
      else if (f && *f == "jsonl") spec.source.format = SourceFormat::Jsonl;
      else if (f) error(n["format"], where + ".format must be csv or jsonl, not '" + *f + "'");
    }
    if (n["delimiter"]) {
      auto d = scalar(n["delimiter"], where + ".delimiter");
      if (d && *d == "\\t") spec.source.delimiter = '\t';
      else if (d && d->size() == 1) spec.source.delimiter = (*d)[0];
      else if (d) error(n["delimiter"], where + ".delimiter must be one character");
    }
    if (n["whitespace"]) {
      auto b = boolean(n["whitespace"], where + ".whitespace");
      if (b) spec.source.whitespaceDelimited = *b;
    }
    if (n["header"]) {
      auto b = boolean(n["header"], where + ".header");
      if (b) spec.source.header = *b;
    }
    if (n["columns"]) {
      if (!n["columns"].IsSequence()) {
        error(n["columns"], where + ".columns must be a list of column names");
      } else {
        for (const auto& c : n["columns"])
          if (auto s = scalar(c, where + ".columns")) spec.source.columns.push_back(*s);
      }
    }
    if (!spec.source.header && spec.source.columns.empty())
      error(n, where + " has `header: false` but no `columns:` list naming the columns");
  }

  void readFields(const YAML::Node& n, ExportSpec& spec, const std::string& where, std::set<std::string>& taken) {
    if (!n) return;
    if (!n.IsMap()) {
      error(n, where + ".fields must map field names to types");
      return;
    }
    for (const auto& kv : n) {
      FieldSpec f;
      f.name = kv.first.as<std::string>();
      f.column = f.name;
      if (!validIdent(f.name)) {
        error(kv.first, "field name '" + f.name + "' is not an identifier rules can use",
              "use letters, digits and '_', and map the export's column with `column:`");
        continue;
      }
      std::string typeText;
      if (kv.second.IsMap()) {
        checkKeys(kv.second, where + ".fields." + f.name, {"type", "column", "format"});
        auto t = scalar(kv.second["type"], where + ".fields." + f.name + ".type");
        if (!t) continue;
        typeText = *t;
        if (kv.second["column"])
          if (auto c = scalar(kv.second["column"], "column")) f.column = *c;
        if (kv.second["format"])
          if (auto c = scalar(kv.second["format"], "format")) f.format = *c;
      } else if (auto t = scalar(kv.second, where + ".fields." + f.name)) {
        typeText = *t;
      } else {
        continue;
      }
      auto type = parseTypeName(typeText);
      if (!type) {
        error(kv.second, "unknown type '" + typeText + "' for field '" + f.name + "'",
              "types are bool, int, float, string, time, date, duration; add '?' for nullable");
        continue;
      }
      f.type = *type;
      if (!taken.insert(f.name).second) {
        error(kv.first, "field '" + f.name + "' is declared twice in " + where);
        continue;
      }
      spec.fields.push_back(std::move(f));
    }
  }

  static bool validIdent(const std::string& s) {
    if (s.empty() || !(isalpha(static_cast<unsigned char>(s[0])) || s[0] == '_')) return false;
    for (char c : s)
      if (!(isalnum(static_cast<unsigned char>(c)) || c == '_')) return false;
    return true;
  }

 private:
  std::string path_;
  std::vector<Diagnostic>& diags_;
  bool failed_ = false;
};

// `lint: { disable: [W012], severity: { W003: error } }`. Only the shape is checked here: the
// runtime does not know the lint rules (they live in the compiler), `rekindle lint` does.
void readLint(ConfigReader& r, const YAML::Node& n, std::vector<LintSetting>& out) {
  if (!n.IsMap()) {
    r.error(n, "lint must be a mapping: { disable: [W012], severity: { W003: error } }");
    return;
  }
  r.checkKeys(n, "lint", {"disable", "severity"});
  auto setting = [](const YAML::Node& at, const std::string& code) {
    LintSetting s;
    s.code = code;
    s.line = at.Mark().line + 1;
    s.column = at.Mark().column + 1;
    return s;
  };
  if (YAML::Node d = n["disable"]) {
    std::vector<YAML::Node> items;
    if (d.IsSequence()) {
      for (const auto& item : d) items.push_back(item);
    } else {
      items.push_back(d);
    }
    for (const auto& item : items) {
      auto code = r.scalar(item, "lint.disable");
      if (!code) continue;
      LintSetting s = setting(item, *code);
      s.disabled = true;
      out.push_back(s);
    }
  }
  if (YAML::Node sev = n["severity"]) {
    if (!sev.IsMap()) {
      r.error(sev, "lint.severity must map codes to error, warning, note or off");
      return;
    }
    for (const auto& kv : sev) {
      auto level = r.scalar(kv.second, "lint.severity." + kv.first.as<std::string>());
      if (!level) continue;
      LintSetting s = setting(kv.first, kv.first.as<std::string>());
      if (*level == "error") s.severity = Severity::Error;
      else if (*level == "warning") s.severity = Severity::Warning;
      else if (*level == "note") s.severity = Severity::Note;
      else if (*level == "off") s.disabled = true;
      else {
        r.error(kv.second, "unknown lint severity '" + *level + "'", "use error, warning, note or off");
        continue;
      }
      out.push_back(s);
    }
  }
}

std::string dirOf(const std::string& path) {
  size_t slash = path.rfind('/');
  if (slash == std::string::npos) return ".";
  return slash == 0 ? "/" : path.substr(0, slash);
}

}  // namespace

std::optional<Config> loadConfig(const std::string& path, std::vector<Diagnostic>& diags) {
  std::ifstream in(path, std::ios::binary);
  if (!in) {
    Diagnostic d;
    d.code = "E050";
    d.file = path;
    d.message = "cannot read the config file";
    d.suggestion = "pass --config PATH, or put rekindle.yaml beside the rules file";
    diags.push_back(d);
    return std::nullopt;
  }
  std::stringstream ss;
  ss << in.rdbuf();
  return parseConfig(path, ss.str(), diags);
}

std::optional<Config> parseConfig(const std::string& path, const std::string& text,
                                  std::vector<Diagnostic>& diags) {
  ConfigReader r(path, diags);
  YAML::Node root;
  try {
    root = YAML::Load(text);
  } catch (const YAML::Exception& e) {
    Diagnostic d;
    d.code = "E050";
    d.file = path;
    uint32_t line = static_cast<uint32_t>(e.mark.line + 1), col = static_cast<uint32_t>(e.mark.column + 1);
    if (e.mark.line >= 0) d.range = SourceRange{{line, col}, {line, col + 1}};
    d.message = "not valid YAML: " + e.msg;
    diags.push_back(d);
    return std::nullopt;
  }
  Config cfg;
  cfg.path = path;
  cfg.dir = dirOf(path);
  cfg.text = text;
  if (!root.IsMap()) {
    r.error(root, "the config must be a mapping (timezone:, customers:, channels:, ...)");
    return std::nullopt;
  }
  try {
    r.checkKeys(root, "the config", {"timezone", "as_of", "customers", "events", "contacts", "channels",
                                     "offers", "calendar", "params", "rfm", "clv", "lint"});
    if (root["timezone"]) {
      if (auto tz = r.scalar(root["timezone"], "timezone")) {
        auto zone = TimeZone::locate(*tz);
        if (!zone) r.error(root["timezone"], "unknown time zone '" + *tz + "'", "use an IANA name such as Asia/Shanghai or Europe/Paris");
        else {
          cfg.zone = *zone;
          cfg.timezoneName = *tz;
        }
      }
    }
    if (root["as_of"]) {
      if (auto s = r.scalar(root["as_of"], "as_of")) {
        auto t = parseTime(*s, cfg.zone);
        if (!t) r.error(root["as_of"], "as_of is not a time: '" + *s + "'");
        else cfg.asOf = *t;
      }
    }

    // customers
    std::set<std::string> customerNames, eventNames;
    YAML::Node cust = root["customers"];
    if (!cust || !cust.IsMap()) {
      r.error(cust ? cust : root, "the config needs a `customers:` section (path, id, fields)");
    } else {
      cfg.customers.present = true;
      cfg.customers.line = cust.Mark().line + 1;
      r.checkKeys(cust, "customers", {"path", "format", "delimiter", "whitespace", "header", "columns", "id", "timezone", "fields", "from_events"});
      if (cust["from_events"]) {
        auto b = r.boolean(cust["from_events"], "customers.from_events");
        cfg.customers.customersFromEvents = b.value_or(false);
      }
      if (cfg.customers.customersFromEvents) {
        if (cust["path"] || cust["fields"])
          r.error(cust["from_events"], "customers taken from the events have no file and no fields of their own",
                  "remove customers.path and customers.fields, or from_events");
      } else {
        r.readSource(cust, cfg.dir, cfg.customers, "customers");
      }
      if (auto id = r.scalar(cust["id"], "customers.id")) cfg.customers.keyColumn = *id;
      if (cfg.customers.keyColumn == "@row") {
        // The export has no id column: the data row number is the id, a string field `row`.
        cfg.customers.rowIds = true;
        cfg.customers.keyColumn = "row";
      }
      FieldSpec idField{cfg.customers.keyColumn, cfg.customers.keyColumn, Type::of(Kind::String), ""};
      customerNames.insert(idField.name);
      cfg.schema.customerFields.push_back(idField);
      r.readFields(cust["fields"], cfg.customers, "customers", customerNames);
      for (const auto& f : cfg.customers.fields) cfg.schema.customerFields.push_back(f);
      if (cust["timezone"]) {
        if (auto tzf = r.scalar(cust["timezone"], "customers.timezone")) {
          int idx = cfg.schema.customerField(*tzf);
          if (idx < 0 || cfg.schema.customerFields[idx].type.kind != Kind::String)
            r.error(cust["timezone"], "customers.timezone must name a string field holding IANA zone names, and '" + *tzf + "' is not one");
          else cfg.schema.customerTimezoneField = idx;
        }
      }
    }

    // events
    if (YAML::Node ev = root["events"]) {
      cfg.events.present = true;
      cfg.events.line = ev.Mark().line + 1;
      r.checkKeys(ev, "events", {"path", "format", "delimiter", "whitespace", "header", "columns", "customer", "time", "time_format", "fields"});
      r.readSource(ev, cfg.dir, cfg.events, "events");
      if (auto c = r.scalar(ev["customer"], "events.customer")) cfg.events.keyColumn = *c;
      if (cfg.customers.rowIds)
        r.error(ev, "events cannot be joined to customers whose ids are row numbers (customers.id: \"@row\")");
      if (auto t = r.scalar(ev["time"], "events.time")) cfg.events.timeColumn = *t;
      if (ev["time_format"])
        if (auto t = r.scalar(ev["time_format"], "events.time_format")) cfg.events.timeFormat = *t;
      FieldSpec timeField{cfg.events.timeColumn, cfg.events.timeColumn, Type::of(Kind::Time), cfg.events.timeFormat};
      eventNames.insert(timeField.name);
      cfg.schema.eventFields.push_back(timeField);
      r.readFields(ev["fields"], cfg.events, "events", eventNames);
      for (const auto& f : cfg.events.fields) cfg.schema.eventFields.push_back(f);
      cfg.schema.hasEvents = true;
    }

    if (cfg.customers.customersFromEvents && !cfg.events.present)
      r.error(cust, "customers.from_events needs an `events:` export");

    // contacts: the history caps count
    if (YAML::Node ct = root["contacts"]) {
      cfg.contacts.present = true;
      cfg.contacts.line = ct.Mark().line + 1;
      r.checkKeys(ct, "contacts", {"path", "format", "delimiter", "whitespace", "header", "columns", "customer", "time", "time_format", "channel", "from_events"});
      if (auto c = r.scalar(ct["channel"], "contacts.channel")) cfg.contacts.channelColumn = *c;
      if (YAML::Node fe = ct["from_events"]) {
        // contacts: { from_events: { kind: [email_sent, sms_sent] }, channel: channel }
        if (!fe.IsMap() || fe.size() != 1) {
          r.error(fe, "from_events must name one event field and the values that mark a contact",
                  "e.g. from_events: { kind: [email_sent, sms_sent] }");
        } else {
          auto kv = *fe.begin();
          cfg.contacts.fromEventsField = kv.first.as<std::string>();
          if (kv.second.IsSequence()) {
            for (const auto& v : kv.second)
              if (auto s = r.scalar(v, "from_events")) cfg.contacts.fromEventsValues.push_back(*s);
          } else if (auto s = r.scalar(kv.second, "from_events")) {
            cfg.contacts.fromEventsValues.push_back(*s);
          }
          int field = cfg.schema.eventField(cfg.contacts.fromEventsField);
          if (!cfg.events.present || field < 0 || cfg.schema.eventFields[field].type.kind != Kind::String)
            r.error(kv.first, "from_events needs a string event field, and '" + cfg.contacts.fromEventsField + "' is not one");
          int channel = cfg.schema.eventField(cfg.contacts.channelColumn);
          if (channel < 0 || cfg.schema.eventFields[channel].type.kind != Kind::String)
            r.error(ct["channel"], "with from_events, contacts.channel must name a string event field, and '" + cfg.contacts.channelColumn + "' is not one");
        }
      } else {
        r.readSource(ct, cfg.dir, cfg.contacts, "contacts");
        if (auto c = r.scalar(ct["customer"], "contacts.customer")) cfg.contacts.keyColumn = *c;
        if (auto t = r.scalar(ct["time"], "contacts.time")) cfg.contacts.timeColumn = *t;
        if (ct["time_format"])
          if (auto t = r.scalar(ct["time_format"], "contacts.time_format")) cfg.contacts.timeFormat = *t;
      }
    }

    // channels
    if (YAML::Node ch = root["channels"]) {
      if (!ch.IsMap()) r.error(ch, "channels must map channel names to {consent, requires, quiet}");
      else for (const auto& kv : ch) {
        ChannelSpec c;
        c.name = kv.first.as<std::string>();
        if (!ConfigReader::validIdent(c.name) || c.name == "any" || c.name == "none") {
          r.error(kv.first, "'" + c.name + "' cannot be a channel name", "channel names are identifiers other than `any` and `none`");
          continue;
        }
        if (cfg.channel(c.name)) {
          r.error(kv.first, "channel '" + c.name + "' is declared twice");
          continue;
        }
        YAML::Node spec = kv.second;
        if (spec.IsMap()) {
          r.checkKeys(spec, "channels." + c.name, {"consent", "requires", "quiet"});
          if (spec["consent"]) if (auto s = r.scalar(spec["consent"], "consent")) c.consent = *s;
          if (spec["requires"]) if (auto s = r.scalar(spec["requires"], "requires")) c.requires = *s;
          if (spec["quiet"]) {
            if (auto s = r.scalar(spec["quiet"], "quiet")) {
              c.quiet = parseQuietHours(*s);
              if (!c.quiet) r.error(spec["quiet"], "quiet hours must look like \"21:00-08:00\", not '" + *s + "'");
            }
          }
        } else if (!spec.IsNull()) {
          r.error(spec, "channel '" + c.name + "' must be a mapping: { consent: FIELD, requires: FIELD }");
        }
        if (c.consent.empty()) {
          r.error(kv.first, "channel '" + c.name + "' has no `consent:` field",
                  "every channel needs a bool customer field that says the customer agreed to it", "E051");
        } else {
          c.consentField = cfg.schema.customerField(c.consent);
          if (c.consentField < 0)
            r.error(spec["consent"], "consent field '" + c.consent + "' of channel '" + c.name + "' is not a customer field", "", "E051");
          else if (cfg.schema.customerFields[c.consentField].type.kind != Kind::Bool)
            r.error(spec["consent"], "consent field '" + c.consent + "' must be a bool, not " + cfg.schema.customerFields[c.consentField].type.str(), "", "E051");
        }
        if (!c.requires.empty()) {
          c.requiresField = cfg.schema.customerField(c.requires);
          if (c.requiresField < 0)
            r.error(spec["requires"], "required field '" + c.requires + "' of channel '" + c.name + "' is not a customer field", "", "E051");
        }
        cfg.channels.push_back(std::move(c));
      }
    }

    // offers
    if (YAML::Node of = root["offers"]) {
      if (!of.IsMap()) r.error(of, "offers must map offer names to {description, cost}");
      else for (const auto& kv : of) {
        OfferSpec o;
        o.name = kv.first.as<std::string>();
        if (!ConfigReader::validIdent(o.name) || o.name == "none") {
          r.error(kv.first, "'" + o.name + "' cannot be an offer name");
          continue;
        }
        if (cfg.offer(o.name)) {
          r.error(kv.first, "offer '" + o.name + "' is declared twice");
          continue;
        }
        if (kv.second.IsMap()) {
          r.checkKeys(kv.second, "offers." + o.name, {"description", "cost"});
          if (kv.second["description"]) if (auto s = r.scalar(kv.second["description"], "description")) o.description = *s;
          if (kv.second["cost"]) {
            if (auto s = r.scalar(kv.second["cost"], "cost")) {
              try {
                size_t used = 0;
                o.cost = std::stod(*s, &used);
                if (used != s->size() || o.cost < 0) throw std::invalid_argument("cost");
              } catch (const std::exception&) {
                r.error(kv.second["cost"], "cost of offer '" + o.name + "' must be a non-negative number");
              }
            }
          }
        }
        cfg.offers.push_back(std::move(o));
      }
    }

    // calendar
    if (YAML::Node cal = root["calendar"]) {
      if (!cal.IsMap()) r.error(cal, "calendar must map names to lists of dates");
      else for (const auto& kv : cal) {
        std::string name = kv.first.as<std::string>();
        std::vector<int64_t> dates;
        auto add = [&](const YAML::Node& n) {
          if (auto s = r.scalar(n, "calendar." + name)) {
            auto d = parseDate(*s);
            if (!d) r.error(n, "'" + *s + "' is not a date (YYYY-MM-DD)");
            else dates.push_back(*d);
          }
        };
        if (kv.second.IsSequence()) for (const auto& d : kv.second) add(d);
        else add(kv.second);
        std::sort(dates.begin(), dates.end());
        cfg.calendar[name] = dates;
      }
    }

    if (YAML::Node ps = root["params"]) {
      if (!ps.IsMap()) r.error(ps, "params must map parameter names to values");
      else for (const auto& kv : ps)
        if (auto s = r.scalar(kv.second, "params." + kv.first.as<std::string>()))
          cfg.params.push_back(ParamSetting{kv.first.as<std::string>(), *s, kv.first.Mark().line + 1});
    }

    if (YAML::Node lint = root["lint"]) readLint(r, lint, cfg.lint);

    if (YAML::Node rfm = root["rfm"]) {
      r.checkKeys(rfm, "rfm", {"purchase", "amount"});
      if (rfm["purchase"]) if (auto s = r.scalar(rfm["purchase"], "rfm.purchase")) cfg.rfm.purchase = *s;
      if (rfm["amount"]) if (auto s = r.scalar(rfm["amount"], "rfm.amount")) cfg.rfm.amount = *s;
    }

    if (YAML::Node clv = root["clv"]) {
      if (!clv.IsMap()) {
        r.error(clv, "clv must be a mapping: { purchase: EXPR, amount: FIELD, unit: weeks, fitted: clv.yaml }");
      } else {
        r.checkKeys(clv, "clv", {"purchase", "amount", "unit", "fitted"});
        if (clv["purchase"]) if (auto s = r.scalar(clv["purchase"], "clv.purchase")) cfg.clv.purchase = *s;
        if (clv["amount"]) if (auto s = r.scalar(clv["amount"], "clv.amount")) cfg.clv.amount = *s;
        if (clv["unit"]) {
          if (auto s = r.scalar(clv["unit"], "clv.unit")) {
            if (*s != "weeks" && *s != "days") r.error(clv["unit"], "clv.unit must be weeks or days, not '" + *s + "'");
            else cfg.clv.unit = *s;
          }
        }
        if (clv["fitted"]) if (auto s = r.scalar(clv["fitted"], "clv.fitted")) cfg.clv.fitted = r.resolvePath(cfg.dir, *s);
      }
    }
  } catch (const YAML::Exception& e) {
    Diagnostic d;
    d.code = "E050";
    d.file = path;
    d.message = std::string("invalid config: ") + e.what();
    diags.push_back(d);
    return std::nullopt;
  }
  if (r.failed()) return std::nullopt;
  return cfg;
}

}  // namespace rekindle
