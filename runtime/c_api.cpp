// The C API (include/rt3/rt3.h) over rt3::Engine. Every entry point catches everything: no
// exception crosses the C boundary.
#include "rt3/rt3.h"

#include <chrono>
#include <cstring>
#include <exception>
#include <memory>
#include <mutex>
#include <new>
#include <string>
#include <vector>

#include "rt3/engine.h"

struct rt3_engine {
  std::unique_ptr<rt3::Engine> engine;
  mutable std::mutex error_mu;
  std::string last_error;
};

namespace {

thread_local std::string g_thread_error;

rt3_status status_of(rt3::Error::Code c) {
  switch (c) {
    case rt3::Error::Code::kLoad: return RT3_ERR_LOAD;
    case rt3::Error::Code::kInvalidArgument: return RT3_ERR_INVALID_ARGUMENT;
    case rt3::Error::Code::kTooLong: return RT3_ERR_TOO_LONG;
    case rt3::Error::Code::kInternal: return RT3_ERR_INTERNAL;
    case rt3::Error::Code::kNonFinite: return RT3_ERR_NON_FINITE;
  }
  return RT3_ERR_INTERNAL;
}

rt3_status fail(rt3_engine* e, rt3_status s, const std::string& msg) noexcept {
  try {
    g_thread_error = msg;
    if (e) {
      std::lock_guard<std::mutex> lock(e->error_mu);
      e->last_error = msg;
    }
  } catch (...) {
    // Out of memory while storing the message: the status still says what happened.
  }
  return s;
}

void clear(rt3_engine* e) noexcept {
  if (!e) return;
  std::lock_guard<std::mutex> lock(e->error_mu);
  e->last_error.clear();
}

// Runs f, mapping every exception to a status and a stored message.
template <typename F>
rt3_status run(rt3_engine* e, F&& f) noexcept {
  try {
    clear(e);
    return f();
  } catch (const rt3::Error& err) {
    return fail(e, status_of(err.code()), err.what());
  } catch (const std::bad_alloc&) {
    return fail(e, RT3_ERR_INTERNAL, "out of memory");
  } catch (const std::exception& err) {
    return fail(e, RT3_ERR_INTERNAL, err.what());
  } catch (...) {
    return fail(e, RT3_ERR_INTERNAL, "unknown error");
  }
}

}  // namespace

extern "C" {

const char* rt3_status_name(rt3_status s) {
  switch (s) {
    case RT3_OK: return "RT3_OK";
    case RT3_ERR_INVALID_ARGUMENT: return "RT3_ERR_INVALID_ARGUMENT";
    case RT3_ERR_LOAD: return "RT3_ERR_LOAD";
    case RT3_ERR_TOO_LONG: return "RT3_ERR_TOO_LONG";
    case RT3_ERR_BUFFER_TOO_SMALL: return "RT3_ERR_BUFFER_TOO_SMALL";
    case RT3_ERR_INTERNAL: return "RT3_ERR_INTERNAL";
    case RT3_ERR_NON_FINITE: return "RT3_ERR_NON_FINITE";
  }
  return "RT3_ERR_UNKNOWN";
}

rt3_engine_options rt3_engine_default_options(void) {
  rt3_engine_options o;
  o.threads = 1;
  o.cpufreq_root = nullptr;
  return o;
}

rt3_status rt3_engine_load(const char* path, int threads, rt3_engine** out_engine) {
  rt3_engine_options o = rt3_engine_default_options();
  o.threads = threads;
  return rt3_engine_load_ex(path, &o, out_engine);
}

rt3_status rt3_engine_load_ex(const char* path, const rt3_engine_options* options, rt3_engine** out_engine) {
  if (!out_engine) return fail(nullptr, RT3_ERR_INVALID_ARGUMENT, "rt3_engine_load: out_engine is NULL");
  *out_engine = nullptr;
  if (!path) return fail(nullptr, RT3_ERR_INVALID_ARGUMENT, "rt3_engine_load: path is NULL");
  if (!options) return fail(nullptr, RT3_ERR_INVALID_ARGUMENT, "rt3_engine_load: options is NULL");
  return run(nullptr, [&] {
    rt3::EngineOptions o;
    o.threads = options->threads;
    if (options->cpufreq_root) o.cpufreq_root = options->cpufreq_root;
    auto h = std::make_unique<rt3_engine>();
    h->engine = rt3::Engine::load(path, o);
    *out_engine = h.release();
    return RT3_OK;
  });
}

void rt3_engine_free(rt3_engine* engine) { delete engine; }

const char* rt3_last_error(const rt3_engine* engine) {
  if (!engine) return g_thread_error.c_str();
  std::lock_guard<std::mutex> lock(engine->error_mu);
  return engine->last_error.c_str();
}

rt3_model_type rt3_engine_model_type(const rt3_engine* engine) {
  if (engine && engine->engine->model_type() == rt3::ModelType::kDistilBertClassifier)
    return RT3_MODEL_DISTILBERT_CLASSIFIER;
  return RT3_MODEL_TRANSFORMER_LM;
}

int rt3_num_labels(const rt3_engine* engine) {
  return engine ? static_cast<int>(engine->engine->labels().size()) : 0;
}

const char* rt3_label_name(const rt3_engine* engine, int label) {
  if (!engine || label < 0 || static_cast<size_t>(label) >= engine->engine->labels().size()) return nullptr;
  return engine->engine->labels()[static_cast<size_t>(label)].c_str();
}

int rt3_engine_variant_count(const rt3_engine* engine) {
  return engine ? static_cast<int>(engine->engine->variants().size()) : 0;
}

const char* rt3_engine_variant_name(const rt3_engine* engine, int index) {
  if (!engine || index < 0 || static_cast<size_t>(index) >= engine->engine->variants().size()) return nullptr;
  return engine->engine->variants()[static_cast<size_t>(index)].c_str();
}

// The switch path: no lock on success (not even error_mu), only the engine's atomic store.
rt3_status rt3_engine_select_variant(rt3_engine* engine, int index) {
  if (!engine) return fail(nullptr, RT3_ERR_INVALID_ARGUMENT, "rt3_engine_select_variant: engine is NULL");
  const int n = static_cast<int>(engine->engine->variants().size());
  if (index < 0 || index >= n)
    return fail(engine, RT3_ERR_INVALID_ARGUMENT,
                "rt3_engine_select_variant: index " + std::to_string(index) + " is outside [0, " + std::to_string(n) +
                    ")");
  if (engine->engine->adapt_mode() != rt3::AdaptMode::kManual)
    return run(engine, [&] {  // throws the message that says which mode owns the choice
      engine->engine->select_variant(index);
      return RT3_OK;
    });
  engine->engine->select_variant(index);  // cannot throw: index and mode checked
  return RT3_OK;
}

rt3_status rt3_engine_select_variant_by_name(rt3_engine* engine, const char* name) {
  if (!engine) return fail(nullptr, RT3_ERR_INVALID_ARGUMENT, "rt3_engine_select_variant_by_name: engine is NULL");
  if (!name) return fail(engine, RT3_ERR_INVALID_ARGUMENT, "rt3_engine_select_variant_by_name: name is NULL");
  const auto& names = engine->engine->variants();
  for (size_t i = 0; i < names.size(); ++i)
    if (names[i] == name) return rt3_engine_select_variant(engine, static_cast<int>(i));
  return run(engine, [&] {  // builds the message listing the variants
    engine->engine->select_variant(std::string(name));
    return RT3_OK;
  });
}

int rt3_engine_active_variant(const rt3_engine* engine) { return engine ? engine->engine->active_variant() : -1; }

namespace {

// rt3_clock_ns() value -> the engine's Arrival (0: none, i.e. now).
rt3::Arrival arrival_of(uint64_t arrival_ns) {
  if (arrival_ns == 0) return rt3::Arrival{};
  return rt3::Arrival(std::chrono::duration_cast<rt3::Arrival::duration>(std::chrono::nanoseconds(arrival_ns)));
}

rt3_inference_info to_c(const rt3::InferenceInfo& i) {
  rt3_inference_info c;
  c.variant = i.variant;
  c.mode = static_cast<rt3_adapt_mode>(static_cast<int>(i.mode));
  c.cpu_khz = i.cpu_khz;
  c.level_khz = i.level_khz;
  c.deadline_ms = i.deadline_ms;
  c.predicted_ms = i.predicted_ms;
  c.slowdown = i.slowdown;
  c.waited_ms = i.waited_ms;
  c.latency_ms = i.latency_ms;
  c.deadline_missed = i.deadline_missed ? 1 : 0;
  c.energy_mj = i.energy_mj;
  return c;
}

bool valid_mode(rt3_adapt_mode m) { return m >= RT3_ADAPT_MANUAL && m <= RT3_ADAPT_DEADLINE; }

}  // namespace

const char* rt3_adapt_mode_name(rt3_adapt_mode mode) {
  return valid_mode(mode) ? rt3::adapt_mode_name(static_cast<rt3::AdaptMode>(static_cast<int>(mode))) : "unknown";
}

rt3_status rt3_engine_set_adapt_mode(rt3_engine* engine, rt3_adapt_mode mode) {
  if (!engine) return fail(nullptr, RT3_ERR_INVALID_ARGUMENT, "rt3_engine_set_adapt_mode: engine is NULL");
  if (!valid_mode(mode))
    return fail(engine, RT3_ERR_INVALID_ARGUMENT, "rt3_engine_set_adapt_mode: unknown mode " + std::to_string(static_cast<int>(mode)));
  return run(engine, [&] {
    engine->engine->set_adapt_mode(static_cast<rt3::AdaptMode>(static_cast<int>(mode)));
    return RT3_OK;
  });
}

rt3_adapt_mode rt3_engine_adapt_mode(const rt3_engine* engine) {
  return engine ? static_cast<rt3_adapt_mode>(static_cast<int>(engine->engine->adapt_mode())) : RT3_ADAPT_MANUAL;
}

rt3_status rt3_engine_set_cpu_khz(rt3_engine* engine, uint64_t khz) {
  if (!engine) return fail(nullptr, RT3_ERR_INVALID_ARGUMENT, "rt3_engine_set_cpu_khz: engine is NULL");
  if (khz == 0) return fail(engine, RT3_ERR_INVALID_ARGUMENT, "rt3_engine_set_cpu_khz: a frequency of 0 kHz");
  return run(engine, [&] {
    engine->engine->set_cpu_khz(khz);
    return RT3_OK;
  });
}

rt3_status rt3_engine_set_deadline_ms(rt3_engine* engine, double ms) {
  if (!engine) return fail(nullptr, RT3_ERR_INVALID_ARGUMENT, "rt3_engine_set_deadline_ms: engine is NULL");
  return run(engine, [&] {
    engine->engine->set_deadline_ms(ms);
    return RT3_OK;
  });
}

rt3_status rt3_engine_variant_stats(const rt3_engine* engine, int index, rt3_variant_stats* out) {
  if (!engine || !out) return fail(nullptr, RT3_ERR_INVALID_ARGUMENT, "rt3_engine_variant_stats: engine or out is NULL");
  const std::vector<rt3::VariantStats> all = engine->engine->adapt_stats();
  if (index < 0 || static_cast<size_t>(index) >= all.size())
    return fail(nullptr, RT3_ERR_INVALID_ARGUMENT, "rt3_engine_variant_stats: index " + std::to_string(index) +
                                                     " is outside [0, " + std::to_string(all.size()) + ")");
  const rt3::VariantStats& s = all[static_cast<size_t>(index)];
  *out = rt3_variant_stats{s.inferences, s.seconds, s.misses, s.energy_mj, s.energy_inferences};
  return RT3_OK;
}

rt3_status rt3_engine_reset_stats(rt3_engine* engine) {
  if (!engine) return fail(nullptr, RT3_ERR_INVALID_ARGUMENT, "rt3_engine_reset_stats: engine is NULL");
  engine->engine->reset_adapt_stats();
  return RT3_OK;
}

rt3_status rt3_classify(rt3_engine* engine, const char* text, int* out_label, float* probs, size_t probs_capacity) {
  return rt3_classify_ex(engine, text, out_label, probs, probs_capacity, nullptr);
}

uint64_t rt3_clock_ns(void) {
  return static_cast<uint64_t>(
      std::chrono::duration_cast<std::chrono::nanoseconds>(std::chrono::steady_clock::now().time_since_epoch()).count());
}

namespace {

// rt3_classify* and rt3_classify_pair*: one text, or a pair when text_pair is given (`call` names
// the C function in messages). arrival_ns: rt3_clock_ns() at the request's arrival (0: now).
rt3_status classify_text_or_pair(const char* call, rt3_engine* engine, const char* text, const char* text_pair,
                                 bool pair, uint64_t arrival_ns, int* out_label, float* probs, size_t probs_capacity,
                                 rt3_inference_info* info) {
  const std::string name = call;
  if (!engine) return fail(nullptr, RT3_ERR_INVALID_ARGUMENT, name + ": engine is NULL");
  if (!text) return fail(engine, RT3_ERR_INVALID_ARGUMENT, name + ": text is NULL");
  if (pair && !text_pair) return fail(engine, RT3_ERR_INVALID_ARGUMENT, name + ": text_pair is NULL");
  if (probs_capacity > 0 && !probs)
    return fail(engine, RT3_ERR_INVALID_ARGUMENT, name + ": probs is NULL but probs_capacity > 0");
  return run(engine, [&] {
    const size_t n = engine->engine->labels().size();
    if (probs && probs_capacity < n)
      return fail(engine, RT3_ERR_BUFFER_TOO_SMALL,
                  name + ": probs_capacity " + std::to_string(probs_capacity) + " < " + std::to_string(n) + " labels");
    rt3::ClassifyResult r = pair ? engine->engine->classify_pair(std::string(text), std::string(text_pair))
                                 : engine->engine->classify(std::string(text), arrival_of(arrival_ns));
    if (out_label) *out_label = r.label;
    if (probs) std::memcpy(probs, r.probabilities.data(), n * sizeof(float));
    if (info) *info = to_c(r.info);
    return RT3_OK;
  });
}

}  // namespace

rt3_status rt3_classify_ex(rt3_engine* engine, const char* text, int* out_label, float* probs, size_t probs_capacity,
                           rt3_inference_info* info) {
  return classify_text_or_pair("rt3_classify", engine, text, nullptr, /*pair=*/false, 0, out_label, probs,
                               probs_capacity, info);
}

rt3_status rt3_classify_at(rt3_engine* engine, const char* text, uint64_t arrival_ns, int* out_label, float* probs,
                           size_t probs_capacity, rt3_inference_info* info) {
  return classify_text_or_pair("rt3_classify_at", engine, text, nullptr, /*pair=*/false, arrival_ns, out_label, probs,
                               probs_capacity, info);
}

rt3_status rt3_classify_pair(rt3_engine* engine, const char* text, const char* text_pair, int* out_label, float* probs,
                             size_t probs_capacity) {
  return rt3_classify_pair_ex(engine, text, text_pair, out_label, probs, probs_capacity, nullptr);
}

rt3_status rt3_classify_pair_ex(rt3_engine* engine, const char* text, const char* text_pair, int* out_label,
                                float* probs, size_t probs_capacity, rt3_inference_info* info) {
  return classify_text_or_pair("rt3_classify_pair", engine, text, text_pair, /*pair=*/true, 0, out_label, probs,
                               probs_capacity, info);
}

int rt3_engine_trained_on_pairs(const rt3_engine* engine) { return engine && engine->engine->trained_on_pairs() ? 1 : 0; }

rt3_generate_options rt3_generate_default_options(void) {
  rt3_generate_options o;
  o.max_new_tokens = 32;
  o.greedy = 1;
  o.top_k = 40;
  o.temperature = 1.0f;
  o.seed = 0;
  o.stop_at_eos = 1;
  return o;
}

rt3_status rt3_generate_ex(rt3_engine* engine, const char* prompt, const rt3_generate_options* options,
                           char* out_buf, size_t out_capacity, size_t* out_needed) {
  return rt3_generate_ex2(engine, prompt, options, out_buf, out_capacity, out_needed, nullptr);
}

rt3_status rt3_generate_ex2(rt3_engine* engine, const char* prompt, const rt3_generate_options* options,
                            char* out_buf, size_t out_capacity, size_t* out_needed, rt3_inference_info* info) {
  return rt3_generate_at(engine, prompt, options, 0, out_buf, out_capacity, out_needed, info);
}

rt3_status rt3_generate_at(rt3_engine* engine, const char* prompt, const rt3_generate_options* options,
                           uint64_t arrival_ns, char* out_buf, size_t out_capacity, size_t* out_needed,
                           rt3_inference_info* info) {
  if (out_needed) *out_needed = 0;
  if (!engine) return fail(nullptr, RT3_ERR_INVALID_ARGUMENT, "rt3_generate: engine is NULL");
  if (!prompt || !options) return fail(engine, RT3_ERR_INVALID_ARGUMENT, "rt3_generate: prompt or options is NULL");
  if (out_capacity > 0 && !out_buf)
    return fail(engine, RT3_ERR_INVALID_ARGUMENT, "rt3_generate: out_buf is NULL but out_capacity > 0");
  if (out_buf && out_capacity > 0) out_buf[0] = '\0';
  return run(engine, [&] {
    rt3::GenerateOptions o;
    o.max_new_tokens = options->max_new_tokens;
    o.greedy = options->greedy != 0;
    o.top_k = options->top_k;
    o.temperature = options->temperature;
    o.seed = options->seed;
    o.stop_at_eos = options->stop_at_eos != 0;
    o.arrival = arrival_of(arrival_ns);
    rt3::GenerateResult r = engine->engine->generate(std::string(prompt), o);
    const size_t needed = r.text.size() + 1;
    if (out_needed) *out_needed = needed;
    if (info) *info = to_c(r.info);
    if (needed > out_capacity)
      return fail(engine, RT3_ERR_BUFFER_TOO_SMALL,
                  "rt3_generate: the text needs " + std::to_string(needed) + " bytes (with NUL), out_capacity is " +
                      std::to_string(out_capacity));
    std::memcpy(out_buf, r.text.c_str(), needed);
    return RT3_OK;
  });
}

rt3_status rt3_generate(rt3_engine* engine, const char* prompt, int max_new_tokens, uint64_t seed, char* out_buf,
                        size_t out_capacity) {
  rt3_generate_options o = rt3_generate_default_options();
  o.max_new_tokens = max_new_tokens;
  o.greedy = seed == 0 ? 1 : 0;
  o.seed = seed;
  return rt3_generate_ex(engine, prompt, &o, out_buf, out_capacity, nullptr);
}

}  // extern "C"
