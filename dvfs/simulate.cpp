#include "dvfs/simulate.h"

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <functional>
#include <memory>
#include <stdexcept>

namespace rt3::dvfs {
namespace {

std::string num(double v) {
  char buf[64];
  std::snprintf(buf, sizeof buf, "%g", v);
  return buf;
}

// ---- workload string ----------------------------------------------------------------------------

constexpr const char* kWorkloadSyntax = "expected e.g. \"period=200ms,deadline=100ms[,duration=10h]\"";

[[noreturn]] void bad_workload(const std::string& spec, const std::string& what) {
  throw std::runtime_error("workload '" + spec + "': " + what + "; " + kWorkloadSyntax);
}

double parse_time_s(const std::string& spec, const std::string& key, const std::string& value) {
  const char* begin = value.c_str();
  char* end = nullptr;
  const double v = std::strtod(begin, &end);
  if (end == begin) bad_workload(spec, key + "=" + value + " is not a number with a unit");
  const std::string unit(end);
  double scale = 0;
  if (unit.empty() || unit == "s") scale = 1;
  else if (unit == "ms") scale = 1e-3;
  else if (unit == "us") scale = 1e-6;
  else if (unit == "min") scale = 60;
  else if (unit == "h") scale = 3600;
  else bad_workload(spec, key + "=" + value + ": unknown unit '" + unit + "' (use us, ms, s, min or h)");
  if (!std::isfinite(v) || v <= 0) bad_workload(spec, key + " must be > 0");
  return v * scale;
}

// ---- the simulation context -------------------------------------------------------------------

struct State {
  std::size_t level = 0;
  std::size_t set = 0;
  bool operator==(const State& o) const { return level == o.level && set == o.set; }
};

// Everything one run needs, built once per (profile, table, options).
struct Context {
  Profile profile;  // with the base power override applied
  std::vector<Opp> levels;
  std::vector<std::uint64_t> khz;
  LevelPolicy policy;
  EnergyOptions energy;
  Workload workload;
  double battery_j = 0;
  bool record = true;
  double margin = 0.9;
};

Context make_context(const Profile& profile, const LatencyTable& table, const SimulationOptions& o) {
  const Workload& w = o.workload;
  if (!(w.period_s > 0) || !(w.deadline_s > 0))
    throw std::runtime_error("simulate: the workload needs period > 0 and deadline > 0");
  if (w.deadline_s > w.period_s + 1e-15)
    throw std::runtime_error("simulate: deadline " + num(w.deadline_s) + " s is longer than the period " + num(w.period_s) +
                             " s; one request runs at a time, so the deadline must be <= the period");
  Profile p = profile;
  if (o.base_power_mw) {
    if (!(*o.base_power_mw >= 0)) throw std::runtime_error("simulate: base power must be >= 0 mW");
    p.base_power_mw = *o.base_power_mw;
  }
  std::vector<Opp> levels = p.usable_levels();
  if (levels.empty()) throw std::runtime_error("simulate: profile " + p.name + " has no usable level");
  std::vector<std::uint64_t> khz;
  for (const auto& l : levels) khz.push_back(l.khz);
  if (!(o.margin > 0 && o.margin <= 1)) throw std::runtime_error("simulate: margin must be in (0, 1]");
  std::vector<SimSet> sets = sets_from_table(table, o.cycle_scale);
  const adapt::PolicySpec spec = o.policy ? *o.policy : spec_from_sets(sets);
  LevelPolicy policy = engine_level_policy(spec, std::move(sets), khz, w.deadline_s);
  EnergyOptions e;
  e.include_base = true;  // battery life is the whole device's
  const int cores = p.inference().cores;
  e.active_cores = o.active_cores > 0 ? o.active_cores : std::min(std::max(table.threads, 1), cores);
  if (e.active_cores > cores)
    throw std::runtime_error("simulate: " + std::to_string(e.active_cores) + " active cores but the inference cluster has " +
                             std::to_string(cores));
  const double battery = battery_energy_j(p.battery);
  if (!(battery > 0)) throw std::runtime_error("simulate: profile " + p.name + " has no battery energy");
  return Context{std::move(p), std::move(levels), std::move(khz), std::move(policy), e, w, battery, o.record, o.margin};
}

// One request cycle at a fixed state. A latency longer than the period delays the next request:
// the k = ceil(latency / period) requests arriving while this one runs (itself included) all
// count as misses, the ones after the first are dropped, and the cycle lasts k periods.
struct Cycle {
  double duration_s = 0;
  double energy_j = 0;
  double inference_j = 0;
  std::uint64_t requests = 1;
  std::uint64_t misses = 0;
};

Cycle cycle_of(const Context& c, const State& s) {
  const Opp& level = c.levels[s.level];
  const double lat = c.policy.latency_s(s.set, s.level);
  const double period = c.workload.period_s;
  Cycle y;
  if (lat <= period) {
    y.duration_s = period;
    y.misses = lat > c.workload.deadline_s ? 1 : 0;
  } else {
    y.requests = static_cast<std::uint64_t>(std::ceil(lat / period - 1e-12));
    y.duration_s = static_cast<double>(y.requests) * period;
    y.misses = y.requests;
  }
  y.inference_j = inference_energy_j(c.profile, level, lat, c.energy);
  y.energy_j = y.inference_j + idle_energy_j(c.profile, y.duration_s - lat, c.energy.include_base);
  return y;
}

using Decide = std::function<State(const std::optional<State>& previous, double charge)>;

// Drains the battery. The policy decides at the start of every cycle; once it repeats its state,
// the state can only change when the charge crosses one of `thresholds`, so whole runs of cycles
// are taken at once up to the next threshold, the empty battery or the duration cap.
PolicyResult run(const Context& c, std::string id, std::string description, const Decide& decide,
                 std::vector<double> thresholds) {
  PolicyResult r;
  r.id = std::move(id);
  r.description = std::move(description);
  r.level_time_s.assign(c.levels.size(), 0);
  r.set_time_s.assign(c.policy.sets.size(), 0);
  r.set_served.assign(c.policy.sets.size(), 0);
  std::sort(thresholds.begin(), thresholds.end(), std::greater<>());
  const double total = c.battery_j;
  double left = total;
  double t = 0;
  const double cap = c.workload.duration_s.value_or(INFINITY);
  std::optional<State> previous;
  constexpr std::size_t kMaxSamples = 20000;

  auto sample = [&](const State& s) {
    if (!c.record) return;
    r.samples.push_back({t, left / total, c.khz[s.level], s.set});
    if (r.samples.size() > kMaxSamples) {  // thin to every other sample, keeping the last
      std::vector<SimSample> kept;
      for (std::size_t i = 0; i < r.samples.size(); i += 2) kept.push_back(r.samples[i]);
      if (kept.back().t_s != r.samples.back().t_s) kept.push_back(r.samples.back());
      r.samples.swap(kept);
    }
  };

  while (left > 0 && t < cap) {
    const double charge = left / total;
    const State s = decide(previous, charge);
    const Cycle y = cycle_of(c, s);
    if (!(y.energy_j > 0)) throw std::runtime_error("simulate: a request costs no energy; battery life is unbounded");
    if (!previous || !(s == *previous)) sample(s);

    // Cycles to run now: one, unless the state repeats.
    const double full = std::floor(left / y.energy_j);
    double n = 1;
    if (previous && s == *previous) {
      n = full;
      for (double th : thresholds)
        if (th * total < left) {
          n = std::min(n, std::max(1.0, std::ceil((left - th * total) / y.energy_j)));
          break;
        }
      if (std::isfinite(cap)) n = std::min(n, std::max(1.0, std::ceil((cap - t) / y.duration_s)));
    }
    previous = s;
    if (full < 1) {  // the battery runs out during this cycle: at the cycle's average power
      const double dt = left / y.energy_j * y.duration_s;
      t += dt;
      r.energy_j += left;
      r.level_time_s[s.level] += dt;
      r.set_time_s[s.set] += dt;
      left = 0;
      r.emptied = true;
      break;
    }
    n = std::min(n, full);
    const auto k = static_cast<std::uint64_t>(n);
    t += n * y.duration_s;
    left = std::max(0.0, left - n * y.energy_j);
    r.energy_j += n * y.energy_j;
    r.inference_energy_j += n * y.inference_j;
    r.requests += k * y.requests;
    r.served += k;
    r.misses += k * y.misses;
    r.level_time_s[s.level] += n * y.duration_s;
    r.set_time_s[s.set] += n * y.duration_s;
    r.set_served[s.set] += k;
    if (left <= 0) r.emptied = true;
  }
  if (previous) sample(*previous);
  r.time_s = t;
  r.projected_life_s = r.energy_j > 0 ? total / (r.energy_j / t) : 0;
  if (r.emptied) r.projected_life_s = t;
  else
    r.note = "duration cap reached with " + num(std::round(left / total * 1000) / 10) +
             " % charge left; the projected life assumes the average power so far continues";

  double weighted = 0;
  bool known = true;
  for (std::size_t s = 0; s < r.set_served.size(); ++s) {
    if (r.set_served[s] == 0) continue;
    const auto& acc = c.policy.sets[s].accuracy;
    if (!acc) known = false;
    else weighted += *acc * static_cast<double>(r.set_served[s]);
  }
  if (known && r.served > 0) r.accuracy = weighted / static_cast<double>(r.served);
  return r;
}

std::size_t level_index(const Context& c, std::uint64_t khz) {
  return static_cast<std::size_t>(std::find(c.khz.begin(), c.khz.end(), khz) - c.khz.begin());
}

// ---- the policies -----------------------------------------------------------------------------

PolicyResult run_max_dense(const Context& c) {
  const State s{c.levels.size() - 1, 0};
  return run(c, "max_dense", "(a) dense model at the highest usable frequency",
             [s](const std::optional<State>&, double) { return s; }, {});
}

PolicyResult run_min_dense(const Context& c) {
  const double limit = c.margin * c.workload.deadline_s;
  std::size_t level = c.levels.size() - 1;
  bool found = false;
  for (std::size_t i = 0; i < c.levels.size() && !found; ++i)
    if (c.policy.latency_s(0, i) <= limit) level = i, found = true;
  const State s{level, 0};
  PolicyResult r = run(c, "min_dense", "(b) dense model at the lowest usable frequency meeting margin x deadline",
                       [s](const std::optional<State>&, double) { return s; }, {});
  if (!found) r.note += std::string(r.note.empty() ? "" : "; ") + "no level meets the deadline with the dense model: runs at the highest level and misses";
  return r;
}

PolicyResult run_schedutil(const Context& c) {
  const double fmax = static_cast<double>(c.khz.back());
  const double period = c.workload.period_s;
  const Decide decide = [&c, fmax, period](const std::optional<State>& prev, double) {
    if (!prev) return State{c.levels.size() - 1, 0};
    const double f = static_cast<double>(c.khz[prev->level]);
    const double busy = std::min(1.0, c.policy.latency_s(0, prev->level) / period);
    const double target = 1.25 * fmax * busy * f / fmax;  // 1.25 x fmax x frequency-invariant util
    std::size_t next = c.levels.size() - 1;
    for (std::size_t i = 0; i < c.khz.size(); ++i)
      if (static_cast<double>(c.khz[i]) >= target) {
        next = i;
        break;
      }
    return State{next, 0};
  };
  return run(c, "schedutil_dense", "(c) dense model under a schedutil-like governor (ignores the deadline)", decide, {});
}

PolicyResult run_rt3(const Context& c, const std::optional<double>& min_accuracy) {
  ChooseOptions co;
  co.period_s = c.workload.period_s;
  co.min_accuracy = min_accuracy;
  co.margin = c.margin;
  co.energy = c.energy;
  const auto best = choose_frequency(c.profile, c.levels, c.policy, co);
  const std::size_t level = best ? best->level : c.levels.size() - 1;
  const State s{level, c.policy.chosen[level]};
  PolicyResult r = run(c, "rt3", "(d) RT3: the lowest-energy level whose variant (the engine's choice there) meets margin x deadline" +
                                     std::string(min_accuracy ? " and the accuracy floor" : ""),
                       [s](const std::optional<State>&, double) { return s; }, {});
  if (!best) r.note += std::string(r.note.empty() ? "" : "; ") + "no level's variant meets the deadline" + std::string(min_accuracy ? " and the accuracy floor" : "") +
                      ": runs the engine's choice at the highest level and misses";
  return r;
}

const std::vector<double> kSaverThresholds = {0.5, 0.2};

PolicyResult run_saver_dense(const Context& c) {
  const Decide decide = [&c](const std::optional<State>&, double charge) {
    return State{level_index(c, battery_saver_cap_khz(c.khz, charge)), 0};
  };
  return run(c, "saver_dense", "(e) battery saver caps the frequency; dense model runs at the cap", decide,
             kSaverThresholds);
}

PolicyResult run_saver_rt3(const Context& c) {
  const Decide decide = [&c](const std::optional<State>&, double charge) {
    const std::size_t level = level_index(c, battery_saver_cap_khz(c.khz, charge));
    return State{level, c.policy.chosen[level]};
  };
  return run(c, "saver_rt3", "(e) battery saver caps the frequency; the engine picks the variant at the cap", decide,
             kSaverThresholds);
}

}  // namespace

Workload parse_workload(const std::string& spec) {
  Workload w;
  bool have_period = false, have_deadline = false, have_duration = false;
  std::size_t pos = 0;
  if (spec.empty()) bad_workload(spec, "empty");
  while (pos <= spec.size()) {
    const std::size_t comma = std::min(spec.find(',', pos), spec.size());
    const std::string item = spec.substr(pos, comma - pos);
    pos = comma + 1;
    const std::size_t eq = item.find('=');
    if (eq == std::string::npos) bad_workload(spec, "'" + item + "' is not key=value");
    const std::string key = item.substr(0, eq), value = item.substr(eq + 1);
    bool* seen = key == "period" ? &have_period : key == "deadline" ? &have_deadline : key == "duration" ? &have_duration : nullptr;
    if (!seen) bad_workload(spec, "unknown key '" + key + "' (period, deadline, duration)");
    if (*seen) bad_workload(spec, "'" + key + "' given twice");
    *seen = true;
    const double v = parse_time_s(spec, key, value);
    if (key == "period") w.period_s = v;
    else if (key == "deadline") w.deadline_s = v;
    else w.duration_s = v;
  }
  if (!have_period) bad_workload(spec, "missing period");
  if (!have_deadline) bad_workload(spec, "missing deadline");
  if (w.deadline_s > w.period_s) bad_workload(spec, "deadline longer than the period (one request runs at a time)");
  return w;
}

std::uint64_t battery_saver_cap_khz(const std::vector<std::uint64_t>& levels, double charge) {
  if (levels.empty()) throw std::runtime_error("battery saver: no levels");
  if (charge >= 0.5) return levels.back();
  if (charge >= 0.2) return levels[levels.size() / 2];
  return levels.front();
}

const PolicyResult& SimulationResult::policy(const std::string& id) const {
  for (const auto& p : policies)
    if (p.id == id) return p;
  throw std::runtime_error("simulate: no policy " + id);
}

double SimulationResult::ratio(const std::string& over) const {
  const double base = policy(over).life_s();
  return base > 0 ? policy("rt3").life_s() / base : 0;
}

SimulationResult simulate(const Profile& profile, const LatencyTable& table, const SimulationOptions& o) {
  const Context c = make_context(profile, table, o);
  SimulationResult r;
  r.levels_khz = c.khz;
  for (const auto& s : c.policy.sets) {
    r.sets.push_back(s.name);
    r.set_accuracy.push_back(s.accuracy);
  }
  r.battery_energy_j = c.battery_j;
  r.base_power_mw = c.profile.base_power_mw;
  r.active_cores = c.energy.active_cores;
  r.engine = c.policy;
  for (std::size_t l = 0; l < c.levels.size(); ++l) {
    std::vector<double> e;
    std::vector<bool> ok;
    for (std::size_t s = 0; s < r.sets.size(); ++s) {
      const double lat = c.policy.latency_s(s, l);
      e.push_back(inference_energy_j(c.profile, c.levels[l], lat, c.energy));
      ok.push_back(lat <= o.workload.deadline_s);
    }
    r.inference_energy_j.push_back(e);
    r.meets.push_back(ok);
  }
  r.policies.push_back(run_max_dense(c));
  r.policies.push_back(run_min_dense(c));
  r.policies.push_back(run_schedutil(c));
  r.policies.push_back(run_rt3(c, o.min_accuracy));
  r.policies.push_back(run_saver_dense(c));
  r.policies.push_back(run_saver_rt3(c));

  const Profile& p = c.profile;
  const Cluster& cl = p.inference();
  auto add = [&r](std::string n, std::string v, std::string s) { r.assumptions.push_back({std::move(n), std::move(v), std::move(s)}); };
  add("cycle_scale", num(o.cycle_scale),
      "device latency(f) = compute_s x cycle_scale x f_ref / f + memory_s (device cycles per host cycle; 1 = same "
      "micro-architecture, an assumption unless measured)");
  add("f_ref_khz", num(table.host_khz), "host frequency the latency table was measured at: " + table.host_khz_source);
  add("latency_split", "in-model weight traffic " + num(table.weight_traffic_gbs) + " GB/s",
      "memory part = weight bytes / the in-model weight traffic bandwidth calibrated on the base model (rt3 profile); "
      "the rest (isolated kernel time + remainder) scales with frequency; totals rescaled to the measured variant "
      "latency");
  add("base_power_mw", num(p.base_power_mw), o.base_power_mw ? "--base-power-mw override" : "profile " + p.origin);
  add("idle_power_mw", num(p.idle_power_mw), "profile " + p.origin);
  add("static_power_mw", num(cl.static_power_mw), cl.name + ": " + cl.static_power_source);
  add("active_cores", std::to_string(c.energy.active_cores),
      o.active_cores > 0 ? "--active-cores" : "min(latency table threads, inference cluster cores)");
  add("battery", num(p.battery.capacity_mah) + " mAh x " + num(p.battery.nominal_voltage_v) + " V = " + num(c.battery_j) + " J",
      p.battery.assumed ? p.battery.note : "profile " + p.origin);
  add("margin", num(o.margin), "a frequency level is picked for (b) and RT3 only if its latency <= margin x deadline");
  add("engine_policy", adapt_mode_name(c.policy.mode),
      c.policy.mode == AdaptMode::kTable
          ? "the variant at each level is the bundle's level table (the engine's table and cpufreq modes)"
          : "the variant at each level is where the engine's deadline mode settles, fed the latencies of the table "
            "(the bundle has no level table, or only a latency table was given)");
  add("late_requests", "dropped",
      "a latency L > period delays the next request: ceil(L/period) requests count as misses, all but the first are dropped");
  add("battery_saver", "cap: >= 50 % none; 20-50 % middle usable level; < 20 % lowest usable level",
      "assumption: an OS battery saver modelled as a frequency cap");
  add("energy", "whole device", "base power is charged for the whole period (inference and idle)");
  return r;
}

std::vector<SensitivityCell> sensitivity(const Profile& profile, const LatencyTable& table, const SimulationOptions& options,
                                         const std::vector<double>& periods_s, const std::vector<double>& base_powers_mw) {
  std::vector<SensitivityCell> out;
  for (double period : periods_s)
    for (double base : base_powers_mw) {
      SimulationOptions o = options;
      o.workload.period_s = period;
      o.workload.deadline_s = std::min(options.workload.deadline_s, period);
      o.workload.duration_s.reset();
      o.base_power_mw = base;
      o.record = false;
      const Context c = make_context(profile, table, o);
      const double rt3 = run_rt3(c, o.min_accuracy).life_s();
      out.push_back({period, base, rt3 / run_max_dense(c).life_s(), rt3 / run_min_dense(c).life_s()});
    }
  return out;
}

}  // namespace rt3::dvfs
