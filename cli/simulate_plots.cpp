#include "cli/simulate_plots.h"

#include <filesystem>
#include <stdexcept>

#include "report/svg_plot.h"
#include "runtime/format/atomic_file.h"

namespace rt3::cli {
namespace {

// Charge (%) against hours, one line per policy. Samples sit where a policy changes state; the
// charge falls linearly in between (constant power), so straight lines are exact.
report::LineChart charge_chart(const dvfs::SimulationResult& r) {
  report::LineChart c;
  c.title = "Battery charge";
  c.x.label = "time (h)";
  c.y.label = "charge (%)";
  c.y.min = 0;
  c.y.max = 100;
  for (const auto& p : r.policies) {
    report::Series s;
    s.name = p.id;
    for (const auto& smp : p.samples) {
      s.x.push_back(smp.t_s / 3600);
      s.y.push_back(smp.charge * 100);
    }
    c.series.push_back(std::move(s));
  }
  return c;
}

// Frequency level and active set of the battery-saver RT3 run, as two stacked step charts.
std::vector<report::LineChart> levels_sets_charts(const dvfs::SimulationResult& r) {
  const auto& p = r.policy("saver_rt3");
  report::LineChart f, s;
  f.title = "Battery saver + RT3: frequency level";
  f.x.label = s.x.label = "time (h)";
  f.y.label = "MHz";
  s.title = "Battery saver + RT3: active set";
  s.y.label = "set";
  report::Series fs{"frequency", {}, {}, true}, ss{"set", {}, {}, true};
  for (const auto& smp : p.samples) {
    fs.x.push_back(smp.t_s / 3600);
    fs.y.push_back(static_cast<double>(smp.khz) / 1000);
    ss.x.push_back(smp.t_s / 3600);
    ss.y.push_back(static_cast<double>(smp.set));
  }
  f.y.min = 0;
  for (std::size_t i = 0; i < r.sets.size(); ++i) s.y.ticks.push_back({static_cast<double>(i), r.sets[i]});
  s.y.min = -0.5;
  s.y.max = static_cast<double>(r.sets.size()) - 0.5;
  f.series.push_back(std::move(fs));
  s.series.push_back(std::move(ss));
  return {f, s};
}

report::BarChart energy_chart(const dvfs::SimulationResult& r) {
  report::BarChart c;
  c.title = "Energy per inference at each (level, set)";
  c.y_label = "mJ per inference (device incl. base power)";
  for (auto khz : r.levels_khz) c.groups.push_back(std::to_string(khz / 1000) + " MHz");
  c.series_names = r.sets;
  c.values.assign(r.sets.size(), {});
  c.faded.assign(r.sets.size(), {});
  for (std::size_t s = 0; s < r.sets.size(); ++s)
    for (std::size_t l = 0; l < r.levels_khz.size(); ++l) {
      c.values[s].push_back(r.inference_energy_j[l][s] * 1e3);
      c.faded[s].push_back(!r.meets[l][s]);
    }
  c.faded_note = "pale: misses deadline";
  return c;
}

}  // namespace

std::vector<std::string> write_simulation_plots(const dvfs::SimulationResult& r, const std::string& dir) {
  std::error_code ec;
  std::filesystem::create_directories(dir, ec);
  if (ec) throw std::runtime_error(dir + ": cannot create the plots directory: " + ec.message());
  const std::string charge = dir + "/battery_charge.svg", levels = dir + "/levels_sets.svg",
                    energy = dir + "/energy_per_inference.svg";
  format::write_file_atomic(charge, report::line_charts_svg({charge_chart(r)}));
  format::write_file_atomic(levels, report::line_charts_svg(levels_sets_charts(r), 860, 300));
  format::write_file_atomic(energy, report::bar_chart_svg(energy_chart(r)));
  return {charge, levels, energy};
}

}  // namespace rt3::cli
