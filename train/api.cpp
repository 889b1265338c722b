// Implementation of the torch-free train/api.h: run directories, configs, tasks and the loop.
#include "train/api.h"

#include <chrono>
#include <filesystem>
#include <stdexcept>

#include "train/checkpoint.h"
#include "train/compute_env.h"
#include "train/data/task_data.h"
#include "train/hf_import.h"
#include "train/prune/pattern_schedule.h"
#include "train/run_config.h"
#include "train/run_files.h"
#include "train/tasks.h"
#include "train/text_encoders.h"
#include "train/trainer.h"

namespace rt3::train {
namespace fs = std::filesystem;
using nlohmann::json;

json to_json(const Metrics& m) {
  json v = json::object();
  for (const auto& [k, x] : m.values) v[k] = x;
  return {{"metrics", v}, {"examples", m.examples}, {"tokens", m.tokens}};
}

json to_json(const TrainResult& r) {
  return {{"out_dir", r.out_dir},       {"task", r.task},
          {"steps_done", r.steps_done}, {"start_step", r.start_step},
          {"final_train_loss", r.final_train_loss}, {"valid", to_json(r.valid)},
          {"seconds", r.seconds},       {"tokens_per_s", r.tokens_per_s},
          {"parameters", r.parameters}};
}

json to_json(const ImportResult& r) {
  return {{"out_dir", r.out_dir}, {"parameters", r.parameters}, {"ignored", r.ignored}, {"initialised", r.initialised}};
}

json to_json(const EvalResult& r) {
  json j = {{"dir", r.dir}, {"task", r.task}, {"split", r.split}, {"seconds", r.seconds}, {"result", to_json(r.metrics)}};
  if (!r.variant.empty()) j["variant"] = r.variant;
  return j;
}

namespace {

std::string join(const std::vector<std::string>& v) {
  std::string s;
  for (const auto& x : v) s += (s.empty() ? "" : ", ") + x;
  return s;
}

// The data a fresh run reads, from the request: the preset's own, or the user's files.
data::DataSpec data_spec_of(const TrainRequest& req, TaskKind task) {
  const bool files = !req.data.empty() || !req.train_file.empty() || !req.valid_file.empty() || !req.test_file.empty();
  const bool columns = req.text_column != "text" || req.label_column != "label" || !req.text_pair_column.empty();
  if (is_preset(task)) {
    if (files || columns)
      throw std::runtime_error("task " + task_name(task) + " reads its shipped corpus: --data, --train, --valid, --test and "
                               "the column flags are for --task classify or lm");
    return data::preset_spec(task_name(task));
  }
  if (is_lm(task) && columns) throw std::runtime_error("--text-column, --text-pair-column and --label-column are for --task classify");
  if (req.data.empty() == req.train_file.empty())
    throw std::runtime_error("--task " + task_name(task) + " needs its data: --data DIR|FILE, or --train FILE [--valid FILE] [--test FILE]");
  data::DataSpec d;
  d.text_column = req.text_column;
  d.text_pair_column = req.text_pair_column;
  d.label_column = req.label_column;
  if (!req.data.empty()) {
    if (!req.valid_file.empty() || !req.test_file.empty())
      throw std::runtime_error("--valid and --test go with --train, not with --data");
    return is_lm(task) ? data::resolve_lm_data(req.data, d) : data::resolve_class_data(req.data, d);
  }
  auto absolute = [](const std::string& p) { return p.empty() ? p : fs::absolute(p).lexically_normal().string(); };
  d.train = absolute(req.train_file);
  d.valid = absolute(req.valid_file);
  d.test = absolute(req.test_file);
  return d;
}

int64_t count_parameters(torch::nn::Module& m) {
  int64_t n = 0;
  for (const auto& p : m.parameters()) n += p.numel();
  return n;
}

}  // namespace

TrainResult train(const TrainRequest& req) {
  if (req.out_dir.empty()) throw std::runtime_error("--out is required");
  init_compute(req.threads);
  RunConfig cfg;
  // --resume of a run stopped before its first checkpoint restarts it from step 0 (see
  // holds_trained_run); from_checkpoint says whether there is a step to continue from.
  const bool from_checkpoint = req.resume && has_checkpoint(req.out_dir);
  std::string init_dir = req.init_dir;
  if (req.resume) {
    cfg = read_run_config(req.out_dir);
    if (!from_checkpoint) {
      if (init_dir.empty() && fs::exists(fs::path(req.out_dir) / kInitFile))
        init_dir = read_json_file(req.out_dir + "/" + kInitFile).value("init", "");
      if (req.on_message)
        req.on_message("'" + req.out_dir + "' has no checkpoint yet: starting it again from step 0 with its recorded config");
    }
  } else {
    if (holds_trained_run(req.out_dir))
      throw std::runtime_error("'" + req.out_dir + "' already holds a run: use --resume to continue it, or another --out");
    cfg = default_config(parse_task(req.task));
    cfg.data = data_spec_of(req, cfg.task);
    if (!req.tokenizer.empty()) {
      if (!is_lm(cfg.task)) throw std::runtime_error("--tokenizer takes a SentencePiece model: use it with --task lm or sotu");
      // The model's vocabulary is the tokenizer's; a --config may still say otherwise (and fail).
      cfg.lm.vocab_size = cfg.train.spm_vocab_size = SpmEncoder(req.tokenizer).vocab_size();
    }
    if (!init_dir.empty()) {
      if (is_lm(cfg.task)) throw std::runtime_error("--init takes a Hugging Face DistilBERT: use it with --task spam, wordnet or classify");
      if (!fs::exists(fs::path(req.init_dir) / "vocab.txt"))
        throw std::runtime_error("'" + req.init_dir + "' has no vocab.txt");
      // Architecture from the checkpoint; labels from the task (the head is re-initialised if they differ).
      cfg.distilbert = read_hf_config(req.init_dir);
      cfg.distilbert.labels.clear();
      cfg.train.seq_len = std::min(cfg.train.seq_len, cfg.distilbert.max_position_embeddings);
    }
    if (!req.config_file.empty()) cfg = load_config_file(cfg, req.config_file);
  }
  if (req.steps > 0) cfg.train.steps = req.steps;
  const bool init = !init_dir.empty() && !from_checkpoint;
  // Data first: a bad file fails here, before the run directory exists.
  if (req.on_message) req.on_message("preparing data and tokenizer for task " + task_name(cfg.task));
  TaskData task_data = load_task_data(cfg);
  // A run directory this call creates is removed again if the start fails before the run files
  // are written (a tokenizer that cannot be trained, too few tokens), so nothing half-made stays.
  std::error_code ec;
  const bool created = !fs::exists(req.out_dir, ec);
  struct RemoveUnlessKept {
    std::string dir;
    bool keep = false;
    ~RemoveUnlessKept() {
      std::error_code e;
      if (!keep && !dir.empty()) fs::remove_all(dir, e);
    }
  } cleanup{created ? req.out_dir : std::string()};
  fs::create_directories(req.out_dir);
  remove_stale_temp_files(req.out_dir);
  if (!init && !req.resume) fs::remove(fs::path(req.out_dir) / kInitFile, ec);  // left by an earlier, abandoned --init start
  if (!req.tokenizer.empty() && !req.resume)
    format::copy_file_atomic(req.tokenizer, (fs::path(req.out_dir) / "tokenizer.model").string());
  if (init) {
    format::copy_file_atomic((fs::path(init_dir) / "vocab.txt").string(), (fs::path(req.out_dir) / "vocab.txt").string());
    // So that a restart (--resume before the first checkpoint) starts from the same weights.
    write_file_atomic(req.out_dir + "/" + kInitFile, json{{"init", fs::absolute(init_dir).string()}}.dump(2));
  }

  torch::manual_seed(cfg.train.seed);  // the model's initial weights depend on it
  auto task = make_task(cfg, req.out_dir, std::move(task_data));
  if (init) {
    auto impl = std::dynamic_pointer_cast<nn::DistilBertImpl>(task->module());
    nn::DistilBert model(impl);
    HfLoadReport rep = load_hf_weights(model, init_dir + "/model.safetensors", /*allow_new_head=*/true);
    if (req.on_message) {
      if (!rep.ignored.empty()) req.on_message("warning: ignored " + std::to_string(rep.ignored.size()) +
                                               " checkpoint tensors: " + join(rep.ignored));
      if (!rep.initialised.empty()) req.on_message("new classification head for task " + task_name(cfg.task) + ": " +
                                                   join(rep.initialised));
    }
  }
  write_run_files(cfg, req.out_dir);  // on --resume too: records a changed --steps
  cleanup.keep = true;  // from here on the directory is a run that --resume accepts

  TrainResult out;
  out.out_dir = req.out_dir;
  out.task = task_name(cfg.task);
  out.parameters = count_parameters(*task->module());
  if (req.on_message)
    req.on_message("model: " + std::to_string(out.parameters) + " parameters; " + std::to_string(cfg.train.steps) +
                   " steps of " + std::to_string(task->tokens_per_step()) + " tokens");
  LoopResult loop = run_training(*task, cfg, req.out_dir, from_checkpoint, req.on_step);
  out.start_step = loop.start_step;
  out.steps_done = loop.steps_done;
  out.final_train_loss = loop.final_train_loss;
  out.valid = loop.valid;
  out.seconds = loop.seconds;
  out.tokens_per_s = loop.tokens_per_s;
  json summary = to_json(out);
  summary["history"] = loop.history;
  write_file_atomic(req.out_dir + "/metrics.json", summary.dump(2));
  return out;
}

ImportResult import_hf(const ImportRequest& req) {
  if (req.out_dir.empty()) throw std::runtime_error("--out is required");
  models::DistilBertConfig cfg = read_hf_config(req.hf_dir);
  const fs::path vocab = fs::path(req.hf_dir) / "vocab.txt";
  if (!fs::exists(vocab)) throw std::runtime_error("'" + req.hf_dir + "' has no vocab.txt");
  nn::DistilBert model(cfg);
  HfLoadReport rep = load_hf_weights(model, req.hf_dir + "/model.safetensors", /*allow_new_head=*/true);
  fs::create_directories(req.out_dir);
  format::copy_file_atomic(vocab.string(), (fs::path(req.out_dir) / "vocab.txt").string());
  write_file_atomic(req.out_dir + "/config.json", models::to_json(cfg).dump(2));
  save_weights(*model, req.out_dir + "/model.safetensors");
  ImportResult r;
  r.out_dir = req.out_dir;
  r.parameters = count_parameters(*model);
  r.ignored = rep.ignored;
  r.initialised = rep.initialised;
  json info = {{"source", fs::absolute(req.hf_dir).string()}, {"ignored", rep.ignored}, {"initialised", rep.initialised}};
  write_file_atomic(req.out_dir + "/rt3_import.json", info.dump(2));
  if (req.on_message) {
    if (!rep.ignored.empty()) req.on_message("warning: ignored " + std::to_string(rep.ignored.size()) + " tensors: " + join(rep.ignored));
    if (!rep.initialised.empty())
      req.on_message("warning: checkpoint has no classification head; initialised randomly: " + join(rep.initialised) +
                     " (fine-tune with rt3 train --init)");
  }
  return r;
}

std::vector<EvalResult> evaluate_sets(const EvalRequest& req, const std::vector<std::string>& variants) {
  init_compute(req.threads);
  RunConfig cfg;
  if (!fs::exists(fs::path(req.dir) / kRunFile) && !req.task.empty() && fs::exists(fs::path(req.dir) / "config.json")) {
    // An imported Hugging Face model: architecture from its config, labels from the task.
    cfg = default_config(parse_task(req.task));
    if (is_lm(cfg.task) || !is_preset(cfg.task))
      throw std::runtime_error("an imported DistilBERT can only be evaluated on spam or wordnet (for your own data: "
                               "rt3 train --task classify --init DIR --data ...)");
    cfg.distilbert = read_hf_config(req.dir);
    cfg.distilbert.labels.clear();
    cfg.train.seq_len = std::min(cfg.train.seq_len, cfg.distilbert.max_position_embeddings);
  } else {
    cfg = read_run_config(req.dir);
  }
  const Split split = data::parse_split(req.split);
  std::string weights = req.dir + "/model.safetensors";
  if (!fs::exists(weights)) weights = req.dir + "/checkpoint/model.safetensors";
  if (!fs::exists(weights)) throw std::runtime_error("'" + req.dir + "' has no trained weights (model.safetensors)");
  auto task = make_task(cfg, req.dir);  // the data and tokenizer: the costly part, done once
  std::vector<EvalResult> results;
  for (const std::string& variant : variants) {
    load_weights(*task->module(), weights);  // each set starts from the shared weights
    if (!variant.empty()) apply_variant(*task->module(), req.dir, variant);
    auto t0 = std::chrono::steady_clock::now();
    EvalResult r;
    r.variant = variant;
    r.dir = req.dir;
    r.task = task_name(cfg.task);
    r.split = split_name(split);
    r.metrics = task->evaluate(split, req.max_examples);
    r.seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
    results.push_back(std::move(r));
  }
  return results;
}

EvalResult evaluate(const EvalRequest& req) { return evaluate_sets(req, {req.variant}).front(); }

}  // namespace rt3::train
