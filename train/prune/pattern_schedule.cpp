#include "train/prune/pattern_schedule.h"

#include <stdexcept>
#include <utility>

namespace rt3::train {

MaskedWeightsScope::MaskedWeightsScope(const std::vector<torch::Tensor>& weights, const std::vector<torch::Tensor>& masks)
    : weights_(weights) {
  torch::NoGradGuard ng;
  for (size_t i = 0; i < weights_.size(); ++i) {
    saved_.push_back(weights_[i].detach().clone());
    weights_[i].mul_(masks[i]);
  }
}

MaskedWeightsScope::~MaskedWeightsScope() {
  torch::NoGradGuard ng;
  for (size_t i = 0; i < weights_.size(); ++i) weights_[i].copy_(saved_[i]);
}

PatternSchedule::PatternSchedule(Task& task, const PatternOptions& o, std::vector<std::string> layer_names,
                                 std::vector<torch::Tensor> weights, std::vector<PatternSet> sets, int64_t eval_examples)
    : task_(task),
      opt_(o),
      tile_{o.tile_rows, o.tile_cols},
      names_(std::move(layer_names)),
      weights_(std::move(weights)),
      sets_(std::move(sets)),
      eval_examples_(eval_examples) {
  for (const auto& s : sets_)
    if (s.patterns.size() != weights_.size()) throw std::logic_error("PatternSchedule: a set lacks patterns for a layer");
}

void PatternSchedule::reassign() {
  for (auto& s : sets_) {
    s.tile_ids.clear();
    s.masks.clear();
    for (size_t l = 0; l < weights_.size(); ++l) {
      const auto& W = weights_[l];
      s.tile_ids.push_back(prune::assign_patterns(W, tile_, s.patterns[l]));
      s.masks.push_back(prune::pattern_mask(s.patterns[l], s.tile_ids.back(), tile_, W.size(0), W.size(1),
                                            W.scalar_type()));
    }
  }
}

void PatternSchedule::on_start(int64_t start_step) {
  if (start_step % opt_.reassign_every != 0 && start_step != opt_.steps)
    throw std::runtime_error("cannot resume the pattern run exactly at step " + std::to_string(start_step) +
                             ": it is not a multiple of pattern.reassign_every");
  reassign();
}

void PatternSchedule::before_step(int64_t step) {
  if (step > 0 && step % opt_.reassign_every == 0) reassign();
}

torch::Tensor PatternSchedule::forward_backward(Task& task, int64_t step) {
  std::vector<torch::Tensor> acc;
  for (const auto& W : weights_) acc.push_back(torch::zeros_like(W));
  double total = 0;
  for (const auto& s : sets_) {
    {
      MaskedWeightsScope masked(weights_, s.masks);
      torch::Tensor loss = task.train_loss(step);
      (loss * s.loss_weight).backward();
      total += s.loss_weight * loss.item<double>();
    }
    torch::NoGradGuard ng;
    for (size_t l = 0; l < weights_.size(); ++l) {
      auto g = weights_[l].mutable_grad();
      if (!g.defined()) continue;
      acc[l].add_(g * s.masks[l]);
      g.zero_();
    }
  }
  torch::NoGradGuard ng;
  for (size_t l = 0; l < weights_.size(); ++l) weights_[l].mutable_grad() = acc[l];
  return torch::tensor(total);
}

Metrics PatternSchedule::evaluate_set(size_t k, Split split, int64_t max_examples) {
  MaskedWeightsScope masked(weights_, sets_.at(k).masks);
  return task_.evaluate(split, max_examples);
}

nlohmann::json PatternSchedule::status(int64_t) {
  nlohmann::json sets = nlohmann::json::object();
  for (size_t k = 0; k < sets_.size(); ++k) sets[sets_[k].name] = to_json(evaluate_set(k, Split::valid, eval_examples_));
  return {{"sets", sets}};
}

}  // namespace rt3::train
