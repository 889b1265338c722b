#pragma once
// The device profile the dvfs tests compute by hand: one "big" cluster of 2 cores, dynamic power
// coefficient 100 uW/MHz/V^2, static 20 mW, idle 10 mW, rest of device 100 mW, battery 1000 mAh at
// 4.0 V (assumed). Only the operating points differ between tests.
#include <cstdint>
#include <string>
#include <utility>
#include <vector>

#include <nlohmann/json.hpp>

#include "dvfs/profile.h"

namespace rt3::test_util {

// opps: (kHz, uV) pairs, lowest first.
inline dvfs::Profile one_cluster_profile(const std::vector<std::pair<std::uint64_t, std::uint64_t>>& opps) {
  nlohmann::json j = nlohmann::json::parse(R"({
    "name": "test", "soc": "test", "power_model": "energy_model",
    "sources": [{"what": "everything", "where": "assumption: test"}],
    "battery": {"capacity_mah": 1000, "nominal_voltage_v": 4.0, "assumed": true, "note": "assumption: test"},
    "base_power_mw": 100, "idle_power_mw": 10,
    "clusters": [{"name": "big", "cores": 2, "core_type": "X", "capacity_dmips_mhz": 1024,
                  "dynamic_power_coefficient": 100, "static_power_mw": 20,
                  "static_power_source": "assumption: test", "opps": []}]
  })");
  for (const auto& [khz, uv] : opps) j["clusters"][0]["opps"].push_back({{"khz", khz}, {"uv", uv}});
  return dvfs::parse_profile(j, "test.json");
}

// Four efficient OPPs (voltage rises with frequency): 500 / 1000 / 1500 / 2000 MHz at 0.8-1.1 V.
inline dvfs::Profile four_level_profile() {
  return one_cluster_profile({{500000, 800000}, {1000000, 900000}, {1500000, 1000000}, {2000000, 1100000}});
}

}  // namespace rt3::test_util
