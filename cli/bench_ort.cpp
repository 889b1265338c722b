#include "cli/bench_ort.h"

#include <signal.h>
#include <stdlib.h>

#include <algorithm>
#include <chrono>
#include <cmath>
#include <filesystem>
#include <map>
#include <random>
#include <sstream>
#include <stdexcept>

#include "cli/json_child.h"
#include "cli/onnx_distilbert.h"
#include "cli/onnx_lm.h"
#include "cli/timing.h"
#include "rt3/engine.h"
#include "runtime/format/atomic_file.h"
#include "runtime/format/bundle.h"
#include "train/data/paths.h"

#ifndef RT3_ORT_RUNNER
#define RT3_ORT_RUNNER "bench/ort/ort_runner.js"
#endif

namespace rt3::cli {
namespace {

namespace fs = std::filesystem;
using nlohmann::json;
using Clock = std::chrono::steady_clock;

// A temporary directory for the ONNX files, removed at the end.
struct TempDir {
  fs::path path;
  TempDir() {
    std::string t = (fs::temp_directory_path() / "rt3_ort_XXXXXX").string();
    if (!mkdtemp(t.data())) throw std::runtime_error("cannot create a temporary directory in " + fs::temp_directory_path().string());
    path = t;
  }
  ~TempDir() {
    std::error_code ec;
    fs::remove_all(path, ec);
  }
};

struct Contender {
  std::string name;      // "rt3 base", "ort fp32", ...
  std::string session;   // ORT session name ("" for ours)
  int variant = -1;      // engine variant (ours)
  std::vector<double> ms;
};

}  // namespace

json bench_ort(const OrtBenchOptions& o) {
  if (o.calls < 1 || o.calls > 100000 || o.rounds < 1 || o.rounds > 1000)
    throw std::runtime_error("--calls must be in [1, 100000] and --rounds in [1, 1000]");
  for (int t : o.threads)
    if (t < 1 || t > 256) throw std::runtime_error("--threads values must be in [1, 256]");
  const format::Bundle bundle = format::Bundle::open(o.bundle);
  const bool lm = bundle.model_type() == format::BundleModelType::kTransformerLm;
  const int64_t vocab = lm ? bundle.lm_config().vocab_size : bundle.distilbert_config().vocab_size;
  const int64_t max_len = lm ? bundle.lm_config().max_len : bundle.distilbert_config().max_position_embeddings;
  for (int64_t s : o.seq_lens)
    if (s < 1 || s > max_len)
      throw std::runtime_error("--seq-lens: " + std::to_string(s) + " is outside [1, " + std::to_string(max_len) + "]");
  const auto graph = [&](OrtPrecision p) { return lm ? lm_onnx_graph(bundle, p) : distilbert_onnx_graph(bundle, p); };

  TempDir tmp;
  const std::string fp32_path = (tmp.path / "fp32.onnx").string(), int8_path = (tmp.path / "int8.onnx").string();
  format::write_file_atomic(fp32_path, onnx::serialize_model(graph(OrtPrecision::kFp32)));
  if (o.int8) format::write_file_atomic(int8_path, onnx::serialize_model(graph(OrtPrecision::kInt8)));

  const std::string runner = o.runner.empty() ? RT3_ORT_RUNNER : o.runner;
  if (!fs::exists(runner)) throw std::runtime_error("the ONNX Runtime runner " + runner + " does not exist: pass --runner");
  const fs::path modules = fs::path(data::data_dir()) / "node_modules";
  if (!fs::exists(modules / "onnxruntime-node"))
    throw std::runtime_error("onnxruntime-node is not in " + modules.string() + ": run scripts/setup.sh (make setup)");
  signal(SIGPIPE, SIG_IGN);  // a runner that dies is an error from write(), not a silent exit
  JsonChild ort({o.node, runner}, {"NODE_PATH=" + modules.string()}, (tmp.path / "ort_stderr.log").string());

  json j;
  j["bundle"] = o.bundle;
  j["model_type"] = lm ? "transformer_lm" : "distilbert_classifier";
  if (lm) {
    const auto& c = bundle.lm_config();
    j["shape"] = {{"d_model", c.d_model}, {"n_layers", c.n_layers}, {"n_heads", c.n_heads}, {"d_ff", c.d_ff}, {"vocab_size", c.vocab_size}};
    j["workload"] = "full forward of seq tokens, logits of every row (Engine::lm_logits)";
  } else {
    const auto& c = bundle.distilbert_config();
    j["shape"] = {{"dim", c.dim}, {"n_layers", c.n_layers}, {"n_heads", c.n_heads}, {"hidden_dim", c.hidden_dim}, {"vocab_size", c.vocab_size}};
    j["workload"] = "classifier logits of one sequence of seq tokens (Engine::classify_logits)";
  }
  j["calls_per_round"] = o.calls;
  j["rounds"] = o.rounds;
  j["ort"] = {{"package", "onnxruntime-node (npm)"},
              {"graph_optimization", "all (\"ort fp32\") and basic (\"ort fp32 plain\"); ratios against the faster"},
              {"int8", "com.microsoft DynamicQuantizeMatMul, per-tensor symmetric int8 weights"}};
  json rows = json::array();
  std::mt19937 rng(7);
  for (int threads : o.threads) {
    // Each graph twice: with every ORT optimisation (fusions) and with the basic ones only; on
    // some shapes the plain graph is faster, and a user would keep whichever is.
    for (const char* opt : {"all", "basic"}) {
      const std::string suffix = std::string(opt) == "all" ? "" : " plain";
      ort.call({{"op", "load"}, {"name", "fp32" + suffix}, {"model", fp32_path}, {"threads", threads}, {"optimization", opt}});
      if (o.int8)
        ort.call({{"op", "load"}, {"name", "int8" + suffix}, {"model", int8_path}, {"threads", threads}, {"optimization", opt}});
    }
    EngineOptions eo;
    eo.threads = threads;
    auto engine = Engine::load(o.bundle, eo);
    for (int64_t seq : o.seq_lens) {
      std::vector<int32_t> ids(static_cast<size_t>(seq)), mask(static_cast<size_t>(seq), 1);
      std::vector<int64_t> ids64(ids.size());
      for (size_t i = 0; i < ids.size(); ++i) ids64[i] = ids[i] = static_cast<int32_t>(1 + rng() % static_cast<uint32_t>(vocab - 1));
      const auto ours_logits = [&] {
        return lm ? engine->lm_logits(ids.data(), seq) : engine->classify_logits(ids.data(), mask.data(), 1, seq);
      };

      // Correctness first: the same logits from both runtimes on the dense weights.
      engine->select_variant(0);
      const std::vector<float> ours = ours_logits();
      const json theirs = ort.call({{"op", "logits"}, {"name", "fp32"}, {"ids", ids64}})["logits"];
      double max_diff = 0, max_abs = 0;
      for (size_t i = 0; i < ours.size(); ++i) {
        max_diff = std::max(max_diff, std::fabs(static_cast<double>(ours[i]) - theirs.at(i).get<double>()));
        max_abs = std::max(max_abs, std::fabs(static_cast<double>(ours[i])));
      }
      if (theirs.size() != ours.size() || max_diff > 1e-3 * std::max(1.0, max_abs))
        throw std::runtime_error("ONNX Runtime's fp32 logits differ from the engine's by " + std::to_string(max_diff) +
                                 " at seq " + std::to_string(seq) + ": the exported graph is wrong");
      double int8_diff = -1;
      if (o.int8) {
        const json q = ort.call({{"op", "logits"}, {"name", "int8"}, {"ids", ids64}})["logits"];
        int8_diff = 0;
        for (size_t i = 0; i < ours.size(); ++i) int8_diff = std::max(int8_diff, std::fabs(static_cast<double>(ours[i]) - q.at(i).get<double>()));
      }

      std::vector<Contender> cs;
      for (const std::string p : {"fp32", "int8"}) {
        if (p == "int8" && !o.int8) continue;
        cs.push_back({"ort " + p, p, -1, {}});
        cs.push_back({"ort " + p + " plain", p + " plain", -1, {}});
      }
      const std::vector<std::string>& names = engine->variants();
      for (size_t v = 0; v < names.size(); ++v) cs.push_back({"rt3 " + names[v], "", static_cast<int>(v), {}});
      for (int r = 0; r < o.rounds; ++r) {
        for (auto& c : cs) {
          if (!c.session.empty()) {
            const json t = ort.call({{"op", "time"}, {"name", c.session}, {"ids", ids64}, {"calls", o.calls}})["ms"];
            for (const auto& x : t) c.ms.push_back(x.get<double>());
            continue;
          }
          engine->select_variant(c.variant);
          for (int k = 0; k < o.calls; ++k) {
            const auto t0 = Clock::now();
            ours_logits();
            c.ms.push_back(std::chrono::duration<double, std::milli>(Clock::now() - t0).count());
          }
        }
        if (o.progress)
          std::fprintf(stderr, "\rbench ort: %d thread(s), seq %lld, round %d/%d   ", threads, static_cast<long long>(seq), r + 1, o.rounds);
      }
      json row = {{"threads", threads}, {"seq_len", seq}, {"fp32_max_abs_diff", max_diff},
                  {"int8_max_abs_diff_vs_our_fp32", o.int8 ? json(int8_diff) : json(nullptr)}};
      // The baselines: the faster of each graph's two sessions.
      const double ort_fp32 = std::min(median(cs[0].ms), median(cs[1].ms));
      const double ort_int8 = o.int8 ? std::min(median(cs[2].ms), median(cs[3].ms)) : 0;
      row["ort_fp32_best_ms"] = ort_fp32;
      row["ort_int8_best_ms"] = o.int8 ? json(ort_int8) : json(nullptr);
      json med = json::object();
      for (const auto& c : cs) {
        const double m = median(c.ms);
        med[c.name] = {{"median_ms", m}, {"vs_ort_fp32", ort_fp32 / m}, {"vs_ort_int8", o.int8 ? json(ort_int8 / m) : json(nullptr)}};
      }
      row["contenders"] = med;
      rows.push_back(row);
    }
  }
  if (o.progress) std::fprintf(stderr, "\n");
  j["rows"] = rows;
  return j;
}

std::string format_ort_bench(const json& j) {
  std::ostringstream s;
  s << j["bundle"].get<std::string>() << ": medians of " << j["rounds"] << " rounds x " << j["calls_per_round"]
    << " calls, batch 1; speed-up = ORT time (the faster of its fused and plain graph) / ours\n";
  char buf[256];
  for (const auto& r : j["rows"]) {
    std::snprintf(buf, sizeof buf, "\n%d thread(s), seq %lld (fp32 logits agree to %.1e)\n", r["threads"].get<int>(),
                  r["seq_len"].get<long long>(), r["fp32_max_abs_diff"].get<double>());
    s << buf;
    std::snprintf(buf, sizeof buf, "  %-16s %10s %12s %12s\n", "contender", "ms", "vs ORT fp32", "vs ORT int8");
    s << buf;
    for (const auto& [name, c] : r["contenders"].items()) {
      char int8[32] = "-";
      if (!c["vs_ort_int8"].is_null()) std::snprintf(int8, sizeof int8, "%.2fx", c["vs_ort_int8"].get<double>());
      std::snprintf(buf, sizeof buf, "  %-16s %10.3f %11.2fx %12s\n", name.c_str(), c["median_ms"].get<double>(),
                    c["vs_ort_fp32"].get<double>(), int8);
      s << buf;
    }
  }
  return s.str();
}

}  // namespace rt3::cli
