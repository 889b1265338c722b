#include "cli/run_dir.h"

#include <nlohmann/json.hpp>

#include "runtime/format/bundle_adaptation_json.h"

#include <filesystem>
#include <fstream>
#include <map>
#include <set>
#include <stdexcept>

#include "runtime/format/input_file.h"

namespace rt3::cli {
namespace fs = std::filesystem;

format::TokenizerInfo tokenizer_for_run(const std::string& dir_name) {
  const fs::path dir(dir_name);
  format::TokenizerInfo t;
  if (fs::exists(dir / "vocab.txt")) {
    t.type = format::TokenizerType::kWordPiece;
    t.lowercase = true;
    if (fs::exists(dir / "rt3_train.json")) {
      nlohmann::json run =
          nlohmann::json::parse(format::read_input_file((dir / "rt3_train.json").string()), nullptr, /*allow_exceptions=*/false);
      if (run.is_object() && run.contains("train") && run["train"].contains("seq_len"))
        t.max_len = run["train"]["seq_len"].get<int64_t>();
      // Trained on sentence pairs (--text-pair-column): the bundle says so, and rt3 run then
      // expects pairs.
      if (run.is_object() && run.contains("data") && run["data"].is_object() &&
          run["data"].value("text_pair_column", std::string()) != "")
        t.text_pair = true;
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
  const fs::path file = fs::path(dir) / "rt3_prune.json";
  if (!fs::exists(file)) return 0;
  nlohmann::json j = nlohmann::json::parse(format::read_input_file(file.string()), nullptr, /*allow_exceptions=*/false);
  if (!j.is_object()) throw std::runtime_error("'" + dir + "/rt3_prune.json' is not valid JSON");
  if (j.value("method", "") != "bp") return 0;  // e.g. a pattern run: its weights are shared and dense
  if (!j.contains("bp") || !j["bp"].contains("block_rows") || !j["bp"]["block_rows"].is_number_integer())
    throw std::runtime_error("'" + dir + "/rt3_prune.json' is not a valid block-pruning record");
  return j["bp"]["block_rows"].get<int64_t>();
}

namespace {

// A pattern run (rt3 prune pattern) directory: its sets become the bundle's pattern variants,
// on the shared dense weights. Returns false for any other run.
bool add_pattern_variants(const std::string& dir, format::BundleWriter& writer) {
  std::ifstream f(fs::path(dir) / "rt3_prune.json");
  if (!f) return false;
  nlohmann::json j = nlohmann::json::parse(f, nullptr, /*allow_exceptions=*/false);
  if (!j.is_object() || j.value("method", "") != "pattern") return false;
  const auto& pat = j.at("pattern");
  const int64_t tr = pat.at("tile_rows").get<int64_t>(), tc = pat.at("tile_cols").get<int64_t>();
  auto file = format::SafetensorsFile::open(dir + "/variants.safetensors");
  auto weights = format::SafetensorsFile::open(dir + "/model.safetensors");
  const std::string prefix = "rt3.variant.";
  for (const auto& set : j.at("sets")) {
    const std::string name = set.at("name").get<std::string>();
    std::map<std::string, kernels::PatternWeights> layers;
    const std::string head = prefix + name + ".";
    for (const auto& t : file.tensors()) {
      const std::string suffix = ".patterns";
      if (t.name.rfind(head, 0) != 0 || t.name.size() < head.size() + suffix.size() ||
          t.name.compare(t.name.size() - suffix.size(), suffix.size(), suffix) != 0)
        continue;
      const std::string layer = t.name.substr(head.size(), t.name.size() - head.size() - suffix.size());
      const auto& tiles = file.get(head + layer + ".tiles");
      if (t.dtype != format::DType::U8 || tiles.dtype != format::DType::U8 || t.shape.size() != 2 || tiles.shape.size() != 2)
        throw std::runtime_error("'" + dir + "/variants.safetensors': set " + name + " layer " + layer + " is malformed");
      const auto& w = weights.get(layer);
      if (w.shape.size() != 2) throw std::runtime_error("'" + dir + "': pattern layer " + layer + " is not a matrix");
      kernels::PatternWeights p;
      p.out_features = w.shape[0];
      p.in_features = w.shape[1];
      p.tile_rows = tr;
      p.tile_cols = tc;
      p.n_patterns = t.shape[0];
      p.patterns.assign(t.data, t.data + t.nbytes);
      p.tile_pattern.assign(tiles.data, tiles.data + tiles.nbytes);
      layers[layer] = std::move(p);
    }
    if (layers.empty()) throw std::runtime_error("'" + dir + "/variants.safetensors' has no tensors for set " + name);
    writer.add_pattern_variant(name, tr, tc, layers);
  }
  // A search result (rt3 search) also says which set serves each frequency level, and for which device.
  if (j.contains("level_to_variant")) {
    std::map<std::string, std::string> table;
    for (auto it = j["level_to_variant"].begin(); it != j["level_to_variant"].end(); ++it)
      table[it.key()] = it.value().get<std::string>();
    writer.set_level_to_variant(table);
  }
  if (j.contains("device_profile")) writer.set_device_profile_json(j["device_profile"].dump());
  // ... and each set's latency model and accuracy, for the engine's closed loop (docs/adapt.md).
  if (j.contains("adaptation")) {
    std::set<std::string> names = {"base"};
    for (const auto& set : j.at("sets")) names.insert(set.at("name").get<std::string>());
    writer.set_adaptation(format::parse_adaptation(j["adaptation"], names, dir + "/rt3_prune.json"));
  }
  return true;
}

}  // namespace

void export_run(const std::string& dir, const std::string& bundle_path, WeightStorage storage, int64_t block_rows,
                const format::AdaptationInfo* adaptation) {
  auto writer = format::BundleWriter::from_run_dir(dir, tokenizer_for_run(dir));
  const int64_t run_rows = bp_block_rows_of_run(dir);
  const bool patterns = add_pattern_variants(dir, writer);
  if (patterns && storage == WeightStorage::kBlockPruned)
    throw std::runtime_error("'" + dir + "' holds pattern sets on shared dense weights: export it with --weights auto or dense");
  if (storage == WeightStorage::kBlockPruned || (storage == WeightStorage::kAuto && run_rows > 0))
    writer.store_block_pruned(run_rows > 0 ? run_rows : block_rows);
  if (adaptation) writer.set_adaptation(*adaptation);
  writer.write(bundle_path);
}

}  // namespace rt3::cli
