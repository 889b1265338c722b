#include "dvfs/energy_model.h"

#include <cmath>
#include <stdexcept>
#include <string>

namespace rt3::dvfs {
namespace {

void require(bool ok, const char* what) {
  if (!ok) throw std::runtime_error(std::string("dvfs energy model: ") + what);
}

}  // namespace

LatencyModel split_latency(double measured_s, double f_ref_khz, double compute_fraction) {
  require(measured_s >= 0 && std::isfinite(measured_s), "measured latency must be >= 0");
  require(f_ref_khz > 0, "reference frequency must be > 0");
  require(compute_fraction >= 0 && compute_fraction <= 1, "compute_fraction must be in [0, 1]");
  return {measured_s * compute_fraction, measured_s * (1 - compute_fraction), f_ref_khz};
}

double latency_s(const LatencyModel& m, double f_khz) {
  require(f_khz > 0 && m.f_ref_khz > 0, "frequencies must be > 0");
  return m.compute_s * m.f_ref_khz / f_khz + m.memory_s;
}

double active_power_mw(const Profile& p, const Opp& level, const EnergyOptions& o) {
  double mw = p.inference().power_mw(level, o.active_cores);
  return o.include_base ? mw + p.base_power_mw : mw;
}

double inference_energy_j(const Profile& p, const Opp& level, double latency, const EnergyOptions& o) {
  require(latency >= 0, "latency must be >= 0");
  return active_power_mw(p, level, o) * 1e-3 * latency;
}

double idle_energy_j(const Profile& p, double idle_s, bool include_base) {
  require(idle_s >= 0, "idle time must be >= 0");
  double mw = p.idle_power_mw + (include_base ? p.base_power_mw : 0.0);
  return mw * 1e-3 * idle_s;
}

double battery_energy_j(const Battery& b) { return b.capacity_mah * b.nominal_voltage_v * 3.6; }

double average_power_mw(const Profile& p, const Opp& level, const PeriodicWorkload& w, const EnergyOptions& o) {
  require(w.period_s > 0, "period must be > 0");
  require(w.latency_s >= 0 && w.latency_s <= w.period_s, "latency must be within the period (deadline miss)");
  double joules = inference_energy_j(p, level, w.latency_s, o) + idle_energy_j(p, w.period_s - w.latency_s, o.include_base);
  return joules / w.period_s * 1e3;
}

double battery_life_s(const Profile& p, const Opp& level, const PeriodicWorkload& w, const EnergyOptions& o) {
  double mw = average_power_mw(p, level, w, o);
  require(mw > 0, "average power is 0: battery life is unbounded");
  return battery_energy_j(p.battery) / (mw * 1e-3);
}

}  // namespace rt3::dvfs
