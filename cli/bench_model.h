#pragma once
// `rt3 bench model`: whole-model latency of a bundle against its own dense twin (the same
// weights with every block-pruned Linear stored dense), in one run, plus where the time goes:
// the share of the dense model's time spent in the prunable Linears and the Amdahl bound it
// implies for the measured sparsity.
#include <functional>
#include <string>

#include <nlohmann/json.hpp>

namespace rt3::cli {

struct ModelBenchOptions {
  std::string bundle;
  int threads = 1;
  int reps = 15;              // timed repetitions per measurement (median reported)
  int64_t seq_len = 128;      // classifier input / LM prefill length (clamped to the model's max)
  int64_t batch = 1;          // classifier batch
  int64_t decode_tokens = 32; // LM: tokens generated for the per-token (M = 1) figure
};

// Runs the measurements; `progress(done, total)` after each. Throws std::runtime_error with a
// clear message on a bad bundle.
nlohmann::json bench_model(const ModelBenchOptions& o, const std::function<void(int, int)>& progress);

// Writes a copy of `bundle` whose prunable Linears are stored block-pruned with every block
// empty, so they cost almost nothing: timing it measures, inside the real model, what the model
// spends outside those Linears.
void write_no_linears_twin(const std::string& bundle, const std::string& path);

// Human-readable report of bench_model's JSON.
void print_model_bench(const nlohmann::json& j);

}  // namespace rt3::cli
