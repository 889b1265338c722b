// `rt3 prune bp`: dense run directory in, block-pruned run directory out.
#include "train/prune/prune_api.h"

#include <algorithm>
#include <filesystem>
#include <set>
#include <stdexcept>

#include "runtime/format/bundle.h"
#include "train/checkpoint.h"
#include "train/compute_env.h"
#include "train/prune/bp_schedule.h"
#include "train/prune/distill_teacher.h"
#include "train/run_files.h"
#include "train/tasks.h"
#include "train/trainer.h"

namespace rt3::train {
namespace fs = std::filesystem;
using nlohmann::json;

json to_json(const PruneBpResult& r) {
  return {{"out_dir", r.out_dir},       {"task", r.task},
          {"source_dir", r.source_dir}, {"bp", to_json(r.bp)},
          {"lambda", r.lambda},         {"groups", r.groups},
          {"start_step", r.start_step}, {"steps_done", r.steps_done},
          {"seconds", r.seconds},       {"valid", to_json(r.valid)},
          {"sparsity", r.sparsity_table}};
}

TrainOptions prune_train_defaults(const TrainOptions& source, const BpOptions& bp) {
  TrainOptions t = source;
  t.steps = bp.total_steps();
  t.lr = source.lr * 0.5;  // the weights are trained already: smaller steps
  t.warmup_steps = std::min<int64_t>(20, t.steps / 10);
  t.eval_every = std::max<int64_t>(1, std::min<int64_t>(100, t.steps));
  // A multiple of reweight_every, so a resumed lasso phase reweights where the original did.
  t.checkpoint_every = bp.reweight_every * std::max<int64_t>(1, 100 / bp.reweight_every);
  return t;
}

namespace {

struct PruneFile {
  std::string source;
  BpOptions bp;
};

void write_prune_file(const std::string& dir, const PruneFile& p) {
  write_file_atomic(dir + "/" + kPruneFile, json{{"method", "bp"}, {"source", p.source}, {"bp", to_json(p.bp)}}.dump(2));
}

PruneFile read_prune_file(const std::string& dir) {
  const json j = read_json_file(dir + "/" + kPruneFile);
  if (j.value("method", "") != "bp") throw std::runtime_error("'" + dir + "' is not a block-pruning run");
  return {j.value("source", ""), apply_bp_json(BpOptions{}, j.at("bp"))};
}

}  // namespace

PruneBpResult prune_bp(const PruneBpRequest& req) {
  if (req.out_dir.empty()) throw std::runtime_error("--out is required");
  init_compute(req.threads);
  RunConfig cfg;
  PruneFile pf;
  // --resume of a run stopped before its first checkpoint restarts it from its recorded source
  // and options (see holds_trained_run).
  const bool from_checkpoint = req.resume && has_checkpoint(req.out_dir);
  std::string source_dir = req.checkpoint_dir;
  if (req.resume) {
    if (req.sparsity >= 0 || req.block_rows >= 1 || !req.config_file.empty())
      throw std::runtime_error("--resume continues the run as it was started: drop --sparsity/--block-rows/--config");
    cfg = read_run_config(req.out_dir);
    pf = read_prune_file(req.out_dir);
    if (!from_checkpoint) {
      source_dir = pf.source;
      if (req.on_message)
        req.on_message("'" + req.out_dir + "' has no checkpoint yet: starting it again from " + source_dir);
    }
  } else {
    cfg = check_new_derived_run(req.checkpoint_dir, req.out_dir);
    pf.source = fs::absolute(req.checkpoint_dir).lexically_normal().string();
    const json overrides = read_prune_overrides(req.config_file, "bp");
    try {
      if (overrides.contains("bp")) pf.bp = apply_bp_json(pf.bp, overrides.at("bp"));
      if (req.sparsity >= 0) pf.bp.sparsity = req.sparsity;
      if (req.block_rows >= 1) pf.bp.block_rows = req.block_rows;
      validate(pf.bp);
    } catch (const std::invalid_argument& e) {
      throw std::runtime_error(e.what());
    }
    // Layer names are checked here, before anything is written or the data prepared (the
    // schedule, which needs the model, would find them only after both).
    std::set<std::string> prunable;
    for (const auto& s : format::prunable_weights(is_lm(cfg.task) ? format::required_tensors(cfg.lm)
                                                                 : format::required_tensors(cfg.distilbert)))
      prunable.insert(s.name);
    for (const auto& [name, s] : pf.bp.layer_sparsity)
      if (!prunable.count(name))
        throw std::runtime_error("bp.layer_sparsity names '" + name + "', which is not a prunable layer of this model (e.g. " +
                                 *prunable.begin() + ")");
    if (pf.bp.distill.enabled()) pf.bp.distill.teacher = resolve_teacher(pf.bp.distill, req.checkpoint_dir);
    cfg.train = prune_train_defaults(cfg.train, pf.bp);
    if (overrides.contains("train")) cfg = apply_config_json(cfg, json{{"train", overrides.at("train")}});
    cfg.train.steps = pf.bp.total_steps();  // the phases define the length
    if (cfg.train.checkpoint_every % pf.bp.reweight_every != 0)
      throw std::runtime_error("train.checkpoint_every (" + std::to_string(cfg.train.checkpoint_every) +
                               ") must be a multiple of bp.reweight_every (" + std::to_string(pf.bp.reweight_every) +
                               ") so that a resumed run continues exactly");
    fs::create_directories(req.out_dir);
    copy_tokenizer(req.checkpoint_dir, req.out_dir);
  }
  remove_stale_temp_files(req.out_dir);

  if (req.on_message) req.on_message("preparing data for task " + task_name(cfg.task));
  auto task = make_task(cfg, req.out_dir);
  attach_teacher(*task, pf.bp.distill);
  if (!from_checkpoint) {
    load_weights(*task->module(), source_dir + "/model.safetensors");
    write_run_files(cfg, req.out_dir);
    write_prune_file(req.out_dir, pf);
  }
  BpSchedule schedule(*task->module(), pf.bp, req.out_dir + "/masks.safetensors");
  if (req.on_message) {
    char buf[256];
    std::snprintf(buf, sizeof buf, "block pruning to %.0f%% (blocks of %lld rows): %lld groups, lambda %.3g; %lld lasso + %lld fine-tune steps",
                  pf.bp.sparsity * 100, (long long)pf.bp.block_rows, (long long)schedule.groups(), schedule.lambda(),
                  (long long)pf.bp.lasso_steps, (long long)pf.bp.finetune_steps);
    req.on_message(buf);
  }
  LoopResult loop = run_training(*task, cfg, req.out_dir, from_checkpoint, req.on_step, &schedule);

  PruneBpResult r;
  r.out_dir = req.out_dir;
  r.task = task_name(cfg.task);
  r.source_dir = pf.source;
  r.bp = pf.bp;
  r.lambda = schedule.lambda();
  r.groups = schedule.groups();
  r.start_step = loop.start_step;
  r.steps_done = loop.steps_done;
  r.seconds = loop.seconds;
  r.valid = loop.valid;
  r.sparsity_table = schedule.sparsity_table();
  json summary = to_json(r);
  summary["history"] = loop.history;
  write_file_atomic(req.out_dir + "/metrics.json", summary.dump(2));
  return r;
}

}  // namespace rt3::train
