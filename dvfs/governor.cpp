#include "dvfs/governor.h"

#include <algorithm>
#include <cmath>
#include <numeric>
#include <stdexcept>

namespace rt3::dvfs {
namespace {

void require(bool ok, const std::string& what) {
  if (!ok) throw std::runtime_error("governor: " + what);
}

}  // namespace

Governor::Governor(std::vector<std::uint64_t> levels_khz, std::vector<GovernorSet> sets, GovernorOptions options)
    : levels_(std::move(levels_khz)), sets_(std::move(sets)), options_(options) {
  require(!levels_.empty(), "no frequency levels (the profile has no usable OPP?)");
  require(!sets_.empty(), "no sets to choose from (the latency table has no variants?)");
  require(std::isfinite(options_.deadline_s) && options_.deadline_s > 0, "deadline must be > 0 s");
  require(std::isfinite(options_.cycle_scale) && options_.cycle_scale > 0, "cycle_scale must be > 0");
  require(options_.margin > 0 && options_.margin <= 1, "margin must be in (0, 1]");
  require(options_.hysteresis >= 0 && options_.hysteresis < options_.margin, "hysteresis must be in [0, margin)");
  std::sort(levels_.begin(), levels_.end());
  levels_.erase(std::unique(levels_.begin(), levels_.end()), levels_.end());
  require(levels_.front() > 0, "a frequency level of 0 kHz");
  for (const auto& s : sets_) {
    require(s.latency.f_ref_khz > 0, "set " + s.name + ": reference frequency must be > 0");
    require(s.latency.compute_s >= 0 && s.latency.memory_s >= 0, "set " + s.name + ": negative latency");
    if (s.accuracy) require(*s.accuracy >= 0 && *s.accuracy <= 1, "set " + s.name + ": accuracy must be in [0, 1]");
  }

  accuracies_known_ = std::all_of(sets_.begin(), sets_.end(), [](const GovernorSet& s) { return s.accuracy.has_value(); });
  preference_.resize(sets_.size());
  std::iota(preference_.begin(), preference_.end(), std::size_t{0});
  if (accuracies_known_)
    std::stable_sort(preference_.begin(), preference_.end(),
                     [this](std::size_t a, std::size_t b) { return *sets_[a].accuracy > *sets_[b].accuracy; });
  rank_.resize(sets_.size());
  for (std::size_t r = 0; r < preference_.size(); ++r) rank_[preference_[r]] = r;
}

bool Governor::better(std::size_t a, std::size_t b) const { return rank_[a] < rank_[b]; }

double Governor::latency_s(std::size_t set, double khz) const {
  LatencyModel m = sets_.at(set).latency;
  m.compute_s *= options_.cycle_scale;
  return dvfs::latency_s(m, khz);
}

std::uint64_t Governor::snap(std::uint64_t khz) const {
  auto it = std::upper_bound(levels_.begin(), levels_.end(), khz);
  return it == levels_.begin() ? levels_.front() : *(it - 1);
}

std::size_t Governor::best_within(std::uint64_t khz, double limit_s) const {
  for (std::size_t s : preference_)
    if (latency_s(s, static_cast<double>(khz)) <= limit_s) return s;
  return sets_.size();
}

LevelChoice Governor::choose(std::uint64_t khz) const {
  LevelChoice c;
  c.khz = snap(khz);
  for (std::size_t s = 0; s < sets_.size(); ++s) c.latency_s.push_back(latency_s(s, static_cast<double>(c.khz)));
  c.chosen = best_within(c.khz, options_.margin * options_.deadline_s);
  if (c.chosen == sets_.size()) {
    c.miss = true;
    c.chosen = static_cast<std::size_t>(std::min_element(c.latency_s.begin(), c.latency_s.end()) - c.latency_s.begin());
  }
  return c;
}

std::vector<LevelChoice> Governor::table() const {
  std::vector<LevelChoice> out;
  for (std::uint64_t k : levels_) out.push_back(choose(k));
  return out;
}

std::size_t Governor::on_level(std::uint64_t khz) {
  const std::uint64_t level = snap(khz);
  if (!current_) {
    current_ = choose(level).chosen;
    return *current_;
  }
  const double limit = options_.margin * options_.deadline_s;
  if (latency_s(*current_, static_cast<double>(level)) > limit) {
    // The current set would miss: leave it now, for whatever meets (or the fastest).
    current_ = choose(level).chosen;
    return *current_;
  }
  // The current set is fine; move to a more accurate one only when it fits with room to spare, so
  // a level that sits right at a set's boundary does not make the choice flap.
  const std::size_t up = best_within(level, limit - options_.hysteresis * options_.deadline_s);
  if (up != sets_.size() && better(up, *current_)) current_ = up;
  return *current_;
}

double request_energy_j(const Profile& p, const Opp& level, double latency, double period_s, const EnergyOptions& e) {
  require(period_s > 0 && latency <= period_s, "request energy needs latency <= period");
  return inference_energy_j(p, level, latency, e) + idle_energy_j(p, period_s - latency, e.include_base);
}

std::optional<OperatingPoint> choose_frequency(const Profile& p, const std::vector<Opp>& levels, const Governor& g,
                                               const ChooseOptions& o) {
  require(o.period_s > 0, "period must be > 0 s");
  if (o.min_accuracy)
    require(g.accuracies_known(),
            "min_accuracy needs every variant's accuracy in the latency table (they are null there)");
  const double limit = g.options().margin * g.options().deadline_s;
  const auto rank = [&g](std::size_t set) {
    return std::find(g.preference().begin(), g.preference().end(), set) - g.preference().begin();
  };
  std::optional<OperatingPoint> best;
  for (std::size_t li = 0; li < levels.size(); ++li) {
    if (o.max_khz && levels[li].khz > *o.max_khz) continue;
    for (std::size_t s : g.preference()) {  // most preferred first: an exact tie keeps it
      if (o.min_accuracy && *g.sets()[s].accuracy < *o.min_accuracy) continue;
      const double lat = g.latency_s(s, static_cast<double>(levels[li].khz));
      if (lat > limit || lat > o.period_s) continue;
      const double e = request_energy_j(p, levels[li], lat, o.period_s, o.energy);
      const bool wins = !best || e < best->energy_j * (1 - 1e-12) ||
                        (e <= best->energy_j * (1 + 1e-12) && rank(s) < rank(best->set));
      if (wins) best = OperatingPoint{li, s, lat, e};
    }
  }
  return best;
}

std::vector<GovernorSet> sets_from_table(const LatencyTable& t) {
  std::vector<GovernorSet> out;
  for (const auto& v : t.variants) {
    GovernorSet s;
    s.name = v.name;
    s.accuracy = v.accuracy;
    s.latency = t.variant_model(v.name);
    const double predicted = s.latency.compute_s + s.latency.memory_s;
    if (v.measured_s > 0 && predicted > 0) {
      const double k = v.measured_s / predicted;
      s.latency.compute_s *= k;
      s.latency.memory_s *= k;
    } else if (v.measured_s > 0) {
      s.latency.compute_s = v.measured_s;  // no split predicted: treat it all as compute-bound
    }
    out.push_back(std::move(s));
  }
  return out;
}

}  // namespace rt3::dvfs
