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

// Runs (or with resume=true continues) training of task's model, writing checkpoints and the
// final weights (model.safetensors) into dir.
LoopResult run_training(Task& task, const RunConfig& cfg, const std::string& dir, bool resume,
                        const StepCallback& on_step);

}  // namespace rt3::train
