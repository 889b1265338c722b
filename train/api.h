#pragma once
// The narrow, torch-free interface the CLI uses to drive training. Everything behind it may
// include torch; nothing in front of it does.
#include <cstdint>
#include <functional>
#include <map>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

namespace rt3::train {

struct Metrics {
  std::map<std::string, double> values;  // LM: loss, perplexity, accuracy. Cls: loss, accuracy, macro_f1
  int64_t examples = 0;                  // windows (LM) or examples (classifiers) evaluated
  int64_t tokens = 0;                    // predicted tokens (LM) or input tokens (classifiers)
};
nlohmann::json to_json(const Metrics& m);

struct StepReport {
  int64_t step = 0;  // steps completed so far (1-based after the first step)
  int64_t steps = 0;  // total planned
  double loss = 0, lr = 0, tokens_per_s = 0, elapsed_s = 0, eta_s = 0;
  bool evaluated = false;  // `eval` holds fresh validation metrics
  Metrics eval;
  bool checkpointed = false;
};
using StepCallback = std::function<void(const StepReport&)>;

struct TrainRequest {
  std::string task;         // sotu | spam | wordnet | classify | lm (ignored with resume: taken from the run dir)
  std::string config_file;  // optional JSON overrides
  // The user's data, for tasks classify and lm (docs/data.md "Bring your own data"): --data, or
  // --train with optional --valid / --test; the column names of classification tables.
  std::string data, train_file, valid_file, test_file;
  std::string text_column = "text", text_pair_column, label_column = "label";
  std::string tokenizer;    // lm: an existing SentencePiece model instead of training one
  std::string out_dir;
  bool resume = false;      // continue the run in out_dir from its last checkpoint
  std::string init_dir;     // optional Hugging Face DistilBERT directory to start from
  int64_t steps = -1;       // override train.steps
  int threads = 2;
  StepCallback on_step;
  std::function<void(const std::string&)> on_message;  // one-line notices (warnings, stages)
};

struct TrainResult {
  std::string out_dir, task;
  int64_t steps_done = 0;
  int64_t start_step = 0;  // > 0 when resumed
  double final_train_loss = 0;
  Metrics valid;
  double seconds = 0, tokens_per_s = 0;
  int64_t parameters = 0;
};
nlohmann::json to_json(const TrainResult& r);

TrainResult train(const TrainRequest& req);

struct EvalRequest {
  std::string dir;
  std::string task;  // only for directories without rt3_train.json (an imported HF model)
  std::string split = "test";
  int64_t max_examples = 0;  // 0 = whole split
  int threads = 2;
  std::string variant;       // pattern run directory: evaluate this pattern set (rt3 prune pattern)
};
struct EvalResult {
  std::string dir, task, split, variant;
  Metrics metrics;
  double seconds = 0;
};
nlohmann::json to_json(const EvalResult& r);
EvalResult evaluate(const EvalRequest& req);
// The same for several sets of one pattern run ("" = its shared weights without a set), in
// order, preparing the data and tokenizer once (req.variant is ignored).
std::vector<EvalResult> evaluate_sets(const EvalRequest& req, const std::vector<std::string>& variants);

struct ImportRequest {
  std::string hf_dir;   // model.safetensors + config.json + vocab.txt
  std::string out_dir;  // an rt3 run directory that `rt3 eval`/`rt3 train --init` accept
  std::function<void(const std::string&)> on_message;
};
struct ImportResult {
  std::string out_dir;
  int64_t parameters = 0;
  std::vector<std::string> ignored;      // checkpoint tensors with no counterpart (e.g. vocab_projector)
  std::vector<std::string> initialised;  // head tensors the checkpoint lacks (base/MLM checkpoints)
};
nlohmann::json to_json(const ImportResult& r);
ImportResult import_hf(const ImportRequest& req);

}  // namespace rt3::train
