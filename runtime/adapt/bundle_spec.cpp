#include "runtime/adapt/bundle_spec.h"

#include <algorithm>

#include <nlohmann/json.hpp>

#include "dvfs/energy_model.h"
#include "dvfs/profile.h"

namespace rt3::adapt {
namespace {

int index_of(const std::vector<std::string>& variants, const std::string& name) {
  const auto it = std::find(variants.begin(), variants.end(), name);
  return it == variants.end() ? -1 : static_cast<int>(it - variants.begin());
}

// Active power per OPP of the inference cluster; a profile the energy model cannot read leaves the
// engine without energy figures (the note says why) rather than failing the load: the profile is
// informational for everything else.
void add_energy(const format::Bundle& bundle, int threads, PolicySpec& spec) {
  if (bundle.device_profile_json() == "null") {
    spec.energy_note = "the bundle has no device profile";
    return;
  }
  try {
    const dvfs::Profile p = dvfs::parse_profile(nlohmann::json::parse(bundle.device_profile_json()),
                                                bundle.source() + " device_profile");
    dvfs::EnergyOptions o;
    o.active_cores = std::max(1, std::min(threads, p.inference().cores));
    for (const dvfs::Opp& opp : p.inference().opps) spec.active_power_mw.emplace_back(opp.khz, dvfs::active_power_mw(p, opp, o));
  } catch (const std::exception& e) {
    spec.active_power_mw.clear();
    spec.energy_note = std::string("the device profile gives no energy model: ") + e.what();
  }
}

}  // namespace

PolicySpec spec_from_bundle(const format::Bundle& bundle, const std::vector<std::string>& variants,
                            const std::vector<double>& sparsity, int threads) {
  PolicySpec spec;
  spec.variants = variants;
  spec.sparsity = sparsity;
  spec.latency.resize(variants.size());
  spec.accuracy.resize(variants.size());
  std::vector<std::pair<std::uint64_t, int>> table;
  for (const auto& [khz, name] : bundle.level_to_variant()) {
    const int v = index_of(variants, name);
    // Generic (non-pattern) variants are valid table entries for the loader but not runnable.
    if (v >= 0) table.emplace_back(std::stoull(khz), v);
  }
  spec.levels = LevelTable(std::move(table));
  if (const auto& a = bundle.adaptation()) {
    spec.searched_deadline_s = a->deadline_s;
    for (const auto& [name, m] : a->variants) {
      const int v = index_of(variants, name);
      if (v < 0) continue;
      spec.latency[v] = LatencyModel{m.compute_s, m.memory_s, m.f_ref_khz};
      spec.accuracy[v] = m.accuracy;
    }
  }
  add_energy(bundle, threads, spec);
  return spec;
}

PolicySpec spec_from_bundle(const format::Bundle& bundle, int threads) {
  // Pattern variants sit on dense shared weights (export refuses them on block-pruned ones), so
  // base counts as sparsity 0 here; it only orders variants when accuracies are unknown.
  std::vector<std::string> variants = {"base"};
  std::vector<double> sparsity = {0.0};
  for (const format::BundleVariant* v : bundle.pattern_variants()) {
    variants.push_back(v->name);
    sparsity.push_back(v->sparsity);
  }
  return spec_from_bundle(bundle, variants, sparsity, threads);
}

}  // namespace rt3::adapt
