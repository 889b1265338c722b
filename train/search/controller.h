#pragma once
// The RL controller of the search (RT3.md stage 4, after the NAS controllers it cites): an LSTM
// cell that emits one decision per step. Each decision has its own softmax head; the sampled
// option is fed to the next step through that decision's own embedding. Trained with REINFORCE
// against an exponential-moving-average baseline, plus an entropy bonus that keeps it exploring
// while the reward signal is still noisy.
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
  PolicySearch(const std::vector<int>& decision_sizes, const ControllerOptions& o, uint64_t seed,
               const std::vector<int>& groups = {});

  // Samples an action (one option per decision) from the current policy.
  std::vector<int> sample();
  // One REINFORCE step on (action, reward); returns the advantage used.
  double update(const std::vector<int>& action, double reward);
  double baseline() const { return baseline_; }
  bool has_baseline() const { return has_baseline_; }
  // Most likely action (argmax per decision, fed forward greedily).
  std::vector<int> argmax();

  // Whole state (weights, optimizer, baseline, RNG) to/from a file, for resume, tagged with the
  // number of episodes it has seen; load() returns that number.
  void save(const std::string& path, int64_t episodes = 0) const;
  int64_t load(const std::string& path);

 private:
  // Log-probability sum and entropy sum of `action` (also used to sample when sampling = true).
  std::pair<torch::Tensor, torch::Tensor> run(std::vector<int>& action, bool sampling, bool greedy);

  std::vector<int> sizes_;
  ControllerOptions opt_;
  Controller net_;
  std::unique_ptr<torch::optim::Adam> optim_;
  double baseline_ = 0;
  bool has_baseline_ = false;
  std::mt19937_64 rng_;
};

}  // namespace rt3::train
