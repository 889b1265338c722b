// `rt3 bench switch`: variant switching latency and correctness under load (cli/bench_switch.h).
#include <cstdio>
#include <memory>

#include "cli/bench_switch.h"
#include "cli/commands.h"
#include "cli/flag_checks.h"
#include "cli/flag_limits.h"

namespace rt3::cli {

Runner add_bench_switch(CLI::App& bench, GlobalOptions& g) {
  auto* cmd = bench.add_subcommand(
      "switch",
      "Switch pattern-set variants round-robin while another thread runs inferences: switch latency, "
      "time-to-effect, and a check that every inference equals its variant's output");
  auto o = std::make_shared<SwitchBenchOptions>();
  cmd->add_option("bundle", o->bundle, "Bundle file (.rt3) with pattern variants")->required()->check(CLI::ExistingFile);
  cmd->add_option("--seconds", o->seconds, "Duration of the concurrent run")
      ->capture_default_str()
      ->check(CLI::Range(0.001, 86400.0));
  cmd->add_option("--threads", o->threads, "Engine threads")->capture_default_str()->check(CLI::Range(1, kMaxThreads));
  cmd->add_option("--seq-len", o->seq_len, "Tokens per classifier input / LM prefill (clamped to the model's maximum)")
      ->capture_default_str()
      ->check(positive_number());
  cmd->add_option("--batch", o->batch, "Classifier batch size")->capture_default_str()->check(CLI::Range(1, kMaxBatch));
  cmd->add_option("--probe-ms", o->probe_ms, "Fast-switching burst between two time-to-effect probes (ms)")
      ->capture_default_str()
      ->check(CLI::Range(0.001, 10000.0));
  cmd->add_option("--seed", o->seed, "Seed of the input token ids")->capture_default_str();
  cmd->add_flag("--json", g.json, "Print one JSON object on stdout");
  return [o, &g]() {
    const auto j = bench_switch(*o);
    if (g.json) std::printf("%s\n", j.dump(2).c_str());
    else std::fputs(format_switch_bench(j).c_str(), stdout);
    if (!j["ok"].get<bool>()) {
      std::fprintf(stderr, "rt3 bench switch: error: %lld inference(s) did not match their variant's output, %lld "
                           "probe switch(es) not in effect in time\n",
                   j["check"]["mismatches"].get<long long>(), j["check"]["late_effects"].get<long long>());
      return 1;
    }
    return 0;
  };
}

}  // namespace rt3::cli
