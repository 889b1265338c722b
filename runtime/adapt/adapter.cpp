#include "runtime/adapt/adapter.h"

#include <algorithm>
#include <cmath>
#include <stdexcept>

namespace rt3::adapt {

std::vector<int> preference_order(const PolicySpec& spec, const std::vector<int>& variants) {
  std::vector<int> order = variants;
  const bool by_accuracy = std::all_of(order.begin(), order.end(), [&](int v) { return spec.accuracy[v].has_value(); });
  std::stable_sort(order.begin(), order.end(), [&](int a, int b) {
    return by_accuracy ? *spec.accuracy[a] > *spec.accuracy[b] : spec.sparsity[a] < spec.sparsity[b];
  });
  return order;
}

Adapter::Adapter(PolicySpec spec, std::string cpufreq_root, DeadlineOptions deadline)
    : spec_(std::move(spec)), cpufreq_root_(std::move(cpufreq_root)) {
  for (size_t i = 0; i < spec_.variants.size(); ++i) counters_.push_back(std::make_unique<Counter>());
  std::vector<int> modelled;
  for (int v = 0; v < static_cast<int>(spec_.variants.size()); ++v)
    if (spec_.latency[v]) modelled.push_back(v);
  if (modelled.empty()) return;
  const std::vector<int> order = preference_order(spec_, modelled);
  std::vector<LatencyModel> models;
  std::vector<std::size_t> pref;
  for (int v : modelled) models.push_back(*spec_.latency[v]);
  for (int v : order) pref.push_back(static_cast<std::size_t>(std::find(modelled.begin(), modelled.end(), v) - modelled.begin()));
  controller_ = std::make_unique<DeadlineController>(modelled, std::move(models), std::move(pref), deadline);
}

std::string Adapter::support(AdaptMode mode) const {
  switch (mode) {
    case AdaptMode::kManual: return "";
    case AdaptMode::kTable:
    case AdaptMode::kCpufreq:
      return spec_.levels.empty() ? "the bundle has no level table (level_to_variant is empty): make it with rt3 search" : "";
    case AdaptMode::kDeadline:
      return controller_ ? ""
                         : "the bundle has no per-variant latency models (metadata 'adaptation'): write them with "
                           "rt3 search, or rt3 export --latency TABLE";
  }
  return "unknown mode";
}

void Adapter::set_mode(AdaptMode mode) {
  const std::string missing = support(mode);
  if (!missing.empty()) throw std::invalid_argument(std::string(adapt_mode_name(mode)) + " mode: " + missing);
  if (mode == AdaptMode::kDeadline && !(deadline_s() > 0)) {
    if (!spec_.searched_deadline_s)
      throw std::invalid_argument("deadline mode: no deadline; call set_deadline_ms first (the bundle states none)");
    set_deadline_s(*spec_.searched_deadline_s);
  }
  if (mode == AdaptMode::kCpufreq && (!cpufreq_ || cpufreq_->root() != cpufreq_root_))
    cpufreq_ = std::make_unique<CpufreqReader>(cpufreq_root_);  // throws naming the file
  if (controller_) controller_->reset();
  mode_.store(mode, std::memory_order_release);
}

void Adapter::select(int variant) {
  if (variant < 0 || variant >= static_cast<int>(spec_.variants.size()))
    throw std::out_of_range("select_variant: index " + std::to_string(variant) + " is outside [0, " +
                            std::to_string(spec_.variants.size()) + ")");
  const AdaptMode m = mode();
  if (m != AdaptMode::kManual)
    throw std::invalid_argument(std::string("select_variant: the engine is in ") + adapt_mode_name(m) +
                                " mode, where the policy picks the variant; set_adapt_mode(manual) first");
  active_.store(variant, std::memory_order_release);
}

void Adapter::set_cpu_khz(std::uint64_t khz) {
  if (khz == 0 || khz >= (1ull << 40)) throw std::invalid_argument("set_cpu_khz: frequency must be in (0, 2^40) kHz, got " + std::to_string(khz));
  cpu_khz_.store(khz, std::memory_order_relaxed);
}

void Adapter::set_deadline_s(double s) {
  if (!(s > 0) || !std::isfinite(s) || s > 3600)
    throw std::invalid_argument("set_deadline_ms: deadline must be a finite number of ms in (0, 3.6e6], got " +
                                std::to_string(s * 1e3));
  deadline_s_.store(s, std::memory_order_relaxed);
}

InferenceInfo Adapter::from_table(std::uint64_t cpu_khz, AdaptMode mode) const {
  InferenceInfo info;
  info.mode = mode;
  info.cpu_khz = cpu_khz;
  const std::size_t level = cpu_khz ? spec_.levels.snap(cpu_khz) : spec_.levels.top();
  info.level_khz = spec_.levels.level_khz(level);
  info.variant = spec_.levels.variant(level);
  if (spec_.latency[info.variant]) info.predicted_ms = spec_.latency[info.variant]->at_khz(static_cast<double>(info.level_khz)) * 1e3;
  return info;
}

InferenceInfo Adapter::decide(double waited_s) {
  const AdaptMode m = mode_.load(std::memory_order_relaxed);
  const double deadline = deadline_s();
  InferenceInfo info;
  switch (m) {
    case AdaptMode::kManual:
      info.variant = active_.load(std::memory_order_acquire);
      if (const std::uint64_t k = cpu_khz_.load(std::memory_order_relaxed); k && !spec_.levels.empty())
        info.level_khz = spec_.levels.level_khz(spec_.levels.snap(k)), info.cpu_khz = k;
      break;
    case AdaptMode::kTable: info = from_table(cpu_khz_.load(std::memory_order_relaxed), m); break;
    case AdaptMode::kCpufreq: info = from_table(cpufreq_->current_khz(), m); break;
    case AdaptMode::kDeadline: {
      info.mode = m;
      info.variant = controller_->choose(deadline, waited_s);
      const double p = controller_->predicted_s(info.variant);
      if (std::isfinite(p)) info.predicted_ms = p * 1e3;
      info.slowdown = controller_->slowdown();
      if (const std::uint64_t k = cpu_khz_.load(std::memory_order_relaxed); k && !spec_.levels.empty())
        info.level_khz = spec_.levels.level_khz(spec_.levels.snap(k)), info.cpu_khz = k;
      break;
    }
  }
  info.deadline_ms = deadline * 1e3;
  info.waited_ms = waited_s > 0 && std::isfinite(waited_s) ? waited_s * 1e3 : 0.0;
  if (m != AdaptMode::kManual) active_.store(info.variant, std::memory_order_release);
  return info;
}

double Adapter::energy_mj(std::uint64_t level_khz, int variant, double measured_s) const {
  if (spec_.active_power_mw.empty() || level_khz == 0) return -1;
  // The OPP at or below the level (levels come from the same profile; a hand-made table may not).
  auto it = std::upper_bound(spec_.active_power_mw.begin(), spec_.active_power_mw.end(), level_khz,
                             [](std::uint64_t k, const std::pair<std::uint64_t, double>& o) { return k < o.first; });
  const double mw = it == spec_.active_power_mw.begin() ? spec_.active_power_mw.front().second : (it - 1)->second;
  const double latency = spec_.latency[variant] ? spec_.latency[variant]->at_khz(static_cast<double>(level_khz)) : measured_s;
  return mw * latency;  // mW x s = mJ
}

void Adapter::observe(InferenceInfo& info, double measured_s) {
  info.latency_ms = measured_s * 1e3;
  info.deadline_missed = info.deadline_ms > 0 && info.waited_ms + info.latency_ms > info.deadline_ms;
  info.energy_mj = energy_mj(info.level_khz, info.variant, measured_s);
  if (info.mode == AdaptMode::kDeadline && mode_.load(std::memory_order_relaxed) == AdaptMode::kDeadline)
    controller_->observe(info.variant, measured_s, info.deadline_ms * 1e-3);
  Counter& c = *counters_[static_cast<size_t>(info.variant)];
  c.inferences.fetch_add(1, std::memory_order_relaxed);
  c.nanoseconds.fetch_add(static_cast<std::uint64_t>(measured_s * 1e9), std::memory_order_relaxed);
  if (info.deadline_missed) c.misses.fetch_add(1, std::memory_order_relaxed);
  if (info.energy_mj >= 0) {
    c.energy_nj.fetch_add(static_cast<std::uint64_t>(info.energy_mj * 1e6), std::memory_order_relaxed);
    c.energy_inferences.fetch_add(1, std::memory_order_relaxed);
  }
}

std::vector<VariantStats> Adapter::stats() const {
  std::vector<VariantStats> out;
  for (const auto& c : counters_) {
    VariantStats s;
    s.inferences = c->inferences.load(std::memory_order_relaxed);
    s.seconds = static_cast<double>(c->nanoseconds.load(std::memory_order_relaxed)) * 1e-9;
    s.misses = c->misses.load(std::memory_order_relaxed);
    s.energy_mj = static_cast<double>(c->energy_nj.load(std::memory_order_relaxed)) * 1e-6;
    s.energy_inferences = c->energy_inferences.load(std::memory_order_relaxed);
    out.push_back(s);
  }
  return out;
}

void Adapter::reset_stats() {
  for (auto& c : counters_) {
    c->inferences.store(0, std::memory_order_relaxed);
    c->nanoseconds.store(0, std::memory_order_relaxed);
    c->misses.store(0, std::memory_order_relaxed);
    c->energy_nj.store(0, std::memory_order_relaxed);
    c->energy_inferences.store(0, std::memory_order_relaxed);
  }
}

}  // namespace rt3::adapt
