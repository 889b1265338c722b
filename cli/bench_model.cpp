#include "cli/bench_model.h"

#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <filesystem>
#include <random>
#include <stdexcept>
#include <vector>

#include "cli/timing.h"
#include "rt3/engine.h"
#include "runtime/format/bundle.h"
#include "runtime/kernels/bp_linear.h"
#include "runtime/kernels/dense_linear.h"
#include "runtime/threads/thread_pool.h"

namespace rt3::cli {
namespace {
namespace fs = std::filesystem;
using nlohmann::json;
using Clock = std::chrono::steady_clock;

std::vector<format::TensorSpec> specs_of(const format::Bundle& b) {
  return b.model_type() == format::BundleModelType::kTransformerLm ? format::required_tensors(b.lm_config())
                                                                  : format::required_tensors(b.distilbert_config());
}

enum class Twin {
  kDense,        // the same model with every weight dense (block-pruned ones unpacked)
  kNoLinears,    // every prunable Linear pruned away completely (only its bias is left)
};

// Writes a twin of b. kNoLinears measures, inside the real model (real cache pressure), how much
// time is left when the prunable Linears cost (almost) nothing: that is the Amdahl share.
void write_twin(const format::Bundle& b, Twin twin, const std::string& path) {
  format::BundleWriter w;
  if (b.model_type() == format::BundleModelType::kTransformerLm) w.set_lm(b.lm_config());
  else w.set_distilbert(b.distilbert_config());
  w.set_tokenizer(b.tokenizer(), std::string(b.tokenizer_bytes()));
  const auto prunable = format::prunable_weights(specs_of(b));
  auto is_prunable = [&](const std::string& n) {
    return std::any_of(prunable.begin(), prunable.end(), [&](const format::TensorSpec& p) { return p.name == n; });
  };
  for (const auto& s : specs_of(b)) {
    if (twin == Twin::kNoLinears && is_prunable(s.name))
      w.add_f32(s.name, s.shape, std::vector<float>(static_cast<size_t>(s.shape[0] * s.shape[1]), 0.0f));
    else if (b.is_block_pruned(s.name)) w.add_f32(s.name, s.shape, kernels::bp_unpack(b.bp_weights(s.name)));
    else w.add_f32(s.name, s.shape, b.weight(s.name));
  }
  if (twin == Twin::kNoLinears) w.store_block_pruned(16);
  w.write(path);
}

struct ModelTimes {
  double forward_ms = 0;    // classifier forward / LM prefill of seq_len tokens
  double per_token_ms = 0;  // LM only: greedy decoding, per generated token
};

struct Workload {
  bool lm = false;
  int64_t seq_len = 0, batch = 1, decode_tokens = 0;
  std::vector<int32_t> ids, mask;
};

ModelTimes time_engine(Engine& e, const Workload& w, int reps) {
  ModelTimes t;
  if (w.lm) {
    t.forward_ms = 1e3 * median_seconds(reps, [&] { e.lm_logits(w.ids.data(), w.seq_len); });
    GenerateOptions go;
    go.max_new_tokens = static_cast<int>(w.decode_tokens);
    go.stop_at_eos = false;
    t.per_token_ms = 1e3 * median_seconds(reps, [&] { e.generate("The", go); }) / static_cast<double>(w.decode_tokens);
  } else {
    t.forward_ms = 1e3 * median_seconds(reps, [&] { e.classify_logits(w.ids.data(), w.mask.data(), w.batch, w.seq_len); });
  }
  return t;
}

// Sum over the prunable Linears of one kernel's median time at M rows (dense kernel on the
// dense twin's weights, or the BP kernel on the bundle's packed weights).
double prunable_linears_ms(const format::Bundle& b, bool use_bp, int64_t m, int threads, int reps) {
  ThreadPool pool(threads);
  double total = 0;
  std::mt19937 rng(7);
  std::uniform_real_distribution<float> u(-1, 1);
  for (const auto& s : format::prunable_weights(specs_of(b))) {
    const int64_t out = s.shape[0], in = s.shape[1];
    std::vector<float> x(static_cast<size_t>(m * in)), y(static_cast<size_t>(m * out));
    for (float& v : x) v = u(rng);
    if (use_bp && b.is_block_pruned(s.name)) {
      kernels::BpLinear lin(b.bp_weights(s.name), nullptr);
      std::vector<float> scratch(std::max<size_t>(1, lin.scratch_floats(m)) + 16);
      float* sp = reinterpret_cast<float*>((reinterpret_cast<uintptr_t>(scratch.data()) + 63) & ~uintptr_t{63});
      total += 1e3 * median_seconds(reps, [&] { lin.forward(x.data(), m, y.data(), &pool, sp); });
    } else {
      std::vector<float> W = b.is_block_pruned(s.name) ? kernels::bp_unpack(b.bp_weights(s.name))
                                                       : std::vector<float>(b.weight(s.name), b.weight(s.name) + out * in);
      kernels::DenseLinear lin(W.data(), nullptr, out, in);
      total += 1e3 * median_seconds(reps, [&] { lin.forward(x.data(), m, y.data(), &pool); });
    }
  }
  return total;
}

double weight_sparsity(const format::Bundle& b) {
  double dense = 0, kept = 0;
  for (const auto& s : format::prunable_weights(specs_of(b))) {
    const double n = double(s.shape[0] * s.shape[1]);
    dense += n;
    kept += b.is_block_pruned(s.name) ? double(b.bp_weights(s.name).nonzeros()) : n;
  }
  return dense > 0 ? 1.0 - kept / dense : 0.0;
}

// p = share of the dense model's time in the prunable Linears, measured in place:
// 1 - time(model without them) / time(dense model). Amdahl: the rest stays as it is while the
// Linears speed up ideally (by 1/(1-s)) or not at all beyond removal (the limit 1/(1-p)).
json compare(const char* what, int64_t m, double dense_ms, double bp_ms, double rest_ms, double lin_dense_ms,
             double lin_bp_ms, double sparsity) {
  const double p = std::clamp(1.0 - rest_ms / dense_ms, 0.0, 1.0);
  return {{"workload", what},
          {"m", m},
          {"dense_ms", dense_ms},
          {"bp_ms", bp_ms},
          {"speedup", dense_ms / bp_ms},
          {"without_prunable_linears_ms", rest_ms},
          {"prunable_linear_share", p},
          {"amdahl_bound_ideal", 1.0 / ((1.0 - p) + p * (1.0 - sparsity))},
          {"amdahl_limit", p < 1.0 ? 1.0 / (1.0 - p) : 1e9},
          // The same Linears timed alone, one after another (weights hot in cache between calls,
          // unlike inside the model): what the kernels give in isolation.
          {"isolated_linears_dense_ms", lin_dense_ms},
          {"isolated_linears_bp_ms", lin_bp_ms},
          {"isolated_linears_speedup", lin_dense_ms / lin_bp_ms}};
}

}  // namespace

void write_no_linears_twin(const std::string& bundle, const std::string& path) {
  write_twin(format::Bundle::open(bundle), Twin::kNoLinears, path);
}

json bench_model(const ModelBenchOptions& o, const std::function<void(int, int)>& progress) {
  format::Bundle b = format::Bundle::open(o.bundle);
  const bool lm = b.model_type() == format::BundleModelType::kTransformerLm;
  const double sparsity = weight_sparsity(b);

  const std::string stem = (fs::temp_directory_path() / ("rt3_bench_" + std::to_string(::getpid()))).string();
  struct Remove {
    std::vector<std::string> paths;
    ~Remove() {
      std::error_code ec;
      for (const auto& p : paths) fs::remove(p, ec);
    }
  } cleanup{{stem + "_dense.rt3", stem + "_rest.rt3"}};
  write_twin(b, Twin::kDense, cleanup.paths[0]);
  write_twin(b, Twin::kNoLinears, cleanup.paths[1]);

  EngineOptions eo;
  eo.threads = o.threads;
  auto bp_engine = Engine::load(o.bundle, eo);
  auto dense_engine = Engine::load(cleanup.paths[0], eo);
  auto rest_engine = Engine::load(cleanup.paths[1], eo);

  Workload w;
  w.lm = lm;
  w.seq_len = std::max<int64_t>(1, std::min<int64_t>(o.seq_len, bp_engine->max_len() > 0 ? bp_engine->max_len() : o.seq_len));
  w.batch = lm ? 1 : std::max<int64_t>(1, o.batch);
  w.decode_tokens = lm ? std::max<int64_t>(1, std::min<int64_t>(o.decode_tokens, bp_engine->max_len() - 2)) : 0;
  std::mt19937 rng(1);
  w.ids.resize(static_cast<size_t>(w.batch * w.seq_len));
  for (auto& id : w.ids) id = static_cast<int32_t>(rng() % static_cast<uint32_t>(bp_engine->vocab_size()));
  w.mask.assign(w.ids.size(), 1);

  const int steps = lm ? 7 : 5;
  int done = 0;
  auto tick = [&] {
    if (progress) progress(++done, steps);
  };
  // Alternate dense and BP so drift in machine speed hits both alike.
  const ModelTimes d1 = time_engine(*dense_engine, w, o.reps);
  tick();
  const ModelTimes b1 = time_engine(*bp_engine, w, o.reps);
  tick();
  const ModelTimes r1 = time_engine(*rest_engine, w, o.reps);
  tick();
  const int64_t m_forward = w.batch * w.seq_len;
  const double lin_dense = prunable_linears_ms(b, false, m_forward, o.threads, o.reps);
  tick();
  const double lin_bp = prunable_linears_ms(b, true, m_forward, o.threads, o.reps);
  tick();

  json j = {{"bundle", o.bundle},
            {"model_type", lm ? "transformer_lm" : "distilbert_classifier"},
            {"threads", o.threads},
            {"reps", o.reps},
            {"block_rows", b.bp_block_rows()},
            {"weight_sparsity", sparsity},
            {"results", json::array()}};
  j["results"].push_back(compare(lm ? "lm_prefill" : "classify", m_forward, d1.forward_ms, b1.forward_ms,
                                 r1.forward_ms, lin_dense, lin_bp, sparsity));
  if (lm) {
    const double lin_dense_1 = prunable_linears_ms(b, false, 1, o.threads, o.reps);
    tick();
    const double lin_bp_1 = prunable_linears_ms(b, true, 1, o.threads, o.reps);
    tick();
    j["results"].push_back(compare("lm_decode_per_token", 1, d1.per_token_ms, b1.per_token_ms, r1.per_token_ms,
                                   lin_dense_1, lin_bp_1, sparsity));
  }
  return j;
}

void print_model_bench(const json& j) {
  std::printf("%s (%s), %d thread(s), prunable Linears %.1f%% sparse (blocks of %lld rows); medians of %d runs\n",
              j["bundle"].get<std::string>().c_str(), j["model_type"].get<std::string>().c_str(), j["threads"].get<int>(),
              100.0 * j["weight_sparsity"].get<double>(), (long long)j["block_rows"].get<int64_t>(), j["reps"].get<int>());
  std::printf("%-20s %5s %10s %10s %8s %13s %13s %13s %15s\n", "workload", "M", "dense ms", "bp ms", "speedup",
              "linear share", "Amdahl ideal", "Amdahl limit", "linears alone");
  for (const auto& r : j["results"])
    std::printf("%-20s %5lld %10.3f %10.3f %7.2fx %12.1f%% %12.2fx %12.2fx %14.2fx\n",
                r["workload"].get<std::string>().c_str(), (long long)r["m"].get<int64_t>(), r["dense_ms"].get<double>(),
                r["bp_ms"].get<double>(), r["speedup"].get<double>(), 100.0 * r["prunable_linear_share"].get<double>(),
                r["amdahl_bound_ideal"].get<double>(), r["amdahl_limit"].get<double>(),
                r["isolated_linears_speedup"].get<double>());
  std::printf("linear share: 1 - time(model with the prunable Linears removed) / time(dense model), measured in place.\n"
              "Amdahl ideal: whole-model bound if those Linears sped up by 1/(1-sparsity); limit: if they cost nothing.\n"
              "linears alone: BP vs dense kernels on the same layers timed in isolation (weights hot in cache).\n");
}

}  // namespace rt3::cli
