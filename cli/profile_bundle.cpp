#include "cli/profile_bundle.h"

#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <random>
#include <sstream>
#include <stdexcept>

#include <nlohmann/json.hpp>

#include "bench/baselines/kernel_case.h"
#include "cli/bench_model.h"
#include "cli/timing.h"
#include "rt3/engine.h"
#include "runtime/format/bundle.h"
#include "runtime/format/input_file.h"
#include "runtime/kernels/bp_linear.h"
#include "runtime/kernels/dense_linear.h"
#include "runtime/kernels/pattern_linear.h"
#include "runtime/threads/thread_pool.h"

namespace rt3::cli {
namespace {
namespace fs = std::filesystem;
using Clock = std::chrono::steady_clock;

double seconds_since(Clock::time_point t0) { return std::chrono::duration<double>(Clock::now() - t0).count(); }

// Streaming read bandwidth (GB/s) over a buffer far larger than any cache: the rate at which
// weights that are not cached can reach the cores. One thread, median of 5.
double streaming_bandwidth_gbs() {
  const size_t n = size_t{64} << 20;  // 64 Mi floats = 256 MiB
  std::vector<float> buf(n, 1.0f);
  volatile float sink = 0;
  std::vector<double> rates;
  for (int r = 0; r < 5; ++r) {
    const auto t0 = Clock::now();
    float a0 = 0, a1 = 0, a2 = 0, a3 = 0;
    for (size_t i = 0; i < n; i += 4) {
      a0 += buf[i];
      a1 += buf[i + 1];
      a2 += buf[i + 2];
      a3 += buf[i + 3];
    }
    sink = a0 + a1 + a2 + a3;
    rates.push_back(static_cast<double>(n * sizeof(float)) / seconds_since(t0) / 1e9);
  }
  (void)sink;
  return median(rates);
}

std::vector<format::TensorSpec> specs_of(const format::Bundle& b) {
  return b.model_type() == format::BundleModelType::kTransformerLm ? format::required_tensors(b.lm_config())
                                                                  : format::required_tensors(b.distilbert_config());
}

// Pruned columns per tile of a pattern set (every pattern of a set shares its pruning number; a
// set that does not is reported, since the table could not describe it).
int pruning_number_of(const kernels::PatternWeights& p, const std::string& where) {
  const int64_t cols = std::min(p.tile_cols, p.in_features);
  int pn = -1;
  for (int64_t k = 0; k < p.n_patterns; ++k) {
    int zeros = 0;
    for (int64_t c = 0; c < cols; ++c) zeros += p.patterns[static_cast<size_t>(k * p.tile_cols + c)] == 0;
    if (pn >= 0 && zeros != pn)
      throw std::runtime_error(where + ": patterns of one set prune different numbers of columns (" +
                               std::to_string(pn) + " and " + std::to_string(zeros) + ")");
    pn = zeros;
  }
  return std::max(pn, 0);
}

// The inputs of one whole-model inference.
struct Workload {
  bool lm = false;
  int64_t seq_len = 0;
  std::vector<int32_t> ids, mask;
  void run(Engine& e) const {
    if (lm) e.lm_logits(ids.data(), seq_len);
    else e.classify_logits(ids.data(), mask.data(), 1, seq_len);
  }
};

// Dense weights of a prunable layer (block-pruned ones unpacked: the pattern kernel runs on the
// dense shared weights, and "dense" means the base kernel of the bundle).
std::vector<float> dense_weights(const format::Bundle& b, const format::TensorSpec& s) {
  if (b.is_block_pruned(s.name)) return kernels::bp_unpack(b.bp_weights(s.name));
  const float* w = b.weight(s.name);
  return std::vector<float>(w, w + s.shape[0] * s.shape[1]);
}

}  // namespace

std::pair<double, std::string> host_frequency_khz() {
  const std::string cpufreq = "/sys/devices/system/cpu/cpu0/cpufreq/scaling_cur_freq";
  if (std::ifstream f{cpufreq}) {
    double khz = 0;
    if (f >> khz && khz > 0) return {khz, cpufreq};
  }
  std::ifstream info("/proc/cpuinfo");
  std::string line;
  while (std::getline(info, line)) {
    if (line.rfind("cpu MHz", 0) != 0) continue;
    const auto colon = line.find(':');
    if (colon == std::string::npos) break;
    const double mhz = std::atof(line.c_str() + colon + 1);
    if (mhz > 0) return {mhz * 1000.0, "/proc/cpuinfo cpu MHz (cpu0)"};
  }
  throw std::runtime_error("cannot tell this CPU's frequency (no " + cpufreq +
                           ", no 'cpu MHz' in /proc/cpuinfo); pass --host-khz");
}

std::map<std::string, double> parse_accuracy_arg(const std::string& arg) {
  std::map<std::string, double> out;
  if (arg.empty()) return out;
  if (fs::is_regular_file(arg)) {
    const std::string text = format::read_input_file(arg);
    nlohmann::json j;
    try {
      j = nlohmann::json::parse(text);
    } catch (const std::exception& e) {
      throw std::runtime_error("--accuracy " + arg + ": not valid JSON: " + e.what());
    }
    if (!j.is_object()) throw std::runtime_error("--accuracy " + arg + ": expected an object {\"variant\": accuracy}");
    for (auto it = j.begin(); it != j.end(); ++it) {
      if (!it.value().is_number()) throw std::runtime_error("--accuracy " + arg + ": " + it.key() + " is not a number");
      out[it.key()] = it.value().get<double>();
    }
  } else {
    std::stringstream ss(arg);
    std::string item;
    while (std::getline(ss, item, ',')) {
      const auto eq = item.find('=');
      char* end = nullptr;
      const double v = eq == std::string::npos ? 0 : std::strtod(item.c_str() + eq + 1, &end);
      if (eq == std::string::npos || eq == 0 || end == item.c_str() + eq + 1 || *end != '\0')
        throw std::runtime_error("--accuracy: '" + item + "' is not NAME=VALUE (e.g. base=0.84,p63=0.83) or a JSON file");
      out[item.substr(0, eq)] = v;
    }
  }
  for (const auto& [name, v] : out)
    if (!(v >= 0 && v <= 1)) throw std::runtime_error("--accuracy: " + name + " must be a fraction in [0, 1]");
  return out;
}

dvfs::LatencyTable profile_bundle(const ProfileOptions& o, const std::function<void(int, int)>& progress) {
  format::Bundle b = format::Bundle::open(o.bundle);
  const bool lm = b.model_type() == format::BundleModelType::kTransformerLm;
  const auto prunable = format::prunable_weights(specs_of(b));
  const auto variants = b.pattern_variants();

  dvfs::LatencyTable t;
  t.bundle = o.bundle;
  t.model_type = lm ? "transformer_lm" : "distilbert_classifier";
  t.threads = o.threads;
  t.tile_rows = variants.empty() ? o.tile_rows : variants.front()->tile_rows;
  t.tile_cols = variants.empty() ? o.tile_cols : variants.front()->tile_cols;
  for (const auto* v : variants)
    if (v->tile_rows != t.tile_rows || v->tile_cols != t.tile_cols)
      throw std::runtime_error(o.bundle + ": variants use different tile shapes; the table assumes one");
  if (o.host_khz > 0) {
    t.host_khz = o.host_khz;
    t.host_khz_source = "--host-khz";
  } else {
    std::tie(t.host_khz, t.host_khz_source) = host_frequency_khz();
  }
  for (const auto& [name, acc] : o.accuracy) {
    bool known = name == "base" || std::any_of(variants.begin(), variants.end(), [&](auto* v) { return v->name == name; });
    if (!known) throw std::runtime_error("--accuracy names '" + name + "', which is not a variant of " + o.bundle);
  }

  // Which pruning numbers to measure: the requested ones plus every one a variant uses.
  std::vector<std::pair<std::string, std::map<std::string, int>>> variant_pn;  // name -> layer -> p
  std::vector<int> pns = o.pruning_numbers;
  if (pns.empty())
    for (int64_t p = std::max<int64_t>(1, t.tile_cols / 4); p < t.tile_cols; ++p) pns.push_back(static_cast<int>(p));
  for (const auto* v : variants) {
    std::map<std::string, int> pn;
    for (const auto& layer : v->layers) {
      pn[layer] = pruning_number_of(b.pattern_weights(v->name, layer), o.bundle + ": variant " + v->name + " " + layer);
      pns.push_back(pn[layer]);
    }
    variant_pn.emplace_back(v->name, std::move(pn));
  }
  std::sort(pns.begin(), pns.end());
  pns.erase(std::unique(pns.begin(), pns.end()), pns.end());
  for (int p : pns)
    if (p < 1 || p >= t.tile_cols)
      throw std::runtime_error("pruning number " + std::to_string(p) + " is outside [1, " +
                               std::to_string(t.tile_cols - 1) + "] for tiles of " + std::to_string(t.tile_cols) +
                               " columns");

  EngineOptions eo;
  eo.threads = o.threads;
  auto engine = Engine::load(o.bundle, eo);
  Workload w;
  w.lm = lm;
  w.seq_len = std::max<int64_t>(1, std::min<int64_t>(o.seq_len, engine->max_len()));
  std::mt19937 rng(1);
  w.ids.resize(static_cast<size_t>(w.seq_len));
  for (auto& id : w.ids) id = static_cast<int32_t>(rng() % static_cast<uint32_t>(engine->vocab_size()));
  w.mask.assign(w.ids.size(), 1);
  t.tokens = w.seq_len;

  const int total = static_cast<int>(prunable.size()) + 2;
  int done = 0;
  auto tick = [&] {
    if (progress) progress(++done, total);
  };

  t.memory_bandwidth_gbs = streaming_bandwidth_gbs();
  tick();

  // Whole model, base and every variant, and the twin without prunable Linears (the remainder,
  // measured in place), round-robin so drift in machine speed hits all alike.
  const std::string twin_path =
      (fs::temp_directory_path() / ("rt3_profile_" + std::to_string(::getpid()) + "_rest.rt3")).string();
  struct Remove {
    std::string path;
    ~Remove() {
      std::error_code ec;
      fs::remove(path, ec);
    }
  } cleanup{twin_path};
  write_no_linears_twin(o.bundle, twin_path);
  auto rest = Engine::load(twin_path, eo);
  const std::vector<std::string> names = engine->variants();  // a copy: the engine is freed below
  std::vector<std::vector<double>> model_times(names.size());
  std::vector<double> rest_times;
  for (size_t v = 0; v < names.size(); ++v) {  // warm-up
    engine->select_variant(static_cast<int>(v));
    w.run(*engine);
  }
  w.run(*rest);
  for (int r = 0; r < o.reps; ++r) {
    for (size_t v = 0; v < names.size(); ++v) {
      engine->select_variant(static_cast<int>(v));
      const auto t0 = Clock::now();
      w.run(*engine);
      model_times[v].push_back(seconds_since(t0));
    }
    const auto t0 = Clock::now();
    w.run(*rest);
    rest_times.push_back(seconds_since(t0));
  }
  rest.reset();
  engine.reset();
  tick();

  // Every prunable Linear alone, at M = tokens rows.
  ThreadPool pool(o.threads);
  std::uniform_real_distribution<float> u(-1, 1);
  double dense_sum = 0;
  for (const auto& s : prunable) {
    const int64_t out = s.shape[0], in = s.shape[1], m = t.tokens;
    std::vector<float> x(static_cast<size_t>(m * in)), y(static_cast<size_t>(m * out));
    for (float& v : x) v = u(rng);
    const std::vector<float> W = dense_weights(b, s);
    dvfs::LayerLatency l;
    l.name = s.name;
    l.rows = out;
    l.cols = in;
    if (b.is_block_pruned(s.name)) {  // the base kernel of a BP bundle is the BP kernel
      kernels::BpLinear lin(b.bp_weights(s.name), nullptr);
      std::vector<float> scratch(std::max<size_t>(1, lin.scratch_floats(m)) + 16);
      float* sp = reinterpret_cast<float*>((reinterpret_cast<uintptr_t>(scratch.data()) + 63) & ~uintptr_t{63});
      l.dense_s = median_seconds(o.reps, [&] { lin.forward(x.data(), m, y.data(), &pool, sp); });
      l.dense_bytes = static_cast<double>(lin.packed_bytes());
    } else {
      kernels::DenseLinear lin(W.data(), nullptr, out, in);
      l.dense_s = median_seconds(o.reps, [&] { lin.forward(x.data(), m, y.data(), &pool); });
      l.dense_bytes = static_cast<double>(out * in) * sizeof(float);
    }
    dense_sum += l.dense_s;
    for (int p : pns) {
      // The bundle's own set at this pruning number when it has one, else a random set.
      kernels::PatternWeights pw;
      bool found = false;
      for (const auto& [vname, pn] : variant_pn) {
        auto it = pn.find(s.name);
        if (it != pn.end() && it->second == p) {
          pw = b.pattern_weights(vname, s.name);
          found = true;
          break;
        }
      }
      if (!found)
        pw = rt3::bench::random_pattern_set({out, in}, {t.tile_rows, t.tile_cols}, o.patterns_per_set,
                                               static_cast<double>(p) / static_cast<double>(t.tile_cols),
                                               0x9e3779b97f4a7c15ULL ^ (static_cast<uint64_t>(p) * 7919 + done));
      kernels::PatternLinear lin(W.data(), nullptr, pw);
      l.pattern_s[p] = median_seconds(o.reps, [&] { lin.forward(x.data(), m, y.data(), &pool); });
      l.pattern_bytes[p] = static_cast<double>(lin.packed_bytes());
    }
    t.layers.push_back(std::move(l));
    tick();
  }

  // Remainder: what the model spends outside its prunable Linears, measured in place. The
  // Linears cost more inside the model than alone (their weights are evicted between uses and
  // stream in again); that traffic is calibrated on the base model as a bandwidth, so the base
  // prediction is its measurement and every variant's prediction is checked against its own.
  const double base_s = median(model_times[0]);
  t.remainder_s = std::min(median(rest_times), base_s);
  double dense_bytes = 0;
  for (const auto& l : t.layers) dense_bytes += l.dense_bytes;
  const double extra_s = base_s - t.remainder_s - dense_sum;
  t.weight_traffic_gbs = extra_s > 0 ? dense_bytes / extra_s / 1e9 : 0.0;
  // The model ran faster than its parts measured apart: no traffic to add; scale the compute
  // part instead so the base prediction is its measurement (docs/dvfs.md "Latency table").
  if (extra_s < 0) t.compute_time_scale = std::clamp(base_s / (t.remainder_s + dense_sum), 0.1, 1.0);
  for (size_t v = 0; v < names.size(); ++v) {
    dvfs::VariantLatency vl;
    vl.name = names[v];
    if (v > 0) {
      vl.pruning_numbers = variant_pn[v - 1].second;
      vl.sparsity = variants[v - 1]->sparsity;
    }
    vl.measured_s = median(model_times[v]);
    vl.predicted_s = t.predict_s(vl.pruning_numbers);
    if (auto it = o.accuracy.find(vl.name); it != o.accuracy.end()) vl.accuracy = it->second;
    t.variants.push_back(std::move(vl));
  }
  return t;
}

void print_latency_table(const dvfs::LatencyTable& t) {
  std::printf("%s (%s): %lld tokens per inference, %d thread(s), host %.0f MHz (%s), %.1f GB/s streaming\n",
              t.bundle.c_str(), t.model_type.c_str(), static_cast<long long>(t.tokens), t.threads, t.host_khz / 1000,
              t.host_khz_source.c_str(), t.memory_bandwidth_gbs);
  // Layers grouped by shape: the latencies of one shape are alike, and a model repeats shapes.
  std::map<std::pair<int64_t, int64_t>, std::vector<const dvfs::LayerLatency*>> by_shape;
  for (const auto& l : t.layers) by_shape[{l.rows, l.cols}].push_back(&l);
  const auto pns = t.pruning_numbers();
  std::printf("\nprunable Linears, median ms per layer (mean over layers of a shape); tiles %lldx%lld\n",
              static_cast<long long>(t.tile_rows), static_cast<long long>(t.tile_cols));
  std::printf("%-12s %6s %8s", "shape", "layers", "dense");
  for (int p : pns) std::printf(" %7s", ("p=" + std::to_string(p)).c_str());
  std::printf("\n");
  for (const auto& [shape, ls] : by_shape) {
    auto mean = [&](auto get) {
      double s = 0;
      for (const auto* l : ls) s += get(*l);
      return s / static_cast<double>(ls.size()) * 1e3;
    };
    std::printf("%-12s %6zu %8.3f", (std::to_string(shape.first) + "x" + std::to_string(shape.second)).c_str(),
                ls.size(), mean([](const dvfs::LayerLatency& l) { return l.dense_s; }));
    for (int p : pns) std::printf(" %7.3f", mean([p](const dvfs::LayerLatency& l) { return l.pattern_s.at(p); }));
    std::printf("\n");
  }
  std::printf("\nremainder (not prunable, measured in place): %.3f ms; in-model weight traffic %.1f GB/s; "
              "compute time scale %.2f\n\n",
              t.remainder_s * 1e3, t.weight_traffic_gbs, t.compute_time_scale);
  std::printf("%-10s %9s %12s %13s %9s %9s\n", "variant", "sparsity", "measured ms", "predicted ms", "error", "accuracy");
  for (const auto& v : t.variants) {
    const double err = v.measured_s > 0 ? (v.predicted_s - v.measured_s) / v.measured_s * 100 : 0;
    std::printf("%-10s %8.1f%% %12.3f %13.3f %+8.1f%% %9s\n", v.name.c_str(), v.sparsity * 100, v.measured_s * 1e3,
                v.predicted_s * 1e3, err, v.accuracy ? (std::to_string(*v.accuracy * 100).substr(0, 5) + "%").c_str() : "-");
  }
}

}  // namespace rt3::cli
