// `rt3 bench kernels` measurement (see cli/bench_kernels.h and docs/bench.md).
#include "cli/bench_kernels.h"

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <fstream>
#include <functional>
#include <memory>
#include <stdexcept>
#include <thread>
#include <utility>
#include <vector>

#include "bench/baselines/kernel_case.h"
#include "cli/progress.h"
#include "runtime/kernels/bp_linear.h"
#include "runtime/kernels/dense_linear.h"
#include "runtime/kernels/pattern_linear.h"
#include "runtime/threads/thread_pool.h"
#ifdef RT3_HAVE_BASELINES
#include "bench/baselines/onednn_matmul.h"
#include "bench/baselines/xnnpack_spmm.h"
#endif

namespace rt3::cli {

namespace {

using nlohmann::json;
namespace kb = rt3::bench;

// Every kernel must match linear_ref on the same (masked) weights to this relative error
// (|a - ref| / (1 + |ref|); fp32 sums of up to a few thousand products reorder freely).
constexpr double kTolerance = 1e-3;
// Pause after a multi-threaded oneDNN chunk (see the measurement loop).
constexpr int kSettleMs = 10;

std::string cpu_model() {
  std::ifstream f("/proc/cpuinfo");
  std::string line;
  while (std::getline(f, line)) {
    if (line.rfind("model name", 0) == 0) {
      const size_t colon = line.find(':');
      if (colon != std::string::npos) return line.substr(line.find_first_not_of(" \t", colon + 1));
    }
  }
  return "unknown";
}

struct AlignedFree {
  void operator()(float* p) const { std::free(p); }
};
using AlignedFloats = std::unique_ptr<float[], AlignedFree>;
AlignedFloats aligned_floats(size_t n) {
  if (n == 0) return nullptr;
  const size_t bytes = (n * sizeof(float) + 63) / 64 * 64;
  auto* p = static_cast<float*>(std::aligned_alloc(64, bytes));
  if (!p) throw std::bad_alloc();
  return AlignedFloats(p);
}

struct Variant {
  Variant(std::string n, std::function<void()> f) : name(std::move(n)), fn(std::move(f)) {}
  std::string name;
  std::function<void()> fn;
  int64_t iters = 1;
  std::vector<double> seconds;  // per call, one sample per repetition
  double median_us() const { return kb::median(seconds) * 1e6; }
};

std::string check_output(const char* what, const std::vector<float>& y, const std::vector<float>& ref) {
  const double err = kb::max_rel_error(y.data(), ref.data(), y.size());
  if (err <= kTolerance) return "";
  char buf[160];
  std::snprintf(buf, sizeof buf, "%s output differs from linear_ref (max rel. error %.3g > %.0e)", what, err,
                kTolerance);
  return buf;
}

// 1-minute load average before measuring: other processes on the cores make multi-thread rows
// unreliable (a parallel region waits for a preempted thread: milliseconds per call).
double load_average() {
  std::ifstream f("/proc/loadavg");
  double l = -1;
  return (f >> l) ? l : -1.0;
}

json num_or_null(bool have, double v) { return have ? json(v) : json(nullptr); }
json if_have(bool have, json v) { return have ? std::move(v) : json(nullptr); }

}  // namespace

json run_bench_kernels(const BenchKernelsOptions& o, bool progress) {
  // Validate everything before measuring anything.
  const auto shapes = kb::parse_shapes(o.shapes);
  const auto sparsities = kb::parse_sparsities(o.sparsity);
  const auto ms = kb::parse_ints(o.m, "--m", 1 << 16);
  const auto threads_list = kb::parse_ints(o.threads_list, "--threads-list", 256);
  if (o.block_rows < 1 || o.block_rows > 4096) throw std::invalid_argument("--block-rows must be in [1, 4096]");
  const kb::Shape tile = kb::parse_pattern_tile(o.pattern_tile);
  if (o.patterns < 1 || o.patterns > 256) throw std::invalid_argument("--patterns must be in [1, 256]");
  const bool with_pattern = !o.no_pattern;
  if (o.reps < 1 || o.reps > 100000) throw std::invalid_argument("--reps must be in [1, 100000]");
  if (!(o.min_chunk_ms > 0 && o.min_chunk_ms <= 10000)) throw std::invalid_argument("--min-chunk-ms must be in (0, 10000]");

#ifdef RT3_HAVE_BASELINES
  constexpr bool have_baselines = true;
#else
  constexpr bool have_baselines = false;
#endif
  json machine;
  machine["cpu"] = cpu_model();
  machine["hardware_threads"] = std::thread::hardware_concurrency();
  machine["loadavg_1min"] = load_average();
  {
    const float w[4] = {1, 2, 3, 4};
    machine["dense_kernel"] = kernels::DenseLinear(w, nullptr, 2, 2).kernel_name();
    machine["highway_target"] = kernels::dense_linear_targets().empty() ? "" : kernels::dense_linear_targets()[0];
  }
  machine["baselines"] = have_baselines ? "available" : "unavailable (built without libdnnl-dev / libxnnpack-dev)";
#ifdef RT3_HAVE_BASELINES
  machine["onednn_version"] = baselines::onednn_version();
  machine["onednn_threads"] = "OpenMP (libgomp), omp_set_num_threads(threads)";
  machine["xnnpack"] = "0.0~git20220216 1x1 NCHW convolution (SpMM), pthreadpool";
  machine["xnnpack_layout"] = "xnnpack_us includes transposing x to [in][m] and y back to [m][out]; "
                              "xnnpack_chw_us is the operator alone";
#endif
  json config = {{"shapes", o.shapes},      {"sparsity", o.sparsity}, {"m", o.m},
                 {"threads_list", o.threads_list}, {"block_rows", o.block_rows}, {"reps", o.reps},
                 {"min_chunk_ms", o.min_chunk_ms},  {"seed", o.seed},        {"tolerance", kTolerance},
                 {"pattern", with_pattern},         {"patterns", o.patterns}};
  config["pattern_tile"] = std::to_string(tile.out) + "x" + std::to_string(tile.in);

  json rows = json::array();
  const int64_t groups_total = static_cast<int64_t>(shapes.size() * ms.size() * threads_list.size());
  ProgressLine bar("bench kernels");
  const auto start = std::chrono::steady_clock::now();
  auto elapsed = [&] { return std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count(); };
  int64_t group_index = 0;

  for (const auto& shape : shapes) {
    for (const int64_t m : ms) {
      for (const int64_t threads : threads_list) {
        const uint64_t case_seed = o.seed * 1000003ULL + static_cast<uint64_t>(group_index);
        const auto c = kb::make_dense_case(shape, m, case_seed);
        std::unique_ptr<ThreadPool> pool_holder = threads > 1 ? std::make_unique<ThreadPool>(static_cast<int>(threads)) : nullptr;
        ThreadPool* pool = pool_holder.get();
        const size_t ysize = static_cast<size_t>(m * shape.out);
        const double dense_bytes = 4.0 * static_cast<double>(shape.out * shape.in);
        const double dense_flops = 2.0 * static_cast<double>(m * shape.out * shape.in);
        char label[96];
        std::snprintf(label, sizeof label, "%lldx%lld m=%lld t=%lld", (long long)shape.out, (long long)shape.in,
                      (long long)m, (long long)threads);

        std::vector<Variant> vars;
        std::string group_error;
        std::vector<float> ref(ysize);
        kernels::linear_ref(c.x.data(), m, shape.in, c.w.data(), c.bias.data(), shape.out, ref.data());

        kernels::DenseLinear dense(c.w.data(), c.bias.data(), shape.out, shape.in);
        std::vector<float> y_dense(ysize);
        dense.forward(c.x.data(), m, y_dense.data(), pool);
        group_error = check_output("DenseLinear", y_dense, ref);
        vars.emplace_back("dense", [&] { dense.forward(c.x.data(), m, y_dense.data(), pool); });

#ifdef RT3_HAVE_BASELINES
        std::unique_ptr<baselines::OnednnMatmul> onednn;
        std::vector<float> y_onednn(ysize);
        std::string onednn_impl;
        try {
          onednn = std::make_unique<baselines::OnednnMatmul>(c.w.data(), c.bias.data(), shape.out, shape.in, m,
                                                             static_cast<int>(threads));
          onednn->run(c.x.data(), y_onednn.data());
          onednn_impl = onednn->impl_name();
          if (group_error.empty()) group_error = check_output("oneDNN", y_onednn, ref);
        } catch (const std::exception& e) {
          if (group_error.empty()) group_error = e.what();
        }
#endif

        // Per sparsity: BP and XNNPACK on the same masked weights; PatternLinear on a pattern set.
        struct Sparse {
          double s = 0;
          kernels::BpWeights bw;
          std::unique_ptr<kernels::BpLinear> bp;
          AlignedFloats scratch;
          std::vector<float> y_bp, y_xnn, ref;
          kernels::PatternWeights pw;
          std::unique_ptr<kernels::PatternLinear> pat;
          std::vector<float> y_pat;
          int64_t pat_kept = 0;
          double pat_sparsity = 0;
#ifdef RT3_HAVE_BASELINES
          std::unique_ptr<baselines::XnnpackSpmm> xnn;
#endif
          std::string error;
          size_t bp_var = 0, pat_var = 0, xnn_var = 0, xnn_chw_var = 0;
        };
        std::vector<Sparse> sparse(sparsities.size());
        for (size_t si = 0; si < sparsities.size(); ++si) {
          Sparse& sp = sparse[si];
          sp.s = sparsities[si];
          sp.error = group_error;
          try {
            const auto wm = kb::group_masked(c.w, shape, o.block_rows, sp.s, case_seed * 31 + si + 1);
            sp.ref.resize(ysize);
            kernels::linear_ref(c.x.data(), m, shape.in, wm.data(), c.bias.data(), shape.out, sp.ref.data());
            sp.bw = kernels::bp_pack(wm.data(), shape.out, shape.in, o.block_rows);
            sp.bp = std::make_unique<kernels::BpLinear>(sp.bw, c.bias.data());
            sp.scratch = aligned_floats(sp.bp->scratch_floats(m));
            sp.y_bp.resize(ysize);
            sp.bp->forward(c.x.data(), m, sp.y_bp.data(), pool, sp.scratch.get());
            if (sp.error.empty()) sp.error = check_output("BpLinear", sp.y_bp, sp.ref);
#ifdef RT3_HAVE_BASELINES
            sp.xnn = std::make_unique<baselines::XnnpackSpmm>(wm.data(), c.bias.data(), shape.out, shape.in, m,
                                                              static_cast<int>(threads));
            sp.y_xnn.resize(ysize);
            sp.xnn->run(c.x.data(), sp.y_xnn.data());
            if (sp.error.empty()) sp.error = check_output("XNNPACK", sp.y_xnn, sp.ref);
#endif
            if (with_pattern) {
              // The same dense W, masked by a random pattern set (its own seed stream).
              sp.pw = kb::random_pattern_set(shape, tile, o.patterns, sp.s, case_seed * 31 + si + 0x5bd1e995ULL);
              sp.pat_kept = sp.pw.kept_weights();
              sp.pat_sparsity = sp.pw.sparsity();
              const auto wp = kernels::pattern_apply(c.w.data(), sp.pw);
              std::vector<float> ref_pat(ysize);
              kernels::linear_ref(c.x.data(), m, shape.in, wp.data(), c.bias.data(), shape.out, ref_pat.data());
              sp.pat = std::make_unique<kernels::PatternLinear>(c.w.data(), c.bias.data(), sp.pw);
              sp.y_pat.resize(ysize);
              sp.pat->forward(c.x.data(), m, sp.y_pat.data(), pool);
              if (sp.error.empty()) sp.error = check_output("PatternLinear", sp.y_pat, ref_pat);
            }
          } catch (const std::exception& e) {
            if (sp.error.empty()) sp.error = e.what();
          }
          if (!sp.error.empty()) continue;
          sp.bp_var = vars.size();
          vars.emplace_back("bp", [&sp, &c, m, pool] { sp.bp->forward(c.x.data(), m, sp.y_bp.data(), pool, sp.scratch.get()); });
          if (sp.pat) {
            sp.pat_var = vars.size();
            vars.emplace_back("pattern", [&sp, &c, m, pool] { sp.pat->forward(c.x.data(), m, sp.y_pat.data(), pool); });
          }
#ifdef RT3_HAVE_BASELINES
          sp.xnn_var = vars.size();
          vars.emplace_back("xnnpack", [&sp, &c] { sp.xnn->run(c.x.data(), sp.y_xnn.data()); });
          sp.xnn_chw_var = vars.size();
          vars.emplace_back("xnnpack_chw", [&sp] { sp.xnn->run_chw(); });
#endif
        }

#ifdef RT3_HAVE_BASELINES
        // oneDNN last in each repetition, so the pause after it (see below) is taken once per rep.
        const size_t onednn_var = vars.size();
        if (onednn) vars.emplace_back("onednn", [&] { onednn->run(c.x.data(), y_onednn.data()); });
#endif
        if (group_error.empty()) {
          const double min_s = o.min_chunk_ms * 1e-3;
          // Other libraries' worker threads spin for a while after each call (libgomp for oneDNN,
          // pthreadpool for XNNPACK) and would steal the cores from whatever runs next; let
          // them go to sleep first. Measured: without it, BP right after XNNPACK at 2 threads
          // ran 10-17x slower.
          auto settle = [&](const std::string& name) {
            if (threads > 1 && (name == "onednn" || name.rfind("xnnpack", 0) == 0))
              std::this_thread::sleep_for(std::chrono::milliseconds(kSettleMs));
          };
          for (auto& v : vars) {
            v.iters = kb::calibrate_iters(v.fn, min_s);
            settle(v.name);
          }
          if (threads > 1) std::this_thread::sleep_for(std::chrono::milliseconds(kSettleMs));
          for (int rep = 0; rep < o.reps; ++rep) {
            for (auto& v : vars) {
              kb::time_chunk(v.fn, std::max<int64_t>(1, v.iters / 16));  // untimed: wake this library's threads
              v.seconds.push_back(kb::time_chunk(v.fn, v.iters));
              settle(v.name);  // oneDNN's libgomp workers busy-wait ~4 ms after each region
            }
            if (progress) {
              bar.update(group_index * o.reps + rep + 1, groups_total * o.reps, elapsed(), label);
            }
          }
        } else if (progress) {
          bar.note(std::string("rt3 bench kernels: ") + label + ": " + group_error);
        }

        const double dense_us = group_error.empty() ? vars[0].median_us() : 0;
        double onednn_us = 0;
        bool have_onednn = false;
#ifdef RT3_HAVE_BASELINES
        have_onednn = group_error.empty() && onednn != nullptr;
        if (have_onednn) onednn_us = vars[onednn_var].median_us();
#endif
        for (auto& sp : sparse) {
          json row;
          row["out"] = shape.out;
          row["in"] = shape.in;
          row["m"] = m;
          row["threads"] = threads;
          row["sparsity"] = sp.s;
          row["block_rows"] = o.block_rows;
          row["groups"] = kb::n_groups(shape, o.block_rows);
          row["kept_groups"] = kb::kept_groups(shape, o.block_rows, sp.s);
          row["dense_bytes"] = dense_bytes;
          if (!sp.error.empty()) {
            row["error"] = sp.error;
            rows.push_back(row);
            if (progress && group_error.empty()) bar.note(std::string("rt3 bench kernels: ") + label + ": " + sp.error);
            continue;
          }
          const double nnz = static_cast<double>(sp.bw.nonzeros());
          const double bp_bytes = static_cast<double>(sp.bw.storage_bytes());
          const double bp_us = vars[sp.bp_var].median_us();
          row["nonzeros"] = sp.bw.nonzeros();
          row["bp_bytes"] = bp_bytes;
          row["dense_kernel"] = dense.kernel_name();
          row["bp_kernel"] = sp.bp->kernel_name();
          row["dense_us"] = dense_us;
          row["dense_gflops"] = dense_flops / dense_us * 1e-3;
          row["onednn_us"] = num_or_null(have_onednn, onednn_us);
          row["onednn_gflops"] = num_or_null(have_onednn, dense_flops / onednn_us * 1e-3);
          row["bp_us"] = bp_us;
          row["bp_gflops_nnz"] = 2.0 * static_cast<double>(m) * nnz / bp_us * 1e-3;
          row["bp_gflops_effective"] = dense_flops / bp_us * 1e-3;
          row["speedup_bp_vs_dense"] = dense_us / bp_us;
          row["speedup_bp_vs_onednn"] = num_or_null(have_onednn, onednn_us / bp_us);
          const double target = kb::target_speedup(m, sp.s, dense_bytes, bp_bytes);
          row["target"] = target;
          row["target_rule"] = m == 1 ? "0.8 x dense bytes / BP bytes" : "0.7 / (1 - sparsity)";
          // The baseline is the best dense sgemm of the run: the faster of oneDNN and ours.
          const double best_dense_us = have_onednn ? std::min(dense_us, onednn_us) : dense_us;
          row["best_dense_us"] = best_dense_us;
          row["speedup_bp_vs_best_dense"] = best_dense_us / bp_us;
          row["met"] = best_dense_us / bp_us >= target;
          bool have_xnn = false;
          double xnn_us = 0, xnn_chw_us = 0;
#ifdef RT3_HAVE_BASELINES
          have_xnn = sp.xnn != nullptr;
          if (have_xnn) {
            xnn_us = vars[sp.xnn_var].median_us();
            xnn_chw_us = vars[sp.xnn_chw_var].median_us();
          }
          if (have_onednn) row["onednn_impl"] = onednn_impl;
#endif
          row["xnnpack_us"] = num_or_null(have_xnn, xnn_us);
          row["xnnpack_chw_us"] = num_or_null(have_xnn, xnn_chw_us);
          row["xnnpack_gflops_nnz"] = num_or_null(have_xnn, 2.0 * static_cast<double>(m) * nnz / xnn_us * 1e-3);
          row["xnnpack_gflops_effective"] = num_or_null(have_xnn, dense_flops / xnn_us * 1e-3);
          row["speedup_xnnpack_vs_dense"] = num_or_null(have_xnn, dense_us / xnn_us);
          row["speedup_xnnpack_vs_onednn"] = num_or_null(have_xnn && have_onednn, onednn_us / xnn_us);
          row["speedup_bp_vs_xnnpack"] = num_or_null(have_xnn, xnn_us / bp_us);
          // Pattern pruning: same dense W, a random pattern set (null fields with --no-pattern).
          const bool have_pat = sp.pat != nullptr;
          const double pat_us = have_pat ? vars[sp.pat_var].median_us() : 0;
          const double pat_bytes = 4.0 * static_cast<double>(sp.pat_kept) + static_cast<double>(sp.pw.storage_bytes());
          const double pat_target = m == 1 ? 0.8 * dense_bytes / pat_bytes : 0.7 / (1.0 - sp.pat_sparsity);
          row["pattern_tile"] = if_have(have_pat, config["pattern_tile"]);
          row["pattern_count"] = if_have(have_pat, sp.pw.n_patterns);
          row["pattern_pruned_cols"] = if_have(have_pat, kb::pattern_pruned_cols(tile.in, sp.s));
          row["pattern_kept"] = if_have(have_pat, sp.pat_kept);
          row["pattern_sparsity"] = if_have(have_pat, sp.pat_sparsity);
          row["pattern_bytes"] = if_have(have_pat, pat_bytes);
          row["pattern_kernel"] = if_have(have_pat, have_pat ? sp.pat->kernel_name() : "");
          row["pattern_us"] = if_have(have_pat, pat_us);
          row["pattern_gflops_nnz"] = if_have(have_pat, 2.0 * static_cast<double>(m * sp.pat_kept) / pat_us * 1e-3);
          row["pattern_gflops_effective"] = if_have(have_pat, dense_flops / pat_us * 1e-3);
          row["speedup_pattern_vs_best_dense"] = if_have(have_pat, best_dense_us / pat_us);
          row["pattern_target"] = if_have(have_pat, pat_target);
          row["pattern_target_rule"] =
              if_have(have_pat, m == 1 ? "0.8 x dense bytes / pattern bytes" : "0.7 / (1 - pattern_sparsity)");
          row["pattern_met"] = if_have(have_pat, best_dense_us / pat_us >= pat_target);
          rows.push_back(row);
        }
        ++group_index;
      }
    }
  }
  if (progress) bar.finish();
  return {{"machine", machine}, {"config", config}, {"rows", rows}};
}

std::string format_bench_kernels(const json& result) {
  std::string out;
  char buf[512];
  const auto& mc = result["machine"];
  std::snprintf(buf, sizeof buf, "CPU %s (%u hw threads), dense kernel %s, baselines %s\n",
                mc["cpu"].get<std::string>().c_str(), mc["hardware_threads"].get<unsigned>(),
                mc["dense_kernel"].get<std::string>().c_str(), mc["baselines"].get<std::string>().c_str());
  out += buf;
  const double load = mc.value("loadavg_1min", -1.0);
  if (load >= 0.5) {
    std::snprintf(buf, sizeof buf,
                  "warning: load average %.2f before measuring: other processes share the cores, so "
                  "multi-thread rows are unreliable\n",
                  load);
    out += buf;
  }
  std::snprintf(buf, sizeof buf,
                "%-10s %4s %3s %5s | %9s %9s | %9s %7s %7s %8s %8s %6s %3s | %9s %9s %8s | %5s %9s %8s %6s %3s\n",
                "shape", "m", "thr", "spars", "dense us", "oneDNN us", "BP us", "GF/s nz", "GF/s ef", "BP/dense",
                "BP/oneDNN", "target", "met", "XNN us", "XNNchw us", "XNN/dens", "Pspar", "Pat us", "Pat/best",
                "Ptarg", "met");
  out += buf;
  out += std::string(std::string(buf).size() - 1, '-') + "\n";
  auto fmt = [](const json& v, const char* f) {
    if (v.is_null()) return std::string("n/a");
    if (v.is_boolean()) return std::string(v.get<bool>() ? "yes" : "no");
    char b[32];
    std::snprintf(b, sizeof b, f, v.get<double>());
    return std::string(b);
  };
  for (const auto& r : result["rows"]) {
    const std::string shape = std::to_string(r["out"].get<int64_t>()) + "x" + std::to_string(r["in"].get<int64_t>());
    if (r.contains("error")) {
      std::snprintf(buf, sizeof buf, "%-10s %4lld %3lld %5.2f | ERROR: %s\n", shape.c_str(),
                    (long long)r["m"].get<int64_t>(), (long long)r["threads"].get<int64_t>(),
                    r["sparsity"].get<double>(), r["error"].get<std::string>().c_str());
      out += buf;
      continue;
    }
    std::snprintf(buf, sizeof buf,
                  "%-10s %4lld %3lld %5.2f | %9s %9s | %9s %7s %7s %8s %9s %6s %3s | %9s %9s %8s | %5s %9s %8s %6s %3s\n",
                  shape.c_str(), (long long)r["m"].get<int64_t>(), (long long)r["threads"].get<int64_t>(),
                  r["sparsity"].get<double>(), fmt(r["dense_us"], "%.1f").c_str(), fmt(r["onednn_us"], "%.1f").c_str(),
                  fmt(r["bp_us"], "%.1f").c_str(), fmt(r["bp_gflops_nnz"], "%.1f").c_str(),
                  fmt(r["bp_gflops_effective"], "%.1f").c_str(), fmt(r["speedup_bp_vs_dense"], "%.2fx").c_str(),
                  fmt(r["speedup_bp_vs_onednn"], "%.2fx").c_str(), fmt(r["target"], "%.2fx").c_str(),
                  r["met"].get<bool>() ? "yes" : "no", fmt(r["xnnpack_us"], "%.1f").c_str(),
                  fmt(r["xnnpack_chw_us"], "%.1f").c_str(), fmt(r["speedup_xnnpack_vs_dense"], "%.2fx").c_str(),
                  fmt(r["pattern_sparsity"], "%.3f").c_str(), fmt(r["pattern_us"], "%.1f").c_str(),
                  fmt(r["speedup_pattern_vs_best_dense"], "%.2fx").c_str(), fmt(r["pattern_target"], "%.2fx").c_str(),
                  fmt(r["pattern_met"], "").c_str());
    out += buf;
  }
  out += "times: median over reps of chunks >= min_chunk_ms; GF/s nz = 2*m*nonzeros/time, GF/s ef = 2*m*out*in/time;\n"
         "target: m=1 0.8 x dense bytes / BP bytes, m>1 0.7/(1-s), met = BP vs the best dense (min of ours and oneDNN) >= target; XNN us includes the\n"
         "x/y transposes, XNNchw us is the operator alone (activations already channel-major).\n"
         "Pattern (P*): PatternLinear on a random pattern set over the dense W (Pspar = its exact sparsity); Pat/best =\n"
         "best dense / pattern time; Ptarg: m=1 0.8 x dense bytes / pattern bytes, m>1 0.7/(1-Pspar); met = Pat/best >= Ptarg.\n";
  return out;
}

}  // namespace rt3::cli
