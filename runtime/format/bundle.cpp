#include "runtime/format/bundle.h"

#include <algorithm>
#include <cmath>
#include <cstring>
#include <fstream>
#include <iterator>
#include <set>
#include <sstream>
#include <utility>

#include <nlohmann/json.hpp>

#include "rt3/version.h"
#include "runtime/format/bundle_adaptation_json.h"
#include "runtime/format/input_file.h"
#include "runtime/tokenizer/spm_model.h"
#include "runtime/tokenizer/wordpiece.h"

namespace rt3::format {
namespace {

using nlohmann::json;
using K = BundleErrorKind;

// Weights and biases of one Transformer layer (both model types): 4 attention Linears, 2 FFN
// Linears, 2 LayerNorms, each a weight and a bias.
constexpr size_t kTensorsPerLayer = 16;

std::string shape_str(const std::vector<int64_t>& s) {
  std::string out = "[";
  for (size_t i = 0; i < s.size(); ++i) out += (i ? ", " : "") + std::to_string(s[i]);
  return out + "]";
}

// What the checks need to know about one tensor, whether it sits in a loaded file or in a writer.
struct TensorDesc {
  DType dtype = DType::U8;
  std::vector<int64_t> shape;
  const uint8_t* data = nullptr;
  size_t nbytes = 0;
  uint64_t offset = 0;  // inside the data buffer (which starts 64-byte aligned)
};
using TensorMap = std::map<std::string, TensorDesc, std::less<>>;

struct Parsed {
  std::string source;
  std::string metadata_json;
  int format_version = 0;
  std::string rt3_version;
  BundleModelType model_type = BundleModelType::kTransformerLm;
  models::LmConfig lm;
  models::DistilBertConfig distilbert;
  TokenizerInfo tokenizer;
  std::string_view tokenizer_bytes;
  std::vector<BundleVariant> variants;
  std::map<std::string, std::string> level_to_variant;
  std::string device_profile_json = "null";
  std::optional<AdaptationInfo> adaptation;
  std::set<std::string, std::less<>> weight_names;  // stored dense
  int64_t bp_block_rows = 0;
  std::set<std::string, std::less<>> bp_layers;      // stored block-pruned
};

[[noreturn]] void fail(K kind, const std::string& source, const std::string& detail) {
  throw BundleError(kind, source, detail);
}

const json& require(const json& obj, const char* key, json::value_t type, const char* type_name,
                    const std::string& where, const std::string& source) {
  if (!obj.contains(key)) fail(K::kMissingField, source, where + " has no field '" + key + "'");
  const json& v = obj.at(key);
  // JSON integers parse as unsigned or signed; treat both as "number_integer".
  const bool ok = type == json::value_t::number_integer ? v.is_number_integer() : v.type() == type;
  if (!ok)
    fail(K::kMissingField, source,
         where + " field '" + key + "' must be " + type_name + ", got " + v.dump());
  return v;
}

std::vector<std::string> split_vocab(std::string_view bytes) {
  // Same lines as std::getline over the file (WordPieceTokenizer::from_vocab_file), trailing
  // whitespace trimmed as there.
  std::vector<std::string> tokens;
  size_t pos = 0;
  while (pos < bytes.size()) {
    size_t nl = bytes.find('\n', pos);
    if (nl == std::string_view::npos) nl = bytes.size();
    std::string line(bytes.substr(pos, nl - pos));
    while (!line.empty() && (line.back() == '\r' || line.back() == ' ' || line.back() == '\t' ||
                             line.back() == '\v' || line.back() == '\f'))
      line.pop_back();
    tokens.push_back(std::move(line));
    pos = nl + 1;
  }
  return tokens;
}

void check_weight(const std::string& source, const TensorMap& tensors, const TensorSpec& spec) {
  auto it = tensors.find(spec.name);
  if (it == tensors.end())
    fail(K::kMissingTensor, source, "required tensor '" + spec.name + "' " + shape_str(spec.shape) + " is missing");
  const TensorDesc& t = it->second;
  if (t.dtype != DType::F32)
    fail(K::kWrongDtype, source, "tensor '" + spec.name + "' has dtype " + dtype_name(t.dtype) + ", expected F32");
  if (t.shape != spec.shape)
    fail(K::kWrongShape, source,
         "tensor '" + spec.name + "' has shape " + shape_str(t.shape) + ", the config implies " + shape_str(spec.shape));
  if (t.offset % 4 != 0)
    fail(K::kMisalignedTensor, source,
         "F32 tensor '" + spec.name + "' starts at data offset " + std::to_string(t.offset) +
             ", not a multiple of 4 (write F32 tensors before byte tensors)");
}

const TensorDesc& require_tensor(const std::string& source, const TensorMap& tensors, const std::string& name,
                                 DType dtype, const std::string& what) {
  auto it = tensors.find(name);
  if (it == tensors.end()) fail(K::kMissingTensor, source, what + " tensor '" + name + "' is missing");
  if (it->second.dtype != dtype)
    fail(K::kWrongDtype, source, "tensor '" + name + "' has dtype " + dtype_name(it->second.dtype) + ", expected " + dtype_name(dtype));
  if (it->second.shape.size() != 1)
    fail(K::kWrongShape, source, "tensor '" + name + "' has shape " + shape_str(it->second.shape) + ", expected 1-D");
  return it->second;
}

template <typename T>
std::vector<T> copy_elements(const TensorDesc& t) {
  std::vector<T> v(t.nbytes / sizeof(T));
  if (!v.empty()) std::memcpy(v.data(), t.data, v.size() * sizeof(T));
  return v;
}

// The packed form of block-pruned weight `spec` (validated: a Bundle never holds a torn one).
kernels::BpWeights read_bp(const std::string& source, const TensorMap& tensors, const TensorSpec& spec,
                           int64_t block_rows) {
  kernels::BpWeights w;
  w.out_features = spec.shape.at(0);
  w.in_features = spec.shape.at(1);
  w.block_rows = block_rows;
  const std::string what = "block-pruned '" + spec.name + "'";
  w.block_ptr = copy_elements<int32_t>(require_tensor(source, tensors, spec.name + kBpBlockPtrSuffix, DType::I32, what));
  w.cols = copy_elements<int32_t>(require_tensor(source, tensors, spec.name + kBpColsSuffix, DType::I32, what));
  w.values = copy_elements<float>(require_tensor(source, tensors, spec.name + kBpValuesSuffix, DType::F32, what));
  try {
    kernels::bp_validate(w);
  } catch (const std::invalid_argument& e) {
    fail(K::kBadSparseWeight, source, what + ": " + e.what());
  }
  return w;
}

// One layer of pattern variant `v` (validated: tensors U8 with the shapes the weight and the tile
// size imply, n_patterns in [1, 255], pattern_validate). `spec` is the dense weight's spec.
kernels::PatternWeights read_pattern(const std::string& source, const TensorMap& tensors, const BundleVariant& v,
                                     const TensorSpec& spec) {
  const std::string what = "variant '" + v.name + "' layer '" + spec.name + "'";
  kernels::PatternWeights p;
  p.out_features = spec.shape.at(0);
  p.in_features = spec.shape.at(1);
  p.tile_rows = v.tile_rows;
  p.tile_cols = v.tile_cols;
  auto get = [&](const std::string& name) -> const TensorDesc& {
    auto it = tensors.find(name);
    if (it == tensors.end()) fail(K::kBadVariants, source, what + ": tensor '" + name + "' is missing");
    if (it->second.dtype != DType::U8)
      fail(K::kBadVariants, source, what + ": tensor '" + name + "' has dtype " + dtype_name(it->second.dtype) +
                                        ", expected U8");
    if (it->second.shape.size() != 2)
      fail(K::kBadVariants, source, what + ": tensor '" + name + "' has shape " + shape_str(it->second.shape) +
                                        ", expected 2-D");
    return it->second;
  };
  const TensorDesc& pat = get(pattern_patterns_tensor(v.name, spec.name));
  const TensorDesc& tiles = get(pattern_tiles_tensor(v.name, spec.name));
  if (pat.shape[0] < 1 || pat.shape[0] > 255 || pat.shape[1] != v.tile_cols)
    fail(K::kBadVariants, source, what + ": patterns tensor has shape " + shape_str(pat.shape) +
                                      ", expected [n_patterns in 1..255, tile_cols " + std::to_string(v.tile_cols) + "]");
  p.n_patterns = pat.shape[0];
  const std::vector<int64_t> want_tiles = {p.n_row_tiles(), p.n_col_tiles()};
  if (tiles.shape != want_tiles)
    fail(K::kBadVariants, source, what + ": tiles tensor has shape " + shape_str(tiles.shape) + ", weight " +
                                      shape_str(spec.shape) + " in " + std::to_string(v.tile_rows) + "x" +
                                      std::to_string(v.tile_cols) + " tiles implies " + shape_str(want_tiles));
  p.patterns = copy_elements<uint8_t>(pat);
  p.tile_pattern = copy_elements<uint8_t>(tiles);
  try {
    kernels::pattern_validate(p);
  } catch (const std::invalid_argument& e) {
    fail(K::kBadVariants, source, what + ": " + e.what());
  }
  return p;
}

// Rule 17a: every pattern variant is complete and consistent (docs/format.md).
void check_pattern_variants(const std::string& source, const TensorMap& tensors, const Parsed& p,
                            const std::vector<TensorSpec>& specs) {
  std::map<std::string, const TensorSpec*> prunable;
  const std::vector<TensorSpec> pw = prunable_weights(specs);
  for (const TensorSpec& s : pw) prunable[s.name] = &s;
  for (const BundleVariant& v : p.variants) {
    if (!v.is_pattern()) continue;
    const std::string where = "pattern variant '" + v.name + "'";
    const std::set<std::string> listed(v.tensors.begin(), v.tensors.end());
    int64_t kept = 0, total = 0;
    for (const std::string& layer : v.layers) {
      auto it = prunable.find(layer);
      if (it == prunable.end())
        fail(K::kBadVariants, source, where + ": layer '" + layer + "' is not a prunable weight of this model");
      if (p.bp_layers.count(layer))
        fail(K::kBadVariants, source, where + ": layer '" + layer +
                                          "' is stored block-pruned; a pattern set needs the dense weight");
      for (const std::string& t : {pattern_patterns_tensor(v.name, layer), pattern_tiles_tensor(v.name, layer)})
        if (!listed.count(t)) fail(K::kBadVariants, source, where + ": 'tensors' does not list '" + t + "'");
      const kernels::PatternWeights w = read_pattern(source, tensors, v, *it->second);
      kept += w.kept_weights();
      total += w.out_features * w.in_features;
    }
    const double actual = total > 0 ? 1.0 - static_cast<double>(kept) / static_cast<double>(total) : 0.0;
    if (std::fabs(actual - v.sparsity) > 0.02)
      fail(K::kBadVariants, source, where + ": sparsity " + std::to_string(v.sparsity) +
                                        " differs from the sparsity of its patterns over its layers, " +
                                        std::to_string(actual) + " (tolerance 0.02)");
  }
}

void check_finite(const std::string& source, const std::string& name, const TensorDesc& t) {
  const size_t n = t.nbytes / 4;
  for (size_t i = 0; i < n; ++i) {
    float v;
    std::memcpy(&v, t.data + 4 * i, 4);
    if (!std::isfinite(v))
      fail(K::kNonFiniteWeight, source,
           "tensor '" + name + "' element " + std::to_string(i) + " is " + (std::isnan(v) ? "NaN" : "infinite"));
  }
}

struct Loaded {
  Parsed parsed;
  std::shared_ptr<const SpmModel> spm;
  std::shared_ptr<const WordPieceTokenizer> wordpiece;
};

// Every check of docs/format.md "Bundle metadata", in the order listed there.
Loaded validate(const std::string& source, const std::map<std::string, std::string>& metadata,
                const TensorMap& tensors) {
  Loaded out;
  Parsed& p = out.parsed;
  p.source = source;

  // 1-2. metadata present and a JSON object.
  auto mit = metadata.find(kBundleMetadataKey);
  if (mit == metadata.end())
    fail(K::kNoMetadata, source, "no __metadata__[\"rt3\"] (not an RT3 bundle; a plain checkpoint?)");
  p.metadata_json = mit->second;
  json j;
  try {
    j = json::parse(p.metadata_json);
  } catch (const json::exception& e) {
    fail(K::kMetadataNotJson, source, std::string("__metadata__[\"rt3\"] is not valid JSON: ") + e.what());
  }
  if (!j.is_object()) fail(K::kMetadataNotJson, source, "__metadata__[\"rt3\"] is not a JSON object");

  // 3. version.
  const json& ver = require(j, "format_version", json::value_t::number_integer, "an integer", "rt3 metadata", source);
  if (!ver.is_number_unsigned() || ver.get<uint64_t>() < static_cast<uint64_t>(kOldestBundleFormatVersion) ||
      ver.get<uint64_t>() > static_cast<uint64_t>(kBundleFormatVersion))
    fail(K::kUnsupportedVersion, source,
         "format_version " + ver.dump() + " is not supported (this runtime reads " +
             std::to_string(kOldestBundleFormatVersion) + " to " + std::to_string(kBundleFormatVersion) + ")");
  p.format_version = ver.get<int>();
  p.rt3_version = require(j, "rt3_version", json::value_t::string, "a string", "rt3 metadata", source).get<std::string>();

  // 4. model.
  const json& model = require(j, "model", json::value_t::object, "an object", "rt3 metadata", source);
  const std::string type = require(model, "type", json::value_t::string, "a string", "model", source).get<std::string>();
  const json& cfg = require(model, "config", json::value_t::object, "an object", "model", source);
  std::vector<TensorSpec> specs;
  int64_t model_vocab = 0, model_positions = 0;
  if (type == model_type_name(BundleModelType::kTransformerLm)) {
    p.model_type = BundleModelType::kTransformerLm;
    try {
      if (cfg.contains("model_type") && cfg["model_type"] != "transformer_lm")
        throw std::runtime_error("config: model_type is " + cfg["model_type"].dump() + ", expected \"transformer_lm\"");
      p.lm = models::lm_config_from_json(cfg);
    } catch (const std::exception& e) {
      fail(K::kInvalidConfig, source, std::string("model.config: ") + e.what());
    }
    specs = required_tensors(p.lm);
    model_vocab = p.lm.vocab_size;
    model_positions = p.lm.max_len;
  } else if (type == model_type_name(BundleModelType::kDistilBertClassifier)) {
    p.model_type = BundleModelType::kDistilBertClassifier;
    try {
      p.distilbert = models::distilbert_config_from_json(cfg);
      if (p.distilbert.num_labels() < 1) throw std::runtime_error("config: no labels (id2label or num_labels)");
      if (p.distilbert.pad_token_id < 0 || p.distilbert.pad_token_id >= p.distilbert.vocab_size)
        throw std::runtime_error("config: pad_token_id " + std::to_string(p.distilbert.pad_token_id) +
                                 " is outside the vocab");
    } catch (const std::exception& e) {
      fail(K::kInvalidConfig, source, std::string("model.config: ") + e.what());
    }
    specs = required_tensors(p.distilbert);
    model_vocab = p.distilbert.vocab_size;
    model_positions = p.distilbert.max_position_embeddings;
  } else {
    fail(K::kUnknownModelType, source,
         "model.type '" + type + "' is unknown (transformer_lm or distilbert_classifier)");
  }
  // Each layer needs kTensorsPerLayer tensors of its own: a config that declares more layers than
  // the file could hold is refused here, before the list of required tensors is built from it.
  const int64_t n_layers = p.model_type == BundleModelType::kTransformerLm ? p.lm.n_layers : p.distilbert.n_layers;
  if (n_layers > static_cast<int64_t>(tensors.size() / kTensorsPerLayer))
    fail(K::kMissingTensor, source,
         "model.config: n_layers " + std::to_string(n_layers) + " needs at least " + std::to_string(kTensorsPerLayer) +
             " tensors per layer, the file holds " + std::to_string(tensors.size()) + " tensors in all");

  // 5. tokenizer section.
  const json& tok = require(j, "tokenizer", json::value_t::object, "an object", "rt3 metadata", source);
  const std::string tok_type = require(tok, "type", json::value_t::string, "a string", "tokenizer", source).get<std::string>();
  p.tokenizer.tensor = require(tok, "tensor", json::value_t::string, "a string", "tokenizer", source).get<std::string>();
  p.tokenizer.lowercase = require(tok, "lowercase", json::value_t::boolean, "a boolean", "tokenizer", source).get<bool>();
  const json& ml = require(tok, "max_len", json::value_t::number_integer, "an integer", "tokenizer", source);
  if (!ml.is_number_unsigned() || ml.get<uint64_t>() > static_cast<uint64_t>(INT32_MAX))
    fail(K::kMissingField, source, "tokenizer field 'max_len' must be an integer in [0, 2^31), got " + ml.dump());
  p.tokenizer.max_len = ml.get<int64_t>();
  if (tok.contains("text_pair")) {
    if (!tok["text_pair"].is_boolean())
      fail(K::kMissingField, source, "tokenizer field 'text_pair' must be a boolean, got " + tok["text_pair"].dump());
    p.tokenizer.text_pair = tok["text_pair"].get<bool>();
  }
  if (tok_type == tokenizer_type_name(TokenizerType::kSentencePiece)) p.tokenizer.type = TokenizerType::kSentencePiece;
  else if (tok_type == tokenizer_type_name(TokenizerType::kWordPiece)) p.tokenizer.type = TokenizerType::kWordPiece;
  else fail(K::kUnknownTokenizerType, source, "tokenizer.type '" + tok_type + "' is unknown (sentencepiece or wordpiece)");

  // 6. variants, level_to_variant, device_profile.
  const json& vars = require(j, "variants", json::value_t::array, "an array", "rt3 metadata", source);
  const json& l2v = require(j, "level_to_variant", json::value_t::object, "an object", "rt3 metadata", source);
  if (!j.contains("device_profile")) fail(K::kMissingField, source, "rt3 metadata has no field 'device_profile'");
  const json& prof = j["device_profile"];
  if (!prof.is_null() && !prof.is_object())
    fail(K::kBadVariants, source, "device_profile must be null or an object, got " + prof.dump());
  p.device_profile_json = prof.dump();
  std::set<std::string> variant_names;
  for (size_t i = 0; i < vars.size(); ++i) {
    const json& v = vars[i];
    const std::string where = "variants[" + std::to_string(i) + "]";
    if (!v.is_object() || !v.contains("name") || !v["name"].is_string() || !v.contains("sparsity") ||
        !v["sparsity"].is_number() || !v.contains("tensors") || !v["tensors"].is_array())
      fail(K::kBadVariants, source, where + " must be an object with string 'name', number 'sparsity', array 'tensors'");
    BundleVariant bv;
    bv.name = v["name"].get<std::string>();
    bv.sparsity = v["sparsity"].get<double>();
    if (bv.name.empty() || !variant_names.insert(bv.name).second)
      fail(K::kBadVariants, source, where + " name '" + bv.name + "' is empty or not unique");
    if (!(bv.sparsity >= 0.0 && bv.sparsity <= 1.0))
      fail(K::kBadVariants, source, where + " sparsity " + v["sparsity"].dump() + " is outside [0, 1]");
    for (const json& t : v["tensors"]) {
      if (!t.is_string()) fail(K::kBadVariants, source, where + " tensors must be strings");
      bv.tensors.push_back(t.get<std::string>());
    }
    if (v.contains("kind")) {
      if (!v["kind"].is_string() || v["kind"] != kPatternVariantKind)
        fail(K::kBadVariants, source, where + " kind " + v["kind"].dump() + " is unknown (\"pattern\" or absent)");
      bv.kind = kPatternVariantKind;
      if (bv.name == "base")
        fail(K::kBadVariants, source, where + " name 'base' is reserved for the stored weights");
      for (const char* key : {"tile_rows", "tile_cols"}) {
        if (!v.contains(key) || !v[key].is_number_unsigned() || v[key].get<uint64_t>() < 1 ||
            v[key].get<uint64_t>() > 4096)
          fail(K::kBadVariants, source, where + " (pattern) needs '" + key + "' an integer in [1, 4096]");
      }
      bv.tile_rows = v["tile_rows"].get<int64_t>();
      bv.tile_cols = v["tile_cols"].get<int64_t>();
      if (!v.contains("layers") || !v["layers"].is_array() || v["layers"].empty())
        fail(K::kBadVariants, source, where + " (pattern) needs 'layers', a non-empty array of weight names");
      std::set<std::string> seen;
      for (const json& l : v["layers"]) {
        if (!l.is_string() || !seen.insert(l.get<std::string>()).second)
          fail(K::kBadVariants, source, where + " layers entry " + l.dump() + " is not a string or is listed twice");
        bv.layers.push_back(l.get<std::string>());
      }
    }
    p.variants.push_back(std::move(bv));
  }
  for (auto it = l2v.begin(); it != l2v.end(); ++it) {
    // "base" = the weights as stored (the engine's variant 0): a level fast enough for them.
    if (!it.value().is_string() ||
        (it.value().get<std::string>() != "base" && !variant_names.count(it.value().get<std::string>())))
      fail(K::kBadVariants, source,
           "level_to_variant['" + it.key() + "'] = " + it.value().dump() + " does not name a variant (or \"base\")");
    // Keys are frequencies: the engine's table mode snaps a CPU frequency to them.
    const std::string& k = it.key();
    if (k.empty() || k.size() > 12 || k.find_first_not_of("0123456789") != std::string::npos || std::stoull(k) == 0)
      fail(K::kBadVariants, source, "level_to_variant key '" + k + "' is not a frequency in kHz (a positive integer)");
    p.level_to_variant[k] = it.value().get<std::string>();
  }
  if (j.contains("adaptation") && !j["adaptation"].is_null()) {
    if (p.format_version < 2)
      fail(K::kBadVariants, source, "adaptation needs format_version 2, the file says " + ver.dump());
    std::set<std::string> names = variant_names;
    names.insert("base");
    p.adaptation = parse_adaptation(j["adaptation"], names, source);
  }

  // 7. weights: present, F32, right shape, aligned; block-pruned ones (optional "bp" section)
  // as a consistent packed form instead.
  if (j.contains("bp")) {
    const json& bp = j["bp"];
    if (!bp.is_object()) fail(K::kBadSparseWeight, source, "bp must be an object {block_rows, layers}");
    const json& br = require(bp, "block_rows", json::value_t::number_integer, "an integer", "bp", source);
    if (!br.is_number_unsigned() || br.get<uint64_t>() < 1 || br.get<uint64_t>() > static_cast<uint64_t>(kMaxBpBlockRows))
      fail(K::kBadSparseWeight, source, "bp.block_rows must be in [1, 2^20], got " + br.dump());
    p.bp_block_rows = br.get<int64_t>();
    const json& layers = require(bp, "layers", json::value_t::array, "an array", "bp", source);
    std::set<std::string> prunable;
    for (const TensorSpec& s : prunable_weights(specs)) prunable.insert(s.name);
    for (const json& l : layers) {
      if (!l.is_string() || !prunable.count(l.get<std::string>()))
        fail(K::kBadSparseWeight, source, "bp.layers entry " + l.dump() + " is not a prunable weight of this model");
      if (!p.bp_layers.insert(l.get<std::string>()).second)
        fail(K::kBadSparseWeight, source, "bp.layers lists " + l.dump() + " twice");
    }
  }
  std::set<std::string, std::less<>> bp_tensor_names;
  for (const TensorSpec& s : specs) {
    if (p.bp_layers.count(s.name)) {
      kernels::BpWeights w = read_bp(source, tensors, s, p.bp_block_rows);
      for (float v : w.values)
        if (!std::isfinite(v)) fail(K::kNonFiniteWeight, source, "block-pruned '" + s.name + "' holds NaN or inf");
      for (const char* suffix : {kBpBlockPtrSuffix, kBpColsSuffix, kBpValuesSuffix}) bp_tensor_names.insert(s.name + suffix);
      continue;
    }
    check_weight(source, tensors, s);
    p.weight_names.insert(s.name);
  }
  // 8. tokenizer tensor: present, U8, 1-D.
  auto tit = tensors.find(p.tokenizer.tensor);
  if (tit == tensors.end())
    fail(K::kMissingTensor, source, "tokenizer tensor '" + p.tokenizer.tensor + "' is missing");
  if (tit->second.dtype != DType::U8)
    fail(K::kWrongDtype, source, "tokenizer tensor '" + p.tokenizer.tensor + "' has dtype " +
                                     dtype_name(tit->second.dtype) + ", expected U8");
  if (tit->second.shape.size() != 1)
    fail(K::kWrongShape, source, "tokenizer tensor '" + p.tokenizer.tensor + "' has shape " +
                                     shape_str(tit->second.shape) + ", expected 1-D");
  p.tokenizer_bytes = std::string_view(reinterpret_cast<const char*>(tit->second.data), tit->second.nbytes);
  // 9. variant tensors present.
  std::set<std::string, std::less<>> allowed(p.weight_names.begin(), p.weight_names.end());
  allowed.insert(bp_tensor_names.begin(), bp_tensor_names.end());
  allowed.insert(p.tokenizer.tensor);
  for (const BundleVariant& v : p.variants)
    for (const std::string& t : v.tensors) {
      if (!tensors.count(t)) fail(K::kMissingTensor, source, "variant '" + v.name + "' names absent tensor '" + t + "'");
      allowed.insert(t);
    }
  check_pattern_variants(source, tensors, p, specs);
  // 10. nothing else.
  for (const auto& [name, t] : tensors)
    if (!allowed.count(name))
      fail(K::kUnexpectedTensor, source,
           "tensor '" + name + "' " + shape_str(t.shape) + " is not a parameter of this " + type +
               " config, the tokenizer or a variant");
  // 11. weights finite.
  for (const TensorSpec& s : specs)
    if (p.weight_names.count(s.name)) check_finite(source, s.name, tensors.find(s.name)->second);

  // 12. tokenizer loads and fits the model.
  int64_t tok_vocab = 0;
  try {
    if (p.tokenizer.type == TokenizerType::kSentencePiece) {
      out.spm = std::make_shared<const SpmModel>(SpmModel::from_bytes(p.tokenizer_bytes));
      tok_vocab = static_cast<int64_t>(out.spm->vocab_size());
    } else {
      WordPieceOptions o;
      o.lowercase = p.tokenizer.lowercase;
      auto wp = WordPieceTokenizer::from_vocab(split_vocab(p.tokenizer_bytes), o);
      if (wp.cls_id() < 0 || wp.sep_id() < 0 || wp.pad_id() < 0)
        throw std::runtime_error("WordPiece: vocab lacks [CLS], [SEP] or [PAD]");
      tok_vocab = static_cast<int64_t>(wp.vocab_size());
      out.wordpiece = std::make_shared<const WordPieceTokenizer>(std::move(wp));
    }
  } catch (const std::exception& e) {
    fail(K::kBadTokenizer, source, "tokenizer tensor '" + p.tokenizer.tensor + "' does not load: " + e.what());
  }
  if (tok_vocab > model_vocab)
    fail(K::kTokenizerMismatch, source,
         "tokenizer has " + std::to_string(tok_vocab) + " tokens but the model's vocab_size is " +
             std::to_string(model_vocab));
  if (p.tokenizer.max_len > model_positions)
    fail(K::kTokenizerMismatch, source,
         "tokenizer.max_len " + std::to_string(p.tokenizer.max_len) + " exceeds the model's " +
             std::to_string(model_positions) + " positions");
  if (p.tokenizer.type == TokenizerType::kWordPiece && p.tokenizer.max_len != 0 && p.tokenizer.max_len < 2)
    fail(K::kTokenizerMismatch, source, "tokenizer.max_len must leave room for [CLS] and [SEP]");
  if (p.tokenizer.text_pair && (p.tokenizer.type != TokenizerType::kWordPiece || p.model_type != BundleModelType::kDistilBertClassifier))
    fail(K::kTokenizerMismatch, source, "tokenizer.text_pair needs a wordpiece tokenizer and a distilbert_classifier model");
  if (p.tokenizer.text_pair && p.tokenizer.max_len != 0 && p.tokenizer.max_len < 3)
    fail(K::kTokenizerMismatch, source, "tokenizer.max_len must leave room for [CLS], [SEP] and [SEP] of a pair");
  return out;
}

}  // namespace

// ---- errors and names --------------------------------------------------------------------------

const char* bundle_error_kind_name(BundleErrorKind kind) {
  switch (kind) {
    case K::kContainer: return "Container";
    case K::kNoMetadata: return "NoMetadata";
    case K::kMetadataNotJson: return "MetadataNotJson";
    case K::kMissingField: return "MissingField";
    case K::kUnsupportedVersion: return "UnsupportedVersion";
    case K::kUnknownModelType: return "UnknownModelType";
    case K::kInvalidConfig: return "InvalidConfig";
    case K::kMissingTensor: return "MissingTensor";
    case K::kWrongShape: return "WrongShape";
    case K::kWrongDtype: return "WrongDtype";
    case K::kMisalignedTensor: return "MisalignedTensor";
    case K::kUnexpectedTensor: return "UnexpectedTensor";
    case K::kNonFiniteWeight: return "NonFiniteWeight";
    case K::kUnknownTokenizerType: return "UnknownTokenizerType";
    case K::kBadTokenizer: return "BadTokenizer";
    case K::kTokenizerMismatch: return "TokenizerMismatch";
    case K::kBadVariants: return "BadVariants";
    case K::kBadSparseWeight: return "BadSparseWeight";
    case K::kInvalidArgument: return "InvalidArgument";
  }
  return "Unknown";
}

BundleError::BundleError(BundleErrorKind kind, const std::string& source, const std::string& detail,
                         SafetensorsErrorKind container_kind)
    : std::runtime_error("bundle " + source + ": " + detail + " [" + bundle_error_kind_name(kind) + "]"),
      kind_(kind),
      source_(source),
      container_kind_(container_kind) {}

const char* model_type_name(BundleModelType t) {
  return t == BundleModelType::kTransformerLm ? "transformer_lm" : "distilbert_classifier";
}
const char* tokenizer_type_name(TokenizerType t) {
  return t == TokenizerType::kSentencePiece ? "sentencepiece" : "wordpiece";
}

std::vector<TensorSpec> required_tensors(const models::LmConfig& c) {
  const int64_t D = c.d_model, F = c.d_ff;
  std::vector<TensorSpec> s;
  s.push_back({"tok_emb.weight", {c.vocab_size, D}});
  s.push_back({"pos_emb.weight", {c.max_len, D}});
  for (int64_t i = 0; i < c.n_layers; ++i) {
    const std::string p = "layers." + std::to_string(i) + ".";
    s.push_back({p + "ln1.weight", {D}});
    s.push_back({p + "ln1.bias", {D}});
    for (const char* lin : {"q_lin", "k_lin", "v_lin", "out_lin"}) {
      s.push_back({p + "attention." + lin + ".weight", {D, D}});
      s.push_back({p + "attention." + lin + ".bias", {D}});
    }
    s.push_back({p + "ln2.weight", {D}});
    s.push_back({p + "ln2.bias", {D}});
    s.push_back({p + "ffn.lin1.weight", {F, D}});
    s.push_back({p + "ffn.lin1.bias", {F}});
    s.push_back({p + "ffn.lin2.weight", {D, F}});
    s.push_back({p + "ffn.lin2.bias", {D}});
  }
  s.push_back({"ln_f.weight", {D}});
  s.push_back({"ln_f.bias", {D}});
  if (!c.tie_weights) s.push_back({"head.weight", {c.vocab_size, D}});
  return s;
}

std::vector<TensorSpec> required_tensors(const models::DistilBertConfig& c) {
  const int64_t D = c.dim, H = c.hidden_dim;
  std::vector<TensorSpec> s;
  s.push_back({"distilbert.embeddings.word_embeddings.weight", {c.vocab_size, D}});
  s.push_back({"distilbert.embeddings.position_embeddings.weight", {c.max_position_embeddings, D}});
  s.push_back({"distilbert.embeddings.LayerNorm.weight", {D}});
  s.push_back({"distilbert.embeddings.LayerNorm.bias", {D}});
  for (int64_t i = 0; i < c.n_layers; ++i) {
    const std::string p = "distilbert.transformer.layer." + std::to_string(i) + ".";
    for (const char* lin : {"q_lin", "k_lin", "v_lin", "out_lin"}) {
      s.push_back({p + "attention." + lin + ".weight", {D, D}});
      s.push_back({p + "attention." + lin + ".bias", {D}});
    }
    s.push_back({p + "sa_layer_norm.weight", {D}});
    s.push_back({p + "sa_layer_norm.bias", {D}});
    s.push_back({p + "ffn.lin1.weight", {H, D}});
    s.push_back({p + "ffn.lin1.bias", {H}});
    s.push_back({p + "ffn.lin2.weight", {D, H}});
    s.push_back({p + "ffn.lin2.bias", {D}});
    s.push_back({p + "output_layer_norm.weight", {D}});
    s.push_back({p + "output_layer_norm.bias", {D}});
  }
  s.push_back({"pre_classifier.weight", {D, D}});
  s.push_back({"pre_classifier.bias", {D}});
  s.push_back({"classifier.weight", {c.num_labels(), D}});
  s.push_back({"classifier.bias", {c.num_labels()}});
  return s;
}

std::vector<TensorSpec> prunable_weights(const std::vector<TensorSpec>& required) {
  static const char* kSuffixes[] = {".attention.q_lin.weight", ".attention.k_lin.weight", ".attention.v_lin.weight",
                                    ".attention.out_lin.weight", ".ffn.lin1.weight", ".ffn.lin2.weight"};
  auto ends_with = [](const std::string& s, const std::string& suffix) {
    return s.size() >= suffix.size() && s.compare(s.size() - suffix.size(), suffix.size(), suffix) == 0;
  };
  std::vector<TensorSpec> out;
  for (const TensorSpec& t : required) {
    const bool in_layer = t.name.rfind("layers.", 0) == 0 || t.name.rfind("distilbert.transformer.layer.", 0) == 0;
    if (!in_layer || t.shape.size() != 2) continue;
    for (const char* suf : kSuffixes)
      if (ends_with(t.name, suf)) out.push_back(t);
  }
  return out;
}

std::string pattern_patterns_tensor(const std::string& variant, const std::string& layer) {
  return "rt3.variant." + variant + "." + layer + ".patterns";
}
std::string pattern_tiles_tensor(const std::string& variant, const std::string& layer) {
  return "rt3.variant." + variant + "." + layer + ".tiles";
}

// ---- Bundle ------------------------------------------------------------------------------------

struct Bundle::State {
  SafetensorsFile file;
  Loaded loaded;
};

Bundle::Bundle(std::unique_ptr<State> s) : s_(std::move(s)) {}
Bundle::Bundle(Bundle&&) noexcept = default;
Bundle& Bundle::operator=(Bundle&&) noexcept = default;
Bundle::~Bundle() = default;

namespace {
TensorMap describe(const SafetensorsFile& f) {
  TensorMap m;
  for (const TensorView& t : f.tensors()) m[t.name] = TensorDesc{t.dtype, t.shape, t.data, t.nbytes, t.offset};
  return m;
}
}  // namespace

Bundle Bundle::open(const std::string& path, const LoadOptions& options) {
  try {
    SafetensorsFile f = SafetensorsFile::open(path, options);
    Loaded l = validate(path, f.metadata(), describe(f));
    return Bundle(std::unique_ptr<State>(new State{std::move(f), std::move(l)}));
  } catch (const SafetensorsError& e) {
    throw BundleError(K::kContainer, path, e.what(), e.kind());
  }
}

Bundle Bundle::from_bytes(const std::vector<uint8_t>& bytes, const std::string& source_name,
                          const LoadOptions& options) {
  try {
    SafetensorsFile f = SafetensorsFile::from_bytes(bytes, source_name, options);
    Loaded l = validate(source_name, f.metadata(), describe(f));
    return Bundle(std::unique_ptr<State>(new State{std::move(f), std::move(l)}));
  } catch (const SafetensorsError& e) {
    throw BundleError(K::kContainer, source_name, e.what(), e.kind());
  }
}

const std::string& Bundle::source() const { return s_->loaded.parsed.source; }
int Bundle::format_version() const { return s_->loaded.parsed.format_version; }
const std::string& Bundle::rt3_version() const { return s_->loaded.parsed.rt3_version; }
BundleModelType Bundle::model_type() const { return s_->loaded.parsed.model_type; }
const models::LmConfig& Bundle::lm_config() const {
  if (model_type() != BundleModelType::kTransformerLm)
    throw BundleError(K::kInvalidArgument, source(), "lm_config() of a distilbert_classifier bundle");
  return s_->loaded.parsed.lm;
}
const models::DistilBertConfig& Bundle::distilbert_config() const {
  if (model_type() != BundleModelType::kDistilBertClassifier)
    throw BundleError(K::kInvalidArgument, source(), "distilbert_config() of a transformer_lm bundle");
  return s_->loaded.parsed.distilbert;
}
const TokenizerInfo& Bundle::tokenizer() const { return s_->loaded.parsed.tokenizer; }
std::string_view Bundle::tokenizer_bytes() const { return s_->loaded.parsed.tokenizer_bytes; }
std::shared_ptr<const SpmModel> Bundle::sentencepiece() const { return s_->loaded.spm; }
std::shared_ptr<const WordPieceTokenizer> Bundle::wordpiece() const { return s_->loaded.wordpiece; }
const std::vector<BundleVariant>& Bundle::variants() const { return s_->loaded.parsed.variants; }
const std::map<std::string, std::string>& Bundle::level_to_variant() const {
  return s_->loaded.parsed.level_to_variant;
}
const std::optional<AdaptationInfo>& Bundle::adaptation() const { return s_->loaded.parsed.adaptation; }
const std::string& Bundle::device_profile_json() const { return s_->loaded.parsed.device_profile_json; }
const std::string& Bundle::metadata_json() const { return s_->loaded.parsed.metadata_json; }
const SafetensorsFile& Bundle::file() const { return s_->file; }

const float* Bundle::weight(std::string_view name) const {
  if (s_->loaded.parsed.bp_layers.count(name))
    throw BundleError(K::kInvalidArgument, source(), "'" + std::string(name) + "' is stored block-pruned: use bp_weights()");
  if (!s_->loaded.parsed.weight_names.count(name))
    throw BundleError(K::kMissingTensor, source(), "'" + std::string(name) + "' is not a weight of this model");
  return reinterpret_cast<const float*>(s_->file.get(name).data);
}

bool Bundle::is_block_pruned(std::string_view name) const { return s_->loaded.parsed.bp_layers.count(name) > 0; }
int64_t Bundle::bp_block_rows() const { return s_->loaded.parsed.bp_block_rows; }

kernels::BpWeights Bundle::bp_weights(std::string_view name) const {
  if (!is_block_pruned(name))
    throw BundleError(K::kMissingTensor, source(), "'" + std::string(name) + "' is not a block-pruned weight");
  const Parsed& p = s_->loaded.parsed;
  const std::vector<TensorSpec> specs =
      p.model_type == BundleModelType::kTransformerLm ? required_tensors(p.lm) : required_tensors(p.distilbert);
  for (const TensorSpec& spec : specs)
    if (spec.name == name) return read_bp(source(), describe(s_->file), spec, p.bp_block_rows);
  throw BundleError(K::kMissingTensor, source(), "'" + std::string(name) + "' is not a weight of this model");
}

std::vector<const BundleVariant*> Bundle::pattern_variants() const {
  std::vector<const BundleVariant*> out;
  for (const BundleVariant& v : s_->loaded.parsed.variants)
    if (v.is_pattern()) out.push_back(&v);
  return out;
}

namespace {
const BundleVariant& find_pattern_variant(const Parsed& p, std::string_view name) {
  for (const BundleVariant& v : p.variants)
    if (v.is_pattern() && v.name == name) return v;
  throw BundleError(K::kInvalidArgument, p.source, "'" + std::string(name) + "' is not a pattern variant");
}
}  // namespace

const std::vector<std::string>& Bundle::pattern_variant_layers(std::string_view variant) const {
  return find_pattern_variant(s_->loaded.parsed, variant).layers;
}

kernels::PatternWeights Bundle::pattern_weights(std::string_view variant, std::string_view layer) const {
  const Parsed& p = s_->loaded.parsed;
  const BundleVariant& v = find_pattern_variant(p, variant);
  if (std::find(v.layers.begin(), v.layers.end(), layer) == v.layers.end())
    throw BundleError(K::kInvalidArgument, source(),
                      "pattern variant '" + v.name + "' does not prune '" + std::string(layer) + "'");
  const std::vector<TensorSpec> specs =
      p.model_type == BundleModelType::kTransformerLm ? required_tensors(p.lm) : required_tensors(p.distilbert);
  for (const TensorSpec& spec : specs)
    if (spec.name == layer) return read_pattern(source(), describe(s_->file), v, spec);
  throw BundleError(K::kMissingTensor, source(), "'" + std::string(layer) + "' is not a weight of this model");
}

// ---- BundleWriter ------------------------------------------------------------------------------

struct BundleWriter::State {
  struct Entry {
    std::string name;
    DType dtype;
    std::vector<int64_t> shape;
    std::vector<uint8_t> bytes;
  };
  bool has_model = false;
  BundleModelType type = BundleModelType::kTransformerLm;
  json config;
  bool has_tokenizer = false;
  TokenizerInfo tokenizer;
  std::string tokenizer_bytes;
  std::vector<Entry> f32;  // weights, written first (4-byte aligned by construction)
  std::vector<Entry> raw;  // variant data, written after the weights
  std::set<std::string> names;
  std::vector<BundleVariant> variants;
  std::map<std::string, std::string> level_to_variant;
  json device_profile = nullptr;
  std::optional<AdaptationInfo> adaptation;
  int64_t bp_block_rows = 0;
  std::vector<std::string> bp_layers;

  void check_new_name(const std::string& name) const {
    if (name.empty()) throw BundleError(K::kInvalidArgument, "<writer>", "empty tensor name");
    if (names.count(name)) throw BundleError(K::kInvalidArgument, "<writer>", "duplicate tensor '" + name + "'");
  }
  static size_t numel(const std::string& name, const std::vector<int64_t>& shape) {
    size_t n = 1;
    for (int64_t d : shape) {
      if (d < 0) throw BundleError(K::kInvalidArgument, "<writer>", "tensor '" + name + "' has a negative dim");
      n *= static_cast<size_t>(d);
    }
    return n;
  }
};

BundleWriter::BundleWriter() : s_(std::make_unique<State>()) {}
BundleWriter::~BundleWriter() = default;
BundleWriter::BundleWriter(BundleWriter&&) noexcept = default;
BundleWriter& BundleWriter::operator=(BundleWriter&&) noexcept = default;

BundleWriter BundleWriter::from_run_dir(const std::string& dir, const TokenizerInfo& tokenizer) {
  auto read_text = [&](const std::string& path) {
    try {
      return read_input_file(path);
    } catch (const InputFileError& e) {
      throw BundleError(K::kInvalidArgument, dir, e.what());
    }
  };
  BundleWriter w;
  const std::string config_path = dir + "/config.json";
  const std::string config_text = read_text(config_path);
  json cfg;
  try {
    cfg = json::parse(config_text);
  } catch (const json::exception& e) {
    throw BundleError(K::kInvalidConfig, config_path, std::string("not valid JSON: ") + e.what());
  }
  const std::string mt = cfg.is_object() && cfg.contains("model_type") && cfg["model_type"].is_string()
                             ? cfg["model_type"].get<std::string>()
                             : std::string();
  if (mt == "transformer_lm") {
    w.set_model_json(BundleModelType::kTransformerLm, config_text);
  } else if (mt == "distilbert") {
    w.set_model_json(BundleModelType::kDistilBertClassifier, config_text);
  } else {
    throw BundleError(K::kUnknownModelType, config_path,
                      "model_type '" + mt + "' is not transformer_lm or distilbert");
  }
  const std::string weights = dir + "/model.safetensors";
  try {
    w.add_all_from(SafetensorsFile::open(weights));
  } catch (const SafetensorsError& e) {
    throw BundleError(K::kContainer, weights, e.what(), e.kind());
  }
  const char* tok_file = tokenizer.type == TokenizerType::kSentencePiece ? "/tokenizer.model" : "/vocab.txt";
  w.set_tokenizer(tokenizer, read_text(dir + tok_file));
  return w;
}

void BundleWriter::set_lm(const models::LmConfig& c) {
  s_->type = BundleModelType::kTransformerLm;
  s_->config = models::to_json(c);
  s_->has_model = true;
}

void BundleWriter::set_distilbert(const models::DistilBertConfig& c) {
  s_->type = BundleModelType::kDistilBertClassifier;
  s_->config = models::to_json(c);
  s_->has_model = true;
}

void BundleWriter::set_model_json(BundleModelType type, const std::string& config_json_text) {
  json j;
  try {
    j = json::parse(config_json_text);
  } catch (const json::exception& e) {
    throw BundleError(K::kInvalidConfig, "<writer>", std::string("config is not valid JSON: ") + e.what());
  }
  try {
    if (type == BundleModelType::kTransformerLm) {
      if (j.is_object() && j.contains("model_type") && j["model_type"] != "transformer_lm")
        throw std::runtime_error("config: model_type is " + j["model_type"].dump() + ", expected \"transformer_lm\"");
      set_lm(models::lm_config_from_json(j));
    } else {
      set_distilbert(models::distilbert_config_from_json(j));
    }
  } catch (const BundleError&) {
    throw;
  } catch (const std::exception& e) {
    throw BundleError(K::kInvalidConfig, "<writer>", e.what());
  }
}

void BundleWriter::set_tokenizer(const TokenizerInfo& info, std::string bytes) {
  if (info.tensor.empty()) throw BundleError(K::kInvalidArgument, "<writer>", "empty tokenizer tensor name");
  if (s_->names.count(info.tensor))
    throw BundleError(K::kInvalidArgument, "<writer>", "tokenizer tensor name '" + info.tensor + "' is already a tensor");
  s_->tokenizer = info;
  s_->tokenizer_bytes = std::move(bytes);
  s_->has_tokenizer = true;
}

void BundleWriter::set_tokenizer_file(const TokenizerInfo& info, const std::string& path) {
  std::string bytes;
  try {
    bytes = read_input_file(path);
  } catch (const InputFileError& e) {
    throw BundleError(K::kInvalidArgument, "<writer>", std::string("tokenizer file: ") + e.what());
  }
  set_tokenizer(info, std::move(bytes));
}

void BundleWriter::add_f32(const std::string& name, const std::vector<int64_t>& shape, const float* data) {
  s_->check_new_name(name);
  if (s_->has_tokenizer && name == s_->tokenizer.tensor)
    throw BundleError(K::kInvalidArgument, "<writer>", "'" + name + "' is the tokenizer tensor's name");
  const size_t n = State::numel(name, shape);
  State::Entry e{name, DType::F32, shape, std::vector<uint8_t>(n * 4)};
  if (n) std::memcpy(e.bytes.data(), data, n * 4);
  s_->f32.push_back(std::move(e));
  s_->names.insert(name);
}

void BundleWriter::add_f32(const std::string& name, const std::vector<int64_t>& shape,
                           const std::vector<float>& values) {
  if (values.size() != State::numel(name, shape))
    throw BundleError(K::kInvalidArgument, "<writer>",
                      "tensor '" + name + "': " + std::to_string(values.size()) + " values for shape " + shape_str(shape));
  add_f32(name, shape, values.data());
}

void BundleWriter::add_all_from(const SafetensorsFile& file) {
  for (const TensorView& t : file.tensors()) {
    std::vector<float> v = file.to_floats(t);
    add_f32(t.name, t.shape, v);
  }
}

void BundleWriter::add_raw(const std::string& name, DType dtype, const std::vector<int64_t>& shape,
                           const void* data, size_t nbytes) {
  s_->check_new_name(name);
  if (State::numel(name, shape) * dtype_size(dtype) != nbytes)
    throw BundleError(K::kInvalidArgument, "<writer>", "tensor '" + name + "': byte count does not match shape and dtype");
  State::Entry e{name, dtype, shape, std::vector<uint8_t>(nbytes)};
  if (nbytes) std::memcpy(e.bytes.data(), data, nbytes);
  s_->raw.push_back(std::move(e));
  s_->names.insert(name);
}

void BundleWriter::store_block_pruned(int64_t block_rows) {
  if (!s_->has_model) throw BundleError(K::kInvalidArgument, "<writer>", "store_block_pruned before the model is set");
  if (block_rows < 1) throw BundleError(K::kInvalidArgument, "<writer>", "block_rows must be >= 1");
  if (!s_->bp_layers.empty()) throw BundleError(K::kInvalidArgument, "<writer>", "weights are already block-pruned");
  const std::vector<TensorSpec> specs = s_->type == BundleModelType::kTransformerLm
                                            ? required_tensors(models::lm_config_from_json(s_->config))
                                            : required_tensors(models::distilbert_config_from_json(s_->config));
  for (const TensorSpec& spec : prunable_weights(specs)) {
    auto it = std::find_if(s_->f32.begin(), s_->f32.end(), [&](const State::Entry& e) { return e.name == spec.name; });
    if (it == s_->f32.end() || it->dtype != DType::F32 || it->shape != spec.shape) continue;  // the loader will say why
    std::vector<float> dense(it->bytes.size() / 4);
    std::memcpy(dense.data(), it->bytes.data(), it->bytes.size());
    const kernels::BpWeights w = kernels::bp_pack(dense.data(), spec.shape[0], spec.shape[1], block_rows);
    s_->f32.erase(it);
    s_->names.erase(spec.name);
    auto add_i32 = [&](const std::string& name, const std::vector<int32_t>& v) {
      s_->check_new_name(name);
      State::Entry e{name, DType::I32, {static_cast<int64_t>(v.size())}, std::vector<uint8_t>(v.size() * 4)};
      if (!v.empty()) std::memcpy(e.bytes.data(), v.data(), v.size() * 4);
      s_->f32.push_back(std::move(e));  // 4-byte elements: kept with the F32 weights
      s_->names.insert(name);
    };
    add_i32(spec.name + kBpBlockPtrSuffix, w.block_ptr);
    add_i32(spec.name + kBpColsSuffix, w.cols);
    add_f32(spec.name + kBpValuesSuffix, {static_cast<int64_t>(w.values.size())}, w.values);
    s_->bp_layers.push_back(spec.name);
  }
  s_->bp_block_rows = block_rows;
}

void BundleWriter::add_variant(const BundleVariant& v) { s_->variants.push_back(v); }

void BundleWriter::add_pattern_variant(const std::string& name, int64_t tile_rows, int64_t tile_cols,
                                       const std::map<std::string, kernels::PatternWeights>& layers) {
  if (layers.empty())
    throw BundleError(K::kInvalidArgument, "<writer>", "pattern variant '" + name + "' has no layers");
  BundleVariant v;
  v.name = name;
  v.kind = kPatternVariantKind;
  v.tile_rows = tile_rows;
  v.tile_cols = tile_cols;
  int64_t kept = 0, total = 0;
  for (const auto& [layer, w] : layers) {
    if (w.tile_rows != tile_rows || w.tile_cols != tile_cols)
      throw BundleError(K::kInvalidArgument, "<writer>",
                        "pattern variant '" + name + "' layer '" + layer + "' has " + std::to_string(w.tile_rows) +
                            "x" + std::to_string(w.tile_cols) + " tiles, the variant " + std::to_string(tile_rows) +
                            "x" + std::to_string(tile_cols));
    try {
      kernels::pattern_validate(w);
    } catch (const std::invalid_argument& e) {
      throw BundleError(K::kInvalidArgument, "<writer>", "pattern variant '" + name + "' layer '" + layer + "': " + e.what());
    }
    if (w.n_patterns > 255)
      throw BundleError(K::kInvalidArgument, "<writer>",
                        "pattern variant '" + name + "' layer '" + layer + "' has more than 255 patterns");
    kept += w.kept_weights();
    total += w.out_features * w.in_features;
  }
  for (const auto& [layer, w] : layers) {
    const std::string pt = pattern_patterns_tensor(name, layer), tt = pattern_tiles_tensor(name, layer);
    add_raw(pt, DType::U8, {w.n_patterns, tile_cols}, w.patterns.data(), w.patterns.size());
    add_raw(tt, DType::U8, {w.n_row_tiles(), w.n_col_tiles()}, w.tile_pattern.data(), w.tile_pattern.size());
    v.tensors.push_back(pt);
    v.tensors.push_back(tt);
    v.layers.push_back(layer);
  }
  v.sparsity = total > 0 ? 1.0 - static_cast<double>(kept) / static_cast<double>(total) : 0.0;
  s_->variants.push_back(std::move(v));
}

void BundleWriter::set_level_to_variant(const std::map<std::string, std::string>& table) {
  s_->level_to_variant = table;
}

void BundleWriter::set_adaptation(const AdaptationInfo& adaptation) { s_->adaptation = adaptation; }

void BundleWriter::set_device_profile_json(const std::string& json_text) {
  try {
    s_->device_profile = json::parse(json_text);
  } catch (const json::exception& e) {
    throw BundleError(K::kInvalidArgument, "<writer>", std::string("device profile is not valid JSON: ") + e.what());
  }
}

std::string BundleWriter::metadata_json() const {
  if (!s_->has_model) throw BundleError(K::kInvalidArgument, "<writer>", "no model config set");
  if (!s_->has_tokenizer) throw BundleError(K::kInvalidArgument, "<writer>", "no tokenizer set");
  json vars = json::array();
  for (const BundleVariant& v : s_->variants) {
    json jv = {{"name", v.name}, {"sparsity", v.sparsity}, {"tensors", v.tensors}};
    if (!v.kind.empty()) {
      jv["kind"] = v.kind;
      jv["tile_rows"] = v.tile_rows;
      jv["tile_cols"] = v.tile_cols;
      jv["layers"] = v.layers;
    }
    vars.push_back(std::move(jv));
  }
  json j = {{"format_version", kBundleFormatVersion},
            {"rt3_version", version_string()},
            {"model", {{"type", model_type_name(s_->type)}, {"config", s_->config}}},
            {"tokenizer",
             {{"type", tokenizer_type_name(s_->tokenizer.type)},
              {"tensor", s_->tokenizer.tensor},
              {"lowercase", s_->tokenizer.lowercase},
              {"max_len", s_->tokenizer.max_len}}},
            {"variants", vars},
            {"level_to_variant", s_->level_to_variant},
            {"device_profile", s_->device_profile},
            {"adaptation", s_->adaptation ? adaptation_to_json(*s_->adaptation) : json(nullptr)}};
  if (s_->tokenizer.text_pair) j["tokenizer"]["text_pair"] = true;  // absent = single texts (older bundles)
  if (!s_->bp_layers.empty()) j["bp"] = {{"block_rows", s_->bp_block_rows}, {"layers", s_->bp_layers}};
  return j.dump();
}

namespace {
// Runs the loader's checks on what a writer holds, laid out as write() will lay it out.
template <typename Entries>
void describe_entries(const Entries& entries, TensorMap& m, uint64_t& offset) {
  for (const auto& e : entries) {
    m[e.name] = TensorDesc{e.dtype, e.shape, e.bytes.data(), e.bytes.size(), offset};
    offset += e.bytes.size();
  }
}
}  // namespace

void BundleWriter::build(const std::string& source, SafetensorsWriter& w) const {
  const std::string meta = metadata_json();
  TensorMap m;
  uint64_t offset = 0;
  describe_entries(s_->f32, m, offset);
  describe_entries(s_->raw, m, offset);
  m[s_->tokenizer.tensor] = TensorDesc{DType::U8,
                                       {static_cast<int64_t>(s_->tokenizer_bytes.size())},
                                       reinterpret_cast<const uint8_t*>(s_->tokenizer_bytes.data()),
                                       s_->tokenizer_bytes.size(),
                                       offset};
  validate(source, {{kBundleMetadataKey, meta}}, m);
  w.set_metadata(kBundleMetadataKey, meta);
  for (const auto& e : s_->f32) w.add(e.name, e.dtype, e.shape, e.bytes);
  for (const auto& e : s_->raw) w.add(e.name, e.dtype, e.shape, e.bytes);
  w.add(s_->tokenizer.tensor, DType::U8, {static_cast<int64_t>(s_->tokenizer_bytes.size())},
        s_->tokenizer_bytes.data(), s_->tokenizer_bytes.size());
}

std::vector<uint8_t> BundleWriter::to_bytes() const {
  try {
    SafetensorsWriter w;
    build("<writer>", w);
    return w.to_bytes();
  } catch (const SafetensorsError& e) {
    throw BundleError(K::kContainer, "<writer>", e.what(), e.kind());
  }
}

void BundleWriter::write(const std::string& path) const {
  try {
    SafetensorsWriter w;
    build(path, w);
    w.write(path);
  } catch (const SafetensorsError& e) {
    throw BundleError(K::kContainer, path, e.what(), e.kind());
  }
}

}  // namespace rt3::format
