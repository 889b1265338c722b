#pragma once
// The bundle's "adaptation" metadata (docs/format.md, docs/adapt.md) from a latency table measured
// on the host (rt3 profile): each variant's device latency model and accuracy. rt3 search writes
// it for the sets it decided; rt3 export --latency writes it for any bundle.
#include <map>
#include <optional>
#include <string>

#include "dvfs/latency_table.h"
#include "runtime/format/bundle_adaptation.h"

namespace rt3::dvfs {

// Host model -> device model: the compute part takes cycle_scale times as many cycles on the
// device (docs/search.md "cycle scale"); the memory part and f_ref are unchanged.
format::VariantLatencyModel device_model(const LatencyModel& host, double cycle_scale, std::optional<double> accuracy);

// Every variant the table holds, at its measured latency (LatencyTable::measured_model), with the
// table's accuracy when it states one. Throws std::invalid_argument for cycle_scale <= 0.
format::AdaptationInfo adaptation_from_table(const LatencyTable& table, double cycle_scale,
                                             std::optional<double> deadline_s);

}  // namespace rt3::dvfs
