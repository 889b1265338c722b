#pragma once
// `rt3 profile`: measures a bundle's latency table (dvfs/latency_table.h) on this machine with the
// runtime's own kernels: every prunable Linear dense and with the pattern kernel at each pruning
// number, the whole model (base and every variant), the remainder no pruning touches, and the
// host's streaming bandwidth (for the compute/memory split). Shared by `rt3 profile`,
// `rt3 simulate --bundle` and the demo.
#include <functional>
#include <map>
#include <string>
#include <vector>

#include "dvfs/latency_table.h"

namespace rt3::cli {

struct ProfileOptions {
  std::string bundle;
  int threads = 1;
  int reps = 9;                        // timed repetitions per measurement (median kept)
  int64_t seq_len = 128;               // tokens per inference (clamped to the model's maximum)
  std::vector<int> pruning_numbers;    // empty: every p in [tile_cols / 4, tile_cols - 1]
  int64_t tile_rows = 16, tile_cols = 16;  // used when the bundle has no pattern variant
  int patterns_per_set = 4;            // for pruning numbers no variant of the bundle has
  double host_khz = 0;                 // 0: read from cpufreq or /proc/cpuinfo
  std::map<std::string, double> accuracy;  // variant name -> validation accuracy (optional)
};

// Throws std::runtime_error with a clear message (bad bundle, unknown variant in accuracy, ...).
// progress(done, total) after each measurement group.
dvfs::LatencyTable profile_bundle(const ProfileOptions& o, const std::function<void(int, int)>& progress);

// The host frequency in kHz and where it came from (cpufreq scaling_cur_freq, else /proc/cpuinfo
// "cpu MHz"); throws when neither exists.
std::pair<double, std::string> host_frequency_khz();

// Human-readable summary of a table (layers grouped by shape, variants measured vs predicted).
void print_latency_table(const dvfs::LatencyTable& t);

// "p63=0.82,base=0.84" or a JSON file {"p63": 0.82, ...} -> map; throws on bad syntax.
std::map<std::string, double> parse_accuracy_arg(const std::string& arg);

}  // namespace rt3::cli
