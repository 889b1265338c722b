// `rt3 simulate`: battery life of a periodic inference workload on a device profile under dense
// baselines, a schedutil-like governor, RT3 (the engine's own policy) and an OS battery saver,
// from a latency table (rt3 profile). Formulas and assumptions: docs/dvfs.md "Battery simulation".
#include <nlohmann/json.hpp>

#include <cstdio>
#include <memory>
#include <optional>
#include <string>

#include "cli/commands.h"
#include "cli/profile_bundle.h"
#include "cli/simulate_run.h"
#include "cli/simulate_plots.h"
#include "dvfs/latency_table.h"
#include "dvfs/profile.h"
#include "dvfs/simulate.h"
#include "runtime/adapt/bundle_spec.h"
#include "runtime/format/bundle.h"

namespace rt3::cli {
namespace {

const std::vector<double> kSensitivityPeriods = {0.05, 0.1, 0.2, 0.5, 1.0};
const std::vector<double> kSensitivityBase = {0, 100, 300, 500, 1000};

nlohmann::json opt(const std::optional<double>& v) { return v ? nlohmann::json(*v) : nlohmann::json(nullptr); }

nlohmann::json policy_json(const dvfs::SimulationResult& r, const dvfs::PolicyResult& p) {
  nlohmann::json levels = nlohmann::json::object(), sets = nlohmann::json::object();
  for (std::size_t i = 0; i < r.levels_khz.size(); ++i)
    if (p.level_time_s[i] > 0) levels[std::to_string(r.levels_khz[i])] = p.level_time_s[i] / p.time_s;
  for (std::size_t i = 0; i < r.sets.size(); ++i)
    if (p.set_time_s[i] > 0) sets[r.sets[i]] = p.set_time_s[i] / p.time_s;
  return {{"id", p.id},
          {"description", p.description},
          {"note", p.note.empty() ? nlohmann::json(nullptr) : nlohmann::json(p.note)},
          {"battery_emptied", p.emptied},
          {"battery_life_h", p.emptied ? nlohmann::json(p.time_s / 3600) : nlohmann::json(nullptr)},
          {"simulated_h", p.time_s / 3600},
          {"projected_life_h", p.projected_life_s / 3600},
          {"energy_per_inference_mj", p.energy_per_inference_j() * 1e3},
          {"energy_per_request_mj", p.served ? p.energy_j / static_cast<double>(p.requests) * 1e3 : 0.0},
          {"average_power_mw", p.average_power_mw()},
          {"requests", p.requests},
          {"served", p.served},
          {"misses", p.misses},
          {"miss_rate", p.miss_rate()},
          {"accuracy", opt(p.accuracy)},
          {"level_residency", levels},
          {"set_residency", sets}};
}

nlohmann::json result_json(const SimulateArgs& a, const dvfs::Profile& prof, const dvfs::LatencyTable& t,
                           const dvfs::Workload& w, const dvfs::SimulationResult& r,
                           const std::vector<dvfs::SensitivityCell>& sens) {
  nlohmann::json j;
  j["profile"] = prof.name;
  j["latency_table"] = a.latency;
  j["bundle"] = t.bundle;
  j["workload"] = {{"period_ms", w.period_s * 1e3}, {"deadline_ms", w.deadline_s * 1e3},
                   {"duration_h", w.duration_s ? nlohmann::json(*w.duration_s / 3600) : nlohmann::json(nullptr)}};
  j["min_accuracy"] = opt(a.min_accuracy);
  j["battery_energy_j"] = r.battery_energy_j;
  j["levels_khz"] = r.levels_khz;
  j["sets"] = nlohmann::json::array();
  for (std::size_t i = 0; i < r.sets.size(); ++i) j["sets"].push_back({{"name", r.sets[i]}, {"accuracy", opt(r.set_accuracy[i])}});
  const dvfs::LevelPolicy& pol = r.engine;
  j["engine_policy"] = {{"mode", adapt_mode_name(pol.mode)},
                        {"source", a.bundle.empty() ? "latency table" : a.bundle},
                        {"note", pol.note.empty() ? nlohmann::json(nullptr) : nlohmann::json(pol.note)}};
  j["engine_table"] = nlohmann::json::array();
  for (std::size_t l = 0; l < pol.levels_khz.size(); ++l) {
    nlohmann::json lat = nlohmann::json::object(), energy = nlohmann::json::object();
    for (std::size_t s = 0; s < r.sets.size(); ++s) {
      lat[r.sets[s]] = pol.latency_s(s, l) * 1e3;
      energy[r.sets[s]] = r.inference_energy_j[l][s] * 1e3;
    }
    j["engine_table"].push_back({{"khz", pol.levels_khz[l]}, {"latency_ms", lat}, {"inference_energy_mj", energy},
                                 {"chosen", r.sets[pol.chosen[l]]}, {"miss", !pol.meets(l)}});
  }
  j["policies"] = nlohmann::json::array();
  for (const auto& p : r.policies) j["policies"].push_back(policy_json(r, p));
  j["ratios"] = {{"rt3_over_max_dense", r.ratio("max_dense")},
                 {"rt3_over_min_dense", r.ratio("min_dense")},
                 {"rt3_over_schedutil_dense", r.ratio("schedutil_dense")},
                 {"saver_rt3_over_saver_dense", r.policy("saver_rt3").life_s() / r.policy("saver_dense").life_s()}};
  nlohmann::json cells = nlohmann::json::array();
  for (const auto& c : sens)
    cells.push_back({{"period_ms", c.period_s * 1e3}, {"base_power_mw", c.base_power_mw},
                     {"rt3_over_max_dense", c.rt3_over_max}, {"rt3_over_min_dense", c.rt3_over_min}});
  j["sensitivity"] = {{"note", "deadline = min(workload deadline, period); no duration cap"}, {"cells", cells}};
  j["assumptions"] = nlohmann::json::array();
  for (const auto& x : r.assumptions) j["assumptions"].push_back({{"name", x.name}, {"value", x.value}, {"source", x.source}});
  return j;
}

nlohmann::json ratios_json(const dvfs::SimulationResult& r) {
  return {{"rt3_over_max_dense", r.ratio("max_dense")},
          {"rt3_over_min_dense", r.ratio("min_dense")},
          {"rt3_over_schedutil_dense", r.ratio("schedutil_dense")},
          {"rt3_misses", r.policy("rt3").misses},
          {"rt3_life_h", r.policy("rt3").life_s() / 3600},
          {"max_dense_life_h", r.policy("max_dense").life_s() / 3600}};
}

// Battery life on two bases (docs/dvfs.md "Two bases"): the processor alone (the CPU cluster's
// dynamic, static and idle power: what DVFS controls) and the whole device (plus the rest-of-device
// power). Life is battery energy over average power, and the rest of the device adds the same b
// to every policy's power: RT3 / dense = (P_dense + b) / (P_rt3 + b), which falls from the
// processor ratio r0 = P_dense / P_rt3 toward 1. It halves at b = P_rt3 P_dense / (P_dense - 2 P_rt3)
// (only when r0 > 2); the simulation is run there once more to show it.
nlohmann::json bases_json(const dvfs::Profile& prof, const dvfs::LatencyTable& table, const dvfs::SimulationOptions& o,
                          const dvfs::SimulationResult& device) {
  dvfs::SimulationOptions po = o;
  po.base_power_mw = 0.0;
  po.record = false;
  const dvfs::SimulationResult processor = device.base_power_mw == 0 ? device : dvfs::simulate(prof, table, po);
  nlohmann::json j;
  j["processor"] = ratios_json(processor);
  j["processor"]["base_power_mw"] = 0.0;
  j["device"] = ratios_json(device);
  j["device"]["base_power_mw"] = device.base_power_mw;
  const double pd = processor.policy("max_dense").average_power_mw(), pr = processor.policy("rt3").average_power_mw();
  nlohmann::json half = {{"over", "max_dense"}, {"processor_ratio", processor.ratio("max_dense")}};
  if (pr > 0 && pd > 2 * pr) {
    const double b = pr * pd / (pd - 2 * pr);
    dvfs::SimulationOptions bo = po;
    bo.base_power_mw = b;
    half["base_power_mw"] = b;
    half["simulated_ratio"] = dvfs::simulate(prof, table, bo).ratio("max_dense");
  } else {
    half["base_power_mw"] = nullptr;
    half["note"] = "RT3's gain over dense at max frequency is under 2x on the processor alone: no rest-of-device power halves it";
  }
  j["gain_halves_at"] = half;
  return j;
}

void print_bases(const nlohmann::json& b) {
  const auto& p = b["processor"];
  const auto& d = b["device"];
  std::printf("Battery life on two bases: RT3 / (a) max_dense = %.2fx on the processor alone (CPU cluster), %.2fx on the whole "
              "device (+ %.0f mW rest of device)\n",
              p["rt3_over_max_dense"].get<double>(), d["rt3_over_max_dense"].get<double>(), d["base_power_mw"].get<double>());
  const auto& h = b["gain_halves_at"];
  if (h["base_power_mw"].is_null()) std::printf("  %s\n\n", h["note"].get<std::string>().c_str());
  else
    std::printf("  the gain halves (to %.2fx) at %.0f mW of rest-of-device power\n\n", h["simulated_ratio"].get<double>(),
                h["base_power_mw"].get<double>());
}

void print_human(const dvfs::Profile& prof, const dvfs::LatencyTable& t, const dvfs::Workload& w,
                 const dvfs::SimulationResult& r, const std::vector<dvfs::SensitivityCell>& sens) {
  std::printf("%s (%s); latency table of %s; one request every %.0f ms, deadline %.0f ms\n\n", prof.name.c_str(),
              prof.soc.c_str(), t.bundle.c_str(), w.period_s * 1e3, w.deadline_s * 1e3);
  const dvfs::LevelPolicy& pol = r.engine;
  std::printf("What the engine runs at each level (%s mode): device latency (ms); * = chosen, ! = misses the deadline\n  %8s",
              adapt_mode_name(pol.mode), "MHz");
  for (const auto& s : r.sets) std::printf(" %9s", s.c_str());
  std::printf("\n");
  for (std::size_t l = 0; l < pol.levels_khz.size(); ++l) {
    std::printf("  %8.0f", static_cast<double>(pol.levels_khz[l]) / 1000);
    for (std::size_t s = 0; s < r.sets.size(); ++s)
      std::printf(" %8.1f%c", pol.latency_s(s, l) * 1e3, s == pol.chosen[l] ? (pol.meets(l) ? '*' : '!') : ' ');
    std::printf("\n");
  }
  if (!pol.note.empty()) std::printf("  note: %s\n", pol.note.c_str());
  std::printf("\n  %-16s %9s %9s %9s %8s %9s  %s\n", "policy", "life h", "mJ/inf", "avg mW", "miss %", "accuracy",
              "residency (MHz: share; set: share)");
  for (const auto& p : r.policies) {
    std::string res;
    for (std::size_t i = 0; i < r.levels_khz.size(); ++i)
      if (p.level_time_s[i] > 0)
        res += std::to_string(r.levels_khz[i] / 1000) + ":" + std::to_string(static_cast<int>(p.level_time_s[i] / p.time_s * 100 + 0.5)) + "% ";
    res += "|";
    for (std::size_t i = 0; i < r.sets.size(); ++i)
      if (p.set_time_s[i] > 0)
        res += " " + r.sets[i] + ":" + std::to_string(static_cast<int>(p.set_time_s[i] / p.time_s * 100 + 0.5)) + "%";
    char acc[16] = "n/a";
    if (p.accuracy) std::snprintf(acc, sizeof acc, "%.4f", *p.accuracy);
    std::printf("  %-16s %8.2f%s %9.2f %9.1f %8.2f %9s  %s\n", p.id.c_str(), p.life_s() / 3600, p.emptied ? " " : "~",
                p.energy_per_inference_j() * 1e3, p.average_power_mw(), p.miss_rate() * 100, acc, res.c_str());
    if (!p.note.empty()) std::printf("  %16s note: %s\n", "", p.note.c_str());
  }
  for (const auto& p : r.policies)
    if (!p.emptied) {
      std::printf("  (~ = projected from the average power: the duration cap stopped the run before the battery was empty)\n");
      break;
    }
  std::printf("\n");
  std::printf("Battery life RT3 / (a) max_dense = %.2fx, / (b) min_dense = %.2fx, / (c) schedutil_dense = %.2fx; "
              "saver_rt3 / saver_dense = %.2fx\n\n",
              r.ratio("max_dense"), r.ratio("min_dense"), r.ratio("schedutil_dense"),
              r.policy("saver_rt3").life_s() / r.policy("saver_dense").life_s());
  std::printf("Sensitivity: RT3/(a) [RT3/(b)] by period (rows) and base power (columns); deadline = min(deadline, period)\n  %9s",
              "period");
  for (double b : kSensitivityBase) std::printf(" %13.0f mW", b);
  std::printf("\n");
  for (std::size_t i = 0; i < sens.size(); ++i) {
    if (i % kSensitivityBase.size() == 0) std::printf("  %6.0f ms", sens[i].period_s * 1e3);
    std::printf("    %5.2f [%5.2f]", sens[i].rt3_over_max, sens[i].rt3_over_min);
    if (i % kSensitivityBase.size() == kSensitivityBase.size() - 1) std::printf("\n");
  }
  std::printf("\nAssumptions:\n");
  for (const auto& a : r.assumptions) std::printf("  - %s = %s (%s)\n", a.name.c_str(), a.value.c_str(), a.source.c_str());
}

}  // namespace

Runner add_simulate(CLI::App& app, GlobalOptions& g) {
  auto* cmd = app.add_subcommand("simulate", "Battery life of a periodic workload: dense baselines, schedutil, RT3, battery saver");
  auto a = std::make_shared<SimulateArgs>();
  cmd->add_option("--profile", a->profile, "Device profile JSON (profiles/)")->required()->check(CLI::ExistingFile);
  cmd->add_option("--latency", a->latency, "Latency table JSON (rt3 profile BUNDLE --out FILE)")->check(CLI::ExistingFile);
  cmd->add_option("--workload", a->workload, "\"period=200ms,deadline=100ms[,duration=10h]\" (units us ms s min h)")->required();
  cmd->add_option("--cycle-scale", a->cycle_scale, "Device cycles per host cycle for the same work (assumption)")
      ->capture_default_str()->check(CLI::PositiveNumber);
  cmd->add_option("--base-power-mw", a->base_power_mw, "Rest-of-device power, overrides the profile's")->check(CLI::NonNegativeNumber);
  cmd->add_option("--min-accuracy", a->min_accuracy, "RT3: accuracy floor (needs accuracies in the latency table)")
      ->check(CLI::Range(0.0, 1.0));
  cmd->add_option("--margin", a->margin, "Pick a frequency for (b) and RT3 only if latency <= margin x deadline")
      ->capture_default_str()->check(CLI::Range(0.01, 1.0));
  cmd->add_option("--active-cores", a->active_cores, "Busy cores per inference (default: min(table threads, cluster cores))")
      ->check(CLI::Range(1, 1024));
  cmd->add_option("--plots", a->plots, "Write battery_charge.svg, levels_sets.svg, energy_per_inference.svg here");
  cmd->add_flag("--json", g.json, "Print JSON");
  cmd->add_option("--bundle", a->bundle,
                  "The bundle: RT3 runs what its engine would (level table, else deadline mode); profiled on the fly\n"
                  "when --latency is not given. Without it, the latency table's variants under deadline mode.")
      ->check(CLI::ExistingFile);
  return [a, &g]() {
    if (a->latency.empty() && a->bundle.empty()) throw std::runtime_error("pass --latency FILE, --bundle FILE or both");
    dvfs::LatencyTable table;
    if (a->latency.empty()) {
      ProfileOptions po;
      po.bundle = a->bundle;
      po.threads = 1;
      table = profile_bundle(po, nullptr);
    } else {
      table = dvfs::load_latency_table(a->latency);
    }
    const dvfs::Profile prof = dvfs::load_profile(a->profile);
    SimulationRun run = run_simulation(*a, prof, table);
    if (g.json) {
      std::printf("%s\n", run.json.dump(2).c_str());
      return 0;
    }
    print_human(prof, table, run.options.workload, run.result, run.sensitivity);
    print_bases(run.json["bases"]);
    for (const auto& p : run.json["plots"]) std::printf("wrote %s\n", p.get<std::string>().c_str());
    return 0;
  };
}

SimulationRun run_simulation(const SimulateArgs& a, const dvfs::Profile& prof, const dvfs::LatencyTable& table) {
  SimulationRun run;
  dvfs::SimulationOptions& o = run.options;
  o.workload = dvfs::parse_workload(a.workload);
  o.cycle_scale = a.cycle_scale;
  o.base_power_mw = a.base_power_mw;
  o.min_accuracy = a.min_accuracy;
  o.margin = a.margin;
  o.active_cores = a.active_cores;
  if (!a.bundle.empty()) o.policy = adapt::spec_from_bundle(format::Bundle::open(a.bundle), table.threads);
  run.result = dvfs::simulate(prof, table, o);
  run.sensitivity = dvfs::sensitivity(prof, table, o, kSensitivityPeriods, kSensitivityBase);
  std::vector<std::string> plots;
  if (!a.plots.empty()) plots = write_simulation_plots(run.result, a.plots);
  run.json = result_json(a, prof, table, o.workload, run.result, run.sensitivity);
  run.json["plots"] = plots;
  run.json["bases"] = bases_json(prof, table, o, run.result);
  return run;
}

}  // namespace rt3::cli
