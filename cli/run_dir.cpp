#include "cli/run_dir.h"

#include <nlohmann/json.hpp>

#include <filesystem>
#include <fstream>
#include <stdexcept>

namespace rt3::cli {
namespace fs = std::filesystem;

format::TokenizerInfo tokenizer_for_run(const std::string& dir_name) {
  const fs::path dir(dir_name);
  format::TokenizerInfo t;
  if (fs::exists(dir / "vocab.txt")) {
    t.type = format::TokenizerType::kWordPiece;
    t.lowercase = true;
    std::ifstream f(dir / "rt3_train.json");
    if (f) {
      nlohmann::json run = nlohmann::json::parse(f, nullptr, /*allow_exceptions=*/false);
      if (run.is_object() && run.contains("train") && run["train"].contains("seq_len"))
        t.max_len = run["train"]["seq_len"].get<int64_t>();
    }
  } else if (fs::exists(dir / "tokenizer.model")) {
    t.type = format::TokenizerType::kSentencePiece;
  } else {
    throw std::runtime_error("'" + dir_name + "' has no tokenizer (vocab.txt or tokenizer.model)");
  }
  return t;
}

void export_run(const std::string& dir, const std::string& bundle_path) {
  format::BundleWriter::from_run_dir(dir, tokenizer_for_run(dir)).write(bundle_path);
}

}  // namespace rt3::cli
