// The RT3 governor: maps a CPU frequency level to the pattern set (model variant) to run, so every
// request meets its deadline with the most accurate set that can. Pure: no I/O, no clock; the
// caller feeds it levels (from cpufreq or a trace) and applies its answer (Engine::select_variant).
// Formulas and the hysteresis rule: docs/dvfs.md "Governor".
#pragma once

#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "dvfs/energy_model.h"
#include "dvfs/latency_table.h"
#include "dvfs/profile.h"

namespace rt3::dvfs {

// One switchable set (a model variant): its host latency split and, when known, its accuracy.
struct GovernorSet {
  std::string name;
  std::optional<double> accuracy;  // fraction in [0, 1]
  LatencyModel latency;            // host: compute_s scales with frequency, memory_s does not
};

struct GovernorOptions {
  double deadline_s = 0;
  // Device cycles per host cycle for the same work (an assumption unless measured): on the device
  // latency(f) = compute_s * cycle_scale * f_ref / f + memory_s.
  double cycle_scale = 1.0;
  // A set is chosen only if its predicted latency <= margin * deadline (prediction error slack).
  double margin = 0.9;
  // Hysteresis band, a fraction of the deadline: moving to a MORE accurate (slower) set needs its
  // latency <= (margin - hysteresis) * deadline; moving to a faster set is immediate.
  double hysteresis = 0.05;
};

// What the governor does at one level.
struct LevelChoice {
  std::uint64_t khz = 0;
  std::vector<double> latency_s;  // per set, predicted on the device
  std::size_t chosen = 0;         // set index
  bool miss = false;              // no set meets margin x deadline: chosen = the fastest set
};

class Governor {
 public:
  // levels_khz: the device's usable levels (any order, made ascending, distinct). sets: ordered
  // dense -> sparse ("base" first). Throws std::runtime_error on empty input or bad options.
  Governor(std::vector<std::uint64_t> levels_khz, std::vector<GovernorSet> sets, GovernorOptions options);

  const std::vector<std::uint64_t>& levels_khz() const { return levels_; }
  const std::vector<GovernorSet>& sets() const { return sets_; }
  const GovernorOptions& options() const { return options_; }
  // Set indices from most to least preferred: by accuracy (descending, ties keep the given order)
  // when every set has one, else the given order (least sparse first).
  const std::vector<std::size_t>& preference() const { return preference_; }
  bool accuracies_known() const { return accuracies_known_; }

  // Predicted device latency of `set` at `khz`.
  double latency_s(std::size_t set, double khz) const;
  // The level used for an observed frequency: the highest level <= khz, or the lowest level.
  std::uint64_t snap(std::uint64_t khz) const;
  // Stateless choice at a level (after snap): the most preferred set with latency <= margin x
  // deadline, else the fastest set (miss).
  LevelChoice choose(std::uint64_t khz) const;
  std::vector<LevelChoice> table() const;  // choose() at every level

  // Stateful choice with hysteresis (see GovernorOptions::hysteresis). The first call has no
  // previous set and returns choose(khz).chosen.
  std::size_t on_level(std::uint64_t khz);
  std::optional<std::size_t> current() const { return current_; }
  void reset() { current_.reset(); }

 private:
  bool better(std::size_t a, std::size_t b) const;  // a preferred over b
  std::size_t best_within(std::uint64_t khz, double limit_s) const;  // sets_.size() if none

  std::vector<std::uint64_t> levels_;
  std::vector<GovernorSet> sets_;
  GovernorOptions options_;
  std::vector<std::size_t> preference_;
  std::vector<std::size_t> rank_;  // rank_[set] = position in preference_
  bool accuracies_known_ = false;
  std::optional<std::size_t> current_;
};

// Energy-optimal operating point: over every (level, set) whose latency meets margin x deadline,
// fits in the period, and (when min_accuracy is set) has accuracy >= min_accuracy, the pair with
// the lowest energy per request = inference energy + idle energy until the period ends. Ties (within
// 1e-12 relative) go to the more preferred set. Levels come from `levels` (the profile's OPPs, same
// khz as the governor's levels); only levels <= max_khz are considered when it is set.
struct OperatingPoint {
  std::size_t level = 0;  // index into levels
  std::size_t set = 0;
  double latency_s = 0;
  double energy_j = 0;    // per request (period)
};
struct ChooseOptions {
  double period_s = 0;
  std::optional<double> min_accuracy;
  std::optional<std::uint64_t> max_khz;
  EnergyOptions energy;
};
// Energy of one request at (level, set): inference + idle for the rest of the period.
double request_energy_j(const Profile& p, const Opp& level, double latency_s, double period_s, const EnergyOptions& e);
// std::nullopt when no pair qualifies. Throws when min_accuracy is set but accuracies are unknown.
std::optional<OperatingPoint> choose_frequency(const Profile& p, const std::vector<Opp>& levels, const Governor& g,
                                               const ChooseOptions& o);

// The governor's sets from a latency table: its variants in table order ("base" first), with
// accuracy when the table states it. The compute/memory split is the table's prediction for the
// variant (LatencyTable::variant_model), rescaled so the total equals the measured latency when
// the variant was measured (measured_s > 0): the measurement is the better total, the split is
// only available from the prediction.
std::vector<GovernorSet> sets_from_table(const LatencyTable& t);

}  // namespace rt3::dvfs
