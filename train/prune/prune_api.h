#pragma once
// Torch-free interface of `rt3 prune bp`: block-prune a trained run directory into a new run
// directory that `rt3 eval`, `rt3 export` and the later pruning stages accept.
#include <cstdint>
#include <functional>
#include <string>

#include <nlohmann/json.hpp>

#include "train/api.h"
#include "train/prune/bp_config.h"
#include "train/prune/pattern_config.h"
#include "train/run_config.h"

namespace rt3::train {

struct PruneBpRequest {
  std::string checkpoint_dir;  // a trained rt3 run directory (rt3 train, or rt3 train --init)
  std::string out_dir;
  std::string config_file;     // optional {"train": {...}, "bp": {...}} overrides
  double sparsity = -1;        // >= 0 overrides bp.sparsity
  int64_t block_rows = -1;     // >= 1 overrides bp.block_rows
  bool resume = false;
  int threads = 2;
  StepCallback on_step;
  std::function<void(const std::string&)> on_message;
};

struct PruneBpResult {
  std::string out_dir, task, source_dir;
  BpOptions bp;
  double lambda = 0;           // the penalty weight actually used
  int64_t groups = 0;          // prunable groups in the model
  int64_t start_step = 0, steps_done = 0;
  double seconds = 0;
  Metrics valid;               // after fine-tuning
  nlohmann::json sparsity_table;  // prune::sparsity_table layout
};
nlohmann::json to_json(const PruneBpResult& r);

// The training options a pruning run uses unless the config overrides them: the source run's,
// with a lower peak learning rate, a short warm-up and the phase lengths of bp.
TrainOptions prune_train_defaults(const TrainOptions& source, const BpOptions& bp);

PruneBpResult prune_bp(const PruneBpRequest& req);

// Name of the file a pruned run directory describes itself in ({"method": "bp" | "pattern", ...}).
inline constexpr const char* kPruneFile = "rt3_prune.json";

// ---- pattern sets (`rt3 prune pattern`) ----------------------------------------------------------

struct PrunePatternRequest {
  std::string checkpoint_dir;  // a trained or block-pruned run directory (normally rt3 prune bp)
  std::string out_dir;
  std::string config_file;     // optional {"train": {...}, "pattern": {...}} overrides
  std::vector<double> sets;    // non-empty overrides pattern.sets
  bool resume = false;
  int threads = 2;
  StepCallback on_step;
  std::function<void(const std::string&)> on_message;
};

struct PatternSetResult {
  std::string name;
  int64_t pruning_number = 0;
  double sparsity = 0;         // kept-weight sparsity over the prunable Linears (exact)
  Metrics valid;
};

struct PrunePatternResult {
  std::string out_dir, task, source_dir;
  PatternOptions pattern;
  int64_t start_step = 0, steps_done = 0;
  double seconds = 0;
  std::vector<PatternSetResult> sets;
  nlohmann::json candidates;   // per layer and pruning number: how many candidates were found
};
nlohmann::json to_json(const PrunePatternResult& r);

PrunePatternResult prune_pattern(const PrunePatternRequest& req);

// File in a pattern run directory with every set's patterns and tile assignments, under the
// tensor names the bundle uses (rt3.variant.<set>.<layer>.patterns / .tiles).
inline constexpr const char* kVariantsFile = "variants.safetensors";

// Names of the pattern sets of a pattern run directory (empty for any other run).
std::vector<std::string> pattern_set_names(const std::string& dir);

}  // namespace rt3::train
