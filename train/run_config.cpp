#include "train/run_config.h"

#include <cmath>
#include <fstream>
#include <set>
#include <stdexcept>
#include <type_traits>

#include "runtime/format/input_file.h"

namespace rt3::train {
namespace {

using nlohmann::json;

void check_known_keys(const json& j, const std::set<std::string>& known, const std::string& where) {
  for (auto it = j.begin(); it != j.end(); ++it)
    if (!known.count(it.key())) throw std::runtime_error("config: unknown key '" + it.key() + "' in " + where);
}

template <typename T>
void read(const json& j, const char* key, T& out) {
  if (!j.contains(key)) return;
  // A float cast to an integer is undefined for 1e300: integer keys must hold integers.
  if constexpr (std::is_integral_v<T> && !std::is_same_v<T, bool>)
    if (!j.at(key).is_number_integer())
      throw std::runtime_error(std::string("config: key 'train.") + key + "' must be an integer, got " + j.at(key).dump());
  try {
    out = j.at(key).get<T>();
  } catch (const json::exception&) {
    throw std::runtime_error(std::string("config: key 'train.") + key + "' has the wrong type (" + j.at(key).dump() + ")");
  }
}

void validate(const TrainOptions& o) {
  auto positive = [](const char* k, double v) {
    if (!(v > 0 && std::isfinite(v))) throw std::runtime_error(std::string("config: 'train.") + k + "' must be > 0 and finite");
  };
  positive("steps", double(o.steps));
  positive("batch_size", double(o.batch_size));
  positive("seq_len", double(o.seq_len));
  positive("lr", o.lr);
  positive("eval_every", double(o.eval_every));
  positive("eval_max_examples", double(o.eval_max_examples));
  positive("checkpoint_every", double(o.checkpoint_every));
  positive("spm_vocab_size", double(o.spm_vocab_size));
  if (o.data_limit < 0) throw std::runtime_error("config: 'train.data_limit' must be >= 0 (0 = all data)");
  if (o.warmup_steps < 0) throw std::runtime_error("config: 'train.warmup_steps' must be >= 0");
  if (!(o.weight_decay >= 0 && std::isfinite(o.weight_decay)))
    throw std::runtime_error("config: 'train.weight_decay' must be a finite number >= 0");
  if (!(o.grad_clip >= 0 && std::isfinite(o.grad_clip))) throw std::runtime_error("config: 'train.grad_clip' must be >= 0 (0 = off)");
  if (!(o.min_lr_ratio >= 0 && o.min_lr_ratio <= 1)) throw std::runtime_error("config: 'train.min_lr_ratio' must be in [0, 1]");
}

TrainOptions train_from_json(const json& j, TrainOptions o) {
  if (!j.is_object()) throw std::runtime_error("config: 'train' must be an object");
  check_known_keys(j, {"steps", "batch_size", "seq_len", "lr", "min_lr_ratio", "warmup_steps", "weight_decay",
                       "grad_clip", "eval_every", "eval_max_examples", "checkpoint_every", "seed", "spm_vocab_size", "data_limit"},
                   "'train'");
  read(j, "steps", o.steps);
  read(j, "batch_size", o.batch_size);
  read(j, "seq_len", o.seq_len);
  read(j, "lr", o.lr);
  read(j, "min_lr_ratio", o.min_lr_ratio);
  read(j, "warmup_steps", o.warmup_steps);
  read(j, "weight_decay", o.weight_decay);
  read(j, "grad_clip", o.grad_clip);
  read(j, "eval_every", o.eval_every);
  read(j, "eval_max_examples", o.eval_max_examples);
  read(j, "checkpoint_every", o.checkpoint_every);
  read(j, "seed", o.seed);
  read(j, "spm_vocab_size", o.spm_vocab_size);
  read(j, "data_limit", o.data_limit);
  validate(o);
  return o;
}

}  // namespace

TaskKind parse_task(const std::string& name) {
  if (name == "sotu") return TaskKind::kSotu;
  if (name == "spam") return TaskKind::kSpam;
  if (name == "wordnet") return TaskKind::kWordnet;
  if (name == "classify") return TaskKind::kClassify;
  if (name == "lm") return TaskKind::kLm;
  throw std::runtime_error("unknown task '" + name + "' (expected sotu, spam, wordnet, classify or lm)");
}

std::string task_name(TaskKind t) {
  switch (t) {
    case TaskKind::kSotu: return "sotu";
    case TaskKind::kSpam: return "spam";
    case TaskKind::kWordnet: return "wordnet";
    case TaskKind::kClassify: return "classify";
    case TaskKind::kLm: return "lm";
  }
  return "?";
}

RunConfig default_config(TaskKind task) {
  RunConfig c;
  c.task = task;
  if (is_preset(task)) c.data.preset = task_name(task);
  if (is_lm(task)) {
    c.lm.vocab_size = c.train.spm_vocab_size;
    c.lm.max_len = c.train.seq_len;
    return c;
  }
  // A small DistilBERT (same architecture as HF's, fewer/narrower layers) on the BERT vocab.
  c.distilbert.dim = 256;
  c.distilbert.n_layers = 4;
  c.distilbert.n_heads = 4;
  c.distilbert.hidden_dim = 1024;
  c.distilbert.max_position_embeddings = 512;
  c.train.lr = 5e-4;
  c.train.batch_size = 32;
  // A user's classification task starts from spam's budget: texts of unknown length, 128 tokens.
  c.train.steps = task == TaskKind::kWordnet ? 1500 : 600;
  c.train.seq_len = task == TaskKind::kWordnet ? 64 : 128;  // glosses are short; emails are truncated
  c.train.eval_max_examples = 1024;
  return c;
}

RunConfig apply_config_json(RunConfig c, const json& j) {
  if (!j.is_object()) throw std::runtime_error("config: top level must be a JSON object with 'train' and/or 'model'");
  check_known_keys(j, {"train", "model", "task"}, "the top level");
  if (j.contains("task")) {
    if (!j["task"].is_string()) throw std::runtime_error("config: 'task' must be a string");
    if (parse_task(j["task"].get<std::string>()) != c.task)
      throw std::runtime_error("config: 'task' is '" + j["task"].get<std::string>() + "' but --task is '" + task_name(c.task) + "'");
  }
  const int64_t old_vocab = c.train.spm_vocab_size, old_seq = c.train.seq_len;
  if (j.contains("train")) c.train = train_from_json(j["train"], c.train);
  if (is_lm(c.task)) {
    // The LM's vocab and context follow the tokenizer and window unless the model section says otherwise.
    if (c.lm.vocab_size == old_vocab) c.lm.vocab_size = c.train.spm_vocab_size;
    if (c.lm.max_len == old_seq) c.lm.max_len = c.train.seq_len;
    if (j.contains("model")) c.lm = models::lm_config_from_json(j["model"], c.lm);
    if (c.lm.vocab_size != c.train.spm_vocab_size)
      throw std::runtime_error("config: model.vocab_size must equal train.spm_vocab_size");
    if (c.train.seq_len > c.lm.max_len) throw std::runtime_error("config: train.seq_len exceeds model.max_len");
  } else {
    if (j.contains("model")) c.distilbert = models::distilbert_config_from_json(j["model"], c.distilbert);
    if (c.train.seq_len > c.distilbert.max_position_embeddings)
      throw std::runtime_error("config: train.seq_len exceeds model.max_position_embeddings");
  }
  return c;
}

RunConfig load_config_file(RunConfig base, const std::string& path) {
  const std::string text = format::read_input_file(path);
  json j;
  try {
    j = json::parse(text);
  } catch (const json::exception& e) {  // also out_of_range: a number like 1e999 overflows
    throw std::runtime_error("config: '" + path + "' is not valid JSON: " + e.what());
  }
  return apply_config_json(std::move(base), j);
}

json to_json(const TrainOptions& o) {
  return {{"steps", o.steps},         {"batch_size", o.batch_size},
          {"seq_len", o.seq_len},     {"lr", o.lr},
          {"min_lr_ratio", o.min_lr_ratio}, {"warmup_steps", o.warmup_steps},
          {"weight_decay", o.weight_decay}, {"grad_clip", o.grad_clip},
          {"eval_every", o.eval_every}, {"eval_max_examples", o.eval_max_examples},
          {"checkpoint_every", o.checkpoint_every}, {"seed", o.seed},
          {"spm_vocab_size", o.spm_vocab_size}, {"data_limit", o.data_limit}};
}

json to_json(const RunConfig& c) {
  json model = is_lm(c.task) ? models::to_json(c.lm) : models::to_json(c.distilbert);
  json j = {{"task", task_name(c.task)}, {"train", to_json(c.train)}, {"model", model}};
  if (!is_preset(c.task)) j["data"] = data::to_json(c.data);  // a preset's data is its name
  return j;
}

RunConfig run_config_from_json(const json& j) {
  if (!j.is_object() || !j.contains("task") || !j["task"].is_string())
    throw std::runtime_error("run config: missing 'task'");
  RunConfig c = default_config(parse_task(j["task"].get<std::string>()));
  if (j.contains("train")) c.train = train_from_json(j["train"], c.train);
  if (j.contains("data")) {
    if (is_preset(c.task)) throw std::runtime_error("run config: task '" + task_name(c.task) + "' is a preset and takes no 'data'");
    c.data = data::data_spec_from_json(j["data"]);
  } else if (!is_preset(c.task)) {
    throw std::runtime_error("run config: task '" + task_name(c.task) + "' needs a 'data' section (its files)");
  }
  if (j.contains("model")) {
    json m = j["model"];
    m.erase("model_type");
    m.erase("architectures");
    m.erase("label2id");
    if (is_lm(c.task)) c.lm = models::lm_config_from_json(m, c.lm);
    else c.distilbert = models::distilbert_config_from_json(m, c.distilbert);
  }
  return c;
}

}  // namespace rt3::train
