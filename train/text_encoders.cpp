#include "train/text_encoders.h"

#include <fcntl.h>
#include <spawn.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <stdexcept>

#include "runtime/tokenizer/spm_model.h"

#include "runtime/tokenizer/wordpiece.h"

namespace rt3::train {
namespace fs = std::filesystem;

namespace {

// Runs a program (looked up in PATH) with arguments, no shell; its output goes to log_path.
// Returns the exit status, or throws if it could not be started.
int run_program(const std::vector<std::string>& argv, const std::string& log_path) {
  posix_spawn_file_actions_t actions;
  posix_spawn_file_actions_init(&actions);
  posix_spawn_file_actions_addopen(&actions, STDOUT_FILENO, log_path.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0644);
  posix_spawn_file_actions_adddup2(&actions, STDOUT_FILENO, STDERR_FILENO);
  std::vector<char*> args;
  for (const auto& a : argv) args.push_back(const_cast<char*>(a.c_str()));
  args.push_back(nullptr);
  pid_t pid = 0;
  const int rc = posix_spawnp(&pid, args[0], &actions, nullptr, args.data(), environ);
  posix_spawn_file_actions_destroy(&actions);
  if (rc != 0)
    throw std::runtime_error("cannot run '" + argv[0] + "': " + std::strerror(rc) +
                             " (it comes with Debian's sentencepiece package: run scripts/setup.sh)");
  int status = 0;
  while (waitpid(pid, &status, 0) < 0)
    if (errno != EINTR) throw std::runtime_error("waitpid failed for " + argv[0]);
  return WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
}

}  // namespace

std::vector<std::string> split_sentences(const std::string& text, size_t max_bytes) {
  std::vector<std::string> out;
  std::string cur;
  auto flush = [&] {
    const auto b = cur.find_first_not_of(" \t\r\n");
    if (b != std::string::npos) out.push_back(cur.substr(b, cur.find_last_not_of(" \t\r\n") - b + 1));
    cur.clear();
  };
  for (size_t i = 0; i < text.size(); ++i) {
    const char c = text[i];
    if (c == '\n') {
      flush();
      continue;
    }
    cur += c;
    const bool end_mark = c == '.' || c == '?' || c == '!';
    const bool next_space = i + 1 < text.size() && (text[i + 1] == ' ' || text[i + 1] == '\n');
    // A very long run without sentence marks is cut at a space so it stays one "sentence".
    if ((end_mark && next_space) || (cur.size() >= max_bytes && c == ' ')) flush();
  }
  flush();
  return out;
}

void train_lm_tokenizer(const std::vector<data::Document>& train_docs, int64_t vocab_size, const std::string& out_path) {
  // SentencePiece learns from sentences of the training speeches (each speech is one line).
  // Training runs Debian's spm_train in a child process: libsentencepiece_train carries its own
  // protobuf, which cannot share a process with LibTorch's. The runtime encodes with our own,
  // protobuf-free SpmModel, tested id-for-id against libsentencepiece.
  const std::string dir = fs::path(out_path).parent_path().string();
  const std::string input = out_path + ".train-text.tmp";
  const std::string prefix = out_path + ".spm.tmp";
  size_t lines = 0;
  {
    std::ofstream f(input, std::ios::binary | std::ios::trunc);
    if (!f) throw std::runtime_error("cannot write '" + input + "'");
    for (const auto& d : train_docs)
      for (const auto& sentence : split_sentences(d.text)) {
        f << sentence << '\n';
        ++lines;
      }
    f.close();
    if (!f) {  // a disk full mid-way would train the tokenizer on part of the text
      fs::remove(input);
      throw std::runtime_error("writing '" + input + "' failed (disk full?)");
    }
  }
  if (lines == 0) throw std::runtime_error("cannot train the LM tokenizer: the training split is empty");
  const std::string log = (dir.empty() ? std::string(".") : dir) + "/tokenizer-train.log";
  // Every option spelled out (spm_train defaults except vocab size, coverage, threads and a
  // sentence limit above split_sentences' cap, so no sentence is skipped).
  const int rc = run_program({"spm_train", "--input=" + input, "--model_prefix=" + prefix,
                              "--vocab_size=" + std::to_string(vocab_size), "--model_type=unigram",
                              "--normalization_rule_name=nmt_nfkc", "--character_coverage=0.9999",
                              "--byte_fallback=false", "--unk_id=0", "--bos_id=1", "--eos_id=2", "--pad_id=-1",
                              "--max_sentence_length=8192", "--num_threads=2", "--minloglevel=1"},
                             log);
  fs::remove(input);
  fs::remove(prefix + ".vocab");
  if (rc != 0 || !fs::exists(prefix + ".model")) {
    fs::remove(prefix + ".model");
    // spm_train's own reason is its last log line; the usual one for a small corpus is a
    // vocabulary larger than the text supports, which the user fixes in --config.
    std::string reason;
    {
      std::ifstream in(log);
      for (std::string line; std::getline(in, line);)  // its closing "Program terminated ..." says nothing
        if (line.find_first_not_of(" \t\r") != std::string::npos && line.rfind("Program terminated", 0) != 0) reason = line;
    }
    if (const auto at = reason.rfind("] "); at != std::string::npos) reason = reason.substr(at + 2);  // source locations
    if (reason.size() > 200) reason.resize(200);
    const bool vocab = reason.find("Vocabulary size") != std::string::npos;
    throw std::runtime_error("spm_train failed (exit " + std::to_string(rc) + ")" + (reason.empty() ? "" : ": " + reason) +
                             (vocab ? " -- lower train.spm_vocab_size (now " + std::to_string(vocab_size) + ") with --config" : "") +
                             (reason.empty() ? "; see " + log : std::string()));
  }
  fs::rename(prefix + ".model", out_path);
}

SpmEncoder::SpmEncoder(const std::string& model_path)
    : spm_(std::make_unique<SpmModel>(SpmModel::from_file(model_path))) {}
SpmEncoder::~SpmEncoder() = default;

int64_t SpmEncoder::vocab_size() const { return static_cast<int64_t>(spm_->vocab_size()); }

std::vector<int32_t> SpmEncoder::encode_documents(const std::vector<data::Document>& docs) const {
  std::vector<int32_t> out;
  const int32_t eos = spm_->eos_id();
  for (const auto& d : docs) {
    // Sentence by sentence, exactly as the tokenizer was trained.
    for (const auto& sentence : split_sentences(d.text)) {
      auto ids = spm_->encode(sentence);
      out.insert(out.end(), ids.begin(), ids.end());
    }
    if (eos >= 0) out.push_back(eos);
  }
  return out;
}

WordPieceEncoder::WordPieceEncoder(const std::string& vocab_path, int64_t max_len)
    : wp_(std::make_unique<WordPieceTokenizer>(WordPieceTokenizer::from_vocab_file(vocab_path))), max_len_(max_len) {}
WordPieceEncoder::~WordPieceEncoder() = default;

int64_t WordPieceEncoder::vocab_size() const { return static_cast<int64_t>(wp_->vocab_size()); }
int32_t WordPieceEncoder::pad_id() const { return wp_->pad_id(); }

std::vector<int32_t> WordPieceEncoder::encode(const std::string& text) const {
  return wp_->encode(text, static_cast<size_t>(max_len_), /*pad_to_max=*/false).ids;
}

std::vector<int32_t> WordPieceEncoder::encode_pair(const std::string& a, const std::string& b) const {
  return wp_->encode_pair(a, b, static_cast<size_t>(max_len_), /*pad_to_max=*/false).ids;
}

}  // namespace rt3::train
