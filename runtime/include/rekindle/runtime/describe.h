// Values as a marketer reads them, for explanations: times in the customer's zone, durations
// in days and hours, lists summarised.
#pragma once

#include <string>

#include "rekindle/runtime/dataset.h"
#include "rekindle/runtime/vm.h"

namespace rekindle {

std::string describeValue(const Value& v, const Executable& exe, const Dataset& data, const TimeZone& zone);
std::string describeDuration(int64_t seconds);  // "21d 23h", "3h 5m", "45s"

}  // namespace rekindle
