// What the engine runs at each frequency level of a device, found by running the engine's own
// adaptation policy (runtime/adapt Adapter) there: the bundle's level table when it has one (table
// and cpufreq modes), else the closed loop of deadline mode fed the latencies it would measure,
// until it settles. `rt3 simulate` and the demo's battery figures are built on this, so they
// describe the policy that ships. Pure: no I/O, no clock. docs/dvfs.md "Battery simulation".
#pragma once

#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "dvfs/energy_model.h"
#include "dvfs/latency_table.h"
#include "dvfs/profile.h"
#include "rt3/engine.h"
#include "runtime/adapt/adapter.h"

namespace rt3::dvfs {

// One model variant as the simulation runs it: its device latency and, when known, its accuracy.
struct SimSet {
  std::string name;
  std::optional<double> accuracy;  // fraction in [0, 1]
  LatencyModel latency;            // on the device: latency(f) = compute_s * f_ref / f + memory_s
};

// The latency table's variants in table order ("base" first): each at its measured latency
// (LatencyTable::measured_model) with the compute part stretched by cycle_scale (device cycles per
// host cycle). Throws std::invalid_argument for cycle_scale <= 0 or an empty table.
std::vector<SimSet> sets_from_table(const LatencyTable& table, double cycle_scale);

// The policy's view of sets alone (latency models and accuracies, no level table): what the engine
// knows about a bundle exported with rt3 export --latency, for a latency table without its bundle.
adapt::PolicySpec spec_from_sets(const std::vector<SimSet>& sets);

struct LevelPolicy {
  AdaptMode mode = AdaptMode::kTable;  // kTable (the bundle's level table) or kDeadline
  double deadline_s = 0;
  std::vector<std::uint64_t> levels_khz;  // ascending, distinct
  std::vector<SimSet> sets;
  std::vector<std::size_t> chosen;        // per level: the set the engine runs there
  std::string note;                       // e.g. a level where the closed loop did not settle

  double latency_s(std::size_t set, std::size_t level) const;
  bool meets(std::size_t level) const { return latency_s(chosen[level], level) <= deadline_s; }
  // The level an observed frequency counts as: the highest level <= khz, or the lowest.
  std::size_t level_of(std::uint64_t khz) const;
  bool accuracies_known() const;
};

// Runs `spec`'s policy at every level. Table mode when spec has a level table, else deadline mode
// (needs latency models) with the deadline `deadline_s`, from a fresh start at each level, the
// measured latency of a variant being its set's latency there. Every variant the policy picks must
// be one of `sets` (by name). Throws std::runtime_error naming what is missing.
LevelPolicy engine_level_policy(const adapt::PolicySpec& spec, std::vector<SimSet> sets,
                                std::vector<std::uint64_t> levels_khz, double deadline_s);

// Energy-optimal frequency for the engine's choices: over every level (<= max_khz when set) whose
// chosen set meets margin x deadline, fits in the period and (with min_accuracy) is accurate enough,
// the level with the lowest energy per request = inference + idle energy until the period ends.
// Ties (within 1e-12 relative) keep the lower level.
struct OperatingPoint {
  std::size_t level = 0;  // index into the policy's levels
  double latency_s = 0;
  double energy_j = 0;    // per request (period)
};
struct ChooseOptions {
  double period_s = 0;
  double margin = 1.0;  // slack for prediction error: latency <= margin x deadline
  std::optional<double> min_accuracy;
  std::optional<std::uint64_t> max_khz;
  EnergyOptions energy;
};
// Energy of one request at a level: inference + idle for the rest of the period.
double request_energy_j(const Profile& p, const Opp& level, double latency_s, double period_s, const EnergyOptions& e);
// levels: the profile's OPPs with the same kHz as the policy's levels. std::nullopt when no level
// qualifies. Throws when min_accuracy is set but accuracies are unknown.
std::optional<OperatingPoint> choose_frequency(const Profile& p, const std::vector<Opp>& levels, const LevelPolicy& policy,
                                               const ChooseOptions& o);

}  // namespace rt3::dvfs
