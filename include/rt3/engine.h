#pragma once
// rt3::Engine: the public C++ API of the RT3 runtime. Loads a model bundle (docs/format.md) and
// runs it: classification for a DistilBERT bundle, text generation for a Transformer LM bundle.
// The C API (rt3/rt3.h) is a thin wrapper of this class.
//
// Thread-safety: an Engine owns its thread pool, packed weights and scratch buffers; there is no
// global state. Calls on one Engine are serialised by an internal mutex (safe to call from
// several threads, but they run one at a time). Different Engines are fully independent and
// may run concurrently. The const accessors (model_type(), labels(), ...) never block.
//
// Run-time variants (docs/design.md "Run time"): variant 0 is "base" (the weights as stored, dense or
// block-pruned); 1..K are the bundle's pattern variants in metadata order, all packed at load.
// select_variant() is one atomic store and takes no lock: it never waits for an inference. Each
// inference (classify*, lm_logits, generate) reads the active variant once when it starts and
// runs entirely on it (every decode step of a generate too), so a switch during an inference
// never tears it: the running inference finishes on its variant, the next one uses the new one.
// Results say which variant they ran on.
//
// Adaptation (docs/adapt.md): instead of select_variant() (manual mode), the engine can follow
// the CPU by itself: set_adapt_mode(kTable) + set_cpu_khz() applies the bundle's level table,
// kCpufreq reads cpufreq itself, kDeadline keeps measured latency within set_deadline_ms() with no
// OS signal at all. Every result's InferenceInfo says which variant ran and why, with its latency
// and predicted energy; adapt_stats() totals them per variant.
//
// Errors: every failure throws rt3::Error (a std::runtime_error) with a message that names the
// file or the argument at fault, and a code(). Nothing in the runtime calls exit().
//
// This header includes only the standard library: no SIMD, no JSON, no third-party headers.
#include <chrono>
#include <cstdint>
#include <memory>
#include <stdexcept>
#include <string>
#include <utility>
#include <vector>

namespace rt3 {

class Error : public std::runtime_error {
 public:
  enum class Code {
    kLoad,             // the bundle could not be read or failed validation
    kInvalidArgument,  // bad argument (null pointer, id outside the vocab, wrong model type, ...)
    kTooLong,          // input longer than the model's context (max_len / max positions)
    kInternal,         // anything else (out of memory, a bug)
    kNonFinite,        // the model computed NaN or Inf (weights too large for fp32): no result
  };
  Error(Code code, const std::string& message) : std::runtime_error(message), code_(code) {}
  Code code() const noexcept { return code_; }

 private:
  Code code_;
};

enum class ModelType { kTransformerLm, kDistilBertClassifier };

struct EngineOptions {
  int threads = 1;  // worker threads of this engine's pool (>= 1; the caller counts as one)
  // Where cpufreq mode reads cpu<N>/cpufreq/scaling_cur_freq (tests use a fake tree).
  std::string cpufreq_root = "/sys/devices/system/cpu";
};

// How the engine picks the variant of each inference (docs/adapt.md). The app chooses:
//   kManual   - select_variant() decides (the default);
//   kTable    - the app or OS reports the CPU frequency (set_cpu_khz); the engine snaps it to the
//               bundle's DVFS levels and runs the variant rt3 search chose for that level;
//   kCpufreq  - the same table, fed by the engine itself: before each inference it reads the
//               current frequency of the CPU it runs on from cpufreq sysfs;
//   kDeadline - closed loop on the engine's own measured latencies against set_deadline_ms():
//               needs no OS access and reacts alike to lower clocks, throttling, little cores and
//               contention. Uses the per-variant latency models the bundle carries.
enum class AdaptMode { kManual, kTable, kCpufreq, kDeadline };
const char* adapt_mode_name(AdaptMode mode);  // "manual", "table", "cpufreq", "deadline"

// What ran and why, for one inference.
struct InferenceInfo {
  int variant = 0;               // index into variants()
  AdaptMode mode = AdaptMode::kManual;
  uint64_t cpu_khz = 0;          // table / cpufreq: the frequency that decided (0: none)
  uint64_t level_khz = 0;        // the bundle level it snapped to (0: none)
  double deadline_ms = 0;        // set_deadline_ms() in force (0: none)
  double predicted_ms = -1;      // policy's prediction for this variant (< 0: none; see docs/adapt.md)
  double slowdown = 0;           // deadline mode: measured / modelled latency that decided (0: none yet)
  double latency_ms = 0;         // measured wall time of the inference
  double waited_ms = 0;          // from the request's arrival to the inference's start (0: no arrival given)
  bool deadline_missed = false;  // waited_ms + latency_ms > deadline_ms (only with a deadline)
  // Predicted CPU energy of this inference at its level (mJ): active power of the bundle's device
  // profile at level_khz x the variant's modelled latency there (measured latency without a
  // model). < 0 when unknown (no usable profile, or no level known in this mode).
  double energy_mj = -1;
};

// Totals per variant since load or reset_adapt_stats() (relaxed counters: exact once inferences
// have finished).
struct VariantStats {
  uint64_t inferences = 0;
  double seconds = 0;        // measured inference time
  uint64_t misses = 0;       // inferences over the deadline in force
  double energy_mj = 0;      // sum of InferenceInfo::energy_mj where known
  uint64_t energy_inferences = 0;  // inferences whose energy was known
};

struct ClassifyResult {
  int label = 0;                     // argmax of the logits
  std::string label_name;            // config id2label[label]
  std::vector<float> probabilities;  // softmax of the logits
  std::vector<float> logits;
  int variant = 0;                   // the variant the inference ran on (index into variants())
  InferenceInfo info;                // which variant ran, why, how long, predicted energy
};

// When a request arrived, on the engine's clock. Passed to an inference, it lets deadline mode
// count the time the request already waited (in the app's queue, or for this engine's lock behind
// another call): a late request runs on a variant that fits the time it has left, and a miss is
// counted on the response time (docs/adapt.md "Requests that waited"). The default value means
// "arrived now".
using Arrival = std::chrono::steady_clock::time_point;

struct GenerateOptions {
  int max_new_tokens = 32;
  // Greedy (argmax) when true; otherwise sample from the top_k most likely tokens
  // (top_k <= 0 = whole vocab) after dividing the logits by temperature (> 0).
  bool greedy = true;
  int top_k = 40;
  float temperature = 1.0f;
  uint64_t seed = 0;        // sampling seed: the same seed, prompt and options give the same text
  bool stop_at_eos = true;  // stop after the tokenizer's end-of-sequence id is produced
  Arrival arrival{};        // when the request arrived (see Arrival)
};

struct GenerateResult {
  std::string text;                  // the generated continuation only (decoded token_ids)
  std::vector<int32_t> token_ids;    // generated ids (includes the eos that stopped it, if any)
  std::vector<int32_t> prompt_ids;   // the context fed to the model before generating
  bool stopped_at_eos = false;
  int variant = 0;                   // the variant the whole generation ran on
  InferenceInfo info;                // the whole generation is one inference
};

// One run-time variant of an engine (for reports such as rt3 inspect / rt3 bench switch).
struct VariantInfo {
  std::string name;          // "base" or the bundle's pattern variant name
  std::string kind;          // "base" or "pattern"
  // Fraction of the prunable weights this variant does not compute: pattern variants, over
  // the layers they prune (bundle metadata); base: 0 when dense, the block-pruned share else.
  double sparsity = 0.0;
  size_t packed_bytes = 0;   // bytes of the packed prunable Linears this variant runs
  int pattern_layers = 0;    // prunable Linears that run a pattern kernel in this variant
};

class Engine {
 public:
  // Loads and validates the bundle, builds the tokenizer and packs the weights. The file is not
  // needed afterwards. Throws Error kLoad with the bundle's validation message.
  static std::unique_ptr<Engine> load(const std::string& path, const EngineOptions& options = {});
  ~Engine();
  Engine(const Engine&) = delete;
  Engine& operator=(const Engine&) = delete;

  ModelType model_type() const;
  const char* model_type_name() const;  // "transformer_lm" / "distilbert_classifier"
  int threads() const;
  int64_t vocab_size() const;
  // Longest input in tokens: LM max_len; classifier: the tokenizer's max_len (texts are
  // truncated to it, [CLS]/[SEP] included).
  int64_t max_len() const;
  // Classifier label names in id order (empty for an LM).
  const std::vector<std::string>& labels() const;

  // ---- run-time variants (see the top of this file) -------------------------------------------
  // Names in index order: variants()[0] == "base". Fixed after load; never block.
  const std::vector<std::string>& variants() const;
  const std::vector<VariantInfo>& variant_info() const;
  // Makes `index` / `name` the variant of every inference that starts from now on. Lock-free
  // (one atomic store), safe from any thread, also while another thread runs an inference.
  // Unknown index or name: Error kInvalidArgument (the active variant is unchanged).
  void select_variant(int index);
  void select_variant(const std::string& name);
  int active_variant() const;

  // ---- adaptation (see AdaptMode; docs/adapt.md) ----------------------------------------------
  // Switches mode; waits for a running inference to finish and restarts the policy's state.
  // Error kInvalidArgument when the bundle cannot serve the mode (adapt_support() says why), when
  // cpufreq files cannot be opened (the message names the file and the permission), or deadline
  // mode without a deadline (set_deadline_ms(), or the one the bundle was searched for).
  // In a mode other than manual, select_variant() fails: the policy owns the choice.
  void set_adapt_mode(AdaptMode mode);
  AdaptMode adapt_mode() const;
  // "" when the bundle can serve `mode`, else what it lacks.
  std::string adapt_support(AdaptMode mode) const;
  // Lock-free, any thread, any time. set_cpu_khz: khz > 0 (table mode uses the latest; before the
  // first call it assumes the highest level; in deadline mode it only dates the energy).
  // set_deadline_ms: finite ms > 0 (deadline mode follows it; every mode counts misses against it).
  void set_cpu_khz(uint64_t khz);
  void set_deadline_ms(double ms);
  double deadline_ms() const;  // 0 when none
  // Per variant (index order of variants()); reset zeroes them.
  std::vector<VariantStats> adapt_stats() const;
  void reset_adapt_stats();
  // True when the bundle's device profile gives per-inference energy; energy_support() is "" then,
  // else it says why not.
  bool has_energy_model() const;
  std::string energy_support() const;

  // Tokenizer access. LM: SentencePiece ids, no specials. Classifier: [CLS] text [SEP],
  // truncated to max_len().
  std::vector<int32_t> tokenize(const std::string& text) const;
  // Classifier: [CLS] a [SEP] b [SEP] truncated to max_len() the way Hugging Face's tokenizers do
  // with truncation="longest_first" (tokens go from the end of the longer text first). There are
  // no token type ids: DistilBERT has no segment embeddings. LM: Error kInvalidArgument.
  std::vector<int32_t> tokenize_pair(const std::string& a, const std::string& b) const;
  std::string detokenize(const std::vector<int32_t>& ids) const;

  // ---- classifier (kDistilBertClassifier; Error kInvalidArgument otherwise) -----------------
  // Tokenizes each text ([CLS] ... [SEP], truncated to max_len()), pads the batch to its longest
  // member, runs one batched forward.
  std::vector<ClassifyResult> classify(const std::vector<std::string>& texts);
  ClassifyResult classify(const std::string& text);
  // Same, for a request that arrived at `arrival` (see Arrival).
  std::vector<ClassifyResult> classify(const std::vector<std::string>& texts, Arrival arrival);
  ClassifyResult classify(const std::string& text, Arrival arrival);
  // Sentence pairs (entailment, paraphrase, ...): each pair is tokenize_pair(first, second), then
  // the same batched forward. Any classifier accepts pairs, as in Hugging Face; a bundle trained on
  // pairs (rt3 train --text-pair-column) says so in trained_on_pairs().
  std::vector<ClassifyResult> classify_pairs(const std::vector<std::pair<std::string, std::string>>& pairs);
  ClassifyResult classify_pair(const std::string& a, const std::string& b);
  // True when the bundle's classifier was trained on sentence pairs (its tokenizer.text_pair).
  bool trained_on_pairs() const;
  // Raw forward: ids and mask [batch, seq_len] row-major -> logits [batch, num_labels].
  // seq_len above the model's positions: Error kTooLong.
  std::vector<float> classify_logits(const int32_t* ids, const int32_t* mask, int64_t batch, int64_t seq_len);
  // Same; *variant_out (may be null) receives the variant the forward ran on.
  std::vector<float> classify_logits(const int32_t* ids, const int32_t* mask, int64_t batch, int64_t seq_len,
                                     int* variant_out);
  // Same; *info (may be null) receives what ran and why.
  std::vector<float> classify_logits(const int32_t* ids, const int32_t* mask, int64_t batch, int64_t seq_len,
                                     InferenceInfo* info);
  // Same, for a request that arrived at `arrival` (see Arrival).
  std::vector<float> classify_logits(const int32_t* ids, const int32_t* mask, int64_t batch, int64_t seq_len,
                                     InferenceInfo* info, Arrival arrival);

  // ---- language model (kTransformerLm; Error kInvalidArgument otherwise) --------------------
  // Context = [eos] + tokenize(prompt) when the tokenizer has an eos id (the training stream puts
  // eos before every document), else tokenize(prompt). The context is prefilled in one forward,
  // then one token per step with the KV cache. Error kTooLong when context + max_new_tokens
  // exceeds max_len(), checked before any work.
  GenerateResult generate(const std::string& prompt, const GenerateOptions& options = {});
  // Full forward: logits [n, vocab] for ids[0..n). n > max_len(): Error kTooLong.
  std::vector<float> lm_logits(const int32_t* ids, int64_t n);
  // Same; *variant_out (may be null) receives the variant the forward ran on.
  std::vector<float> lm_logits(const int32_t* ids, int64_t n, int* variant_out);
  std::vector<float> lm_logits(const int32_t* ids, int64_t n, InferenceInfo* info);
  std::vector<float> lm_logits(const int32_t* ids, int64_t n, InferenceInfo* info, Arrival arrival);

 private:
  struct Impl;
  explicit Engine(std::unique_ptr<Impl> impl);
  // One batched forward over already tokenized inputs (padded to the longest), as ClassifyResults.
  std::vector<ClassifyResult> classify_tokenized(const std::vector<std::vector<int32_t>>& encoded, Arrival arrival);
  std::unique_ptr<Impl> impl_;
};

}  // namespace rt3
