#pragma once
// The device half of `rt3 demo` (after the models are trained and pruned): latency tables, the
// search of one pattern set per DVFS level (RL and random search at the same budget), the RT3
// bundle with its level-to-set table, the switch benchmark, and the battery simulation. Each step
// writes <out>/<step>/stage.json and is skipped when it exists and --resume is given.
#include <filesystem>
#include <functional>
#include <string>

#include <nlohmann/json.hpp>

namespace rt3::cli {

struct DeviceDemoOptions {
  std::filesystem::path out;
  std::string budget = "small";       // tiny | small | full
  int threads = 2;
  bool resume = false;
  std::string profile;                // device profile file
  std::string task = "spam";          // classifier the device half runs on
  std::string dense_stage = "spam", bp_stage = "spam_bp", pattern_stage = "spam_pat";
  // Position of the device steps in the demo's one numbering ("[7/11] latency"): the first
  // step's number and the total number of stages.
  int first_index = 1, total = 5;
  // Messages for the one progress display of the demo.
  std::function<void(const std::string&)> on_message;
  // Called after each step: its name, whether --resume skipped it (its stage.json came from an
  // earlier run) and the seconds this invocation spent on it.
  std::function<void(const std::string& name, bool skipped, double seconds)> on_step_done;
};

// Runs the steps; `summary` holds the earlier stages' results (stages.<name>) and receives
// summary["device"] (keys in docs/demo.md). Throws std::runtime_error on failure.
void run_device_stages(const DeviceDemoOptions& o, nlohmann::json& summary);
// Number of device steps run_device_stages runs.
constexpr int kDeviceSteps = 6;

}  // namespace rt3::cli
