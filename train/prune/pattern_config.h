#pragma once
// Options of a pattern-pruning run (`rt3 prune pattern`, docs/design.md "Stage 3: pattern sets"): K
// pattern sets of different sparsity on one shared set of weights, jointly fine-tuned from a
// block-pruned model. Torch-free so the CLI can validate a --config before anything heavy starts.
// Stored in <out>/rt3_prune.json.
#include <cstdint>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "train/prune/distill_config.h"

namespace rt3::train {

struct PatternOptions {
  // Target sparsity of each set; each becomes a pruning number p = round(s * tile_cols) (columns
  // removed per tile), so the set's real sparsity is p / tile_cols (exactly, for whole tiles).
  std::vector<double> sets = {0.6, 0.7, 0.8, 0.9};
  int64_t tile_rows = 16;            // a tile = tile_rows output rows x tile_cols input columns;
  int64_t tile_cols = 16;            // a pattern keeps whole column segments of a tile
  int64_t patterns_per_set = 4;      // patterns in one set (every tile picks the nearest)
  int64_t candidates = 10;           // candidate patterns per layer and pruning number
  int64_t sample_tiles = 1024;       // tiles sampled per layer to rank candidates
  std::vector<double> set_weights;   // loss weight per set (empty = equal, summing to 1)
  int64_t steps = 200;               // joint fine-tuning steps (0 = one-shot: masks only)
  int64_t reassign_every = 50;       // steps between re-choosing every tile's pattern
  uint64_t seed = 1;                 // tile sampling
  DistillOptions distill;            // from the dense teacher, for every set (off by default)

  // Pruning number of each set (validated: distinct, in [0, tile_cols]).
  std::vector<int64_t> pruning_numbers() const;
  // "p81" for 13 of 16 columns removed: round(100 * p / tile_cols).
  std::vector<std::string> set_names() const;
  // Normalised loss weights (equal when set_weights is empty).
  std::vector<double> loss_weights() const;
};

// Throws std::invalid_argument naming the bad field.
void validate(const PatternOptions& o);
nlohmann::json to_json(const PatternOptions& o);
// Applies {"sets": [...], "tile_rows": .., ...} on top of base; unknown keys and wrong types are
// errors. Does not validate() the result (later overrides may complete it): callers do.
PatternOptions apply_pattern_json(PatternOptions base, const nlohmann::json& j);
// Parses "0.6,0.7,0.8" (the --sets option).
std::vector<double> parse_sparsity_list(const std::string& s);

}  // namespace rt3::train
