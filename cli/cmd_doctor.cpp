// `rt3 doctor`: what this machine gives us — BLAS in use, measured sgemm, data cache status.
#include <nlohmann/json.hpp>

#include <cstdio>
#include <filesystem>
#include <string>

#include "cli/commands.h"
#include "cli/flag_limits.h"
#include "rt3/version.h"
#include "train/data/paths.h"
#ifdef RT3_WITH_TRAIN
#include "train/compute_env.h"
#endif

namespace rt3::cli {

Runner add_doctor(CLI::App& app, GlobalOptions& g) {
  auto* cmd = app.add_subcommand("doctor", "Check the machine: BLAS in use, sgemm GFLOP/s, data cache");
  struct Opts {
    int n = 1024;
    int reps = 15;
    double min_gflops = 0.0;
  };
  auto o = std::make_shared<Opts>();
  cmd->add_option("--threads", g.threads, "Threads for LibTorch/BLAS")->capture_default_str()->check(CLI::Range(1, kMaxThreads));
  cmd->add_option("--size", o->n, "Matrix size n for the n x n x n sgemm")->capture_default_str()->check(CLI::Range(64, 8192));
  cmd->add_option("--reps", o->reps, "Timed repetitions (median reported)")->capture_default_str()->check(CLI::Range(1, 1000));
  cmd->add_option("--min-gflops", o->min_gflops, "Exit 1 if the median sgemm is below this");
  cmd->add_flag("--json", g.json, "Print JSON");
  return [o, &g]() {
    nlohmann::json out;
    out["version"] = version_string();
    out["threads"] = g.threads;
    std::string data = rt3::data::data_dir();
    out["data_dir"] = data;
    out["data_ready"] = std::filesystem::exists(data + "/sotu/.rt3-ok") &&
                        std::filesystem::exists(data + "/spam-assassin/.rt3-ok") &&
                        std::filesystem::exists(data + "/bert-uncased-vocab.txt");
    bool ok = true;
#ifdef RT3_WITH_TRAIN
    rt3::train::init_compute(g.threads);
    auto blas = rt3::train::loaded_blas();
    auto m = rt3::train::measure_torch_sgemm(o->n, g.threads, o->reps);
    out["blas"] = {{"name", blas.name}, {"library", blas.library_path}};
    out["sgemm"] = {{"n", m.n}, {"threads", m.threads}, {"reps", m.reps},
                    {"median_gflops", m.median_gflops}, {"best_gflops", m.best_gflops}};
    ok = m.median_gflops >= o->min_gflops;
    out["sgemm_ok"] = ok;
#else
    out["blas"] = "not built (RT3_BUILD_TRAIN=OFF)";
#endif
    if (g.json) {
      std::printf("%s\n", out.dump(2).c_str());
    } else {
      std::printf("rt3 %s\n", version_string());
      std::printf("data cache     %s (%s)\n", data.c_str(), out["data_ready"].get<bool>() ? "ready" : "MISSING: run scripts/setup.sh");
#ifdef RT3_WITH_TRAIN
      std::printf("BLAS           %s  [%s]\n", blas.name.c_str(), blas.library_path.c_str());
      std::printf("sgemm          %d^3 fp32 via LibTorch, %d threads: median %.1f GFLOP/s (best %.1f, %d reps)\n", m.n,
                  m.threads, m.median_gflops, m.best_gflops, m.reps);
      if (!ok) std::printf("FAIL           median below --min-gflops %.1f\n", o->min_gflops);
#endif
    }
    return ok ? 0 : 1;
  };
}

}  // namespace rt3::cli
