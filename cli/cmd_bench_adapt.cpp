// `rt3 bench adapt`: the engine's adaptation modes under emulated slowdowns (cli/bench_adapt.h).
#include <cstdio>
#include <memory>

#include "cli/bench_adapt.h"
#include "cli/commands.h"

namespace rt3::cli {

Runner add_bench_adapt(CLI::App& bench, GlobalOptions& g) {
  auto* cmd = bench.add_subcommand(
      "adapt",
      "Requests at a fixed rate with a deadline while the engine's core is slowed in phases (CPU throttling or busy processes):\n"
      "dense fixed vs the engine's table mode (fed the emulated level) vs its deadline mode (docs/adapt.md)");
  auto o = std::make_shared<AdaptBenchOptions>();
  cmd->add_option("bundle", o->bundle, "Bundle with a level table and latency models (rt3 search)")
      ->required()
      ->check(CLI::ExistingFile);
  cmd->add_option("--deadline-ms", o->deadline_ms,
                  "Deadline on this host (default: the bundle's searched deadline x host/device latency scale)")
      ->check(CLI::Range(0.001, 1e6));
  cmd->add_option("--rate", o->rate_hz, "Requests per second (default: one every two deadlines)")->check(CLI::Range(0.01, 1e5));
  cmd->add_option("--load", o->load,
                  "throttle: cgroup CPU bandwidth limit on the engine's thread (like a lower clock; needs root); hogs: busy\n"
                  "processes sharing its core (like another app); auto: throttle where allowed, else hogs")
      ->capture_default_str()
      ->check(CLI::IsMember({"auto", "throttle", "hogs"}));
  cmd->add_option("--phase-s", o->phase_s, "Seconds per load phase (speed 1, 1/2, 1/3, 2/3, 1: idle, 1 hog, 2 hogs, 1 hog at 50 %, idle)")
      ->capture_default_str()
      ->check(CLI::Range(0.05, 3600.0));
  cmd->add_option("--seq-len", o->seq_len, "Tokens per request (clamped to the model's maximum)")
      ->capture_default_str()
      ->check(CLI::Range(1, 1 << 20));
  cmd->add_option("--cpu", o->cpu, "Core shared by the engine and the load")->capture_default_str()->check(CLI::Range(0, 4095));
  cmd->add_option("--policies", o->policies, "Subset of: dense table deadline fastest (the fastest variant fixed: the floor of misses)")->delimiter(',')->capture_default_str();
  cmd->add_flag("--json", g.json, "Print one JSON object on stdout (with a per-request timeline)");
  return [o, &g]() {
    const auto j = bench_adapt(*o);
    if (g.json) std::printf("%s\n", j.dump(2).c_str());
    else std::fputs(format_adapt_bench(j).c_str(), stdout);
    return 0;
  };
}

}  // namespace rt3::cli
