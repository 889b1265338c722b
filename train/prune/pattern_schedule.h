#pragma once
// Joint fine-tuning of K pattern sets on one shared set of weights, as loop hooks
// (train/trainer.h). Each step runs the same batch once per set with that set's masks applied
// (W * M_k) and back-propagates sum_k w_k * loss_k: the shared weights receive
// sum_k w_k * (dL_k/dW) * M_k, every other parameter sum_k w_k * dL_k/dparam. Every
// reassign_every steps each tile re-chooses the pattern of its set nearest to the current
// weights. Resume is exact: reassignment depends only on the weights at a step that is a
// multiple of reassign_every, and the patterns themselves never change during the run.
#include <torch/torch.h>

#include <string>
#include <vector>

#include "train/api.h"
#include "train/prune/pattern.h"
#include "train/prune/pattern_config.h"
#include "train/trainer.h"

namespace rt3::train {

struct PatternSet {
  std::string name;
  int64_t pruning_number = 0;
  double loss_weight = 1.0;
  std::vector<torch::Tensor> patterns;  // per layer: [P, tile_cols] float 0/1
  std::vector<torch::Tensor> tile_ids;  // per layer: [n_row_tiles, n_col_tiles] int64
  std::vector<torch::Tensor> masks;     // per layer: [out, in] float 0/1
};

class PatternSchedule : public LoopHooks {
 public:
  PatternSchedule(Task& task, const PatternOptions& o, std::vector<std::string> layer_names,
                  std::vector<torch::Tensor> weights, std::vector<PatternSet> sets, int64_t eval_examples);

  void on_start(int64_t start_step) override;
  void before_step(int64_t step) override;
  torch::Tensor forward_backward(Task& task, int64_t step) override;
  nlohmann::json status(int64_t step) override;

  // Every tile takes its set's nearest pattern for the current shared weights.
  void reassign();
  // Validation metrics of set k (its masks applied to the shared weights, then restored).
  Metrics evaluate_set(size_t k, Split split, int64_t max_examples);

  const std::vector<PatternSet>& sets() const { return sets_; }
  const std::vector<std::string>& layer_names() const { return names_; }

 private:
  Task& task_;
  PatternOptions opt_;
  prune::TileSpec tile_;
  std::vector<std::string> names_;
  std::vector<torch::Tensor> weights_;  // alias the model's prunable weights
  std::vector<PatternSet> sets_;
  int64_t eval_examples_;
};

// Writes every set's patterns and tile assignment to a variants.safetensors file (atomically):
// "rt3.variant.<set>.<layer>.patterns" U8 [P, tile_cols] and ".tiles" U8 [row tiles, col tiles].
void save_pattern_sets(const std::string& path, const std::vector<std::string>& layers, const std::vector<PatternSet>& sets);

// Multiplies the prunable weights of `module` (loaded from the pattern run `dir`) by the masks of
// its pattern set `variant`. Throws naming the sets the run has when `variant` is not one.
void apply_variant(torch::nn::Module& module, const std::string& dir, const std::string& variant);

// Copies the shared weights, applies `masks`, and puts the copy back when destroyed.
class MaskedWeightsScope {
 public:
  MaskedWeightsScope(const std::vector<torch::Tensor>& weights, const std::vector<torch::Tensor>& masks);
  ~MaskedWeightsScope();
  MaskedWeightsScope(const MaskedWeightsScope&) = delete;
  MaskedWeightsScope& operator=(const MaskedWeightsScope&) = delete;

 private:
  std::vector<torch::Tensor> weights_, saved_;
};

}  // namespace rt3::train
