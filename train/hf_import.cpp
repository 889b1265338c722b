#include "train/hf_import.h"

#include <filesystem>
#include <fstream>
#include <set>
#include <stdexcept>

#include <nlohmann/json.hpp>

#include "runtime/format/input_file.h"
#include "runtime/format/safetensors.h"

namespace rt3::train {
namespace fs = std::filesystem;

models::DistilBertConfig read_hf_config(const std::string& dir) {
  const fs::path p = fs::path(dir) / "config.json";
  if (!fs::exists(p)) throw std::runtime_error("'" + dir + "' has no config.json (expected a Hugging Face model directory)");
  const std::string text = format::read_input_file(p.string());
  nlohmann::json j;
  try {
    j = nlohmann::json::parse(text);
  } catch (const nlohmann::json::exception& e) {  // also out_of_range: a number like 1e999 overflows
    throw std::runtime_error("'" + p.string() + "' is not valid JSON: " + e.what());
  }
  if (!j.contains("model_type") || j["model_type"] != "distilbert")
    throw std::runtime_error("'" + p.string() + "' is not a DistilBERT config (model_type " +
                             (j.contains("model_type") ? j["model_type"].dump() : std::string("missing")) + ")");
  models::DistilBertConfig c = models::distilbert_config_from_json(j);
  if (c.labels.empty()) c.labels = {"LABEL_0", "LABEL_1"};  // HF's default num_labels = 2
  return c;
}

HfLoadReport load_hf_weights(nn::DistilBert& model, const std::string& path, bool allow_new_head) {
  if (!fs::exists(path)) throw std::runtime_error("checkpoint '" + path + "' not found");
  auto file = format::SafetensorsFile::open(path);
  // Index checkpoint names as our names: a bare DistilBertModel has no "distilbert." prefix.
  auto params = model->named_parameters();
  std::map<std::string, const format::TensorView*> by_ours;
  HfLoadReport report;
  for (const auto& t : file.tensors()) {
    std::string ours = t.name;
    if (!params.contains(ours) && params.contains("distilbert." + ours)) ours = "distilbert." + ours;
    if (params.contains(ours)) by_ours[ours] = &t;
    else report.ignored.push_back(t.name);
  }
  auto is_head = [](const std::string& n) { return n.rfind("pre_classifier.", 0) == 0 || n.rfind("classifier.", 0) == 0; };
  torch::NoGradGuard no_grad;
  for (auto& p : params) {
    const std::string& name = p.key();
    auto it = by_ours.find(name);
    const auto want = p.value().sizes().vec();
    if (it == by_ours.end() || (is_head(name) && it->second->shape != want)) {
      if (allow_new_head && is_head(name)) {
        report.initialised.push_back(name);
        continue;
      }
      if (it == by_ours.end()) throw std::runtime_error("checkpoint '" + path + "' lacks tensor '" + name + "'");
    }
    const auto* t = it->second;
    if (t->shape != want) {
      std::string got, exp;
      for (auto d : t->shape) got += (got.empty() ? "" : "x") + std::to_string(d);
      for (auto d : want) exp += (exp.empty() ? "" : "x") + std::to_string(d);
      throw std::runtime_error("checkpoint tensor '" + t->name + "' has shape [" + got + "], the config implies [" + exp + "]");
    }
    std::vector<float> v = file.to_floats(*t);
    p.value().copy_(torch::from_blob(v.data(), p.value().sizes(), torch::kFloat32));
  }
  return report;
}

}  // namespace rt3::train
