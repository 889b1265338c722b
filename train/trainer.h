#pragma once
// The training loop, readable top to bottom: AdamW, linear warm-up then cosine decay, gradient
// clipping, periodic validation and atomic checkpoints; resumable exactly.
#include <torch/torch.h>

#include "train/api.h"
#include "train/run_config.h"
#include "train/tasks.h"

namespace rt3::train {

struct LoopResult {
  int64_t start_step = 0, steps_done = 0;
  double final_train_loss = 0, seconds = 0, tokens_per_s = 0;
  Metrics valid;
  nlohmann::json history = nlohmann::json::array();
};

// Learning rate at step (0-based): linear warm-up to lr, cosine decay to lr * min_lr_ratio.
double learning_rate(const TrainOptions& o, int64_t step);

// What a pruning method adds to the plain loop (block pruning's penalty and masks, pattern
// pruning's masks). Every hook gets the 0-based global step; the defaults do nothing.
class LoopHooks {
 public:
  virtual ~LoopHooks() = default;
  // Once, before the first step, after a resumed run's checkpoint has been loaded.
  virtual void on_start(int64_t start_step) {}
  // Before step's forward (e.g. the hard prune at a phase boundary).
  virtual void before_step(int64_t step) {}
  // Replaces the loop's own forward + backward: computes the gradients for step itself (e.g. one
  // forward/backward per pattern set on shared weights) and returns the loss to report. Returning
  // an undefined tensor means "not replaced". Gradients are zeroed before it is called.
  virtual torch::Tensor forward_backward(Task& task, int64_t step) { return {}; }
  // Added to the task loss (an undefined tensor adds nothing).
  virtual torch::Tensor extra_loss(int64_t step) { return {}; }
  // Between backward() and the optimizer step (e.g. zero the gradients of pruned weights).
  virtual void after_backward(int64_t step) {}
  // After the optimizer step (e.g. re-apply masks: AdamW moves pruned weights off zero).
  virtual void after_step(int64_t step) {}
  // Extra fields for the validation history entries.
  virtual nlohmann::json status(int64_t step) { return nlohmann::json::object(); }
};

// Runs (or with resume=true continues) training of task's model, writing checkpoints and the
// final weights (model.safetensors) into dir. StepReport.loss is the task loss (without any
// hook's extra loss), so it stays comparable with the dense run.
LoopResult run_training(Task& task, const RunConfig& cfg, const std::string& dir, bool resume,
                        const StepCallback& on_step, LoopHooks* hooks = nullptr);

}  // namespace rt3::train
