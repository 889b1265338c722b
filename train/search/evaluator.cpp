#include "train/search/evaluator.h"

#include <chrono>
#include <stdexcept>

#include "train/checkpoint.h"
#include "train/prune/block_prune.h"
#include "train/run_files.h"
#include "train/trainer.h"

namespace rt3::train {
using nlohmann::json;

json to_json(const EvaluationRequest& r) {
  json sets = json::array();
  for (const auto& s : r.sets) sets.push_back({{"pruning_number", s.pruning_number}, {"candidates", s.candidates}});
  return {{"sets", sets}, {"finetune_steps", r.finetune_steps}, {"eval_examples", r.eval_examples}};
}

EvaluationRequest evaluation_request_from_json(const json& j) {
  EvaluationRequest r;
  for (const auto& s : j.at("sets"))
    r.sets.push_back({s.at("pruning_number").get<int>(), s.at("candidates").get<std::vector<int>>()});
  r.finetune_steps = j.at("finetune_steps").get<int64_t>();
  r.eval_examples = j.at("eval_examples").get<int64_t>();
  return r;
}

json to_json(const EvaluationResult& r) { return {{"set_accuracy", r.set_accuracy}, {"seconds", r.seconds}}; }

EvaluationResult evaluation_result_from_json(const json& j) {
  return {j.at("set_accuracy").get<std::vector<double>>(), j.value("seconds", 0.0)};
}

CandidateEvaluator::CandidateEvaluator(const EvaluatorOptions& o, const std::vector<int>& pruning_numbers) : opt_(o) {
  cfg_ = read_run_config(o.bp_dir);
  // Short fine-tunes: small batches (the final fine-tune of the best candidate uses them too).
  if (o.batch_size > 0) cfg_.train.batch_size = o.batch_size;
  task_ = make_task(cfg_, o.bp_dir);
  load_weights(*task_->module(), o.bp_dir + "/model.safetensors");
  for (auto& [name, W] : prune::prunable_linears(*task_->module())) {
    layers_.push_back(name);
    weights_.push_back(W);
  }
  torch::NoGradGuard ng;
  for (const auto& p : task_->module()->parameters()) initial_params_.push_back(p.detach().clone());
  const prune::TileSpec tile{o.tile_rows, o.tile_cols};
  candidates_.resize(layers_.size());
  for (size_t l = 0; l < layers_.size(); ++l)
    for (int p : pruning_numbers)
      candidates_[l][p] = prune::pattern_candidates(weights_[l], tile, p, o.candidates, o.sample_tiles,
                                                    o.seed * 1000003u + l);
}

const torch::Tensor& CandidateEvaluator::candidates(size_t layer, int pruning_number) const {
  auto it = candidates_.at(layer).find(pruning_number);
  if (it == candidates_[layer].end())
    throw std::invalid_argument("no candidates at pruning number " + std::to_string(pruning_number));
  return it->second;
}

void CandidateEvaluator::restore_weights() {
  torch::NoGradGuard ng;
  const auto params = task_->module()->parameters();
  for (size_t i = 0; i < params.size(); ++i) params[i].copy_(initial_params_[i]);
}

std::vector<PatternSet> CandidateEvaluator::build_sets(const std::vector<SetChoice>& choices) const {
  std::vector<PatternSet> sets;
  for (const auto& c : choices) {
    PatternSet s;
    s.name = c.name();
    s.pruning_number = c.pruning_number;
    s.loss_weight = 1.0 / static_cast<double>(choices.size());
    for (size_t l = 0; l < layers_.size(); ++l) {
      if (c.pruning_number == 0) {  // the dense model, trained along: one all-ones pattern
        s.patterns.push_back(torch::ones({1, opt_.tile_cols}));
        continue;
      }
      const torch::Tensor& cand = candidates(l, c.pruning_number);
      std::vector<int64_t> ids;
      for (int id : c.candidates) ids.push_back(std::min<int64_t>(id, cand.size(0) - 1));  // a layer may have fewer
      std::sort(ids.begin(), ids.end());
      ids.erase(std::unique(ids.begin(), ids.end()), ids.end());
      s.patterns.push_back(cand.index_select(0, torch::tensor(ids, torch::kLong)).contiguous());
    }
    sets.push_back(std::move(s));
  }
  return sets;
}

EvaluationResult CandidateEvaluator::evaluate(const EvaluationRequest& r) {
  const auto t0 = std::chrono::steady_clock::now();
  if (r.sets.empty()) throw std::invalid_argument("an evaluation needs at least one set");
  restore_weights();
  PatternOptions po;
  po.tile_rows = opt_.tile_rows;
  po.tile_cols = opt_.tile_cols;
  po.reassign_every = std::max<int64_t>(1, r.finetune_steps);
  PatternSchedule schedule(*task_, po, layers_, weights_, build_sets(r.sets), r.eval_examples);
  schedule.reassign();
  if (r.finetune_steps > 0) {
    auto model = task_->module();
    model->train();
    torch::manual_seed(cfg_.train.seed);
    torch::optim::AdamW opt(model->parameters(),
                            torch::optim::AdamWOptions(cfg_.train.lr * opt_.lr_scale).weight_decay(0.0));
    for (int64_t step = 0; step < r.finetune_steps; ++step) {
      opt.zero_grad();
      schedule.forward_backward(*task_, step);
      if (cfg_.train.grad_clip > 0) torch::nn::utils::clip_grad_norm_(model->parameters(), cfg_.train.grad_clip);
      opt.step();
    }
    schedule.reassign();
  }
  EvaluationResult out;
  for (size_t k = 0; k < r.sets.size(); ++k)
    out.set_accuracy.push_back(schedule.evaluate_set(k, Split::valid, r.eval_examples).values.at("accuracy"));
  restore_weights();
  out.seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
  return out;
}

PatternSchedule& CandidateEvaluator::finetune_final(const std::vector<SetChoice>& sets, int64_t steps,
                                                    const std::string& dir, bool resume,
                                                    const std::function<void(int64_t, int64_t, double)>& on_step) {
  restore_weights();
  PatternOptions po;
  po.tile_rows = opt_.tile_rows;
  po.tile_cols = opt_.tile_cols;
  po.steps = steps;
  po.reassign_every = 50;
  RunConfig cfg = cfg_;
  cfg.train.steps = std::max<int64_t>(1, steps);
  cfg.train.lr = cfg_.train.lr * opt_.lr_scale;
  cfg.train.warmup_steps = std::min<int64_t>(20, cfg.train.steps / 10);
  cfg.train.eval_every = cfg.train.steps;
  cfg.train.checkpoint_every = 50 * std::max<int64_t>(1, 100 / 50);
  final_schedule_ = std::make_unique<PatternSchedule>(*task_, po, layers_, weights_, build_sets(sets),
                                                      cfg.train.eval_max_examples);
  if (steps > 0) {
    run_training(*task_, cfg, dir, resume, [&](const StepReport& r) { if (on_step) on_step(r.step, r.steps, r.loss); },
                 final_schedule_.get());
  }
  final_schedule_->reassign();
  return *final_schedule_;
}

}  // namespace rt3::train
