// Human-readable values for explanations.
#include "rekindle/runtime/describe.h"

#include <fmt/format.h>

namespace rekindle {

std::string describeDuration(int64_t s) {
  std::string sign = s < 0 ? "-" : "";
  uint64_t a = s < 0 ? uint64_t(-(s + 1)) + 1 : uint64_t(s);
  uint64_t d = a / 86400, h = a % 86400 / 3600, m = a % 3600 / 60, sec = a % 60;
  if (d) return sign + std::to_string(d) + "d" + (h ? " " + std::to_string(h) + "h" : "");
  if (h) return sign + std::to_string(h) + "h" + (m ? " " + std::to_string(m) + "m" : "");
  if (m) return sign + std::to_string(m) + "m" + (sec ? " " + std::to_string(sec) + "s" : "");
  return sign + std::to_string(sec) + "s";
}

std::string describeValue(const Value& v, const Executable& exe, const Dataset& data, const TimeZone& zone) {
  switch (v.tag) {
    case Kind::Null: return "null";
    case Kind::Bool: return v.b ? "true" : "false";
    case Kind::Int: return std::to_string(v.i);
    case Kind::Float: return fmt::format("{}", v.f);
    case Kind::String: return "\"" + *v.s + "\"";
    case Kind::Time: return formatTime(v.i, zone);
    case Kind::Date: return formatDate(v.i);
    case Kind::Duration: return describeDuration(v.i);
    case Kind::Stage: return exe.outcomeName(TableKind::Stage, v.i);
    case Kind::Channel: return exe.outcomeName(TableKind::Channel, v.i);
    case Kind::Offer: return exe.outcomeName(TableKind::Offer, v.i);
    case Kind::Event: {
      std::string out = "event {";
      const Schema& s = exe.config().schema;
      for (size_t f = 0; f < s.eventFields.size(); ++f) {
        Value x = data.events[f].get(static_cast<size_t>(v.i));
        if (x.isNull()) continue;
        out += (f ? ", " : "") + s.eventFields[f].name + ": " + describeValue(x, exe, data, zone);
      }
      return out + "}";
    }
    case Kind::List: {
      const auto& items = v.list->items;
      if (!items.empty() && items[0].tag == Kind::Event) return fmt::format("{} event{}", items.size(), items.size() == 1 ? "" : "s");
      std::string out = "[";
      for (size_t k = 0; k < items.size() && k < 5; ++k) out += (k ? ", " : "") + describeValue(items[k], exe, data, zone);
      if (items.size() > 5) out += fmt::format(", ... {} in all", items.size());
      return out + "]";
    }
    case Kind::None: return "none";
  }
  return "?";
}

}  // namespace rekindle
