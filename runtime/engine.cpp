#include "rt3/engine.h"

#include <algorithm>
#include <atomic>
#include <cmath>
#include <limits>
#include <mutex>
#include <new>
#include <numeric>
#include <random>
#include <utility>

#include "runtime/adapt/adapter.h"
#include "runtime/adapt/bundle_spec.h"
#include "runtime/format/bundle.h"
#include "runtime/model/distilbert.h"
#include "runtime/model/transformer_lm.h"
#include "runtime/threads/thread_pool.h"
#include "runtime/tokenizer/spm_model.h"
#include "runtime/tokenizer/wordpiece.h"

namespace rt3 {
namespace {

// Runs f, turning every exception into rt3::Error with a code.
template <typename F>
auto guarded(const char* what, F&& f) -> decltype(f()) {
  try {
    return f();
  } catch (const Error&) {
    throw;
  } catch (const format::BundleError& e) {
    throw Error(Error::Code::kLoad, e.what());
  } catch (const std::length_error& e) {
    throw Error(Error::Code::kTooLong, std::string(what) + ": " + e.what());
  } catch (const std::out_of_range& e) {
    throw Error(Error::Code::kInvalidArgument, std::string(what) + ": " + e.what());
  } catch (const std::invalid_argument& e) {
    throw Error(Error::Code::kInvalidArgument, std::string(what) + ": " + e.what());
  } catch (const std::bad_alloc&) {
    throw Error(Error::Code::kInternal, std::string(what) + ": out of memory");
  } catch (const std::exception& e) {
    throw Error(Error::Code::kInternal, std::string(what) + ": " + e.what());
  }
}

std::vector<float> softmax(const std::vector<float>& logits) {
  std::vector<float> p(logits.size());
  if (logits.empty()) return p;
  const float mx = *std::max_element(logits.begin(), logits.end());
  double sum = 0.0;
  for (size_t i = 0; i < logits.size(); ++i) sum += std::exp(static_cast<double>(logits[i]) - mx);
  for (size_t i = 0; i < logits.size(); ++i)
    p[i] = static_cast<float>(std::exp(static_cast<double>(logits[i]) - mx) / sum);
  return p;
}

int32_t argmax(const float* x, int64_t n) {
  int64_t best = 0;
  for (int64_t i = 1; i < n; ++i)
    if (x[i] > x[best]) best = i;  // ties: lowest id
  return static_cast<int32_t>(best);
}

// Top-k sampling with our own uniform draw (std:: distributions differ between standard
// libraries; this keeps a seed's output the same everywhere).
int32_t sample_top_k(const float* logits, int64_t n, int top_k, float temperature, std::mt19937_64& rng,
                     std::vector<int32_t>& idx, std::vector<double>& prob) {
  const int64_t k = (top_k <= 0 || top_k > n) ? n : top_k;
  idx.resize(static_cast<size_t>(n));
  std::iota(idx.begin(), idx.end(), 0);
  // Larger logit first; ties by lower id, so the order is fully determined.
  auto better = [&](int32_t a, int32_t b) { return logits[a] > logits[b] || (logits[a] == logits[b] && a < b); };
  std::partial_sort(idx.begin(), idx.begin() + k, idx.end(), better);
  prob.resize(static_cast<size_t>(k));
  const double mx = logits[idx[0]];
  double sum = 0.0;
  for (int64_t i = 0; i < k; ++i) {
    prob[i] = std::exp((static_cast<double>(logits[idx[i]]) - mx) / temperature);
    sum += prob[i];
  }
  const double u = static_cast<double>(rng() >> 11) * 0x1.0p-53 * sum;  // [0, sum)
  double acc = 0.0;
  for (int64_t i = 0; i < k; ++i) {
    acc += prob[i];
    if (u < acc) return idx[i];
  }
  return idx[k - 1];
}

// Finite weights can still overflow fp32 inside a layer (3e38 * 3e38): such logits are no answer,
// so they are an error rather than NaN probabilities reported as a result.
void require_finite(const float* v, size_t n, const char* what) {
  for (size_t i = 0; i < n; ++i)
    if (!std::isfinite(v[i]))
      throw Error(Error::Code::kNonFinite, std::string(what) +
                                               ": the model computed NaN or Inf (its weights overflow fp32); "
                                               "check the bundle's weights");
}

}  // namespace

struct Engine::Impl {
  std::mutex mu;  // serialises every call that touches scratch or state; never taken by select_variant
  // The adaptation policy; it also holds the active variant (an atomic on its own cache line, the
  // only thing select_variant touches). Decides under `mu` at the start of every inference.
  std::unique_ptr<adapt::Adapter> adapter;
  alignas(64) std::vector<std::string> variant_names;  // [0] = "base"; immutable after load
  std::vector<VariantInfo> variant_info;
  ModelType type = ModelType::kTransformerLm;
  int threads = 1;
  std::unique_ptr<ThreadPool> pool;
  format::TokenizerInfo tok;
  std::shared_ptr<const SpmModel> spm;
  std::shared_ptr<const WordPieceTokenizer> wp;
  std::vector<std::string> labels;
  int64_t vocab = 0, max_len = 0;
  // LM
  std::unique_ptr<models::TransformerLm> lm;
  models::LmState lm_state;
  std::vector<float> step_logits;
  std::vector<int32_t> sample_idx;
  std::vector<double> sample_prob;
  // classifier
  std::unique_ptr<models::DistilBert> bert;
  models::DistilBertScratch bert_scratch;

  // The policy's decision for an inference starting now (under `mu`): made exactly once per
  // inference, so the whole inference runs on one variant.
  adapt::Adapter::Ticket begin_inference(Arrival arrival) {
    try {
      return adapter->begin(arrival);
    } catch (const std::runtime_error& e) {  // a cpufreq read that failed
      throw Error(Error::Code::kInternal, e.what());
    }
  }

  void require(ModelType t, const char* call) const {
    if (type != t)
      throw Error(Error::Code::kInvalidArgument,
                  std::string(call) + " needs a " +
                      (t == ModelType::kTransformerLm ? "transformer_lm" : "distilbert_classifier") +
                      " bundle; this engine holds a " +
                      (type == ModelType::kTransformerLm ? "transformer_lm" : "distilbert_classifier"));
  }
};

Engine::Engine(std::unique_ptr<Impl> impl) : impl_(std::move(impl)) {}
Engine::~Engine() = default;

std::unique_ptr<Engine> Engine::load(const std::string& path, const EngineOptions& options) {
  if (options.threads < 1 || options.threads > 1024)
    throw Error(Error::Code::kInvalidArgument,
                "Engine::load: threads must be in [1, 1024], got " + std::to_string(options.threads));
  return guarded("Engine::load", [&] {
    auto impl = std::make_unique<Impl>();
    impl->threads = options.threads;
    // The bundle (file bytes) lives only during load: the models copy and pack what they need.
    format::Bundle bundle = format::Bundle::open(path);
    impl->tok = bundle.tokenizer();
    impl->spm = bundle.sentencepiece();
    impl->wp = bundle.wordpiece();
    impl->pool = std::make_unique<ThreadPool>(options.threads);
    if (bundle.model_type() == format::BundleModelType::kTransformerLm) {
      impl->type = ModelType::kTransformerLm;
      impl->lm = std::make_unique<models::TransformerLm>(bundle);
      impl->lm_state = impl->lm->new_state(options.threads);
      impl->vocab = impl->lm->config().vocab_size;
      impl->max_len = impl->lm->config().max_len;
      impl->step_logits.assign(static_cast<size_t>(impl->vocab), 0.0f);
      if (!impl->spm)
        throw Error(Error::Code::kLoad, "Engine::load " + path + ": a transformer_lm bundle needs a sentencepiece tokenizer");
    } else {
      impl->type = ModelType::kDistilBertClassifier;
      impl->bert = std::make_unique<models::DistilBert>(bundle);
      const auto& c = impl->bert->config();
      impl->labels = c.labels;
      impl->vocab = c.vocab_size;
      impl->max_len = impl->tok.max_len > 0 ? impl->tok.max_len : c.max_position_embeddings;
      if (!impl->wp)
        throw Error(Error::Code::kLoad, "Engine::load " + path + ": a distilbert_classifier bundle needs a wordpiece tokenizer");
    }
    // Variants: 0 = base, then the bundle's pattern variants (the models packed them in this order).
    std::vector<const kernels::Linear*> lins =
        impl->lm ? impl->lm->prunable_linears() : impl->bert->prunable_linears();
    const std::vector<const format::BundleVariant*> pv = bundle.pattern_variants();
    for (int v = 0; v <= static_cast<int>(pv.size()); ++v) {
      VariantInfo info;
      info.name = v == 0 ? "base" : pv[static_cast<size_t>(v) - 1]->name;
      info.kind = v == 0 ? "base" : "pattern";
      for (const kernels::Linear* l : lins) {
        info.packed_bytes += l->packed_bytes(v);
        if (l->pattern(v)) ++info.pattern_layers;
      }
      if (v > 0) info.sparsity = pv[static_cast<size_t>(v) - 1]->sparsity;
      impl->variant_names.push_back(info.name);
      impl->variant_info.push_back(std::move(info));
    }
    if (bundle.bp_block_rows() > 0) {
      const std::vector<format::TensorSpec> specs = bundle.model_type() == format::BundleModelType::kTransformerLm
                                                        ? format::required_tensors(bundle.lm_config())
                                                        : format::required_tensors(bundle.distilbert_config());
      double stored = 0.0, total = 0.0;
      for (const format::TensorSpec& t : format::prunable_weights(specs)) {
        const double n = static_cast<double>(t.shape[0]) * static_cast<double>(t.shape[1]);
        total += n;
        stored += bundle.is_block_pruned(t.name) ? static_cast<double>(bundle.bp_weights(t.name).nonzeros()) : n;
      }
      if (total > 0) impl->variant_info[0].sparsity = 1.0 - stored / total;
    }
    std::vector<double> sparsity;
    for (const VariantInfo& v : impl->variant_info) sparsity.push_back(v.sparsity);
    impl->adapter = std::make_unique<adapt::Adapter>(
        adapt::spec_from_bundle(bundle, impl->variant_names, sparsity, options.threads), options.cpufreq_root);
    return std::unique_ptr<Engine>(new Engine(std::move(impl)));
  });
}

const std::vector<std::string>& Engine::variants() const { return impl_->variant_names; }
const std::vector<VariantInfo>& Engine::variant_info() const { return impl_->variant_info; }
int Engine::active_variant() const { return impl_->adapter->active(); }

void Engine::select_variant(int index) {
  guarded("select_variant", [&] { impl_->adapter->select(index); });
}

void Engine::select_variant(const std::string& name) {
  const auto& n = impl_->variant_names;
  const auto it = std::find(n.begin(), n.end(), name);
  if (it == n.end()) {
    std::string known;
    for (const std::string& v : n) known += (known.empty() ? "" : ", ") + v;
    throw Error(Error::Code::kInvalidArgument, "select_variant: no variant named '" + name + "' (have: " + known + ")");
  }
  select_variant(static_cast<int>(it - n.begin()));
}

const char* adapt_mode_name(AdaptMode mode) {
  switch (mode) {
    case AdaptMode::kManual: return "manual";
    case AdaptMode::kTable: return "table";
    case AdaptMode::kCpufreq: return "cpufreq";
    case AdaptMode::kDeadline: return "deadline";
  }
  return "unknown";
}

void Engine::set_adapt_mode(AdaptMode mode) {
  std::lock_guard<std::mutex> lock(impl_->mu);
  try {
    impl_->adapter->set_mode(mode);
  } catch (const std::exception& e) {
    throw Error(Error::Code::kInvalidArgument, std::string("set_adapt_mode: ") + e.what());
  }
}
AdaptMode Engine::adapt_mode() const { return impl_->adapter->mode(); }
std::string Engine::adapt_support(AdaptMode mode) const { return impl_->adapter->support(mode); }
void Engine::set_cpu_khz(uint64_t khz) {
  guarded("set_cpu_khz", [&] { impl_->adapter->set_cpu_khz(khz); });
}
void Engine::set_deadline_ms(double ms) {
  guarded("set_deadline_ms", [&] { impl_->adapter->set_deadline_s(ms * 1e-3); });
}
double Engine::deadline_ms() const { return impl_->adapter->deadline_s() * 1e3; }
std::vector<VariantStats> Engine::adapt_stats() const { return impl_->adapter->stats(); }
void Engine::reset_adapt_stats() { impl_->adapter->reset_stats(); }
bool Engine::has_energy_model() const { return !impl_->adapter->spec().active_power_mw.empty(); }
std::string Engine::energy_support() const { return impl_->adapter->spec().energy_note; }

ModelType Engine::model_type() const { return impl_->type; }
const char* Engine::model_type_name() const {
  return impl_->type == ModelType::kTransformerLm ? "transformer_lm" : "distilbert_classifier";
}
int Engine::threads() const { return impl_->threads; }
int64_t Engine::vocab_size() const { return impl_->vocab; }
int64_t Engine::max_len() const { return impl_->max_len; }
const std::vector<std::string>& Engine::labels() const { return impl_->labels; }

std::vector<int32_t> Engine::tokenize(const std::string& text) const {
  return guarded("tokenize", [&] {
    if (impl_->spm) return impl_->spm->encode(text);
    return impl_->wp->encode(text, static_cast<size_t>(impl_->max_len), /*pad_to_max=*/false).ids;
  });
}

std::vector<int32_t> Engine::tokenize_pair(const std::string& a, const std::string& b) const {
  impl_->require(ModelType::kDistilBertClassifier, "tokenize_pair");
  return guarded("tokenize_pair", [&] {
    return impl_->wp->encode_pair(a, b, static_cast<size_t>(impl_->max_len), /*pad_to_max=*/false).ids;
  });
}

std::string Engine::detokenize(const std::vector<int32_t>& ids) const {
  return guarded("detokenize", [&] {
    if (impl_->spm) return impl_->spm->decode(ids);
    return impl_->wp->decode(ids);
  });
}

// ---- classifier ----------------------------------------------------------------------------------

std::vector<float> Engine::classify_logits(const int32_t* ids, const int32_t* mask, int64_t batch, int64_t seq_len) {
  return classify_logits(ids, mask, batch, seq_len, static_cast<InferenceInfo*>(nullptr));
}

std::vector<float> Engine::classify_logits(const int32_t* ids, const int32_t* mask, int64_t batch, int64_t seq_len,
                                           int* variant_out) {
  InferenceInfo info;
  std::vector<float> logits = classify_logits(ids, mask, batch, seq_len, &info);
  if (variant_out) *variant_out = info.variant;
  return logits;
}

std::vector<float> Engine::classify_logits(const int32_t* ids, const int32_t* mask, int64_t batch, int64_t seq_len,
                                           InferenceInfo* info) {
  return classify_logits(ids, mask, batch, seq_len, info, Arrival{});
}

std::vector<float> Engine::classify_logits(const int32_t* ids, const int32_t* mask, int64_t batch, int64_t seq_len,
                                           InferenceInfo* info, Arrival arrival) {
  impl_->require(ModelType::kDistilBertClassifier, "classify_logits");
  if (!ids || !mask) throw Error(Error::Code::kInvalidArgument, "classify_logits: ids and mask must not be null");
  if (batch < 1 || seq_len < 1)
    throw Error(Error::Code::kInvalidArgument, "classify_logits: batch and seq_len must be >= 1, got " +
                                                   std::to_string(batch) + " x " + std::to_string(seq_len));
  const int64_t positions = impl_->bert->config().max_position_embeddings;
  if (seq_len > positions)
    throw Error(Error::Code::kTooLong, "classify_logits: seq_len " + std::to_string(seq_len) +
                                           " exceeds the model's max_position_embeddings " + std::to_string(positions));
  std::lock_guard<std::mutex> lock(impl_->mu);
  return guarded("classify_logits", [&] {
    std::vector<float> logits(static_cast<size_t>(batch * impl_->bert->config().num_labels()));
    adapt::Adapter::Ticket t = impl_->begin_inference(arrival);
    impl_->bert->forward(ids, mask, batch, seq_len, logits.data(), impl_->bert_scratch, impl_->pool.get(), t.info.variant);
    const InferenceInfo done = impl_->adapter->end(t);
    require_finite(logits.data(), logits.size(), "classify_logits");
    if (info) *info = done;
    return logits;
  });
}

std::vector<ClassifyResult> Engine::classify(const std::vector<std::string>& texts) { return classify(texts, Arrival{}); }

std::vector<ClassifyResult> Engine::classify(const std::vector<std::string>& texts, Arrival arrival) {
  impl_->require(ModelType::kDistilBertClassifier, "classify");
  std::vector<std::vector<int32_t>> enc;
  enc.reserve(texts.size());
  for (const std::string& t : texts) enc.push_back(tokenize(t));
  return classify_tokenized(enc, arrival);
}

std::vector<ClassifyResult> Engine::classify_pairs(const std::vector<std::pair<std::string, std::string>>& pairs) {
  impl_->require(ModelType::kDistilBertClassifier, "classify_pairs");
  std::vector<std::vector<int32_t>> enc;
  enc.reserve(pairs.size());
  for (const auto& p : pairs) enc.push_back(tokenize_pair(p.first, p.second));
  return classify_tokenized(enc, Arrival{});
}

ClassifyResult Engine::classify_pair(const std::string& a, const std::string& b) {
  return std::move(classify_pairs({{a, b}})[0]);
}

bool Engine::trained_on_pairs() const { return impl_->tok.text_pair; }

std::vector<ClassifyResult> Engine::classify_tokenized(const std::vector<std::vector<int32_t>>& enc, Arrival arrival) {
  if (enc.empty()) return {};
  size_t longest = 1;
  for (const auto& e : enc) longest = std::max(longest, e.size());
  const int64_t batch = static_cast<int64_t>(enc.size()), seq = static_cast<int64_t>(longest);
  std::vector<int32_t> ids(static_cast<size_t>(batch * seq), impl_->wp->pad_id());
  std::vector<int32_t> mask(ids.size(), 0);
  for (int64_t b = 0; b < batch; ++b)
    for (size_t t = 0; t < enc[b].size(); ++t) {
      ids[b * seq + t] = enc[b][t];
      mask[b * seq + t] = 1;
    }
  InferenceInfo info;
  const std::vector<float> logits = classify_logits(ids.data(), mask.data(), batch, seq, &info, arrival);
  const int64_t nl = static_cast<int64_t>(impl_->labels.size());
  std::vector<ClassifyResult> out(enc.size());
  for (int64_t b = 0; b < batch; ++b) {
    ClassifyResult& r = out[b];
    r.logits.assign(logits.begin() + b * nl, logits.begin() + (b + 1) * nl);
    r.probabilities = softmax(r.logits);
    r.label = argmax(r.logits.data(), nl);
    r.label_name = impl_->labels[r.label];
    r.variant = info.variant;
    r.info = info;
  }
  return out;
}

ClassifyResult Engine::classify(const std::string& text) { return classify(text, Arrival{}); }

ClassifyResult Engine::classify(const std::string& text, Arrival arrival) {
  return std::move(classify(std::vector<std::string>{text}, arrival)[0]);
}

// ---- language model --------------------------------------------------------------------------------

std::vector<float> Engine::lm_logits(const int32_t* ids, int64_t n) { return lm_logits(ids, n, static_cast<InferenceInfo*>(nullptr)); }

std::vector<float> Engine::lm_logits(const int32_t* ids, int64_t n, int* variant_out) {
  InferenceInfo info;
  std::vector<float> logits = lm_logits(ids, n, &info);
  if (variant_out) *variant_out = info.variant;
  return logits;
}

std::vector<float> Engine::lm_logits(const int32_t* ids, int64_t n, InferenceInfo* info) {
  return lm_logits(ids, n, info, Arrival{});
}

std::vector<float> Engine::lm_logits(const int32_t* ids, int64_t n, InferenceInfo* info, Arrival arrival) {
  impl_->require(ModelType::kTransformerLm, "lm_logits");
  if (!ids || n < 1) throw Error(Error::Code::kInvalidArgument, "lm_logits: need at least one token id");
  if (n > impl_->max_len)
    throw Error(Error::Code::kTooLong, "lm_logits: " + std::to_string(n) + " tokens exceed the model's max_len " +
                                           std::to_string(impl_->max_len));
  std::lock_guard<std::mutex> lock(impl_->mu);
  return guarded("lm_logits", [&] {
    std::vector<float> logits(static_cast<size_t>(n * impl_->vocab));
    impl_->lm_state.reset();
    adapt::Adapter::Ticket t = impl_->begin_inference(arrival);
    impl_->lm->forward(impl_->lm_state, ids, n, logits.data(), /*all_logits=*/true, impl_->pool.get(), t.info.variant);
    impl_->lm_state.reset();
    const InferenceInfo done = impl_->adapter->end(t);
    require_finite(logits.data(), logits.size(), "lm_logits");
    if (info) *info = done;
    return logits;
  });
}

GenerateResult Engine::generate(const std::string& prompt, const GenerateOptions& o) {
  impl_->require(ModelType::kTransformerLm, "generate");
  if (o.max_new_tokens < 0)
    throw Error(Error::Code::kInvalidArgument, "generate: max_new_tokens must be >= 0, got " + std::to_string(o.max_new_tokens));
  if (!o.greedy && !(o.temperature > 0.0f && std::isfinite(o.temperature)))
    throw Error(Error::Code::kInvalidArgument, "generate: temperature must be > 0, got " + std::to_string(o.temperature));
  GenerateResult r;
  const int32_t eos = impl_->spm->eos_id();
  if (eos >= 0) r.prompt_ids.push_back(eos);
  const std::vector<int32_t> p = tokenize(prompt);
  r.prompt_ids.insert(r.prompt_ids.end(), p.begin(), p.end());
  if (r.prompt_ids.empty())
    throw Error(Error::Code::kInvalidArgument, "generate: empty prompt and the tokenizer has no eos id to start from");
  const int64_t need = static_cast<int64_t>(r.prompt_ids.size()) + o.max_new_tokens;
  if (need > impl_->max_len)
    throw Error(Error::Code::kTooLong, "generate: prompt of " + std::to_string(r.prompt_ids.size()) +
                                           " tokens + max_new_tokens " + std::to_string(o.max_new_tokens) +
                                           " exceed the model's context max_len " + std::to_string(impl_->max_len));
  if (o.max_new_tokens == 0) {  // nothing runs: report the variant an inference would use now
    r.variant = impl_->adapter->active();
    r.info.variant = r.variant;
    r.info.mode = impl_->adapter->mode();
    return r;
  }

  std::lock_guard<std::mutex> lock(impl_->mu);
  guarded("generate", [&] {
    Impl& m = *impl_;
    std::mt19937_64 rng(o.seed);
    float* logits = m.step_logits.data();
    m.lm_state.reset();
    // One variant for the prompt and every decode step: the KV cache stays consistent.
    adapt::Adapter::Ticket ticket = m.begin_inference(o.arrival);
    const int variant = ticket.info.variant;
    r.variant = variant;
    m.lm->forward(m.lm_state, r.prompt_ids.data(), static_cast<int64_t>(r.prompt_ids.size()), logits,
                  /*all_logits=*/false, m.pool.get(), variant);
    for (int i = 0; i < o.max_new_tokens; ++i) {
      require_finite(logits, static_cast<size_t>(m.vocab), "generate");
      const int32_t next = o.greedy ? argmax(logits, m.vocab)
                                    : sample_top_k(logits, m.vocab, o.top_k, o.temperature, rng, m.sample_idx, m.sample_prob);
      r.token_ids.push_back(next);
      if (o.stop_at_eos && next == eos) {
        r.stopped_at_eos = true;
        break;
      }
      if (i + 1 < o.max_new_tokens) m.lm->forward(m.lm_state, &next, 1, logits, false, m.pool.get(), variant);
    }
    m.lm_state.reset();
    std::vector<int32_t> text_ids = r.token_ids;
    if (r.stopped_at_eos) text_ids.pop_back();
    // Ids the model can emit but the tokenizer does not know (model vocab > tokenizer vocab)
    // have no text.
    text_ids.erase(std::remove_if(text_ids.begin(), text_ids.end(),
                                  [&](int32_t id) { return id >= static_cast<int32_t>(m.spm->vocab_size()); }),
                   text_ids.end());
    r.info = m.adapter->end(ticket);
    r.text = m.spm->decode(text_ids);
    return 0;
  });
  return r;
}

}  // namespace rt3
