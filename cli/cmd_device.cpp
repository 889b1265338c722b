// `rt3 device PROFILE`: loads and validates a device profile and prints its operating points
// with the power the Linux Energy Model assigns them, marking the inefficient ones.
#include <nlohmann/json.hpp>

#include <cstdio>
#include <memory>
#include <string>

#include "cli/commands.h"
#include "dvfs/energy_model.h"
#include "dvfs/profile.h"

namespace rt3::cli {

Runner add_device(CLI::App& app, GlobalOptions& g) {
  auto* cmd = app.add_subcommand("device", "Check a device profile and show its DVFS levels and power");
  auto path = std::make_shared<std::string>();
  cmd->add_option("profile", *path, "Device profile JSON (see profiles/ and docs/dvfs.md)")->required()->check(CLI::ExistingFile);
  cmd->add_flag("--json", g.json, "Print JSON");
  return [path, &g]() {
    const dvfs::Profile p = dvfs::load_profile(*path);
    nlohmann::json j = {{"name", p.name},
                        {"soc", p.soc},
                        {"power_model", dvfs::to_string(p.power_model)},
                        {"inference_cluster", p.inference_cluster},
                        {"battery_mah", p.battery.capacity_mah},
                        {"battery_v", p.battery.nominal_voltage_v},
                        {"battery_assumed", p.battery.assumed},
                        {"battery_energy_j", dvfs::battery_energy_j(p.battery)},
                        {"clusters", nlohmann::json::array()}};
    for (const auto& c : p.clusters) {
      nlohmann::json opps = nlohmann::json::array();
      for (const auto& o : c.opps)
        opps.push_back({{"mhz", o.mhz()}, {"core_power_mw", o.core_power_mw}, {"cluster_power_mw", o.cluster_power_mw},
                        {"inefficient", o.inefficient}});
      j["clusters"].push_back({{"name", c.name}, {"cores", c.cores}, {"core_type", c.core_type}, {"opps", opps}});
    }
    if (g.json) {
      std::printf("%s\n", j.dump(2).c_str());
      return 0;
    }
    std::printf("%s (%s), power model %s, battery %.0f mAh @ %.2f V%s\n", p.name.c_str(), p.soc.c_str(),
                dvfs::to_string(p.power_model), p.battery.capacity_mah, p.battery.nominal_voltage_v,
                p.battery.assumed ? " (assumed)" : "");
    for (const auto& c : p.clusters) {
      std::printf("  %s: %d x %s%s\n", c.name.c_str(), c.cores, c.core_type.c_str(),
                  c.name == p.inference_cluster ? "  <- runs inference" : "");
      for (const auto& o : c.opps)
        std::printf("    %7.1f MHz  %8.1f mW/core  %8.1f mW/cluster%s\n", o.mhz(), o.core_power_mw, o.cluster_power_mw,
                    o.inefficient ? "  inefficient (skipped)" : "");
    }
    return 0;
  };
}

}  // namespace rt3::cli
