#pragma once
// The one adaptation policy of RT3 (docs/adapt.md): the engine owns one Adapter and asks it, at
// the start of every inference, which variant to run, and tells it at the end how long it took.
// `rt3 govern` drives it through the engine; `rt3 simulate` runs this same class on simulated
// clocks (Adapter::decide/observe with a given latency), so what is simulated is what ships.
//
// Threads: select(), set_cpu_khz(), set_deadline_s(), mode(), stats() are lock-free and safe from
// any thread. begin()/end()/set_mode()/decide()/observe() must be serialised by the caller (the
// engine's inference lock); they never touch a lock of their own.
#include <algorithm>
#include <atomic>
#include <chrono>
#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "rt3/engine.h"
#include "runtime/adapt/cpufreq_reader.h"
#include "runtime/adapt/deadline_controller.h"
#include "runtime/adapt/latency_model.h"
#include "runtime/adapt/level_table.h"

namespace rt3::adapt {

// Everything the policy knows about a bundle, in engine variant order ([0] = "base").
struct PolicySpec {
  std::vector<std::string> variants;
  std::vector<double> sparsity;
  std::vector<std::optional<LatencyModel>> latency;
  std::vector<std::optional<double>> accuracy;
  LevelTable levels;
  std::optional<double> searched_deadline_s;
  // Active CPU power (mW) of the inference cluster by OPP frequency, ascending (empty: no energy).
  std::vector<std::pair<std::uint64_t, double>> active_power_mw;
  std::string energy_note;  // why active_power_mw is empty
};

// Engine variant indices, most preferred first: by accuracy (descending) when every listed variant
// has one, else by sparsity (ascending: the denser the more accurate).
std::vector<int> preference_order(const PolicySpec& spec, const std::vector<int>& variants);

class Adapter {
 public:
  Adapter(PolicySpec spec, std::string cpufreq_root, DeadlineOptions deadline = {});

  const PolicySpec& spec() const { return spec_; }
  std::string support(AdaptMode mode) const;  // "" or what is missing
  void set_mode(AdaptMode mode);              // throws std::invalid_argument / std::runtime_error
  AdaptMode mode() const { return mode_.load(std::memory_order_acquire); }

  void select(int variant);  // manual choice; throws std::invalid_argument in another mode
  int active() const { return active_.load(std::memory_order_acquire); }
  void set_cpu_khz(std::uint64_t khz);
  void set_deadline_s(double s);
  double deadline_s() const { return deadline_s_.load(std::memory_order_relaxed); }

  // The decision for the next inference, for a request that has waited waited_s since it
  // arrived (does not start a clock). `decide` is begin() without the timer, for simulations.
  InferenceInfo decide(double waited_s = 0);
  // Completes `info` with the measured latency, feeds the policy and the counters. A deadline
  // miss counts the wait: info.waited_ms + latency > deadline.
  void observe(InferenceInfo& info, double measured_s);

  struct Ticket {
    InferenceInfo info;
    std::chrono::steady_clock::time_point t0;
  };
  // arrival: when the request arrived (the default time_point: now, no wait).
  Ticket begin(std::chrono::steady_clock::time_point arrival = {}) {
    double waited_s = 0;  // no clock read when no arrival was given (the common case)
    if (arrival != std::chrono::steady_clock::time_point{})
      waited_s = std::max(0.0, std::chrono::duration<double>(std::chrono::steady_clock::now() - arrival).count());
    Ticket t{decide(waited_s), {}};
    t.t0 = std::chrono::steady_clock::now();
    return t;
  }
  InferenceInfo end(Ticket& t) {
    observe(t.info, std::chrono::duration<double>(std::chrono::steady_clock::now() - t.t0).count());
    return t.info;
  }

  std::vector<VariantStats> stats() const;
  void reset_stats();
  double energy_mj(std::uint64_t level_khz, int variant, double measured_s) const;  // < 0 unknown

 private:
  struct Counter {
    std::atomic<std::uint64_t> inferences{0}, nanoseconds{0}, misses{0}, energy_nj{0}, energy_inferences{0};
  };
  InferenceInfo from_table(std::uint64_t cpu_khz, AdaptMode mode) const;

  PolicySpec spec_;
  std::string cpufreq_root_;
  std::unique_ptr<CpufreqReader> cpufreq_;
  std::unique_ptr<DeadlineController> controller_;
  std::vector<std::unique_ptr<Counter>> counters_;
  alignas(64) std::atomic<int> active_{0};
  std::atomic<AdaptMode> mode_{AdaptMode::kManual};
  std::atomic<std::uint64_t> cpu_khz_{0};
  std::atomic<double> deadline_s_{0.0};
};

}  // namespace rt3::adapt
