#pragma once
// What the engine's adaptation costs per inference (docs/adapt.md "Costs"): the manual switch, the
// decision of each mode, and the cpufreq read, timed on the engine's own Adapter in a tight loop.
#include <nlohmann/json.hpp>

#include "runtime/adapt/adapter.h"

namespace rt3::cli {

// Median ns per call over 5 repetitions of `iterations` calls each. The cpufreq read uses a fake
// tree in a temporary directory (tmpfs/disk page cache), plus the real sysfs tree when it exists.
nlohmann::json measure_adapt_costs(const adapt::PolicySpec& spec, int iterations = 200000);

}  // namespace rt3::cli
