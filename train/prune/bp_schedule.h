#pragma once
// The block-pruning schedule as loop hooks (train/trainer.h):
//   steps [0, lasso_steps):        task loss + reweighted group lasso, reweighted every
//                                  reweight_every steps;
//   at step lasso_steps:           hard prune every prunable Linear to its sparsity (smallest
//                                  group norms first) and save the masks (<dir>/masks.safetensors);
//   steps [lasso_steps, total):    fine-tune with the masks fixed: pruned gradients zeroed before
//                                  the optimizer step, pruned weights re-zeroed after it.
// Resume is exact: a run resumed in phase 1 reweights from the checkpoint's weights at a
// reweighting boundary (reweight_every divides checkpoint_every); in phase 3 the masks are read
// back from the file.
#include <torch/torch.h>

#include <optional>
#include <string>
#include <vector>

#include "train/prune/block_prune.h"
#include "train/prune/bp_config.h"
#include "train/trainer.h"

namespace rt3::train {

class BpSchedule : public LoopHooks {
 public:
  BpSchedule(torch::nn::Module& model, const BpOptions& options, std::string masks_path);

  void on_start(int64_t start_step) override;
  void before_step(int64_t step) override;
  torch::Tensor extra_loss(int64_t step) override;
  void after_backward(int64_t step) override;
  void after_step(int64_t step) override;
  nlohmann::json status(int64_t step) override;

  bool pruned() const { return masks_.has_value(); }
  double lambda() const { return lasso_.lambda; }
  int64_t groups() const { return groups_; }
  // Per-layer table (prune::sparsity_table) of the current masks; throws if not pruned yet.
  nlohmann::json sparsity_table() const;

 private:
  void prune_now();
  void load_masks();

  BpOptions opt_;
  std::string masks_path_;
  std::vector<std::string> names_;
  std::vector<torch::Tensor> weights_;
  int64_t groups_ = 0;
  prune::GroupLasso lasso_;
  std::optional<prune::MaskSet> masks_;
  double last_penalty_ = 0;
};

// Masks as a safetensors file of U8 0/1 tensors named like the weights, written atomically.
void save_masks(const std::vector<std::string>& names, const std::vector<torch::Tensor>& masks, const std::string& path);
// Reads masks for `names` with the given shapes; clear error if the file does not match.
std::vector<torch::Tensor> load_masks(const std::vector<std::string>& names, const std::vector<torch::Tensor>& like,
                                      const std::string& path);

}  // namespace rt3::train
