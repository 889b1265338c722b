// `rt3 bench model`: whole-model speed of a (block-pruned) bundle against its dense twin.
#include <chrono>
#include <cstdio>
#include <memory>

#include "cli/bench_model.h"
#include "cli/commands.h"
#include "cli/flag_checks.h"
#include "cli/flag_limits.h"
#include "cli/progress.h"

namespace rt3::cli {

Runner add_bench_model(CLI::App& bench, GlobalOptions& g) {
  auto* cmd = bench.add_subcommand(
      "model", "Whole-model latency of a bundle vs its dense twin (same weights, dense storage), with the Amdahl bound");
  auto o = std::make_shared<ModelBenchOptions>();
  cmd->add_option("bundle", o->bundle, "Bundle file (.rt3), e.g. from rt3 export of an rt3 prune bp run")
      ->required()
      ->check(CLI::ExistingFile);
  cmd->add_option("--threads", o->threads, "Engine threads")->capture_default_str()->check(CLI::Range(1, kMaxThreads));
  cmd->add_option("--reps", o->reps, "Timed repetitions per measurement (median reported)")
      ->capture_default_str()
      ->check(CLI::Range(1, 100000));
  cmd->add_option("--seq-len", o->seq_len, "Tokens per classifier input / LM prefill (clamped to the model's maximum)")
      ->capture_default_str()
      ->check(positive_number());
  cmd->add_option("--batch", o->batch, "Classifier batch size")->capture_default_str()->check(CLI::Range(1, kMaxBatch));
  cmd->add_option("--decode-tokens", o->decode_tokens, "LM: tokens generated for the per-token figure")
      ->capture_default_str()
      ->check(CLI::Range(1, kMaxDecodeTokens));
  cmd->add_flag("--json", g.json, "Print JSON");
  return [o, &g]() {
    ProgressLine bar("bench model");
    const auto t0 = std::chrono::steady_clock::now();
    auto j = bench_model(*o, [&](int done, int total) {
      bar.update(done, total, std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count(), "");
    });
    bar.finish();
    if (g.json) std::printf("%s\n", j.dump(2).c_str());
    else print_model_bench(j);
    return 0;
  };
}

}  // namespace rt3::cli
