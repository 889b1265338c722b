#pragma once
// Options of a block-pruning run (`rt3 prune bp`): the three phases of docs/design.md "Stage 2:
// block-structured pruning" — reweighted group-lasso training, hard pruning to the target sparsity,
// fine-tuning with the mask held fixed. Torch-free so the CLI can validate a --config before
// anything heavy starts. Stored in <out>/rt3_prune.json next to the run's rt3_train.json.
#include <cstdint>
#include <map>
#include <string>

#include <nlohmann/json.hpp>

#include "train/prune/distill_config.h"

namespace rt3::train {

struct BpOptions {
  double sparsity = 0.5;        // target weight sparsity of every prunable Linear
  int64_t block_rows = 16;      // a group = one input column inside a block of this many output rows
  // Penalty = lambda * sum_g rew_g * ||W_g||, rew_g = 1 / (||W_g|| + eps). lambda <= 0 means
  // "auto": lambda = penalty_scale / (number of groups), so right after a reweighting the
  // penalty is ~penalty_scale whatever the model size.
  double lambda = 0.0;
  double penalty_scale = 1.0;
  double eps = 1e-3;
  int64_t reweight_every = 50;   // steps; must divide train.checkpoint_every (exact resume)
  int64_t lasso_steps = 150;     // phase 1 (0 = prune the trained weights by magnitude at once)
  int64_t finetune_steps = 250;  // phase 3; the hard prune happens at step lasso_steps
  // Per-layer sparsity overrides, by parameter name (e.g. "layers.0.ffn.lin1.weight": 0.7).
  std::map<std::string, double> layer_sparsity;
  DistillOptions distill;        // from the dense teacher, during both phases (off by default)

  int64_t total_steps() const { return lasso_steps + finetune_steps; }
  double sparsity_of(const std::string& layer) const;
};

// Throws std::invalid_argument naming the bad field (sparsity outside [0, 1], block_rows < 1, ...).
void validate(const BpOptions& o);

nlohmann::json to_json(const BpOptions& o);
// Applies {"sparsity": .., "block_rows": .., ...} on top of base; unknown keys are errors.
BpOptions apply_bp_json(BpOptions base, const nlohmann::json& j);

}  // namespace rt3::train
