#include "dvfs/adaptation_models.h"

#include <cmath>
#include <stdexcept>

namespace rt3::dvfs {

format::VariantLatencyModel device_model(const LatencyModel& host, double cycle_scale, std::optional<double> accuracy) {
  if (!(cycle_scale > 0) || !std::isfinite(cycle_scale))
    throw std::invalid_argument("cycle scale must be a finite number > 0");
  format::VariantLatencyModel m;
  m.compute_s = host.compute_s * cycle_scale;
  m.memory_s = host.memory_s;
  m.f_ref_khz = host.f_ref_khz;
  m.accuracy = accuracy;
  return m;
}

format::AdaptationInfo adaptation_from_table(const LatencyTable& table, double cycle_scale,
                                             std::optional<double> deadline_s) {
  format::AdaptationInfo a;
  a.deadline_s = deadline_s;
  a.cycle_scale = cycle_scale;
  for (const VariantLatency& v : table.variants)
    a.variants[v.name] = device_model(table.measured_model(v.name), cycle_scale, v.accuracy);
  return a;
}

}  // namespace rt3::dvfs
