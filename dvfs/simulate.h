// Battery-life simulation: a periodic inference workload drains the device battery under several
// frequency/set policies (dense baselines, a schedutil-like governor, RT3, an OS battery saver).
// RT3's set at each level is what the engine's own adaptation policy runs there (level_policy.h).
// Pure: no I/O; the latency table is taken in memory so a caller can profile on the fly. Every
// formula and assumption: docs/dvfs.md "Battery simulation".
#pragma once

#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "dvfs/level_policy.h"
#include "dvfs/latency_table.h"
#include "dvfs/profile.h"

namespace rt3::dvfs {

// One request every period_s; each must finish within deadline_s (<= period_s) of its arrival.
struct Workload {
  double period_s = 0;
  double deadline_s = 0;
  std::optional<double> duration_s;  // stop simulating after this long even if charge is left
};
// "period=200ms,deadline=100ms[,duration=10h]"; units us, ms, s, min, h (a bare number is
// seconds). Throws std::runtime_error("workload '<spec>': <problem>; expected ...").
Workload parse_workload(const std::string& spec);

struct SimulationOptions {
  Workload workload;
  double cycle_scale = 1.0;              // device cycles per host cycle (sets_from_table)
  std::optional<double> base_power_mw;   // overrides the profile's rest-of-device power
  std::optional<double> min_accuracy;    // RT3 energy mode: accuracy floor
  double margin = 0.9;                   // a frequency is picked for (b) and RT3 only if latency <= margin x deadline
  // The engine's view of the bundle (adapt::spec_from_bundle): its level table and latency models.
  // Unset: the latency table's variants alone (spec_from_sets), so the engine's deadline mode.
  std::optional<adapt::PolicySpec> policy;
  int active_cores = 0;                  // busy cores per inference; 0 = min(table threads, cluster cores)
  bool record = true;                    // keep charge/level samples (for plots)
};

// The battery saver's frequency cap as the charge falls: >= 50 %: none; 20-50 %: the middle usable
// level (index n/2 of n, ascending); < 20 %: the lowest usable level.
std::uint64_t battery_saver_cap_khz(const std::vector<std::uint64_t>& levels_khz, double charge_fraction);

struct SimSample {
  double t_s = 0;
  double charge = 0;  // fraction of the battery left, 0..1
  std::uint64_t khz = 0;
  std::size_t set = 0;
};

struct PolicyResult {
  std::string id;           // "max_dense", "min_dense", "schedutil_dense", "rt3", "saver_dense", "saver_rt3"
  std::string description;
  std::string note;         // e.g. why RT3 fell back to a missing configuration
  bool emptied = false;     // the battery ran out (else the duration cap stopped the run)
  double time_s = 0;        // simulated time (= battery life when emptied)
  double projected_life_s = 0;  // battery energy / average power (= time_s when emptied)
  double energy_j = 0;
  double inference_energy_j = 0;  // the inferences alone (active power x latency)
  std::uint64_t requests = 0;     // arrived
  std::uint64_t served = 0;       // ran (requests arriving while one still runs are dropped)
  std::uint64_t misses = 0;       // late + dropped
  std::vector<double> level_time_s;  // per usable level
  std::vector<double> set_time_s;    // per set
  std::vector<std::uint64_t> set_served;
  std::optional<double> accuracy;    // served-weighted over sets; unset if a used set has none
  std::vector<SimSample> samples;

  double average_power_mw() const { return time_s > 0 ? energy_j / time_s * 1e3 : 0; }
  double energy_per_inference_j() const { return served ? inference_energy_j / static_cast<double>(served) : 0; }
  double miss_rate() const { return requests ? static_cast<double>(misses) / static_cast<double>(requests) : 0; }
  // Battery life for ratios: time_s when the battery emptied, else the projection.
  double life_s() const { return emptied ? time_s : projected_life_s; }
};

struct Assumption {
  std::string name;
  std::string value;
  std::string source;
};

struct SimulationResult {
  std::vector<std::uint64_t> levels_khz;  // usable levels, ascending
  std::vector<std::string> sets;          // variant names, dense first
  std::vector<std::optional<double>> set_accuracy;
  double battery_energy_j = 0;
  double base_power_mw = 0;
  int active_cores = 1;
  // What the engine runs at each level (policy.mode says which of its modes decided).
  LevelPolicy engine;
  // Energy of one inference (J, active power x latency incl. base) at [level][set], and whether
  // that pair meets the deadline.
  std::vector<std::vector<double>> inference_energy_j;
  std::vector<std::vector<bool>> meets;
  std::vector<PolicyResult> policies;  // in the order of PolicyResult::id above
  std::vector<Assumption> assumptions;

  const PolicyResult& policy(const std::string& id) const;
  double ratio(const std::string& over) const;  // rt3 life / `over` life
};

// Throws std::runtime_error for inconsistent inputs (deadline > period, no usable level, ...).
SimulationResult simulate(const Profile& profile, const LatencyTable& table, const SimulationOptions& options);

// RT3 life over the dense-at-max (a) and dense-at-needed-frequency (b) lives for other periods and
// base powers; the deadline is min(workload deadline, period); the duration cap is ignored.
struct SensitivityCell {
  double period_s = 0;
  double base_power_mw = 0;
  double rt3_over_max = 0;
  double rt3_over_min = 0;
};
std::vector<SensitivityCell> sensitivity(const Profile& profile, const LatencyTable& table, const SimulationOptions& options,
                                         const std::vector<double>& periods_s, const std::vector<double>& base_powers_mw);

}  // namespace rt3::dvfs
