#pragma once
// The part of the bundle metadata that the engine's adaptation policy reads (docs/format.md
// "adaptation", docs/adapt.md): each variant's latency model on the device it was searched for and,
// where known, its accuracy, plus the deadline the search used. Optional: a bundle without it
// loads; the engine's table and deadline modes then say what is missing.
#include <map>
#include <optional>
#include <string>

namespace rt3::format {

// Device latency of one variant at frequency f (kHz): compute_s * f_ref_khz / f + memory_s.
// compute_s is the part that scales with the CPU clock (already in device cycles: the search's
// cycle scale applied), memory_s the part that does not (weight traffic from DRAM).
struct VariantLatencyModel {
  double compute_s = 0;
  double memory_s = 0;
  double f_ref_khz = 0;
  std::optional<double> accuracy;  // fraction in [0, 1] on the validation split
};

struct AdaptationInfo {
  std::optional<double> deadline_s;  // the deadline rt3 search decided the level table for
  double cycle_scale = 1.0;          // device cycles per host cycle the models assume (informational)
  std::map<std::string, VariantLatencyModel> variants;  // by variant name ("base" included)
};

}  // namespace rt3::format
