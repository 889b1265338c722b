#pragma once
// Tiny random bundles with pattern-set variants, shared by the variant tests
// (tests/runtime/test_engine_variants.cpp, test_bundle_variants.cpp) and the test tools
// (tests/tools/make_variant_bundle.cpp, tests/tools/variant_stress.cpp, which must not link
// anything but rt3_runtime). Header-only; depends on the runtime only.
#include <algorithm>
#include <cmath>
#include <cstdint>
#include <map>
#include <random>
#include <string>
#include <vector>

#include "runtime/format/bundle.h"
#include "runtime/kernels/pattern_linear.h"

namespace rt3::test_util {

using Weights = std::map<std::string, std::vector<float>>;
using PatternSet = std::map<std::string, kernels::PatternWeights>;  // layer -> its set

// A WordPiece vocab for the tiny classifier (21 tokens).
inline const char* kVariantVocab =
    "[PAD]\n[UNK]\n[CLS]\n[SEP]\n[MASK]\nthe\ncat\nsat\non\nmat\ndog\nran\n##s\na\nhello\nworld\n.\n,\nfree\nmoney\nnow\n";

inline models::DistilBertConfig tiny_variant_bert() {
  models::DistilBertConfig c;
  c.vocab_size = 24;
  c.dim = 16;
  c.n_layers = 2;
  c.n_heads = 2;
  c.hidden_dim = 40;  // 40 = not a multiple of the 16- or 6-column tiles: ragged tiles
  c.max_position_embeddings = 20;
  c.labels = {"ham", "spam", "other"};
  return c;
}

inline models::LmConfig tiny_variant_lm(int64_t vocab) {
  models::LmConfig c;
  c.vocab_size = vocab;
  c.d_model = 16;
  c.n_heads = 2;
  c.n_layers = 2;
  c.d_ff = 40;
  c.max_len = 24;
  c.tie_weights = true;
  return c;
}

// Linear weights ~ U(-1,1)/sqrt(in), LayerNorm gammas ~1, the rest ~ U(-0.5, 0.5).
inline Weights random_model_weights(const std::vector<format::TensorSpec>& specs, uint32_t seed) {
  std::mt19937 rng(seed);
  std::uniform_real_distribution<float> u(-1.0f, 1.0f);
  Weights w;
  for (const auto& s : specs) {
    size_t n = 1;
    for (int64_t d : s.shape) n *= static_cast<size_t>(d);
    std::vector<float> v(n);
    const bool ln = s.name.find("ln") != std::string::npos || s.name.find("LayerNorm") != std::string::npos ||
                    s.name.find("layer_norm") != std::string::npos;
    const bool is_weight = s.name.size() > 6 && s.name.compare(s.name.size() - 6, 6, "weight") == 0;
    const bool embedding = s.name.find("emb") != std::string::npos;
    for (float& x : v) {
      if (ln && is_weight) x = 1.0f + 0.2f * u(rng);
      else if (s.shape.size() == 2 && !embedding) x = u(rng) / std::sqrt(static_cast<float>(s.shape[1]));
      else x = 0.5f * u(rng);
    }
    w[s.name] = std::move(v);
  }
  return w;
}

// n_patterns random patterns (each entry kept with probability `keep`, at least one kept per
// pattern) and a random pattern per tile.
inline kernels::PatternWeights random_pattern_weights(int64_t out, int64_t in, int64_t tile_rows, int64_t tile_cols,
                                                      int64_t n_patterns, double keep, uint32_t seed) {
  std::mt19937 rng(seed);
  std::uniform_real_distribution<double> u(0.0, 1.0);
  kernels::PatternWeights p;
  p.out_features = out;
  p.in_features = in;
  p.tile_rows = tile_rows;
  p.tile_cols = tile_cols;
  p.n_patterns = n_patterns;
  p.patterns.assign(static_cast<size_t>(n_patterns * tile_cols), 0);
  for (int64_t k = 0; k < n_patterns; ++k) {
    p.patterns[static_cast<size_t>(k * tile_cols + static_cast<int64_t>(rng() % static_cast<uint32_t>(tile_cols)))] = 1;
    for (int64_t c = 0; c < tile_cols; ++c)
      if (u(rng) < keep) p.patterns[static_cast<size_t>(k * tile_cols + c)] = 1;
  }
  p.tile_pattern.resize(static_cast<size_t>(p.n_row_tiles() * p.n_col_tiles()));
  for (uint8_t& t : p.tile_pattern) t = static_cast<uint8_t>(rng() % static_cast<uint32_t>(n_patterns));
  return p;
}

struct VariantRecipe {
  std::string name;
  int64_t tile_rows, tile_cols, n_patterns;
  double keep;
  bool ffn_only;  // prune only ffn.lin1/lin2 (the other Linears run the base weights)
};

// Three variants of increasing sparsity; the second prunes only the FFN Linears, the third has
// ragged 4x6 tiles.
inline std::vector<VariantRecipe> default_variant_recipes() {
  return {{"p50", 8, 4, 4, 0.5, false}, {"p75", 16, 8, 8, 0.25, true}, {"p88", 4, 6, 6, 0.1, false}};
}

inline PatternSet random_pattern_set(const std::vector<format::TensorSpec>& required, const VariantRecipe& r,
                                     uint32_t seed) {
  PatternSet set;
  for (const format::TensorSpec& s : format::prunable_weights(required)) {
    if (r.ffn_only && s.name.find(".ffn.") == std::string::npos) continue;
    set[s.name] = random_pattern_weights(s.shape[0], s.shape[1], r.tile_rows, r.tile_cols, r.n_patterns, r.keep, seed++);
  }
  return set;
}

// The weights with one variant's masks applied (dense; what the variant computes).
inline Weights masked_weights(const Weights& w, const PatternSet& set) {
  Weights out = w;
  for (const auto& [layer, p] : set) out[layer] = kernels::pattern_apply(w.at(layer).data(), p);
  return out;
}

// A tiny model as a bundle: the weights, then the variants (empty = no variants).
struct VariantModel {
  format::BundleModelType type = format::BundleModelType::kDistilBertClassifier;
  models::DistilBertConfig bert;
  models::LmConfig lm;
  std::string spm_bytes;  // LM tokenizer
  Weights weights;
  std::vector<VariantRecipe> recipes;
  std::vector<PatternSet> sets;  // [i] = recipes[i]
  int64_t tokenizer_max_len = 12;

  std::vector<format::TensorSpec> required() const {
    return type == format::BundleModelType::kTransformerLm ? format::required_tensors(lm)
                                                           : format::required_tensors(bert);
  }

  // The bundle: `w` as weights, with the variants when with_variants.
  format::BundleWriter writer(const Weights& w, bool with_variants) const {
    format::BundleWriter bw;
    format::TokenizerInfo t;
    if (type == format::BundleModelType::kTransformerLm) {
      bw.set_lm(lm);
      t.type = format::TokenizerType::kSentencePiece;
      bw.set_tokenizer(t, spm_bytes);
    } else {
      bw.set_distilbert(bert);
      t.type = format::TokenizerType::kWordPiece;
      t.lowercase = true;
      t.max_len = tokenizer_max_len;
      bw.set_tokenizer(t, kVariantVocab);
    }
    for (const auto& s : required()) bw.add_f32(s.name, s.shape, w.at(s.name));
    if (with_variants)
      for (size_t i = 0; i < recipes.size(); ++i)
        bw.add_pattern_variant(recipes[i].name, recipes[i].tile_rows, recipes[i].tile_cols, sets[i]);
    return bw;
  }
  void write(const std::string& path) const { writer(weights, true).write(path); }
  // With what the engine's adaptation modes read (adaptation_fixture below).
  void write_adaptive(const std::string& path) const;
  // The same level table and profile with these latency models (e.g. measured by rt3 profile).
  void write_adaptive(const std::string& path, const format::AdaptationInfo& adaptation) const;
  // The same model without variants, weights masked by variant `v` (0 = unmasked): the
  // reference a variant must reproduce.
  void write_reference(const std::string& path, int v) const {
    writer(v == 0 ? weights : masked_weights(weights, sets[static_cast<size_t>(v) - 1]), false).write(path);
  }
};

inline VariantModel make_variant_bert(uint32_t seed = 11, std::vector<VariantRecipe> recipes = default_variant_recipes()) {
  VariantModel m;
  m.type = format::BundleModelType::kDistilBertClassifier;
  m.bert = tiny_variant_bert();
  m.weights = random_model_weights(m.required(), seed);
  m.recipes = std::move(recipes);
  for (size_t i = 0; i < m.recipes.size(); ++i)
    m.sets.push_back(random_pattern_set(m.required(), m.recipes[i], seed * 1000 + static_cast<uint32_t>(i) * 100));
  return m;
}

// n_patterns distinct random patterns that each prune exactly `pruned` of tile_cols columns (a
// pattern set as rt3 prune pattern makes them: one pruning number per set), random tile ids.
inline kernels::PatternWeights exact_pattern_weights(int64_t out, int64_t in, int64_t tile, int64_t n_patterns,
                                                     int64_t pruned, uint32_t seed) {
  std::mt19937 rng(seed);
  kernels::PatternWeights p;
  p.out_features = out;
  p.in_features = in;
  p.tile_rows = p.tile_cols = tile;
  p.n_patterns = n_patterns;
  for (int64_t k = 0; k < n_patterns; ++k) {
    std::vector<uint8_t> pattern(static_cast<size_t>(tile), 1);
    std::vector<int64_t> cols(static_cast<size_t>(tile));
    for (int64_t c = 0; c < tile; ++c) cols[static_cast<size_t>(c)] = c;
    std::shuffle(cols.begin(), cols.end(), rng);
    for (int64_t i = 0; i < pruned; ++i) pattern[static_cast<size_t>(cols[static_cast<size_t>(i)])] = 0;
    p.patterns.insert(p.patterns.end(), pattern.begin(), pattern.end());
  }
  p.tile_pattern.resize(static_cast<size_t>(p.n_row_tiles() * p.n_col_tiles()));
  for (uint8_t& t : p.tile_pattern) t = static_cast<uint8_t>(rng() % static_cast<uint32_t>(n_patterns));
  return p;
}

// A small (not tiny) classifier whose three variants prune every Linear with 16x16 tiles at
// exactly 8, 12 and 14 columns per tile: big enough that its latency is the kernels' (for the
// latency-table tests), 128-token inputs. dim / hidden_dim (multiples of 16) make it bigger: 192 /
// 768 takes a few ms per inference, longer than a scheduler time slice (rt3 bench adapt tests).
// Appends one pattern set per (name, pruned columns of 16): 16x16 tiles, 4 exact patterns, every
// prunable Linear; seeds count up from `seed` in the order the sets and layers are made.
inline void add_exact_pattern_sets(VariantModel& m, const std::vector<std::pair<const char*, int64_t>>& sets,
                                   uint32_t seed) {
  for (const auto& [name, pruned] : sets) {
    m.recipes.push_back({name, 16, 16, 4, 0.0, false});
    PatternSet set;
    for (const format::TensorSpec& s : format::prunable_weights(m.required()))
      set[s.name] = exact_pattern_weights(s.shape[0], s.shape[1], 16, 4, pruned, seed++);
    m.sets.push_back(std::move(set));
  }
}

inline VariantModel make_uniform_variant_bert(uint32_t seed = 31, int64_t dim = 128, int64_t hidden_dim = 512) {
  VariantModel m;
  m.type = format::BundleModelType::kDistilBertClassifier;
  m.bert = tiny_variant_bert();
  m.bert.dim = dim;
  m.bert.hidden_dim = hidden_dim;
  m.bert.n_heads = 4;
  m.bert.max_position_embeddings = 128;
  m.tokenizer_max_len = 128;
  m.weights = random_model_weights(m.required(), seed);
  add_exact_pattern_sets(m, {{"p50", 8}, {"p75", 12}, {"p88", 14}}, seed);
  return m;
}

// DistilBERT-base's shape (dim 768, 6 layers, 12 heads, hidden 3072, vocab 30,522, 512 positions)
// with random weights and three pattern sets of the sparsities the speed claims are made at:
// p63 / p81 / p88 (10 / 13 / 14 of every 16 columns pruned, 16x16 tiles, 4 patterns). For
// benchmarks against other runtimes (rt3 bench ort); about 0.5 GB on disk.
inline VariantModel make_base_shape_bert(uint32_t seed = 41) {
  VariantModel m;
  m.type = format::BundleModelType::kDistilBertClassifier;
  m.bert = tiny_variant_bert();
  m.bert.vocab_size = 30522;
  m.bert.dim = 768;
  m.bert.n_layers = 6;
  m.bert.n_heads = 12;
  m.bert.hidden_dim = 3072;
  m.bert.max_position_embeddings = 512;
  m.tokenizer_max_len = 512;
  m.weights = random_model_weights(m.required(), seed);
  add_exact_pattern_sets(m, {{"p63", 10}, {"p81", 13}, {"p88", 14}}, seed);
  return m;
}

inline VariantModel make_variant_lm(const std::string& spm_bytes, int64_t vocab, uint32_t seed = 21,
                                    std::vector<VariantRecipe> recipes = default_variant_recipes()) {
  VariantModel m;
  m.type = format::BundleModelType::kTransformerLm;
  m.lm = tiny_variant_lm(vocab);
  m.spm_bytes = spm_bytes;
  m.weights = random_model_weights(m.required(), seed);
  m.recipes = std::move(recipes);
  for (size_t i = 0; i < m.recipes.size(); ++i)
    m.sets.push_back(random_pattern_set(m.required(), m.recipes[i], seed * 1000 + static_cast<uint32_t>(i) * 100));
  return m;
}

// A made-up device for the adaptation tests: four levels, each served by one of base / p50 / p75 /
// p88 (default_variant_recipes), latency models that shrink with sparsity, accuracies that fall
// with it, a 10 ms searched deadline, and a one-cluster energy-model profile (power = cores x
// coefficient x V^2 x f + static).
struct AdaptationFixture {
  std::map<std::string, std::string> levels = {
      {"1800000", "base"}, {"1200000", "p50"}, {"800000", "p75"}, {"400000", "p88"}};
  format::AdaptationInfo info() const {
    format::AdaptationInfo a;
    a.deadline_s = 0.010;
    a.variants["base"] = {0.004, 0.001, 1800000, 0.90};
    a.variants["p50"] = {0.0025, 0.0006, 1800000, 0.88};
    a.variants["p75"] = {0.0018, 0.0005, 1800000, 0.86};
    a.variants["p88"] = {0.0010, 0.0003, 1800000, 0.80};
    return a;
  }
  static const char* profile_json() {
    return R"({"name": "test-soc", "soc": "test", "sources": [{"what": "all", "where": "assumption: test"}],
      "power_model": "energy_model", "battery": {"capacity_mah": 1000, "nominal_voltage_v": 3.8, "assumed": true, "note": "test"},
      "base_power_mw": 100, "idle_power_mw": 10,
      "clusters": [{"name": "big", "cores": 2, "core_type": "test", "capacity_dmips_mhz": 1024,
        "dynamic_power_coefficient": 400, "static_power_mw": 50, "static_power_source": "assumption",
        "opps": [{"khz": 400000, "uv": 800000}, {"khz": 800000, "uv": 900000},
                 {"khz": 1200000, "uv": 1000000}, {"khz": 1800000, "uv": 1100000}]}]})";
  }
};

inline void VariantModel::write_adaptive(const std::string& path, const format::AdaptationInfo& adaptation) const {
  format::BundleWriter w = writer(weights, true);
  w.set_level_to_variant(AdaptationFixture().levels);
  w.set_adaptation(adaptation);
  w.set_device_profile_json(AdaptationFixture::profile_json());
  w.write(path);
}

inline void VariantModel::write_adaptive(const std::string& path) const { write_adaptive(path, AdaptationFixture().info()); }

}  // namespace rt3::test_util
