#include "dvfs/level_policy.h"

#include <algorithm>
#include <cmath>
#include <map>
#include <stdexcept>

namespace rt3::dvfs {
namespace {

// Inferences the closed loop gets at one level before its choice counts: it needs a few to measure
// the slowdown and a window (adapt::DeadlineOptions::up_window) more to move back up; a choice
// repeated this often in a row has settled (the inputs do not change within a level).
constexpr int kSettleRun = 16;
constexpr int kMaxInferences = 400;

std::size_t set_index(const std::vector<SimSet>& sets, const std::string& name, std::uint64_t khz) {
  for (std::size_t i = 0; i < sets.size(); ++i)
    if (sets[i].name == name) return i;
  throw std::runtime_error("the engine's policy runs variant '" + name + "' at " + std::to_string(khz / 1000) +
                           " MHz but the latency table has no such variant: profile this bundle with rt3 profile");
}

}  // namespace

std::vector<SimSet> sets_from_table(const LatencyTable& t, double cycle_scale) {
  if (!(cycle_scale > 0) || !std::isfinite(cycle_scale)) throw std::invalid_argument("cycle scale must be a finite number > 0");
  if (t.variants.empty()) throw std::invalid_argument("the latency table has no variants");
  std::vector<SimSet> out;
  for (const auto& v : t.variants) {
    SimSet s{v.name, v.accuracy, t.measured_model(v.name)};
    s.latency.compute_s *= cycle_scale;
    out.push_back(std::move(s));
  }
  return out;
}

adapt::PolicySpec spec_from_sets(const std::vector<SimSet>& sets) {
  adapt::PolicySpec spec;
  for (std::size_t i = 0; i < sets.size(); ++i) {
    spec.variants.push_back(sets[i].name);
    spec.sparsity.push_back(static_cast<double>(i));  // table order is dense -> sparse
    spec.latency.push_back(sets[i].latency);
    spec.accuracy.push_back(sets[i].accuracy);
  }
  spec.energy_note = "a latency table alone has no device profile";
  return spec;
}

double LevelPolicy::latency_s(std::size_t set, std::size_t level) const {
  return sets.at(set).latency.at_khz(static_cast<double>(levels_khz.at(level)));
}

std::size_t LevelPolicy::level_of(std::uint64_t khz) const {
  const auto it = std::upper_bound(levels_khz.begin(), levels_khz.end(), khz);
  return it == levels_khz.begin() ? 0 : static_cast<std::size_t>(it - levels_khz.begin()) - 1;
}

bool LevelPolicy::accuracies_known() const {
  return std::all_of(sets.begin(), sets.end(), [](const SimSet& s) { return s.accuracy.has_value(); });
}

LevelPolicy engine_level_policy(const adapt::PolicySpec& spec, std::vector<SimSet> sets,
                                std::vector<std::uint64_t> levels_khz, double deadline_s) {
  if (sets.empty()) throw std::runtime_error("no variants to simulate");
  std::sort(levels_khz.begin(), levels_khz.end());
  levels_khz.erase(std::unique(levels_khz.begin(), levels_khz.end()), levels_khz.end());
  if (levels_khz.empty() || levels_khz.front() == 0) throw std::runtime_error("no usable frequency level");
  if (!(deadline_s > 0) || !std::isfinite(deadline_s)) throw std::runtime_error("the deadline must be > 0");
  LevelPolicy p;
  p.deadline_s = deadline_s;
  p.levels_khz = std::move(levels_khz);
  p.sets = std::move(sets);
  p.mode = spec.levels.empty() ? AdaptMode::kDeadline : AdaptMode::kTable;

  if (p.mode == AdaptMode::kTable) {
    adapt::Adapter a(spec, "");
    a.set_mode(AdaptMode::kTable);
    for (std::uint64_t khz : p.levels_khz) {
      a.set_cpu_khz(khz);
      p.chosen.push_back(set_index(p.sets, spec.variants[static_cast<std::size_t>(a.decide().variant)], khz));
    }
    return p;
  }
  for (std::size_t l = 0; l < p.levels_khz.size(); ++l) {
    adapt::Adapter a(spec, "");
    const std::string missing = a.support(AdaptMode::kDeadline);
    if (!missing.empty()) throw std::runtime_error("neither a level table nor latency models: " + missing);
    a.set_deadline_s(deadline_s);
    a.set_mode(AdaptMode::kDeadline);
    std::map<std::size_t, int> recent;  // choices over the last kSettleRun inferences when unsettled
    std::size_t last = p.sets.size();
    int run = 0;
    for (int i = 0; i < kMaxInferences && run < kSettleRun; ++i) {
      InferenceInfo info = a.decide();
      const std::size_t s = set_index(p.sets, spec.variants[static_cast<std::size_t>(info.variant)], p.levels_khz[l]);
      run = s == last ? run + 1 : 1;
      last = s;
      if (i >= kMaxInferences - kSettleRun) ++recent[s];
      a.observe(info, p.latency_s(s, l));
    }
    if (run < kSettleRun) {  // still alternating: count the variant it ran most at the end
      last = std::max_element(recent.begin(), recent.end(), [](auto& x, auto& y) { return x.second < y.second; })->first;
      p.note += (p.note.empty() ? "" : "; ") + std::string("the closed loop did not settle at ") +
                std::to_string(p.levels_khz[l] / 1000) + " MHz";
    }
    p.chosen.push_back(last);
  }
  return p;
}

double request_energy_j(const Profile& p, const Opp& level, double latency, double period_s, const EnergyOptions& e) {
  if (!(period_s > 0) || latency > period_s) throw std::runtime_error("request energy needs latency <= period");
  return inference_energy_j(p, level, latency, e) + idle_energy_j(p, period_s - latency, e.include_base);
}

std::optional<OperatingPoint> choose_frequency(const Profile& prof, const std::vector<Opp>& levels, const LevelPolicy& policy,
                                               const ChooseOptions& o) {
  if (!(o.period_s > 0)) throw std::runtime_error("period must be > 0 s");
  if (o.min_accuracy && !policy.accuracies_known())
    throw std::runtime_error("min_accuracy needs every variant's accuracy in the latency table (they are null there)");
  if (levels.size() != policy.levels_khz.size()) throw std::runtime_error("choose_frequency: levels differ from the policy's");
  std::optional<OperatingPoint> best;
  for (std::size_t l = 0; l < levels.size(); ++l) {
    if (o.max_khz && levels[l].khz > *o.max_khz) continue;
    const SimSet& set = policy.sets[policy.chosen[l]];
    if (o.min_accuracy && *set.accuracy < *o.min_accuracy) continue;
    const double lat = policy.latency_s(policy.chosen[l], l);
    if (lat > o.margin * policy.deadline_s || lat > o.period_s) continue;
    const double e = request_energy_j(prof, levels[l], lat, o.period_s, o.energy);
    if (!best || e < best->energy_j * (1 - 1e-12)) best = OperatingPoint{l, lat, e};
  }
  return best;
}

}  // namespace rt3::dvfs
