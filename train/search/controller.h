#pragma once
// The RL controller of the search (docs/design.md "Stage 4: search", after the NAS controllers the
// paper cites): an LSTM cell that emits one decision per step. Each decision has its own softmax
// head; the sampled option is fed to the next step through that decision's own embedding. Trained
// with REINFORCE against an exponential-moving-average baseline, plus an entropy bonus that keeps
// it exploring while the reward signal is still noisy.
//
// Credit assignment: the decisions can be split into segments with a reward each (in the search,
// a segment is one DVFS level and its reward that level's accuracy and speed). A decision is then
// pushed by its own segment's reward against that segment's own baseline, not by the sum over
// all segments, whose other terms are noise to it. With one segment this is plain REINFORCE.
#include <torch/torch.h>

#include <random>
#include <string>
#include <vector>

namespace rt3::train {

struct ControllerOptions {
  int64_t hidden = 35;
  int64_t embedding = 16;
  double lr = 0.01;
  double baseline_decay = 0.9;   // b <- decay * b + (1 - decay) * reward
  double entropy_weight = 0.01;
  double temperature = 1.0;
};

struct ControllerImpl : torch::nn::Module {
  // groups[i]: decisions of one group share their embedding and softmax head (they must have the
  // same number of options), so what is learned about an option in one place applies in all
  // (e.g. "candidate pattern 3 is good" at every level). Empty = every decision its own group.
  ControllerImpl(const std::vector<int>& decision_sizes, const ControllerOptions& o, const std::vector<int>& groups = {});
  torch::nn::LSTMCell cell{nullptr};
  torch::Tensor start;  // learned input of the first step
  std::vector<torch::nn::Embedding> embeddings;  // per group
  std::vector<torch::nn::Linear> heads;          // per group
  std::vector<size_t> module_of;                 // decision -> group module index
};
TORCH_MODULE(Controller);

class PolicySearch {
 public:
  // segments: per decision, the index of the reward segment it answers to (0-based, contiguous);
  // empty = one segment for all.
  PolicySearch(const std::vector<int>& decision_sizes, const ControllerOptions& o, uint64_t seed,
               const std::vector<int>& groups = {}, const std::vector<int>& segments = {});

  // Samples an action (one option per decision) from the current policy.
  std::vector<int> sample();
  // One REINFORCE step on (action, reward) with a single segment; returns the advantage used.
  double update(const std::vector<int>& action, double reward);
  // One REINFORCE step on a batch: segment_rewards[b][s] is the reward of segment s for
  // actions[b]. The gradient is the batch mean; each segment's baseline moves once, towards the
  // batch mean of its rewards. Returns the advantages [b][s].
  std::vector<std::vector<double>> update(const std::vector<std::vector<int>>& actions,
                                          const std::vector<std::vector<double>>& segment_rewards);
  int segments() const { return static_cast<int>(baselines_.size()); }
  // Baseline of segment s (the only one when there is one segment).
  double baseline(int s = 0) const { return baselines_.at(static_cast<size_t>(s)); }
  bool has_baseline() const { return has_baseline_; }
  // Most likely action (argmax per decision, fed forward greedily).
  std::vector<int> argmax();

  // Whole state (weights, optimizer, baseline, RNG) to/from a file, for resume, tagged with the
  // number of episodes it has seen; load() returns that number.
  void save(const std::string& path, int64_t episodes = 0) const;
  int64_t load(const std::string& path);

 private:
  // Log-probability of each decision of `action` ([decisions]) and the entropy sum (also used to
  // sample when sampling = true).
  std::pair<torch::Tensor, torch::Tensor> run(std::vector<int>& action, bool sampling, bool greedy);

  std::vector<int> sizes_;
  std::vector<int64_t> segment_of_;  // per decision
  ControllerOptions opt_;
  Controller net_;
  std::unique_ptr<torch::optim::Adam> optim_;
  std::vector<double> baselines_;    // per segment
  bool has_baseline_ = false;
  std::mt19937_64 rng_;
};

}  // namespace rt3::train
