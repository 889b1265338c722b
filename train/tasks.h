#pragma once
// A task = data + tokenizer + model + loss + metrics. The trainer only sees this interface.
#include <torch/torch.h>

#include <cstdint>
#include <map>
#include <memory>
#include <string>

#include "train/api.h"
#include "train/data/corpus.h"
#include "train/data/split.h"
#include "train/run_config.h"

namespace rt3::train {

// The corpus loaders' split enum; the tasks index their split arrays with it (train = 0).
using data::Split;

class Task {
 public:
  virtual ~Task() = default;
  virtual std::shared_ptr<torch::nn::Module> module() = 0;
  // Loss of the training batch for global step `step`. The batch depends only on (seed, step),
  // never on hidden iterator state, so a resumed run sees exactly the batches it would have.
  virtual torch::Tensor train_loss(int64_t step) = 0;
  // Distillation (docs/pruning.md "Distillation"): from now on train_loss mixes the label loss with
  // the KL divergence from a teacher of the same architecture, loaded from `weights_file` (a
  // model.safetensors): (1 - alpha) x label loss + alpha x T^2 x KL. The teacher is frozen in eval
  // mode and runs once per step (the pattern stage's passes over the same batch share it).
  virtual void set_teacher(const std::string& weights_file, double alpha, double temperature) = 0;
  virtual int64_t tokens_per_step() const = 0;
  // Evaluation in eval mode without grad; max_examples <= 0 means the whole split.
  virtual Metrics evaluate(Split split, int64_t max_examples) = 0;
};

// A task's examples, read and checked before anything is written: train() loads them before
// it creates the run directory, so bad data leaves nothing behind.
struct TaskData {
  data::LmCorpus lm;      // when is_lm(cfg.task)
  data::ClassCorpus cls;  // otherwise
};

// Reads cfg.data (a preset or the user's files, through data/task_data.h), keeps the first
// train.data_limit items of each split, and checks what the model needs: at least one batch of
// training examples, and for classifiers the labels, which it fills into cfg.distilbert.labels
// on a fresh run (no labels yet) and otherwise requires to be the model's.
TaskData load_task_data(RunConfig& cfg);

// Builds the task for a run directory. The tokenizer lives in `dir` (tokenizer.model for the LM,
// vocab.txt for classifiers); when absent it is created (SentencePiece trained on the train
// split, or the BERT uncased vocab copied from the data cache).
std::unique_ptr<Task> make_task(const RunConfig& cfg, const std::string& dir, TaskData data);
// load_task_data, then the above.
std::unique_ptr<Task> make_task(RunConfig& cfg, const std::string& dir);

}  // namespace rt3::train
