#pragma once
// `rt3 bench adapt`: does the engine follow a slowing CPU by itself? Requests at a fixed rate with a
// deadline, while a load slows the engine's core in phases the way a phone slows down: CPU bandwidth
// throttling of the engine's thread (cli/cpu_throttle.h, like a lower clock) or busy processes
// sharing its core (cli/cpu_hogs.h, like another app). Three policies run the same
// phases one after the other: the dense model fixed (manual mode), the engine's table mode fed the
// emulated frequency level, and its deadline mode (no OS signal at all). Per policy: deadline-miss
// rate, accuracy delivered, switches, p99 response time; per phase the same. docs/adapt.md.
#include <cstdint>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

namespace rt3::cli {

struct LoadPhase {
  double seconds = 0;
  int hogs = 0;       // busy processes sharing the engine's core
  double duty = 0;    // fraction of the time each is busy
};

struct AdaptBenchOptions {
  std::string bundle;
  double deadline_ms = 0;   // 0: the bundle's searched deadline x (host / device latency of its variants)
  double rate_hz = 0;       // 0: one request every 2 deadlines
  double phase_s = 5.0;     // length of each phase of the default load trace
  int64_t seq_len = 128;    // tokens per request (clamped to the model's maximum)
  int cpu = 0;              // the core the engine and the load share
  std::string load = "auto";  // "throttle", "hogs", or "auto": throttle where the machine allows it
  std::vector<std::string> policies = {"dense", "table", "deadline"};  // also "fastest" (the floor of misses)
  bool progress = true;
};

// The default trace: idle, 1 hog, 2 hogs, 1 hog at half duty, idle (phase_s each); a throttled
// run limits the engine to the same speeds (1, 1/2, 1/3, 2/3, 1).
std::vector<LoadPhase> default_load_phases(double phase_s);
// Share of the CPU one always-runnable task keeps in the phase: 1 / (1 + hogs x duty).
double phase_speed(const LoadPhase& p);

// Throws std::runtime_error when the bundle cannot serve table or deadline mode (says what is
// missing), or no deadline is known.
nlohmann::json bench_adapt(const AdaptBenchOptions& o);
std::string format_adapt_bench(const nlohmann::json& j);

}  // namespace rt3::cli
