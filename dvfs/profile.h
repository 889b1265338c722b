// Device profile: a SoC's CPU clusters, their operating points (OPPs) and power, the battery, and
// where every number comes from. Schema and formulas: docs/dvfs.md.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

namespace rt3::dvfs {

// How an OPP's power is obtained.
enum class PowerModel {
  EnergyModel,   // kernel "simple" EM: coefficient x V^2 x f (device-tree values)
  PowerProfile,  // Android power_profile.xml: measured mA x nominal battery voltage
};

struct Source {
  std::string what;   // which number(s) this cites
  std::string where;  // repo + path, or "assumption: ..."
};

struct Opp {
  std::uint64_t khz = 0;
  std::optional<std::uint64_t> uv;  // target voltage (energy_model profiles)
  std::optional<double> ma;         // per-core current at nominal voltage (power_profile)

  // Computed by the loader.
  std::uint64_t dynamic_power_uw = 0;  // one busy core, no static power
  double core_power_mw = 0;            // dynamic + this core's share of cluster static power
  double cluster_power_mw = 0;         // all cores busy: cores x dynamic + static
  std::uint64_t cost = 0;              // kernel EM cost: power_uw * fmax / f (integer)
  bool inefficient = false;            // a higher OPP has cost <= this one's

  double mhz() const { return static_cast<double>(khz) / 1000.0; }
  double dynamic_power_mw() const { return static_cast<double>(dynamic_power_uw) / 1000.0; }
};

struct Cluster {
  std::string name;
  int cores = 0;
  std::string core_type;
  int capacity_dmips_mhz = 0;
  std::optional<std::uint32_t> dynamic_power_coefficient;  // uW/MHz/V^2
  double static_power_mw = 0;  // whole cluster, while powered
  std::string static_power_source;
  std::vector<Opp> opps;  // strictly increasing khz

  // Power of the cluster at `opp` with `active_cores` busy: active x dynamic + static (mW).
  double power_mw(const Opp& opp, int active_cores) const;
};

struct Battery {
  double capacity_mah = 0;
  double nominal_voltage_v = 0;
  bool assumed = false;  // true when the device has no battery of its own (mains-powered board)
  std::string note;
};

struct Profile {
  std::string name;
  std::string soc;
  std::string origin;  // file the profile was loaded from (for messages)
  std::vector<Source> sources;
  std::vector<Cluster> clusters;
  Battery battery;
  double base_power_mw = 0;  // rest of the device (screen, DRAM, radios...), an assumption
  double idle_power_mw = 0;  // CPU subsystem while idle between requests
  PowerModel power_model = PowerModel::EnergyModel;
  std::string inference_cluster;  // cluster that runs inference; default: highest capacity

  const Cluster& cluster(const std::string& cluster_name) const;
  const Cluster& inference() const { return cluster(inference_cluster); }
  // Non-inefficient OPPs of the inference cluster, in increasing frequency.
  std::vector<Opp> usable_levels() const;
};

// Kernel drivers/opp/of.c dev_pm_opp_calc_power arithmetic: mV = uV/1000, MHz = Hz/1e6 (integer),
// uW = coeff * mV * mV * MHz / 1e6 (integer division).
std::uint64_t kernel_dynamic_power_uw(std::uint32_t coefficient, std::uint64_t uv, std::uint64_t khz);

// Kernel Energy Model cost + EM_PERF_STATE_INEFFICIENT flag (kernel/power/energy_model.c), walking
// from the highest OPP down. Uses each OPP's dynamic_power_uw; opps must be sorted by khz.
void mark_inefficient(std::vector<Opp>& opps);

// Parses and validates; throws std::runtime_error("<origin>: <field>: <problem>").
Profile parse_profile(const nlohmann::json& j, const std::string& origin);
Profile load_profile(const std::string& path);

const char* to_string(PowerModel m);

}  // namespace rt3::dvfs
