// `rt3 bench ort`: the engine against ONNX Runtime on the same weights (cli/bench_ort.h).
#include <cstdio>
#include <memory>

#include "cli/bench_ort.h"
#include "cli/commands.h"

namespace rt3::cli {

Runner add_bench_ort(CLI::App& bench, GlobalOptions& g) {
  auto* cmd = bench.add_subcommand(
      "ort",
      "Every variant of a bundle (classifier or LM) on the engine against ONNX Runtime (fp32 and dynamic int8) on the same dense\n"
      "weights: logits checked first, then interleaved rounds, medians and ratios (docs/bench.md)");
  auto o = std::make_shared<OrtBenchOptions>();
  cmd->add_option("bundle", o->bundle, "Classifier or LM bundle (.rt3)")->required()->check(CLI::ExistingFile);
  cmd->add_option("--seq-lens", o->seq_lens, "Tokens per call")->delimiter(',')->capture_default_str();
  cmd->add_option("--threads", o->threads, "Thread counts (both runtimes)")->delimiter(',')->capture_default_str();
  cmd->add_option("--calls", o->calls, "Calls per contender and round")->capture_default_str()->check(CLI::Range(1, 100000));
  cmd->add_option("--rounds", o->rounds, "Rounds (contenders take turns in each)")->capture_default_str()->check(CLI::Range(1, 1000));
  cmd->add_flag("!--no-int8", o->int8, "Leave out ORT int8");
  cmd->add_option("--runner", o->runner, "ort_runner.js (default: the source tree's bench/ort/ort_runner.js)");
  cmd->add_option("--node", o->node, "The node executable")->capture_default_str();
  cmd->add_flag("--json", g.json, "Print one JSON object on stdout");
  return [o, &g]() {
    const auto j = bench_ort(*o);
    if (g.json) std::printf("%s\n", j.dump(2).c_str());
    else std::fputs(format_ort_bench(j).c_str(), stdout);
    return 0;
  };
}

}  // namespace rt3::cli
