// `rt3 bench switch` (cli/bench_switch.h).
//
// Two threads share one Engine for --seconds:
//   inference thread: runs the fixed workload back to back; per inference it records the
//     start time (taken just before the call, so the engine reads the active variant after it),
//     the end time, the variant the engine reports, and whether the output equals that
//     variant's reference output (computed before the run, on the same engine and threads).
//   switcher thread: round-robin select_variant as fast as it can, each call timed, for
//     --probe-ms; then one probe switch: select, note the time t_s, and wait (no more switches)
//     until an inference that started at or after t_s has completed. After the run, each probe
//     is matched with the first inference that started at or after t_s: time-to-effect = its
//     start - t_s (bounded by one inference plus the gap between two), time-to-result = its end
//     - t_s; it must report the probe's variant ("late effect" otherwise).
#include "cli/bench_switch.h"

#include <algorithm>
#include <atomic>
#include <chrono>
#include <cmath>
#include <cstdio>
#include <random>
#include <stdexcept>
#include <string>
#include <thread>
#include <vector>

#include "rt3/engine.h"

namespace rt3::cli {
namespace {

using nlohmann::json;
using Clock = std::chrono::steady_clock;

int64_t ns_since(Clock::time_point t0) {
  return std::chrono::duration_cast<std::chrono::nanoseconds>(Clock::now() - t0).count();
}

// Log-linear histogram of nanosecond durations: exact below 1024 ns, 64 sub-buckets per power
// of two above (< 1.6% error), exact max. Constant memory for any number of samples.
class Histogram {
 public:
  Histogram() : counts_(1024 + 64 * 54, 0) {}
  void add(int64_t ns) {
    if (ns < 0) ns = 0;
    ++counts_[bucket(static_cast<uint64_t>(ns))];
    ++n_;
    sum_ += static_cast<double>(ns);
    max_ = std::max(max_, ns);
  }
  uint64_t count() const { return n_; }
  // Quantile q in [0, 1] in nanoseconds (the bucket's lower bound; exact below 1024 ns).
  double quantile(double q) const {
    if (n_ == 0) return 0.0;
    const uint64_t rank = static_cast<uint64_t>(std::ceil(q * static_cast<double>(n_)));
    uint64_t seen = 0;
    for (size_t b = 0; b < counts_.size(); ++b) {
      seen += counts_[b];
      if (seen >= std::max<uint64_t>(rank, 1)) return std::min(static_cast<double>(lower(b)), static_cast<double>(max_));
    }
    return static_cast<double>(max_);
  }
  json summary_us() const {
    return {{"count", n_},
            {"p50", quantile(0.50) / 1e3},
            {"p99", quantile(0.99) / 1e3},
            {"max", static_cast<double>(max_) / 1e3},
            {"mean", n_ ? sum_ / static_cast<double>(n_) / 1e3 : 0.0}};
  }

 private:
  static size_t bucket(uint64_t v) {
    if (v < 1024) return static_cast<size_t>(v);
    const int e = 63 - __builtin_clzll(v);  // >= 10
    const uint64_t sub = (v >> (e - 6)) & 63;
    return std::min<size_t>(1024 + static_cast<size_t>(e - 10) * 64 + sub, 1024 + 64 * 54 - 1);
  }
  static uint64_t lower(size_t b) {
    if (b < 1024) return b;
    const size_t e = (b - 1024) / 64 + 10, sub = (b - 1024) % 64;
    return (uint64_t{1} << e) + (static_cast<uint64_t>(sub) << (e - 6));
  }
  std::vector<uint64_t> counts_;
  uint64_t n_ = 0;
  double sum_ = 0.0;
  int64_t max_ = 0;
};

json sorted_summary_us(std::vector<int64_t> ns) {
  if (ns.empty()) return {{"count", 0}, {"p50", nullptr}, {"p99", nullptr}, {"max", nullptr}};
  std::sort(ns.begin(), ns.end());
  auto q = [&](double p) {
    const size_t i = std::min(ns.size() - 1, static_cast<size_t>(std::ceil(p * static_cast<double>(ns.size()))) - (p > 0 ? 1 : 0));
    return static_cast<double>(ns[i]) / 1e3;
  };
  return {{"count", ns.size()}, {"p50", q(0.5)}, {"p99", q(0.99)}, {"max", static_cast<double>(ns.back()) / 1e3}};
}

struct Workload {
  bool lm = false;
  int64_t batch = 1, seq_len = 1;
  std::vector<int32_t> ids, mask;
  std::vector<float> run(Engine& e, int* variant) const {
    if (lm) return e.lm_logits(ids.data(), seq_len, variant);
    return e.classify_logits(ids.data(), mask.data(), batch, seq_len, variant);
  }
};

bool same(const std::vector<float>& a, const std::vector<float>& b, bool exact) {
  if (a.size() != b.size()) return false;
  if (exact) return a == b;
  for (size_t i = 0; i < a.size(); ++i)
    if (!(std::fabs(a[i] - b[i]) <= 1e-6 * std::max(std::fabs(a[i]), std::fabs(b[i])) + 1e-30)) return false;
  return true;
}

struct Inference {
  int64_t start_ns, end_ns;
  int variant;
  bool ok;
};
struct Probe {
  int64_t switch_ns;
  int variant;
};

}  // namespace

json bench_switch(const SwitchBenchOptions& o) {
  if (!(o.seconds > 0.0)) throw std::runtime_error("bench switch: --seconds must be > 0");
  EngineOptions eo;
  eo.threads = o.threads;
  std::unique_ptr<Engine> engine = Engine::load(o.bundle, eo);
  const int K = static_cast<int>(engine->variants().size());
  if (K < 2)
    throw std::runtime_error("bundle " + o.bundle + " has no pattern variants; build them with rt3 prune pattern");

  Workload w;
  w.lm = engine->model_type() == ModelType::kTransformerLm;
  w.seq_len = std::max<int64_t>(1, std::min<int64_t>(o.seq_len, engine->max_len()));
  w.batch = w.lm ? 1 : std::max<int64_t>(1, o.batch);
  std::mt19937 rng(o.seed);
  w.ids.resize(static_cast<size_t>(w.batch * w.seq_len));
  for (auto& id : w.ids) id = static_cast<int32_t>(rng() % static_cast<uint32_t>(engine->vocab_size()));
  w.mask.assign(w.ids.size(), 1);

  // Reference outputs per variant, and whether repeated runs are bit-identical.
  std::vector<std::vector<float>> ref(static_cast<size_t>(K));
  std::vector<double> single_ms(static_cast<size_t>(K));
  bool exact = true;
  for (int v = 0; v < K; ++v) {
    engine->select_variant(v);
    int ran = -1;
    ref[v] = w.run(*engine, &ran);
    if (ran != v) throw std::runtime_error("bench switch: engine ran variant " + std::to_string(ran) + " after selecting " + std::to_string(v));
    std::vector<double> times;
    for (int r = 0; r < 3; ++r) {
      const auto t0 = Clock::now();
      const std::vector<float> again = w.run(*engine, &ran);
      times.push_back(std::chrono::duration<double, std::milli>(Clock::now() - t0).count());
      if (again != ref[v]) exact = false;
    }
    std::sort(times.begin(), times.end());
    single_ms[v] = times[1];
  }
  engine->select_variant(0);

  // The concurrent run.
  const auto t0 = Clock::now();
  const int64_t run_ns = static_cast<int64_t>(o.seconds * 1e9);
  const int64_t burst_ns = std::max<int64_t>(1000, static_cast<int64_t>(o.probe_ms * 1e6));
  std::atomic<bool> stop{false};
  std::atomic<int64_t> completed_start_ns{-1};  // start time of the latest completed inference
  std::vector<Inference> inferences;
  inferences.reserve(1 << 16);
  std::string inference_error;
  std::thread infer([&] {
    try {
      while (!stop.load(std::memory_order_relaxed)) {
        const int64_t s = ns_since(t0);
        int v = -1;
        const std::vector<float> out = w.run(*engine, &v);
        const int64_t e = ns_since(t0);
        const bool ok = v >= 0 && v < K && same(out, ref[static_cast<size_t>(v)], exact);
        inferences.push_back({s, e, v, ok});
        completed_start_ns.store(s, std::memory_order_release);
      }
    } catch (const std::exception& ex) {
      inference_error = ex.what();
      stop.store(true);
    }
  });

  Histogram latency;
  std::vector<Probe> probes;
  int next = 1 % K;
  auto timed_select = [&](int v) {
    const auto a = Clock::now();
    engine->select_variant(v);
    latency.add(std::chrono::duration_cast<std::chrono::nanoseconds>(Clock::now() - a).count());
  };
  while (!stop.load(std::memory_order_relaxed) && ns_since(t0) < run_ns) {
    const int64_t burst_end = ns_since(t0) + burst_ns;
    do {
      timed_select(next);
      next = (next + 1) % K;
    } while (ns_since(t0) < burst_end);
    // Probe: one switch, then wait for an inference that started after it to complete.
    timed_select(next);
    const int64_t ts = ns_since(t0);
    probes.push_back({ts, next});
    next = (next + 1) % K;
    while (!stop.load(std::memory_order_relaxed) && completed_start_ns.load(std::memory_order_acquire) < ts)
      std::this_thread::yield();
  }
  stop.store(true);
  infer.join();
  const double elapsed_s = static_cast<double>(ns_since(t0)) / 1e9;
  if (!inference_error.empty()) throw std::runtime_error("bench switch: inference failed: " + inference_error);

  // Results.
  int64_t mismatches = 0, late = 0;
  std::vector<int64_t> per_variant(static_cast<size_t>(K), 0), infer_ns, tte_ns, ttr_ns;
  for (const Inference& r : inferences) {
    if (r.variant >= 0 && r.variant < K) ++per_variant[static_cast<size_t>(r.variant)];
    if (!r.ok) ++mismatches;
    infer_ns.push_back(r.end_ns - r.start_ns);
  }
  for (const Probe& p : probes) {
    auto it = std::lower_bound(inferences.begin(), inferences.end(), p.switch_ns,
                               [](const Inference& r, int64_t t) { return r.start_ns < t; });
    if (it == inferences.end()) continue;  // the run ended first (only after an inference error)
    tte_ns.push_back(it->start_ns - p.switch_ns);
    ttr_ns.push_back(it->end_ns - p.switch_ns);
    if (it->variant != p.variant) ++late;
  }

  json variants = json::array();
  const auto& info = engine->variant_info();
  for (int v = 0; v < K; ++v)
    variants.push_back({{"index", v},
                        {"name", info[v].name},
                        {"kind", info[v].kind},
                        {"sparsity", info[v].sparsity},
                        {"packed_bytes", info[v].packed_bytes},
                        {"pattern_layers", info[v].pattern_layers},
                        {"inference_ms", single_ms[v]},
                        {"inferences", per_variant[v]}});
  json per_name = json::object();
  for (int v = 0; v < K; ++v) per_name[info[v].name] = per_variant[v];
  json j = {{"bundle", o.bundle},
            {"model_type", engine->model_type_name()},
            {"threads", o.threads},
            {"workload", w.lm ? "lm_prefill" : "classify"},
            {"batch", w.batch},
            {"seq_len", w.seq_len},
            {"seconds", elapsed_s},
            {"variants", variants},
            {"switches", latency.count()},
            {"switches_per_second", static_cast<double>(latency.count()) / elapsed_s},
            {"switch_latency_us", latency.summary_us()},
            {"probes", probes.size()},
            {"time_to_effect_us", sorted_summary_us(tte_ns)},
            {"time_to_result_us", sorted_summary_us(ttr_ns)},
            {"inference_us", sorted_summary_us(infer_ns)},
            {"inferences", inferences.size()},
            {"inferences_per_variant", per_name},
            {"check",
             {{"mode", exact ? "bit-exact" : "relative 1e-6"},
              {"checked", inferences.size()},
              {"mismatches", mismatches},
              {"late_effects", late}}},
            {"ok", mismatches == 0 && late == 0}};
  return j;
}

std::string format_switch_bench(const json& j) {
  char buf[512];
  std::string out;
  auto line = [&](const char* fmt, auto... args) {
    std::snprintf(buf, sizeof buf, fmt, args...);
    out += buf;
  };
  auto num = [](const json& v) { return v.is_number() ? v.get<double>() : std::nan(""); };
  line("%s (%s), %d thread(s), %s batch %lld x %lld tokens, %.1f s\n", j["bundle"].get<std::string>().c_str(),
       j["model_type"].get<std::string>().c_str(), j["threads"].get<int>(), j["workload"].get<std::string>().c_str(),
       j["batch"].get<long long>(), j["seq_len"].get<long long>(), j["seconds"].get<double>());
  line("%-3s %-16s %-8s %9s %12s %8s %13s %11s\n", "#", "variant", "kind", "sparsity", "packed KiB", "layers",
       "inference ms", "inferences");
  for (const auto& v : j["variants"])
    line("%-3d %-16s %-8s %8.1f%% %12.1f %8d %13.3f %11lld\n", v["index"].get<int>(), v["name"].get<std::string>().c_str(),
         v["kind"].get<std::string>().c_str(), 100.0 * v["sparsity"].get<double>(),
         static_cast<double>(v["packed_bytes"].get<size_t>()) / 1024.0, v["pattern_layers"].get<int>(),
         v["inference_ms"].get<double>(), v["inferences"].get<long long>());
  const json& sl = j["switch_latency_us"];
  line("switches:        %llu (%.0f / s)\n", sl["count"].get<unsigned long long>(), j["switches_per_second"].get<double>());
  line("%-16s %10s %10s %10s\n", "(microseconds)", "p50", "p99", "max");
  for (const char* k : {"switch_latency_us", "time_to_effect_us", "time_to_result_us", "inference_us"}) {
    const json& s = j[k];
    line("%-16s %10.3f %10.3f %10.3f\n", std::string(k).substr(0, std::string(k).size() - 3).c_str(), num(s["p50"]),
         num(s["p99"]), num(s["max"]));
  }
  const json& c = j["check"];
  line("time to effect: switch -> start of the first inference after it (%zu probes); to result: -> its output\n",
       j["probes"].get<size_t>());
  line("check (%s): %lld inferences, %lld mismatches, %lld late effects: %s\n", c["mode"].get<std::string>().c_str(),
       c["checked"].get<long long>(), c["mismatches"].get<long long>(), c["late_effects"].get<long long>(),
       j["ok"].get<bool>() ? "OK" : "FAILED");
  return out;
}

}  // namespace rt3::cli
