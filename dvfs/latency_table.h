// Latency table: what one inference of a bundle costs on the profiling host, per prunable layer and
// per pruning number, plus the part of the model no pruning touches. `rt3 profile` measures it
// with the runtime's own kernels; the search (predict a candidate's latency without building it),
// the governor and the battery simulation (scale it to a device's frequency levels) read it.
// JSON schema and the scaling rule: docs/dvfs.md "Latency table".
#pragma once

#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "dvfs/energy_model.h"

namespace rt3::dvfs {

// One prunable Linear: dense time and pattern-kernel time at each measured pruning number.
struct LayerLatency {
  std::string name;  // the bundle's weight name
  int64_t rows = 0, cols = 0;
  double dense_s = 0;
  double dense_bytes = 0;                // weight bytes the dense kernel streams per forward
  std::map<int, double> pattern_s;       // pruning number -> seconds
  std::map<int, double> pattern_bytes;   // pruning number -> packed weight bytes
};

// A whole-model variant as measured, next to what the table predicts for it.
struct VariantLatency {
  std::string name;                       // "base" or the bundle's variant name
  double sparsity = 0;
  std::map<std::string, int> pruning_numbers;  // layer -> pruning number (absent: dense)
  double measured_s = 0;
  double predicted_s = 0;
  std::optional<double> accuracy;         // validation accuracy when the bundle states it
};

struct LatencyTable {
  std::string bundle;
  std::string model_type;
  int threads = 1;
  int64_t tokens = 0;            // tokens per inference (sequence length x batch)
  int64_t tile_rows = 0, tile_cols = 0;
  double host_khz = 0;           // frequency the table was measured at (f_ref)
  std::string host_khz_source;
  double memory_bandwidth_gbs = 0;  // measured streaming read bandwidth of the host
  double remainder_s = 0;        // everything but the prunable Linears, measured in place
  // Inside the model a Linear costs more than alone: between two uses its weights are evicted by
  // everything else, so each forward streams them in again. That traffic is calibrated on the
  // base model as a bandwidth: (base measured - remainder - sum of isolated times) = sum of
  // weight bytes / weight_traffic_gbs. 0 = no extra traffic (the model fits in cache).
  double weight_traffic_gbs = 0;
  // The opposite case: the base model runs faster than its parts measured apart (base < remainder
  // + sum of isolated times). Seen on small models whose engine got luckier buffer placement than
  // the remainder's twin engine and the isolated kernels: all of its compute ran ~10 % faster.
  // Then there is no traffic term and the whole compute part (remainder and isolated times) is
  // scaled by this factor (< 1) so the base prediction is its measurement; otherwise 1.
  double compute_time_scale = 1.0;
  std::vector<LayerLatency> layers;
  std::vector<VariantLatency> variants;  // "base" first

  // Host seconds of a model whose layer L runs pattern pruning number pn[L] (dense when absent
  // or 0): compute_time_scale x (remainder + sum over layers of isolated time) + sum over layers of
  // weight bytes / weight_traffic_gbs.
  // Throws for a pruning number the table lacks.
  double predict_s(const std::map<std::string, int>& pruning_numbers) const;
  // Same, split into the part that scales with CPU frequency (remainder and isolated kernel time:
  // compute on cached data) and the part that does not (the weight traffic from DRAM).
  // f_ref = host_khz.
  LatencyModel predict_model(const std::map<std::string, int>& pruning_numbers) const;
  // predict_model of a measured variant by name; throws for an unknown name.
  LatencyModel variant_model(const std::string& name) const;
  // variant_model rescaled so its total equals the measured latency when the variant was measured
  // (measured_s > 0): the measurement is the better total, the split is only known from the
  // prediction. With no predicted split, the measurement counts as compute-bound.
  LatencyModel measured_model(const std::string& name) const;
  const VariantLatency& variant(const std::string& name) const;
  // Pruning numbers the table has for every layer (intersection), ascending.
  std::vector<int> pruning_numbers() const;
};

nlohmann::json to_json(const LatencyTable& t);
// Validates; throws std::runtime_error("<origin>: <json path>: <problem>").
LatencyTable parse_latency_table(const nlohmann::json& j, const std::string& origin);
LatencyTable load_latency_table(const std::string& path);

}  // namespace rt3::dvfs
