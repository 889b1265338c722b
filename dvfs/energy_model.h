// Energy per inference, idle energy, latency vs frequency, and battery life under a periodic
// workload. Pure functions over a Profile; formulas and units in docs/dvfs.md.
#pragma once

#include "dvfs/profile.h"
#include "runtime/adapt/latency_model.h"

namespace rt3::dvfs {

// Latency split into a part that scales with CPU frequency and one that does not (DRAM-bound):
// latency(f) = compute_s * f_ref / f + memory_s. One type for the runtime's adaptation policy and
// the simulation (runtime/adapt/latency_model.h). The split depends on the model and the device;
// rt3 profile measures it, otherwise it is an assumption.
using LatencyModel = adapt::LatencyModel;

// Builds a LatencyModel from one measured latency at f_ref and the fraction that is compute-bound
// (0..1).
LatencyModel split_latency(double measured_s, double f_ref_khz, double compute_fraction);
double latency_s(const LatencyModel& m, double f_khz);

struct EnergyOptions {
  int active_cores = 1;       // busy cores of the inference cluster during an inference
  bool include_base = false;  // add the rest-of-device base power
};

// Power while inferring at `level` of the inference cluster (mW): active x dynamic + static
// (+ base).
double active_power_mw(const Profile& p, const Opp& level, const EnergyOptions& o = {});
// Joules for one inference: active_power x latency.
double inference_energy_j(const Profile& p, const Opp& level, double latency_s, const EnergyOptions& o = {});
// Joules while idle between requests: idle_power (+ base) x idle time.
double idle_energy_j(const Profile& p, double idle_s, bool include_base = false);

// Battery energy: mAh x V x 3.6 J.
double battery_energy_j(const Battery& b);

// One inference every period_s at `level` taking latency_s; the rest of the period is idle.
struct PeriodicWorkload {
  double period_s = 0;
  double latency_s = 0;
};
double average_power_mw(const Profile& p, const Opp& level, const PeriodicWorkload& w, const EnergyOptions& o = {});
// Seconds until the battery is empty: battery_energy / average power.
double battery_life_s(const Profile& p, const Opp& level, const PeriodicWorkload& w, const EnergyOptions& o = {});

}  // namespace rt3::dvfs
