#pragma once
// What a training run is: task, model config, optimiser schedule, data sizes. Torch-free so the
// CLI can validate a --config file before anything heavy starts. Stored in <out>/rt3_train.json.
#include <cstdint>
#include <string>

#include <nlohmann/json.hpp>

#include "runtime/model/config.h"
#include "train/data/data_spec.h"

namespace rt3::train {

// classify / lm: the user's own files (RunConfig::data). sotu / spam / wordnet: presets, i.e.
// the same tasks on a shipped corpus.
enum class TaskKind { kSotu, kSpam, kWordnet, kClassify, kLm };
TaskKind parse_task(const std::string& name);  // throws "unknown task 'x' (sotu|spam|wordnet|classify|lm)"
std::string task_name(TaskKind t);
inline bool is_lm(TaskKind t) { return t == TaskKind::kSotu || t == TaskKind::kLm; }
inline bool is_preset(TaskKind t) { return t != TaskKind::kClassify && t != TaskKind::kLm; }

struct TrainOptions {
  int64_t steps = 800;
  int64_t batch_size = 16;
  int64_t seq_len = 128;         // LM: tokens per window. Classifiers: max tokens incl. [CLS]/[SEP]
  double lr = 1e-3;
  double min_lr_ratio = 0.1;     // cosine decay ends at lr * min_lr_ratio
  int64_t warmup_steps = 100;
  double weight_decay = 0.01;
  double grad_clip = 1.0;
  int64_t eval_every = 200;
  int64_t eval_max_examples = 256;  // LM: windows; classifiers: examples (periodic validation)
  int64_t checkpoint_every = 200;
  uint64_t seed = 1234;
  int64_t spm_vocab_size = 8000;    // LM tokenizer (SentencePiece trained on the train split)
  int64_t data_limit = 0;           // > 0: keep only the first N documents/examples of each split
                                    // (tests and tiny demo budgets; 0 = everything)
};

struct RunConfig {
  TaskKind task = TaskKind::kSotu;
  data::DataSpec data;  // a preset's name, or the user's files; set by default_config for presets
  TrainOptions train;
  models::LmConfig lm;                // used when is_lm(task)
  models::DistilBertConfig distilbert;  // used otherwise
};

// Defaults per task: small enough to train on 2 CPU cores in minutes (see docs/training.md).
RunConfig default_config(TaskKind task);

// Applies a user --config JSON ({"train": {...}, "model": {...}}) on top of `base`. Unknown
// keys are errors, so a typo does not silently train the default.
RunConfig apply_config_json(RunConfig base, const nlohmann::json& j);
RunConfig load_config_file(RunConfig base, const std::string& path);

nlohmann::json to_json(const TrainOptions& o);
nlohmann::json to_json(const RunConfig& c);
RunConfig run_config_from_json(const nlohmann::json& j);

}  // namespace rt3::train
