#include "tests/reference/libspm_train.h"

#include <sentencepiece_trainer.h>

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <random>
#include <stdexcept>
#include <unordered_map>

#include <unistd.h>

// libsentencepiece exports its log threshold but does not declare it in a public header.
namespace sentencepiece::logging {
int GetMinLogLevel();
void SetMinLogLevel(int v);
}  // namespace sentencepiece::logging

namespace rt3 {
namespace {

// Feeds sentences to the trainer without copying them into a file first.
class VectorIterator : public sentencepiece::SentenceIterator {
 public:
  explicit VectorIterator(const std::vector<const std::string*>& sentences)
      : sentences_(sentences) {}
  bool done() const override { return index_ >= sentences_.size(); }
  void Next() override { ++index_; }
  const std::string& value() const override { return *sentences_[index_]; }
  sentencepiece::util::Status status() const override { return {}; }

 private:
  const std::vector<const std::string*>& sentences_;
  size_t index_ = 0;
};

// The library's log level is process-wide; restore it so we do not change other users' logging.
class QuietLog {
 public:
  explicit QuietLog(bool quiet) : saved_(sentencepiece::logging::GetMinLogLevel()) {
    if (quiet) sentencepiece::logging::SetMinLogLevel(2);  // errors only
  }
  ~QuietLog() { sentencepiece::logging::SetMinLogLevel(saved_); }
  QuietLog(const QuietLog&) = delete;
  QuietLog& operator=(const QuietLog&) = delete;

 private:
  int saved_;
};

// Deterministic subsample (by our seed, keeping input order) instead of libsentencepiece's own
// sampler, which draws from a process-wide random seed.
std::vector<const std::string*> pick_sentences(const std::vector<std::string>& sentences,
                                               const SpmTrainOptions& options) {
  std::vector<size_t> order;
  for (size_t i = 0; i < sentences.size(); ++i)
    if (!sentences[i].empty()) order.push_back(i);
  if (options.max_sentences > 0 && order.size() > static_cast<size_t>(options.max_sentences)) {
    std::mt19937_64 rng(options.seed);
    std::shuffle(order.begin(), order.end(), rng);
    order.resize(static_cast<size_t>(options.max_sentences));
    std::sort(order.begin(), order.end());
  }
  std::vector<const std::string*> out;
  out.reserve(order.size());
  for (size_t i : order) out.push_back(&sentences[i]);
  return out;
}

}  // namespace

std::string train_sentencepiece(const std::vector<std::string>& sentences,
                                const SpmTrainOptions& options) {
  if (options.vocab_size <= 0) throw std::invalid_argument("spm_train: vocab_size must be > 0");
  if (options.num_threads <= 0) throw std::invalid_argument("spm_train: num_threads must be > 0");
  const std::vector<const std::string*> picked = pick_sentences(sentences, options);
  if (picked.empty()) throw std::runtime_error("spm_train: no non-empty training sentences");

  const std::unordered_map<std::string, std::string> args = {
      {"model_type", options.model_type == SpmTrainOptions::ModelType::kBpe ? "bpe" : "unigram"},
      {"vocab_size", std::to_string(options.vocab_size)},
      {"character_coverage", std::to_string(options.character_coverage)},
      {"num_threads", std::to_string(options.num_threads)},
      {"input_sentence_size", "0"},  // we already sampled (see pick_sentences)
      {"shuffle_input_sentence", "false"},
      {"max_sentence_length", std::to_string(options.max_sentence_length)},
      {"byte_fallback", options.byte_fallback ? "true" : "false"},
      {"hard_vocab_limit", options.hard_vocab_limit ? "true" : "false"},
      {"normalization_rule_name", options.normalization},
      {"unk_id", std::to_string(options.unk_id)},
      {"bos_id", std::to_string(options.bos_id)},
      {"eos_id", std::to_string(options.eos_id)},
      {"pad_id", std::to_string(options.pad_id)},
  };
  VectorIterator it(picked);
  std::string model;
  sentencepiece::util::Status status;
  {
    QuietLog quiet(options.quiet);
    status = sentencepiece::SentencePieceTrainer::Train(args, &it, &model);
  }
  if (!status.ok())
    throw std::runtime_error("spm_train: training failed: " + status.ToString());
  if (model.empty()) throw std::runtime_error("spm_train: trainer returned an empty model");
  return model;
}

void train_sentencepiece_to_file(const std::vector<std::string>& sentences,
                                 const std::string& model_path, const SpmTrainOptions& options) {
  const std::string model = train_sentencepiece(sentences, options);
  namespace fs = std::filesystem;
  const fs::path target(model_path);
  // Unique per process and call, in the target's folder so the rename stays on one filesystem.
  std::random_device rd;
  const fs::path tmp = target.string() + ".tmp." + std::to_string(::getpid()) + "." +
                       std::to_string(rd());
  {
    std::ofstream out(tmp, std::ios::binary | std::ios::trunc);
    if (!out)
      throw std::runtime_error("spm_train: cannot write '" + tmp.string() +
                               "': " + std::strerror(errno));
    out.write(model.data(), static_cast<std::streamsize>(model.size()));
    out.close();
    if (!out) {
      std::error_code ignored;
      fs::remove(tmp, ignored);
      throw std::runtime_error("spm_train: error writing '" + tmp.string() + "'");
    }
  }
  std::error_code ec;
  fs::rename(tmp, target, ec);
  if (ec) {
    std::error_code ignored;
    fs::remove(tmp, ignored);
    throw std::runtime_error("spm_train: cannot move model to '" + model_path +
                             "': " + ec.message());
  }
}

void train_sentencepiece_from_text_file(const std::string& text_path,
                                        const std::string& model_path,
                                        const SpmTrainOptions& options) {
  std::ifstream in(text_path, std::ios::binary);
  if (!in)
    throw std::runtime_error("spm_train: cannot open text file '" + text_path +
                             "': " + std::strerror(errno));
  std::vector<std::string> lines;
  for (std::string line; std::getline(in, line);) {
    if (!line.empty() && line.back() == '\r') line.pop_back();
    if (!line.empty()) lines.push_back(std::move(line));
  }
  if (in.bad()) throw std::runtime_error("spm_train: error reading '" + text_path + "'");
  train_sentencepiece_to_file(lines, model_path, options);
}

}  // namespace rt3
