#pragma once
// A variant's device latency as the bundle states it (docs/adapt.md "Latency model"):
// latency(f) = compute_s * f_ref_khz / f + memory_s.
#include <cstdint>

namespace rt3::adapt {

struct LatencyModel {
  double compute_s = 0;  // scales with the clock, at f_ref_khz
  double memory_s = 0;   // does not (DRAM traffic)
  double f_ref_khz = 0;

  double at_khz(double khz) const { return compute_s * f_ref_khz / khz + memory_s; }
  double at_ref() const { return compute_s + memory_s; }
};

}  // namespace rt3::adapt
