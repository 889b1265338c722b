#pragma once
// The RT3 model bundle: one safetensors file that holds everything a device needs to run a model
// (weights, config, tokenizer, pattern-set variants, level->variant table, device profile).
// Spec: docs/format.md, "Bundle metadata". The container rules are SafetensorsFile's; on top of
// them Bundle::open checks the rt3 metadata and every tensor against the model config, strictly:
// a Bundle in hand is always complete and consistent, so the model code never re-checks shapes.
//
// Writing: BundleWriter collects the config, tokenizer bytes and tensors, runs the same checks
// as the loader on what it holds (so a writer can not produce a file the loader rejects), and
// writes atomically through SafetensorsWriter.

#include <cstddef>
#include <cstdint>
#include <map>
#include <memory>
#include <optional>
#include <stdexcept>
#include <string>
#include <string_view>
#include <vector>

#include "runtime/format/bundle_adaptation.h"
#include "runtime/format/safetensors.h"
#include "runtime/kernels/bp_linear.h"
#include "runtime/kernels/pattern_linear.h"
#include "runtime/model/config.h"

namespace rt3 {
class SpmModel;
class WordPieceTokenizer;
}  // namespace rt3

namespace rt3::format {

// Version of the metadata schema this code writes. It reads this one and every older one
// (kOldestBundleFormatVersion..): version 2 added the optional "adaptation" field.
inline constexpr int kBundleFormatVersion = 2;
inline constexpr int kOldestBundleFormatVersion = 1;
// Key in safetensors "__metadata__" that holds the RT3 JSON.
inline constexpr const char* kBundleMetadataKey = "rt3";
// Tensor name BundleWriter uses for the tokenizer bytes (the loader accepts any name the
// metadata gives).
inline constexpr const char* kDefaultTokenizerTensor = "rt3.tokenizer";

enum class BundleErrorKind {
  kContainer,            // the safetensors container is invalid (container_kind() says how)
  kNoMetadata,           // no __metadata__["rt3"]
  kMetadataNotJson,      // __metadata__["rt3"] is not valid JSON or not a JSON object
  kMissingField,         // a required field is absent or has the wrong JSON type
  kUnsupportedVersion,   // format_version is not one this code reads
  kUnknownModelType,     // model.type is not transformer_lm / distilbert_classifier
  kInvalidConfig,        // model.config rejected by the config validation
  kMissingTensor,        // a tensor the config requires (or the metadata names) is absent
  kWrongShape,           // a tensor's shape differs from the one the config implies
  kWrongDtype,           // a weight is not F32, or the tokenizer tensor is not U8
  kMisalignedTensor,     // an F32 tensor does not start on a 4-byte boundary of the data buffer
  kUnexpectedTensor,     // a tensor that neither the model, the tokenizer nor a variant claims
  kNonFiniteWeight,      // a weight holds NaN or +-inf
  kUnknownTokenizerType, // tokenizer.type is not sentencepiece / wordpiece
  kBadTokenizer,         // the tokenizer bytes do not load, or lack a required special token
  kTokenizerMismatch,    // tokenizer ids or max_len do not fit the model
  kBadVariants,          // variants / level_to_variant / device_profile malformed
  kBadSparseWeight,      // a block-pruned weight's metadata or index tensors are inconsistent
  kInvalidArgument,      // writer misuse (no model set, duplicate tensor, bad argument)
};

// Stable identifier of a kind, e.g. "MissingTensor".
const char* bundle_error_kind_name(BundleErrorKind kind);

class BundleError : public std::runtime_error {
 public:
  // Message: "bundle <source>: <detail> [<Kind>]".
  BundleError(BundleErrorKind kind, const std::string& source, const std::string& detail,
              SafetensorsErrorKind container_kind = SafetensorsErrorKind::kInvalidArgument);
  BundleErrorKind kind() const noexcept { return kind_; }
  const std::string& source() const noexcept { return source_; }
  // Meaningful only when kind() == kContainer.
  SafetensorsErrorKind container_kind() const noexcept { return container_kind_; }

 private:
  BundleErrorKind kind_;
  std::string source_;
  SafetensorsErrorKind container_kind_;
};

enum class BundleModelType { kTransformerLm, kDistilBertClassifier };
enum class TokenizerType { kSentencePiece, kWordPiece };

// "transformer_lm" / "distilbert_classifier"; "sentencepiece" / "wordpiece".
const char* model_type_name(BundleModelType t);
const char* tokenizer_type_name(TokenizerType t);

struct TokenizerInfo {
  TokenizerType type = TokenizerType::kSentencePiece;
  std::string tensor = kDefaultTokenizerTensor;  // U8 tensor with the .model / vocab.txt bytes
  bool lowercase = false;  // wordpiece: lower-case + strip accents (BERT uncased)
  int64_t max_len = 0;     // tokens per input incl. specials; 0 = the model's maximum
  // wordpiece: the classifier was trained on sentence pairs ([CLS] a [SEP] b [SEP]), so inputs
  // are pairs. Optional in the file ("text_pair", written only when true), so older bundles and
  // older readers are unaffected.
  bool text_pair = false;
};

// A variant (filled in by later pipeline stages). Its tensors are stored in the same file; the
// loader checks they exist and exempts them from the unexpected-tensor rule. kind "" is a
// generic variant (tensors only checked present); kind "pattern" (kPatternVariantKind) is a
// pattern set the engine can run: for each of its `layers` (prunable weights stored dense) the
// file holds rt3.variant.<name>.<layer>.patterns (U8 [n_patterns, tile_cols]) and
// rt3.variant.<name>.<layer>.tiles (U8 [n_row_tiles, n_col_tiles]), kernels::PatternWeights'
// fields, validated at load; `sparsity` is 1 - kept / total over the listed layers (+-0.02).
inline constexpr const char* kPatternVariantKind = "pattern";
struct BundleVariant {
  std::string name;
  double sparsity = 0.0;              // in [0, 1]
  std::vector<std::string> tensors;   // names of the tensors this variant uses
  std::string kind = {};              // "" (generic) or "pattern"
  int64_t tile_rows = 0, tile_cols = 0;  // pattern variants only
  std::vector<std::string> layers = {};  // pattern variants only: the weights it prunes
  bool is_pattern() const { return kind == kPatternVariantKind; }
};
// Names of a pattern variant's tensors for one layer.
std::string pattern_patterns_tensor(const std::string& variant, const std::string& layer);
std::string pattern_tiles_tensor(const std::string& variant, const std::string& layer);

// One tensor a model config requires: name and shape (dtype is always F32).
struct TensorSpec {
  std::string name;
  std::vector<int64_t> shape;
};
// Every parameter of the model, in the order the exporter writes them (= module order).
std::vector<TensorSpec> required_tensors(const models::LmConfig& c);
std::vector<TensorSpec> required_tensors(const models::DistilBertConfig& c);

// Block-pruned storage of a prunable weight <name> (metadata "bp": {"block_rows": B, "layers":
// [names]}): three tensors instead of the dense one, in kernels::BpWeights' layout:
//   <name>.bp_block_ptr I32 [n_blocks + 1], <name>.bp_cols I32 [kept columns],
//   <name>.bp_values F32 [stored weights].
inline constexpr const char* kBpBlockPtrSuffix = ".bp_block_ptr";
// Largest block height of a block-pruned layer the loader accepts; `rt3 prune bp --block-rows`
// is bounded by the same value so a run never produces weights its export would refuse.
inline constexpr int64_t kMaxBpBlockRows = int64_t{1} << 20;
inline constexpr const char* kBpColsSuffix = ".bp_cols";
inline constexpr const char* kBpValuesSuffix = ".bp_values";
// The weights that block pruning may store that way: every Linear inside a Transformer layer
// (attention q/k/v/out, FFN lin1/lin2), in required_tensors() order.
std::vector<TensorSpec> prunable_weights(const std::vector<TensorSpec>& required);

class Bundle {
 public:
  // Reads and validates. Throws BundleError (kContainer wraps the SafetensorsError).
  static Bundle open(const std::string& path, const LoadOptions& options = {});
  static Bundle from_bytes(const std::vector<uint8_t>& bytes, const std::string& source_name,
                           const LoadOptions& options = {});

  Bundle(Bundle&&) noexcept;
  Bundle& operator=(Bundle&&) noexcept;
  ~Bundle();

  const std::string& source() const;
  int format_version() const;
  const std::string& rt3_version() const;  // library version that wrote the file
  BundleModelType model_type() const;
  // Throw BundleError kInvalidArgument when the bundle holds the other model type.
  const models::LmConfig& lm_config() const;
  const models::DistilBertConfig& distilbert_config() const;

  const TokenizerInfo& tokenizer() const;
  std::string_view tokenizer_bytes() const;  // valid while the Bundle lives
  // The tokenizer, already loaded by the validation (the one matching tokenizer().type; the
  // other is null). Immutable, so sharing it between threads is safe.
  std::shared_ptr<const SpmModel> sentencepiece() const;
  std::shared_ptr<const WordPieceTokenizer> wordpiece() const;

  const std::vector<BundleVariant>& variants() const;
  // DVFS level (kHz, a positive integer key) -> variant name, as rt3 search decided it.
  const std::map<std::string, std::string>& level_to_variant() const;
  // Per-variant latency models and accuracies for the engine's adaptation policy; empty when the
  // bundle has none (format version 1, or written without them).
  const std::optional<AdaptationInfo>& adaptation() const;
  // The device profile as compact JSON text, "null" when none.
  const std::string& device_profile_json() const;
  // The whole __metadata__["rt3"] JSON text as stored.
  const std::string& metadata_json() const;

  // A required weight (checked F32, right shape, aligned, finite at load). Zero-copy: valid
  // while the Bundle lives. Throws BundleError kMissingTensor for a name the model does not have.
  const float* weight(std::string_view name) const;
  const SafetensorsFile& file() const;

  // Block-pruned weights: is_block_pruned(name) says whether <name> is stored that way (then
  // weight(name) throws and bp_weights(name) returns a validated copy of the packed form).
  bool is_block_pruned(std::string_view name) const;
  kernels::BpWeights bp_weights(std::string_view name) const;
  int64_t bp_block_rows() const;  // 0 when no weight is block-pruned

  // Pattern variants (kind "pattern") in metadata order: what the engine numbers 1..K.
  std::vector<const BundleVariant*> pattern_variants() const;
  // The layers a pattern variant prunes, and one layer's validated PatternWeights (a copy).
  // Throw BundleError kInvalidArgument for a name that is not a pattern variant / layer of it.
  const std::vector<std::string>& pattern_variant_layers(std::string_view variant) const;
  kernels::PatternWeights pattern_weights(std::string_view variant, std::string_view layer) const;

 private:
  struct State;
  explicit Bundle(std::unique_ptr<State> s);
  std::unique_ptr<State> s_;
};

class BundleWriter {
 public:
  BundleWriter();
  ~BundleWriter();

  // Everything from a training run directory, ready to write():
  //   <dir>/config.json        model config; model_type "transformer_lm" -> LM, "distilbert" ->
  //                            classifier (HF config.json)
  //   <dir>/model.safetensors  weights under the parameter names (F16/BF16 converted to F32)
  //   <dir>/tokenizer.model    when tokenizer.type is sentencepiece
  //   <dir>/vocab.txt          when tokenizer.type is wordpiece
  // `tokenizer` gives type, lowercase and max_len (its tensor name is kept). Throws BundleError:
  // kInvalidArgument for a missing/unreadable file, kInvalidConfig / kUnknownModelType for the
  // config, kContainer for a corrupt model.safetensors.
  static BundleWriter from_run_dir(const std::string& dir, const TokenizerInfo& tokenizer);
  BundleWriter(BundleWriter&&) noexcept;
  BundleWriter& operator=(BundleWriter&&) noexcept;

  // The model. Exactly one of these; calling again replaces it.
  void set_lm(const models::LmConfig& c);
  void set_distilbert(const models::DistilBertConfig& c);
  // From the run directory's config.json: type "transformer_lm" (to_json(LmConfig)) or
  // "distilbert_classifier" (HF config.json). Throws BundleError kInvalidConfig /
  // kUnknownModelType.
  void set_model_json(BundleModelType type, const std::string& config_json_text);

  // The tokenizer: bytes of a SentencePiece .model file or of a vocab.txt.
  void set_tokenizer(const TokenizerInfo& info, std::string bytes);
  // Reads the file; throws BundleError kInvalidArgument naming it when it cannot be read.
  void set_tokenizer_file(const TokenizerInfo& info, const std::string& path);

  // An F32 weight (copied). Duplicate names: kInvalidArgument.
  void add_f32(const std::string& name, const std::vector<int64_t>& shape, const float* data);
  void add_f32(const std::string& name, const std::vector<int64_t>& shape,
               const std::vector<float>& values);
  // Every tensor of a safetensors file (e.g. <run>/model.safetensors). F16/BF16 are converted
  // to F32. Names are kept as they are.
  void add_all_from(const SafetensorsFile& file);
  // Any-dtype tensor for variant data (index lists, masks). It must be listed by a variant.
  void add_raw(const std::string& name, DType dtype, const std::vector<int64_t>& shape,
               const void* data, size_t nbytes);

  // Replaces every prunable weight added so far (prunable_weights) by its block-pruned form
  // with blocks of block_rows rows (kernels::bp_pack: a group is kept iff it has a nonzero).
  // Call after the weights and the model are set. Throws BundleError kInvalidArgument.
  void store_block_pruned(int64_t block_rows);

  void add_variant(const BundleVariant& v);
  // A pattern variant: per layer (a prunable weight stored dense) its PatternWeights, whose
  // tile shape must be tile_rows x tile_cols. Adds the two U8 tensors per layer and the
  // metadata entry (kind "pattern", sparsity computed over the layers). Throws BundleError
  // kInvalidArgument for an empty map, a tile shape mismatch or PatternWeights that fail
  // pattern_validate; shapes against the model are checked when the bundle is built.
  void add_pattern_variant(const std::string& name, int64_t tile_rows, int64_t tile_cols,
                           const std::map<std::string, kernels::PatternWeights>& layers);
  void set_level_to_variant(const std::map<std::string, std::string>& table);
  // Latency models / accuracies per variant (names checked when the bundle is built).
  void set_adaptation(const AdaptationInfo& adaptation);
  // Compact JSON text of an object, or "null".
  void set_device_profile_json(const std::string& json_text);

  // The metadata JSON this writer would store (for inspection).
  std::string metadata_json() const;
  // Validates with the loader's rules (throws BundleError), then builds the file image.
  std::vector<uint8_t> to_bytes() const;
  // Validates, then writes atomically (temporary file + fsync + rename).
  void write(const std::string& path) const;

 private:
  struct State;
  // Validates (errors name `source`) and hands the tensors to `w` in file order.
  void build(const std::string& source, SafetensorsWriter& w) const;
  std::unique_ptr<State> s_;
};

}  // namespace rt3::format
