#pragma once
// One battery simulation as `rt3 simulate` runs it (options, the simulation, the sensitivity grid,
// plots, JSON), shared with `rt3 demo`.
#include <optional>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "dvfs/latency_table.h"
#include "dvfs/profile.h"
#include "dvfs/simulate.h"

namespace rt3::cli {

struct SimulateArgs {
  std::string profile, latency, bundle, workload, plots;
  double cycle_scale = 1.0;
  double margin = 0.9;
  int active_cores = 0;
  std::optional<double> base_power_mw, min_accuracy;
};

struct SimulationRun {
  dvfs::SimulationOptions options;
  dvfs::SimulationResult result;
  std::vector<dvfs::SensitivityCell> sensitivity;
  nlohmann::json json;  // what `rt3 simulate --json` prints (plots: the files written)
};

// a.bundle (when set) gives the engine's policy: its level table and latency models. Throws
// std::runtime_error on bad arguments (workload syntax, ...).
SimulationRun run_simulation(const SimulateArgs& a, const dvfs::Profile& profile, const dvfs::LatencyTable& table);

}  // namespace rt3::cli
