#pragma once
// SVG charts of a battery simulation (`rt3 simulate --plots DIR`), written atomically.
#include <string>
#include <vector>

#include "dvfs/simulate.h"

namespace rt3::cli {

// Writes DIR/battery_charge.svg, DIR/levels_sets.svg, DIR/energy_per_inference.svg (creating DIR)
// and returns their paths. Throws std::runtime_error naming the file on failure.
std::vector<std::string> write_simulation_plots(const dvfs::SimulationResult& r, const std::string& dir);

}  // namespace rt3::cli
