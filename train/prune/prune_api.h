#pragma once
// Torch-free interface of `rt3 prune bp`: block-prune a trained run directory into a new run
// directory that `rt3 eval`, `rt3 export` and the later pruning stages accept.
#include <cstdint>
#include <functional>
#include <string>

#include <nlohmann/json.hpp>

#include "train/api.h"
#include "train/prune/bp_config.h"
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

// Name of the file a pruned run directory describes itself in ({"method": "bp", ...}).
inline constexpr const char* kPruneFile = "rt3_prune.json";

}  // namespace rt3::train
