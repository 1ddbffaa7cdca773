// Loading the previous run's decisions.
#include "rekindle/runtime/previous.h"

#include <fmt/format.h>

namespace rekindle {

namespace {
int32_t indexIn(const std::vector<std::string>& names, std::string_view name, bool noneAllowed) {
  if (name.empty()) return kUnknownOutcome;
  if (noneAllowed && name == "none") return static_cast<int32_t>(kNoOutcome);
  for (size_t i = 0; i < names.size(); ++i)
    if (names[i] == name) return static_cast<int32_t>(i);
  return kUnknownOutcome;
}
}  // namespace

std::optional<PreviousDecisions> loadPrevious(const std::string& path, const Program& program, const Dataset& data,
                                              const TimeZone& zone, std::string& error) {
  SourceOptions src;
  src.path = path;
  // Files from before decided_at existed still give stage, channel and offer.
  std::vector<std::string> wanted{"customer_id", "stage", "channel", "offer", "decided_at"};
  auto reader = RecordReader::open(src, wanted, error);
  if (!reader) {
    wanted.pop_back();
    std::string second;
    reader = RecordReader::open(src, wanted, second);
    if (!reader) {
      error = "--previous: " + error;
      return std::nullopt;
    }
  }
  error.clear();
  PreviousDecisions p;
  size_t n = data.customerCount;
  p.present.assign(n, 0);
  p.stage.assign(n, kUnknownOutcome);
  p.channel.assign(n, kUnknownOutcome);
  p.offer.assign(n, kUnknownOutcome);
  p.at.assign(n, std::nullopt);
  p.stageName.assign(n, "");
  std::vector<RawValue> v;
  RecordInfo info;
  while (reader->next(v, info)) {
    ++p.rows;
    if (!info.ok) {
      error = fmt::format("--previous: {}:{}: {}", path, info.line, info.error.reason);
      return std::nullopt;
    }
    auto found = data.customerIndex.find(v[0].text);
    if (!found) {
      ++p.unknownCustomers;
      continue;
    }
    uint32_t c = *found;
    if (p.present[c]) continue;  // the first row of a customer wins
    p.present[c] = 1;
    p.stageName[c] = std::string(v[1].text);
    p.stage[c] = indexIn(program.stages, v[1].text, false);
    p.channel[c] = indexIn(program.channels, v[2].text, true);
    p.offer[c] = indexIn(program.offers, v[3].text, true);
    if (v.size() > 4 && v[4].kind == RawKind::Text) p.at[c] = parseTime(v[4].text, zone);
  }
  if (!reader->ioError().empty()) {
    error = "--previous: " + reader->ioError();
    return std::nullopt;
  }
  return p;
}

}  // namespace rekindle
