#include "train/trainer.h"

#include <chrono>
#include <cmath>
#include <stdexcept>

#include "train/checkpoint.h"

namespace rt3::train {

double learning_rate(const TrainOptions& o, int64_t step) {
  if (step < o.warmup_steps) return o.lr * double(step + 1) / double(o.warmup_steps);
  const double span = std::max<int64_t>(1, o.steps - o.warmup_steps);
  const double progress = std::min(1.0, double(step - o.warmup_steps) / span);
  const double cosine = 0.5 * (1.0 + std::cos(M_PI * progress));
  return o.lr * (o.min_lr_ratio + (1.0 - o.min_lr_ratio) * cosine);
}

namespace {

// Weight decay on matrices only: biases, LayerNorm and embeddings are not decayed.
std::vector<torch::optim::OptimizerParamGroup> param_groups(torch::nn::Module& m, double weight_decay) {
  std::vector<torch::Tensor> decay, no_decay;
  for (auto& p : m.named_parameters()) {
    const std::string& n = p.key();
    const bool is_matrix = p.value().dim() == 2 && n.find("emb") == std::string::npos &&
                           n.find("embeddings") == std::string::npos;
    (is_matrix ? decay : no_decay).push_back(p.value());
  }
  std::vector<torch::optim::OptimizerParamGroup> groups;
  groups.emplace_back(decay, std::make_unique<torch::optim::AdamWOptions>(
                                 torch::optim::AdamWOptions(1e-3).weight_decay(weight_decay)));
  groups.emplace_back(no_decay,
                      std::make_unique<torch::optim::AdamWOptions>(torch::optim::AdamWOptions(1e-3).weight_decay(0.0)));
  return groups;
}

}  // namespace

LoopResult run_training(Task& task, const RunConfig& cfg, const std::string& dir, bool resume,
                        const StepCallback& on_step, LoopHooks* hooks) {
  LoopHooks no_hooks;
  if (!hooks) hooks = &no_hooks;
  const TrainOptions& o = cfg.train;
  auto model = task.module();
  model->train();
  torch::optim::AdamW opt(param_groups(*model, o.weight_decay), torch::optim::AdamWOptions(o.lr));

  LoopResult r;
  double elapsed_before = 0;
  double loss_value = 0;
  if (resume) {
    auto st = load_checkpoint(dir, *model, opt);
    if (!st) throw std::runtime_error("nothing to resume in '" + dir + "': it has no checkpoint/");
    r.start_step = st->step;
    r.history = st->extra.value("history", nlohmann::json::array());
    elapsed_before = st->extra.value("elapsed_s", 0.0);
    loss_value = st->extra.value("train_loss", 0.0);  // reported as-is if no step is left
    if (r.start_step > o.steps)
      throw std::runtime_error("checkpoint is at step " + std::to_string(r.start_step) + " but the run has only " +
                               std::to_string(o.steps) + " steps");
  } else {
    torch::manual_seed(o.seed);
  }

  hooks->on_start(r.start_step);

  auto t0 = std::chrono::steady_clock::now();
  auto seconds = [&] { return std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count(); };
  for (int64_t step = r.start_step; step < o.steps; ++step) {
    const double lr = learning_rate(o, step);
    for (auto& g : opt.param_groups()) static_cast<torch::optim::AdamWOptions&>(g.options()).lr(lr);

    hooks->before_step(step);
    opt.zero_grad();
    torch::Tensor loss = hooks->forward_backward(task, step);
    if (!loss.defined()) {
      loss = task.train_loss(step);
      torch::Tensor extra = hooks->extra_loss(step);
      (extra.defined() ? loss + extra : loss).backward();
    }
    hooks->after_backward(step);
    if (o.grad_clip > 0) torch::nn::utils::clip_grad_norm_(model->parameters(), o.grad_clip);
    opt.step();
    hooks->after_step(step);
    loss_value = loss.item<double>();
    if (!std::isfinite(loss_value))
      throw std::runtime_error("training diverged at step " + std::to_string(step + 1) +
                               " (loss is not finite): lower train.lr or raise warmup_steps");

    StepReport rep;
    rep.step = step + 1;
    rep.steps = o.steps;
    rep.loss = loss_value;
    rep.lr = lr;
    rep.elapsed_s = seconds();
    rep.tokens_per_s = double(task.tokens_per_step()) * (rep.step - r.start_step) / std::max(1e-9, rep.elapsed_s);
    rep.eta_s = rep.elapsed_s / double(rep.step - r.start_step) * double(o.steps - rep.step);
    const bool last = rep.step == o.steps;
    if (rep.step % o.eval_every == 0 || last) {
      rep.evaluated = true;
      rep.eval = task.evaluate(Split::valid, o.eval_max_examples);
      nlohmann::json entry = {{"step", rep.step}, {"train_loss", loss_value}, {"lr", lr}, {"valid", to_json(rep.eval)}};
      entry.update(hooks->status(step));
      r.history.push_back(entry);
    }
    if (rep.step % o.checkpoint_every == 0 || last) {
      CheckpointState st;
      st.step = rep.step;
      st.extra = {{"history", r.history}, {"elapsed_s", elapsed_before + seconds()}, {"train_loss", loss_value}};
      save_checkpoint(dir, *model, opt, st);
      rep.checkpointed = true;
    }
    if (on_step) on_step(rep);
    if (last) r.valid = rep.eval;
  }
  if (r.start_step == o.steps) {  // resumed a finished run: report its last state
    r.valid = task.evaluate(Split::valid, o.eval_max_examples);
  }
  save_weights(*model, dir + "/model.safetensors");
  r.steps_done = o.steps;
  r.final_train_loss = loss_value;
  r.seconds = seconds();
  r.tokens_per_s = double(task.tokens_per_step()) * (o.steps - r.start_step) / std::max(1e-9, r.seconds);
  return r;
}

}  // namespace rt3::train
