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

WeightStorage parse_weight_storage(const std::string& s) {
  if (s == "auto") return WeightStorage::kAuto;
  if (s == "dense") return WeightStorage::kDense;
  if (s == "bp") return WeightStorage::kBlockPruned;
  throw std::runtime_error("unknown weight storage '" + s + "' (auto | dense | bp)");
}

int64_t bp_block_rows_of_run(const std::string& dir) {
  std::ifstream f(fs::path(dir) / "rt3_prune.json");
  if (!f) return 0;
  nlohmann::json j = nlohmann::json::parse(f, nullptr, /*allow_exceptions=*/false);
  if (!j.is_object() || j.value("method", "") != "bp" || !j.contains("bp") || !j["bp"].contains("block_rows") ||
      !j["bp"]["block_rows"].is_number_integer())
    throw std::runtime_error("'" + dir + "/rt3_prune.json' is not a valid block-pruning record");
  return j["bp"]["block_rows"].get<int64_t>();
}

void export_run(const std::string& dir, const std::string& bundle_path, WeightStorage storage, int64_t block_rows) {
  auto writer = format::BundleWriter::from_run_dir(dir, tokenizer_for_run(dir));
  const int64_t run_rows = bp_block_rows_of_run(dir);
  if (storage == WeightStorage::kBlockPruned || (storage == WeightStorage::kAuto && run_rows > 0))
    writer.store_block_pruned(run_rows > 0 ? run_rows : block_rows);
  writer.write(bundle_path);
}

}  // namespace rt3::cli
