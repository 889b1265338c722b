#pragma once
// Candidate evaluation for the search: a short joint fine-tune of a candidate's pattern sets on
// the shared block-pruned weights (a training subset), then each set's accuracy on a validation
// subset. Every evaluation starts from the same weights and the same batches, so its result
// depends only on its request: evaluations are independent and could run on other machines
// (docs/search.md "Scale-out"). Request and result are plain JSON.
#include <torch/torch.h>

#include <functional>
#include <memory>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "train/prune/pattern.h"
#include "train/prune/pattern_schedule.h"
#include "train/run_config.h"
#include "train/search/search_space.h"
#include "train/tasks.h"

namespace rt3::train {

struct EvaluationRequest {
  std::vector<SetChoice> sets;
  int64_t finetune_steps = 10;
  int64_t eval_examples = 256;   // validation examples per set
};
nlohmann::json to_json(const EvaluationRequest& r);
EvaluationRequest evaluation_request_from_json(const nlohmann::json& j);

struct EvaluationResult {
  std::vector<double> set_accuracy;  // validation accuracy per request set
  double seconds = 0;
};
nlohmann::json to_json(const EvaluationResult& r);
EvaluationResult evaluation_result_from_json(const nlohmann::json& j);

struct EvaluatorOptions {
  std::string bp_dir;             // block-pruned run directory (rt3 prune bp)
  int64_t tile_rows = 16, tile_cols = 16;
  int64_t candidates = 10;        // per layer and pruning number
  int64_t sample_tiles = 1024;
  uint64_t seed = 1;
  double lr_scale = 0.5;          // fine-tune learning rate = train.lr of the BP run x this
  int64_t batch_size = 8;         // training batch of the short fine-tunes (0 = the run's own)
};

class CandidateEvaluator {
 public:
  // Loads the BP run, and the candidate patterns of every layer at every pruning number.
  CandidateEvaluator(const EvaluatorOptions& o, const std::vector<int>& pruning_numbers);

  EvaluationResult evaluate(const EvaluationRequest& r);

  // Joint fine-tune of `sets` for `steps` steps from the BP weights, leaving the result in the
  // model (for the search's final output); `dir` receives checkpoints (resumable).
  PatternSchedule& finetune_final(const std::vector<SetChoice>& sets, int64_t steps, const std::string& dir, bool resume,
                                  const std::function<void(int64_t, int64_t, double)>& on_step);

  Task& task() { return *task_; }
  const RunConfig& config() const { return cfg_; }
  const std::vector<std::string>& layer_names() const { return layers_; }
  // Candidate patterns of a layer at a pruning number: [candidates, tile_cols] float 0/1.
  const torch::Tensor& candidates(size_t layer, int pruning_number) const;

 private:
  std::vector<PatternSet> build_sets(const std::vector<SetChoice>& sets) const;
  void restore_weights();

  EvaluatorOptions opt_;
  RunConfig cfg_;
  std::unique_ptr<Task> task_;
  std::vector<std::string> layers_;
  std::vector<torch::Tensor> weights_;           // alias the model's prunable weights
  std::vector<torch::Tensor> initial_params_;    // every parameter at the BP state
  std::vector<std::map<int, torch::Tensor>> candidates_;
  std::unique_ptr<PatternSchedule> final_schedule_;
};

}  // namespace rt3::train
