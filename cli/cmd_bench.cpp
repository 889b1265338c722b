// `rt3 bench <what>`: measurement verbs. Each subcommand registers itself on the `bench` app
// (add_bench_<what>, declared in cli/commands.h) and returns its runner; add_bench dispatches.
//   rt3 bench kernels   BP / pattern vs dense vs oneDNN vs XNNPACK per layer shape (cli/bench_kernels.cpp)
//   rt3 bench model     whole bundle vs its dense twin, with the Amdahl bound (cli/bench_model.cpp)
//   rt3 bench switch    variant switching under load: latency, time-to-effect, no torn inference
//   rt3 bench adapt     the engine's adaptation modes under emulated slowdowns (cli/bench_adapt.cpp)
#include <cstdio>
#include <map>
#include <memory>
#include <string>

#include "cli/bench_kernels.h"
#include "cli/commands.h"

namespace rt3::cli {

Runner add_bench_kernels(CLI::App& bench, GlobalOptions& g) {
  auto* cmd = bench.add_subcommand(
      "kernels", "Time BP and pattern sparse vs dense Linear kernels (ours, oneDNN, XNNPACK sparse) per shape");
  auto o = std::make_shared<BenchKernelsOptions>();
  cmd->add_option("--shapes", o->shapes, "Comma-separated OUTxIN layer shapes")->capture_default_str();
  cmd->add_option("--sparsity", o->sparsity, "Comma-separated group sparsities in [0, 1)")->capture_default_str();
  cmd->add_option("--m", o->m, "Comma-separated token counts (rows of x)")->capture_default_str();
  cmd->add_option("--threads-list", o->threads_list, "Comma-separated thread counts")->capture_default_str();
  cmd->add_option("--block-rows", o->block_rows, "Rows per BP block (a group = block_rows x 1)")->capture_default_str();
  cmd->add_option("--pattern-tile", o->pattern_tile, "Pattern tile ROWSxCOLS (a pattern masks the columns of a tile)")
      ->capture_default_str();
  cmd->add_option("--patterns", o->patterns, "Patterns per pattern set, in [1, 256]")->capture_default_str();
  cmd->add_flag("--no-pattern", o->no_pattern, "Skip the pattern-pruned kernel (PatternLinear)");
  cmd->add_option("--reps", o->reps, "Repetitions per variant (median reported)")->capture_default_str();
  cmd->add_option("--min-chunk-ms", o->min_chunk_ms, "Each repetition times calls lasting at least this long")
      ->capture_default_str();
  cmd->add_option("--seed", o->seed, "Seed for weights, inputs and masks")->capture_default_str();
  cmd->add_flag("--json", g.json, "Print one JSON object on stdout");
  return [o, &g]() {
    const auto result = run_bench_kernels(*o, /*progress=*/true);
    if (g.json) {
      std::printf("%s\n", result.dump(2).c_str());
    } else {
      std::fputs(format_bench_kernels(result).c_str(), stdout);
    }
    for (const auto& r : result["rows"]) {
      if (r.contains("error")) {
        std::fprintf(stderr, "rt3 bench kernels: error: some rows failed the output check (see \"error\")\n");
        return 1;
      }
    }
    return 0;
  };
}

Runner add_bench(CLI::App& app, GlobalOptions& g) {
  auto* bench = app.add_subcommand("bench", "Benchmarks: kernels (per layer shape), model (whole bundle vs dense), switch (variant switching), adapt (following slowdowns)");
  bench->require_subcommand(1);
  auto runners = std::make_shared<std::map<std::string, Runner>>();
  (*runners)["kernels"] = add_bench_kernels(*bench, g);
  (*runners)["model"] = add_bench_model(*bench, g);
  (*runners)["switch"] = add_bench_switch(*bench, g);
  (*runners)["adapt"] = add_bench_adapt(*bench, g);
  (*runners)["ort"] = add_bench_ort(*bench, g);
  return [bench, runners]() {
    for (auto* sub : bench->get_subcommands()) return runners->at(sub->get_name())();
    return 1;
  };
}

}  // namespace rt3::cli
