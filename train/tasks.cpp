#include "train/tasks.h"

#include <algorithm>
#include <filesystem>
#include <numeric>
#include <stdexcept>

#include "runtime/format/atomic_file.h"
#include "train/checkpoint.h"
#include "train/data/paths.h"
#include "train/data/task_data.h"
#include "train/models/distilbert.h"
#include "train/models/transformer_lm.h"
#include "train/prune/distill_loss.h"
#include "train/text_encoders.h"

namespace rt3::train {
namespace fs = std::filesystem;

namespace {

// splitmix64: a tiny, well-mixed, platform-independent PRNG; batches are a pure function of it.
uint64_t mix(uint64_t x) {
  x += 0x9e3779b97f4a7c15ULL;
  x = (x ^ (x >> 30)) * 0xbf58476d1ce4e5b9ULL;
  x = (x ^ (x >> 27)) * 0x94d049bb133111ebULL;
  return x ^ (x >> 31);
}
uint64_t draw(uint64_t seed, uint64_t a, uint64_t b) { return mix(mix(mix(seed) ^ a) ^ b); }

// Keeps the first n items (splits are already in a fixed shuffled order); n <= 0 keeps all.
template <typename T>
void limit(std::vector<T>& v, int64_t n) {
  if (n > 0 && static_cast<int64_t>(v.size()) > n) v.resize(n);
}

// What a data error says about where the data came from: the file, or the preset's name.
std::string data_source(const RunConfig& cfg) {
  return cfg.data.preset.empty() ? cfg.data.train : "task " + cfg.data.preset;
}

// A distillation teacher: the weights of `weights_file`, frozen, in eval mode (no dropout).
void freeze_teacher(torch::nn::Module& teacher, const std::string& weights_file) {
  load_weights(teacher, weights_file);
  teacher.eval();
  for (auto& p : teacher.parameters()) p.set_requires_grad(false);
}

// A task's distillation settings and the teacher's logits for the batch of one step, computed
// once: the pattern stage runs one forward per set over the same batch.
struct Distiller {
  double alpha = 0, temperature = 1;
  int64_t step = -1;
  torch::Tensor logits;

  // distillation_loss of the student against the teacher's logits for `step` (forward() computes
  // them when the step is new).
  template <class Forward>
  torch::Tensor loss(int64_t s, const torch::Tensor& student_logits, const torch::Tensor& label_loss, Forward&& forward) {
    if (s != step || !logits.defined()) {
      torch::NoGradGuard no_grad;
      logits = forward();
      step = s;
    }
    return distillation_loss(student_logits, logits, label_loss, alpha, temperature);
  }
};

// ---------------------------------------------------------------- language modelling (sotu, lm)
class LmTask : public Task {
 public:
  LmTask(const RunConfig& cfg, const std::string& dir, data::LmCorpus corpus) : cfg_(cfg) {
    const std::string spm_path = dir + "/tokenizer.model";
    if (!fs::exists(spm_path)) train_lm_tokenizer(corpus.train, cfg.train.spm_vocab_size, spm_path);
    SpmEncoder enc(spm_path);
    if (enc.vocab_size() != cfg.lm.vocab_size)
      throw std::runtime_error("tokenizer at " + spm_path + " has " + std::to_string(enc.vocab_size()) +
                               " pieces but the model expects " + std::to_string(cfg.lm.vocab_size));
    streams_[0] = enc.encode_documents(corpus.train);
    streams_[1] = enc.encode_documents(corpus.valid);
    streams_[2] = enc.encode_documents(corpus.test);
    const int64_t T = cfg.train.seq_len;
    // Training windows are drawn from the stream; fewer tokens than one batch of them means
    // the "epochs" are all the same few windows.
    if (static_cast<int64_t>(streams_[0].size()) < std::max(cfg.train.batch_size * T + 1, T + 2))
      throw std::runtime_error(data_source(cfg) + ": the training split has " + std::to_string(streams_[0].size()) +
                               " tokens, fewer than one batch (train.batch_size x train.seq_len = " +
                               std::to_string(cfg.train.batch_size * T) + "): add text or lower them with --config");
    for (int s = 1; s < 3; ++s)
      if (static_cast<int64_t>(streams_[s].size()) < T + 2)
        throw std::runtime_error(data_source(cfg) + ": the " + data::split_name(static_cast<Split>(s)) + " split has " +
                                 std::to_string(streams_[s].size()) + " tokens, fewer than one window of train.seq_len " +
                                 std::to_string(T) + " + 2");
    model_ = nn::TransformerLM(cfg.lm);
  }

  std::shared_ptr<torch::nn::Module> module() override { return model_.ptr(); }
  int64_t tokens_per_step() const override { return cfg_.train.batch_size * cfg_.train.seq_len; }

  torch::Tensor train_loss(int64_t step) override {
    const auto& s = streams_[0];
    const int64_t B = cfg_.train.batch_size, T = cfg_.train.seq_len;
    const uint64_t span = s.size() - T - 1;
    auto window = torch::empty({B, T + 1}, torch::kLong);
    auto w = window.accessor<int64_t, 2>();
    for (int64_t b = 0; b < B; ++b) {
      const uint64_t start = draw(cfg_.train.seed, step, b) % span;
      for (int64_t t = 0; t <= T; ++t) w[b][t] = s[start + t];
    }
    auto [loss, logits] = loss_of(window);
    if (!teacher_) return loss;
    return distiller_.loss(step, logits, loss, [&] { return teacher_->forward(window.slice(1, 0, -1)); });
  }

  void set_teacher(const std::string& weights_file, double alpha, double temperature) override {
    teacher_ = nn::TransformerLM(cfg_.lm);
    freeze_teacher(*teacher_.ptr(), weights_file);
    distiller_ = {alpha, temperature, -1, {}};
  }

  Metrics evaluate(Split split, int64_t max_examples) override {
    torch::NoGradGuard no_grad;
    model_->eval();
    const auto& s = streams_[static_cast<int>(split)];
    const int64_t T = cfg_.train.seq_len, B = cfg_.train.batch_size;
    // Non-overlapping windows from the start of the split: the same windows every time.
    int64_t n_windows = (static_cast<int64_t>(s.size()) - 1) / T;
    if (max_examples > 0) n_windows = std::min(n_windows, max_examples);
    double loss_sum = 0, correct = 0;
    int64_t tokens = 0;
    for (int64_t w0 = 0; w0 < n_windows; w0 += B) {
      const int64_t nb = std::min(B, n_windows - w0);
      auto window = torch::empty({nb, T + 1}, torch::kLong);
      auto w = window.accessor<int64_t, 2>();
      for (int64_t b = 0; b < nb; ++b)
        for (int64_t t = 0; t <= T; ++t) w[b][t] = s[(w0 + b) * T + t];
      auto [loss, logits] = loss_of(window);
      loss_sum += loss.item<double>() * nb * T;
      auto target = window.slice(1, 1);
      correct += (logits.argmax(-1) == target).sum().item<double>();
      tokens += nb * T;
    }
    model_->train();
    Metrics m;
    m.examples = n_windows;
    m.tokens = tokens;
    const double mean = tokens ? loss_sum / tokens : 0.0;
    m.values = {{"loss", mean}, {"perplexity", std::exp(mean)}, {"accuracy", tokens ? correct / tokens : 0.0}};
    return m;
  }

 private:
  std::pair<torch::Tensor, torch::Tensor> loss_of(const torch::Tensor& window) {
    auto input = window.slice(1, 0, -1), target = window.slice(1, 1);
    auto logits = model_->forward(input);
    auto loss = torch::nn::functional::cross_entropy(logits.reshape({-1, logits.size(-1)}), target.reshape({-1}));
    return {loss, logits};
  }

  RunConfig cfg_;
  std::vector<int32_t> streams_[3];
  nn::TransformerLM model_{nullptr};
  nn::TransformerLM teacher_{nullptr};
  Distiller distiller_;
};

// ---------------------------------------------------------------- classification (spam, wordnet, classify)
struct EncodedExample {
  // [CLS] ... [SEP], or [CLS] a [SEP] b [SEP] for pairs, truncated to seq_len. No token type ids:
  // DistilBERT has no segment embeddings (HF's DistilBertTokenizer returns only input_ids and
  // attention_mask), the [SEP] between the texts is all that tells them apart.
  std::vector<int32_t> ids;
  int label;
};

class ClassifierTask : public Task {
 public:
  // cfg.distilbert.labels are the corpus' (load_task_data).
  ClassifierTask(const RunConfig& cfg, const std::string& dir, const data::ClassCorpus& corpus) {
    cfg_ = cfg;
    const std::string vocab = dir + "/vocab.txt";
    if (!fs::exists(vocab)) {
      data::require_file(data::data_dir() + "/bert-uncased-vocab.txt", "BERT uncased vocab");
      format::copy_file_atomic(data::data_dir() + "/bert-uncased-vocab.txt", vocab);  // never a truncated vocab
    }
    WordPieceEncoder enc(vocab, cfg.train.seq_len);
    if (enc.vocab_size() > cfg.distilbert.vocab_size)
      throw std::runtime_error("vocab.txt has " + std::to_string(enc.vocab_size()) +
                               " tokens but the model's vocab_size is " + std::to_string(cfg.distilbert.vocab_size));
    pad_id_ = enc.pad_id();
    const std::vector<data::LabeledExample>* parts[3] = {&corpus.train, &corpus.valid, &corpus.test};
    const bool pairs = !cfg.data.text_pair_column.empty();
    for (int i = 0; i < 3; ++i)
      for (const auto& ex : *parts[i])
        splits_[i].push_back({pairs ? enc.encode_pair(ex.text, ex.text_pair) : enc.encode(ex.text), ex.label});
    if (splits_[0].empty()) throw std::runtime_error("task " + task_name(cfg.task) + " has no training examples");
    model_ = nn::DistilBert(cfg.distilbert);
  }

  std::shared_ptr<torch::nn::Module> module() override { return model_.ptr(); }
  int64_t tokens_per_step() const override { return cfg_.train.batch_size * cfg_.train.seq_len; }

  torch::Tensor train_loss(int64_t step) override {
    const auto& ex = splits_[0];
    const uint64_t n = ex.size();
    std::vector<const EncodedExample*> batch;
    for (int64_t b = 0; b < cfg_.train.batch_size; ++b) {
      // Epoch-wise shuffling without state: example i of epoch e is perm_e(i).
      const uint64_t i = static_cast<uint64_t>(step) * cfg_.train.batch_size + b;
      batch.push_back(&ex[permuted(i / n, i % n, n)]);
    }
    const BatchTensors t = tensors(batch);
    const torch::Tensor logits = model_->forward(t.ids, t.mask);
    const torch::Tensor loss = torch::nn::functional::cross_entropy(logits, t.labels);
    if (!teacher_) return loss;
    return distiller_.loss(step, logits, loss, [&] { return teacher_->forward(t.ids, t.mask); });
  }

  void set_teacher(const std::string& weights_file, double alpha, double temperature) override {
    teacher_ = nn::DistilBert(cfg_.distilbert);
    freeze_teacher(*teacher_.ptr(), weights_file);
    distiller_ = {alpha, temperature, -1, {}};
  }

  Metrics evaluate(Split split, int64_t max_examples) override {
    torch::NoGradGuard no_grad;
    model_->eval();
    const auto& ex = splits_[static_cast<int>(split)];
    int64_t n = static_cast<int64_t>(ex.size());
    if (max_examples > 0) n = std::min(n, max_examples);
    const int64_t C = cfg_.distilbert.num_labels();
    std::vector<int64_t> tp(C, 0), fp(C, 0), fn(C, 0);
    double loss_sum = 0;
    int64_t correct = 0, tokens = 0;
    for (int64_t i0 = 0; i0 < n; i0 += cfg_.train.batch_size) {
      std::vector<const EncodedExample*> batch;
      for (int64_t i = i0; i < std::min(n, i0 + cfg_.train.batch_size); ++i) {
        batch.push_back(&ex[i]);
        tokens += static_cast<int64_t>(ex[i].ids.size());
      }
      auto [logits, labels] = forward(batch);
      loss_sum += torch::nn::functional::cross_entropy(logits, labels).item<double>() * batch.size();
      auto pred = logits.argmax(-1);
      auto p = pred.accessor<int64_t, 1>();
      auto l = labels.accessor<int64_t, 1>();
      for (int64_t b = 0; b < pred.size(0); ++b) {
        if (p[b] == l[b]) {
          ++correct;
          ++tp[l[b]];
        } else {
          ++fp[p[b]];
          ++fn[l[b]];
        }
      }
    }
    model_->train();
    // Macro-F1 over the classes present in the evaluated slice (in truth or in predictions).
    double f1_sum = 0;
    int classes = 0;
    for (int64_t c = 0; c < C; ++c) {
      if (tp[c] + fp[c] + fn[c] == 0) continue;
      ++classes;
      f1_sum += 2.0 * tp[c] / (2.0 * tp[c] + fp[c] + fn[c]);
    }
    Metrics m;
    m.examples = n;
    m.tokens = tokens;
    m.values = {{"loss", n ? loss_sum / n : 0.0},
                {"accuracy", n ? double(correct) / n : 0.0},
                {"macro_f1", classes ? f1_sum / classes : 0.0}};
    return m;
  }

 private:
  // Fisher-Yates permutation of [0, n) for one epoch, cached for the current epoch only.
  uint64_t permuted(uint64_t epoch, uint64_t pos, uint64_t n) {
    if (perm_epoch_ != static_cast<int64_t>(epoch) || perm_.size() != n) {
      perm_.resize(n);
      std::iota(perm_.begin(), perm_.end(), 0);
      for (uint64_t i = n - 1; i > 0; --i) std::swap(perm_[i], perm_[draw(cfg_.train.seed, epoch, i) % (i + 1)]);
      perm_epoch_ = static_cast<int64_t>(epoch);
    }
    return perm_[pos];
  }

  struct BatchTensors {
    torch::Tensor ids, mask, labels;
  };
  BatchTensors tensors(const std::vector<const EncodedExample*>& batch) {
    size_t T = 1;
    for (auto* e : batch) T = std::max(T, e->ids.size());
    const int64_t B = static_cast<int64_t>(batch.size());
    auto ids = torch::full({B, static_cast<int64_t>(T)}, pad_id_, torch::kLong);
    auto mask = torch::zeros({B, static_cast<int64_t>(T)}, torch::kLong);
    auto labels = torch::empty({B}, torch::kLong);
    auto id_a = ids.accessor<int64_t, 2>();
    auto m_a = mask.accessor<int64_t, 2>();
    for (int64_t b = 0; b < B; ++b) {
      for (size_t t = 0; t < batch[b]->ids.size(); ++t) {
        id_a[b][t] = batch[b]->ids[t];
        m_a[b][t] = 1;
      }
      labels[b] = batch[b]->label;
    }
    return {ids, mask, labels};
  }

  std::pair<torch::Tensor, torch::Tensor> forward(const std::vector<const EncodedExample*>& batch) {
    const BatchTensors t = tensors(batch);
    return {model_->forward(t.ids, t.mask), t.labels};
  }

  RunConfig cfg_;
  int64_t pad_id_ = 0;
  std::vector<EncodedExample> splits_[3];
  std::vector<uint64_t> perm_;
  int64_t perm_epoch_ = -1;
  nn::DistilBert model_{nullptr};
  nn::DistilBert teacher_{nullptr};
  Distiller distiller_;
};

}  // namespace

TaskData load_task_data(RunConfig& cfg) {
  TaskData d;
  if (is_lm(cfg.task)) {
    d.lm = data::load_lm_corpus(cfg.data);
    limit(d.lm.train, cfg.train.data_limit);
    limit(d.lm.valid, cfg.train.data_limit);
    limit(d.lm.test, cfg.train.data_limit);
    return d;  // the batch check needs tokens: LmTask
  }
  d.cls = data::load_class_corpus(cfg.data);
  // Checked here, before the run directory exists: a pair needs [CLS] a [SEP] b [SEP].
  if (!cfg.data.text_pair_column.empty() && cfg.train.seq_len < 3)
    throw std::runtime_error("--text-pair-column: train.seq_len " + std::to_string(cfg.train.seq_len) +
                             " leaves no room for the three special tokens of a pair ([CLS] a [SEP] b [SEP])");
  limit(d.cls.train, cfg.train.data_limit);
  limit(d.cls.valid, cfg.train.data_limit);
  limit(d.cls.test, cfg.train.data_limit);
  if (static_cast<int64_t>(d.cls.train.size()) < cfg.train.batch_size)
    throw std::runtime_error(data_source(cfg) + ": " + std::to_string(d.cls.train.size()) +
                             " training examples, fewer than one batch (train.batch_size " +
                             std::to_string(cfg.train.batch_size) + "): add data or lower it with --config");
  if (cfg.distilbert.labels.empty()) cfg.distilbert.labels = d.cls.label_names;
  if (cfg.distilbert.labels != d.cls.label_names)
    throw std::runtime_error("model labels (" + std::to_string(cfg.distilbert.num_labels()) + ") differ from " +
                             data_source(cfg) + "'s labels (" + std::to_string(d.cls.label_names.size()) + ")");
  return d;
}

std::unique_ptr<Task> make_task(const RunConfig& cfg, const std::string& dir, TaskData data) {
  if (is_lm(cfg.task)) return std::make_unique<LmTask>(cfg, dir, std::move(data.lm));
  return std::make_unique<ClassifierTask>(cfg, dir, data.cls);
}

std::unique_ptr<Task> make_task(RunConfig& cfg, const std::string& dir) {
  TaskData data = load_task_data(cfg);
  return make_task(cfg, dir, std::move(data));
}

}  // namespace rt3::train
