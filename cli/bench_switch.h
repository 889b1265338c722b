#pragma once
// `rt3 bench switch`: run-time variant switching under load (docs/design.md "Run time": switch in
// microseconds, no inference blocked or torn). One thread runs inferences back to back
// (classifier: a fixed batch; LM: a fixed prefill), another switches variants round-robin as
// fast as it can. Every few milliseconds the switcher makes a probe switch and waits for its
// effect, which measures the time-to-effect. Every inference's output is checked against the
// output of the variant it reports, computed before the run.
#include <cstdint>
#include <string>

#include <nlohmann/json.hpp>

namespace rt3::cli {

struct SwitchBenchOptions {
  std::string bundle;
  double seconds = 10.0;    // duration of the concurrent run
  int threads = 1;          // engine threads (fixed: outputs are bit-reproducible)
  int64_t seq_len = 32;     // classifier input / LM prefill length (clamped to the model's maximum)
  int64_t batch = 1;        // classifier batch
  double probe_ms = 2.0;    // fast-switching burst between two time-to-effect probes
  uint32_t seed = 1;        // input token ids
};

// Runs the benchmark. Throws std::runtime_error for a bundle without pattern variants ("has no
// pattern variants; build them with rt3 prune pattern") or one that does not load.
// json "ok" is false when any inference mismatched its variant's output or a probe switch was
// not in effect for an inference that started after it.
nlohmann::json bench_switch(const SwitchBenchOptions& o);

// Human-readable report of bench_switch's JSON.
std::string format_switch_bench(const nlohmann::json& j);

}  // namespace rt3::cli
