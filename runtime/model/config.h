#pragma once
// Model configurations, shared by training, the exporter and the runtime (torch-free).
#include <cstdint>
#include <string>
#include <vector>

#include <nlohmann/json_fwd.hpp>

namespace rt3::models {

// Upper bounds on config values (docs/limits.md "Limits"): far above any model this project
// runs, low enough that nothing derived from a config alone (tensor lists, label names, shape
// products) can become a huge allocation or overflow int64.
inline constexpr int64_t kMaxConfigLayers = 1024;
inline constexpr int64_t kMaxConfigVocab = int64_t{1} << 24;
inline constexpr int64_t kMaxConfigWidth = int64_t{1} << 18;  // d_model, d_ff, dim, hidden_dim, n_heads
inline constexpr int64_t kMaxConfigPositions = int64_t{1} << 20;
inline constexpr int64_t kMaxConfigLabels = int64_t{1} << 16;

// Causal Transformer LM (pre-LayerNorm blocks, learned positions, optional tied output).
struct LmConfig {
  int64_t vocab_size = 8000;
  int64_t d_model = 256;
  int64_t n_heads = 4;
  int64_t n_layers = 4;
  int64_t d_ff = 1024;
  int64_t max_len = 256;
  double dropout = 0.1;
  bool tie_weights = true;
  double layer_norm_eps = 1e-5;
};

// Hugging Face DistilBERT, with HF's config.json key names.
struct DistilBertConfig {
  int64_t vocab_size = 30522;
  int64_t dim = 768;
  int64_t n_layers = 6;
  int64_t n_heads = 12;
  int64_t hidden_dim = 3072;
  int64_t max_position_embeddings = 512;
  double dropout = 0.1;
  double attention_dropout = 0.1;
  double seq_classif_dropout = 0.2;
  std::string activation = "gelu";
  bool sinusoidal_pos_embds = false;
  int64_t pad_token_id = 0;
  std::vector<std::string> labels;  // id2label in id order; its size is num_labels
  int64_t num_labels() const { return static_cast<int64_t>(labels.size()); }
};

// JSON (de)serialisation. from_json validates values and throws std::runtime_error naming the
// offending key, so a bad config gives a one-line error rather than a crash deep in torch.
nlohmann::json to_json(const LmConfig& c);
nlohmann::json to_json(const DistilBertConfig& c);  // HF config.json layout
LmConfig lm_config_from_json(const nlohmann::json& j, LmConfig base = {});
DistilBertConfig distilbert_config_from_json(const nlohmann::json& j, DistilBertConfig base = {});

}  // namespace rt3::models
