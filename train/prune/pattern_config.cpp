#include "train/prune/pattern_config.h"

#include <cmath>
#include <set>
#include <sstream>
#include <stdexcept>
#include <type_traits>

namespace rt3::train {
using nlohmann::json;

std::vector<int64_t> PatternOptions::pruning_numbers() const {
  std::vector<int64_t> p;
  for (double s : sets) p.push_back(std::llround(s * double(tile_cols)));
  return p;
}

std::vector<std::string> PatternOptions::set_names() const {
  std::vector<std::string> names;
  for (int64_t p : pruning_numbers()) names.push_back("p" + std::to_string(std::llround(100.0 * double(p) / double(tile_cols))));
  return names;
}

std::vector<double> PatternOptions::loss_weights() const {
  std::vector<double> w = set_weights.empty() ? std::vector<double>(sets.size(), 1.0) : set_weights;
  double total = 0;
  for (double x : w) total += x;
  for (double& x : w) x /= total;
  return w;
}

void validate(const PatternOptions& o) {
  auto bad = [](const std::string& what) { throw std::invalid_argument("pattern." + what); };
  if (o.tile_rows < 1 || o.tile_rows > 4096) bad("tile_rows must be in [1, 4096]");
  if (o.tile_cols < 1 || o.tile_cols > 64) bad("tile_cols must be in [1, 64]");
  if (o.sets.empty()) bad("sets must list at least one sparsity");
  if (o.sets.size() > 32) bad("sets: at most 32 sets");
  for (double s : o.sets)
    if (!(s >= 0.0 && s <= 1.0)) bad("sets: every sparsity must be in [0, 1]");
  std::set<int64_t> seen;
  const auto p = o.pruning_numbers();
  for (size_t i = 0; i < p.size(); ++i)
    if (!seen.insert(p[i]).second)
      bad("sets: " + std::to_string(o.sets[i]) + " gives pruning number " + std::to_string(p[i]) + " of " +
          std::to_string(o.tile_cols) + " columns like an earlier set; use distinct sparsities or more tile_cols");
  if (o.patterns_per_set < 1 || o.patterns_per_set > 255) bad("patterns_per_set must be in [1, 255]");
  if (o.candidates < o.patterns_per_set) bad("candidates must be >= patterns_per_set");
  if (o.sample_tiles < 1) bad("sample_tiles must be >= 1");
  if (!o.set_weights.empty()) {
    if (o.set_weights.size() != o.sets.size()) bad("set_weights must have one weight per set");
    double total = 0;
    for (double w : o.set_weights) {
      if (!(w >= 0.0 && std::isfinite(w))) bad("set_weights must be finite numbers >= 0");
      total += w;
    }
    if (!(total > 0)) bad("set_weights must not all be 0");
  }
  if (o.steps < 0) bad("steps must be >= 0");
  if (o.reassign_every < 1) bad("reassign_every must be >= 1");
  validate(o.distill, "pattern");
}

json to_json(const PatternOptions& o) {
  return {{"sets", o.sets},
          {"tile_rows", o.tile_rows},
          {"tile_cols", o.tile_cols},
          {"patterns_per_set", o.patterns_per_set},
          {"candidates", o.candidates},
          {"sample_tiles", o.sample_tiles},
          {"set_weights", o.set_weights},
          {"steps", o.steps},
          {"reassign_every", o.reassign_every},
          {"seed", o.seed},
          {"distill", to_json(o.distill)}};
}

PatternOptions apply_pattern_json(PatternOptions o, const json& j) {
  if (!j.is_object()) throw std::invalid_argument("pattern options must be a JSON object");
  for (const auto& [key, v] : j.items()) {
    auto num = [&, k = key](auto& field) {
      using T = std::decay_t<decltype(field)>;
      if constexpr (std::is_integral_v<T>) {
        if (!v.is_number_integer()) throw std::invalid_argument("pattern." + k + " must be an integer");
      } else if (!v.is_number()) {
        throw std::invalid_argument("pattern." + k + " must be a number");
      }
      field = v.get<T>();
    };
    auto list = [&, k = key](std::vector<double>& field) {
      if (!v.is_array()) throw std::invalid_argument("pattern." + k + " must be an array of numbers");
      field.clear();
      for (const auto& x : v) {
        if (!x.is_number()) throw std::invalid_argument("pattern." + k + " must be an array of numbers");
        field.push_back(x.get<double>());
      }
    };
    if (key == "sets") list(o.sets);
    else if (key == "set_weights") list(o.set_weights);
    else if (key == "tile_rows") num(o.tile_rows);
    else if (key == "tile_cols") num(o.tile_cols);
    else if (key == "patterns_per_set") num(o.patterns_per_set);
    else if (key == "candidates") num(o.candidates);
    else if (key == "sample_tiles") num(o.sample_tiles);
    else if (key == "steps") num(o.steps);
    else if (key == "reassign_every") num(o.reassign_every);
    else if (key == "seed") num(o.seed);
    else if (key == "distill") o.distill = apply_distill_json(o.distill, v, "pattern");
    else throw std::invalid_argument("unknown key pattern." + key);
  }
  return o;  // not validated here: later overrides (e.g. --sets) may still change it
}

std::vector<double> parse_sparsity_list(const std::string& s) {
  std::vector<double> out;
  std::stringstream ss(s);
  std::string item;
  while (std::getline(ss, item, ',')) {
    size_t used = 0;
    double v = 0;
    try {
      v = std::stod(item, &used);
    } catch (const std::exception&) {
      used = 0;
    }
    if (used == 0 || used != item.size() || !(v >= 0.0 && v <= 1.0))
      throw std::invalid_argument("'" + item + "' in '" + s + "' is not a sparsity in [0, 1]");
    out.push_back(v);
  }
  if (out.empty()) throw std::invalid_argument("empty sparsity list");
  return out;
}

}  // namespace rt3::train
