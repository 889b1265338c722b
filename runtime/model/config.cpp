#include "runtime/model/config.h"

#include <nlohmann/json.hpp>
#include <stdexcept>
#include <type_traits>

namespace rt3::models {
namespace {

using nlohmann::json;

template <typename T>
void read_key(const json& j, const char* key, T& out) {
  if (!j.contains(key)) return;
  // nlohmann converts a float to an integer with a plain cast, undefined for 1e300: integer keys
  // must hold integers (found by tests/fuzz/fuzz_bundle_metadata.cpp).
  if constexpr (std::is_integral_v<T> && !std::is_same_v<T, bool>)
    if (!j.at(key).is_number_integer())
      throw std::runtime_error(std::string("config: key '") + key + "' must be an integer, got " + j.at(key).dump());
  try {
    out = j.at(key).get<T>();
  } catch (const json::exception&) {
    throw std::runtime_error(std::string("config: key '") + key + "' has the wrong type (" +
                             j.at(key).dump() + ")");
  }
}

void require_in(const char* key, int64_t v, int64_t max) {
  if (v <= 0 || v > max)
    throw std::runtime_error(std::string("config: '") + key + "' must be in [1, " + std::to_string(max) + "], got " +
                             std::to_string(v));
}

void require_prob(const char* key, double v) {
  if (!(v >= 0.0 && v < 1.0)) throw std::runtime_error(std::string("config: '") + key + "' must be in [0, 1), got " + std::to_string(v));
}

}  // namespace

json to_json(const LmConfig& c) {
  return {{"model_type", "transformer_lm"}, {"vocab_size", c.vocab_size}, {"d_model", c.d_model},
          {"n_heads", c.n_heads},  {"n_layers", c.n_layers}, {"d_ff", c.d_ff},
          {"max_len", c.max_len},  {"dropout", c.dropout},   {"tie_weights", c.tie_weights},
          {"layer_norm_eps", c.layer_norm_eps}};
}

LmConfig lm_config_from_json(const json& j, LmConfig c) {
  if (!j.is_object()) throw std::runtime_error("config: model section must be a JSON object");
  read_key(j, "vocab_size", c.vocab_size);
  read_key(j, "d_model", c.d_model);
  read_key(j, "n_heads", c.n_heads);
  read_key(j, "n_layers", c.n_layers);
  read_key(j, "d_ff", c.d_ff);
  read_key(j, "max_len", c.max_len);
  read_key(j, "dropout", c.dropout);
  read_key(j, "tie_weights", c.tie_weights);
  read_key(j, "layer_norm_eps", c.layer_norm_eps);
  require_in("vocab_size", c.vocab_size, kMaxConfigVocab);
  require_in("d_model", c.d_model, kMaxConfigWidth);
  require_in("n_heads", c.n_heads, kMaxConfigWidth);
  require_in("n_layers", c.n_layers, kMaxConfigLayers);
  require_in("d_ff", c.d_ff, kMaxConfigWidth);
  require_in("max_len", c.max_len, kMaxConfigPositions);
  require_prob("dropout", c.dropout);
  // eps <= 0 divides by zero on a constant row; NaN/Inf poisons every output.
  if (!(c.layer_norm_eps > 0.0 && c.layer_norm_eps <= 1.0))
    throw std::runtime_error("config: 'layer_norm_eps' must be in (0, 1], got " + std::to_string(c.layer_norm_eps));
  if (c.d_model % c.n_heads != 0)
    throw std::runtime_error("config: d_model (" + std::to_string(c.d_model) + ") must be divisible by n_heads (" +
                             std::to_string(c.n_heads) + ")");
  return c;
}

json to_json(const DistilBertConfig& c) {
  json id2label = json::object(), label2id = json::object();
  for (size_t i = 0; i < c.labels.size(); ++i) {
    id2label[std::to_string(i)] = c.labels[i];
    label2id[c.labels[i]] = i;
  }
  return {{"model_type", "distilbert"},
          {"architectures", {"DistilBertForSequenceClassification"}},
          {"vocab_size", c.vocab_size},
          {"dim", c.dim},
          {"n_layers", c.n_layers},
          {"n_heads", c.n_heads},
          {"hidden_dim", c.hidden_dim},
          {"max_position_embeddings", c.max_position_embeddings},
          {"dropout", c.dropout},
          {"attention_dropout", c.attention_dropout},
          {"seq_classif_dropout", c.seq_classif_dropout},
          {"activation", c.activation},
          {"sinusoidal_pos_embds", c.sinusoidal_pos_embds},
          {"pad_token_id", c.pad_token_id},
          {"id2label", id2label},
          {"label2id", label2id}};
}

DistilBertConfig distilbert_config_from_json(const json& j, DistilBertConfig c) {
  if (!j.is_object()) throw std::runtime_error("config: model section must be a JSON object");
  if (j.contains("model_type") && j["model_type"].is_string() && j["model_type"] != "distilbert")
    throw std::runtime_error("config: model_type is '" + j["model_type"].get<std::string>() +
                             "', expected 'distilbert'");
  read_key(j, "vocab_size", c.vocab_size);
  read_key(j, "dim", c.dim);
  read_key(j, "n_layers", c.n_layers);
  read_key(j, "n_heads", c.n_heads);
  read_key(j, "hidden_dim", c.hidden_dim);
  read_key(j, "max_position_embeddings", c.max_position_embeddings);
  read_key(j, "dropout", c.dropout);
  read_key(j, "attention_dropout", c.attention_dropout);
  read_key(j, "seq_classif_dropout", c.seq_classif_dropout);
  read_key(j, "activation", c.activation);
  read_key(j, "sinusoidal_pos_embds", c.sinusoidal_pos_embds);
  read_key(j, "pad_token_id", c.pad_token_id);
  if (j.contains("id2label")) {
    const json& m = j["id2label"];
    if (!m.is_object()) throw std::runtime_error("config: 'id2label' must be an object");
    std::vector<std::string> labels(m.size());
    for (auto it = m.begin(); it != m.end(); ++it) {
      size_t id = 0;
      try {
        id = std::stoul(it.key());
      } catch (...) {
        throw std::runtime_error("config: id2label key '" + it.key() + "' is not an integer");
      }
      if (id >= labels.size() || !it.value().is_string())
        throw std::runtime_error("config: id2label ids must be 0..n-1 with string names");
      labels[id] = it.value().get<std::string>();
    }
    c.labels = labels;
  } else if (j.contains("num_labels")) {
    int64_t n = 0;
    read_key(j, "num_labels", n);
    require_in("num_labels", n, kMaxConfigLabels);
    c.labels.clear();
    for (int64_t i = 0; i < n; ++i) c.labels.push_back("LABEL_" + std::to_string(i));
  }
  if (c.num_labels() > kMaxConfigLabels)
    throw std::runtime_error("config: id2label has more than " + std::to_string(kMaxConfigLabels) + " labels");
  require_in("vocab_size", c.vocab_size, kMaxConfigVocab);
  require_in("dim", c.dim, kMaxConfigWidth);
  require_in("n_layers", c.n_layers, kMaxConfigLayers);
  require_in("n_heads", c.n_heads, kMaxConfigWidth);
  require_in("hidden_dim", c.hidden_dim, kMaxConfigWidth);
  require_in("max_position_embeddings", c.max_position_embeddings, kMaxConfigPositions);
  require_prob("dropout", c.dropout);
  require_prob("attention_dropout", c.attention_dropout);
  require_prob("seq_classif_dropout", c.seq_classif_dropout);
  if (c.dim % c.n_heads != 0)
    throw std::runtime_error("config: dim (" + std::to_string(c.dim) + ") must be divisible by n_heads (" +
                             std::to_string(c.n_heads) + ")");
  if (c.activation != "gelu" && c.activation != "relu")
    throw std::runtime_error("config: activation '" + c.activation + "' is not supported (gelu or relu)");
  if (c.sinusoidal_pos_embds)
    throw std::runtime_error("config: sinusoidal_pos_embds=true is not supported (HF DistilBERT checkpoints use learned positions)");
  return c;
}

}  // namespace rt3::models
