#pragma once
// The search space of RT3's AutoML stage (docs/design.md "Stage 4: search") and everything about a
// candidate that needs no training: decoding an action, its latency per DVFS level, and the reward.
// Torch-free (the CLI prints the space before anything heavy starts; tests run without LibTorch).
//
// An action is one integer per decision. For each frequency level, in increasing frequency:
//   [index into level_options(level), candidate id 1, ..., candidate id patterns_per_set]
// Candidate ids index each layer's candidate patterns at that pruning number, most voted first
// (train/prune/pattern.h), so id k means "the k-th most important pattern" in every layer; the
// ids of a level are a multiset (repeats collapse). Levels that decode to the same (pruning
// number, candidate ids) share one pattern set: the bundle stores each distinct set once.
#include <cstdint>
#include <map>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "dvfs/latency_table.h"
#include "dvfs/profile.h"

namespace rt3::train {

using Action = std::vector<int>;

struct SetChoice {
  int pruning_number = 0;       // 0 = the dense base model (no patterns)
  std::vector<int> candidates;  // sorted, distinct
  bool operator<(const SetChoice& o) const {
    return pruning_number != o.pruning_number ? pruning_number < o.pruning_number : candidates < o.candidates;
  }
  bool operator==(const SetChoice& o) const {
    return pruning_number == o.pruning_number && candidates == o.candidates;
  }
  std::string name() const;  // "p12_c0-1-3-7", or "base" for pruning number 0
};

struct DecodedAction {
  std::vector<SetChoice> sets;     // distinct, sorted
  std::vector<int> level_to_set;   // per level: index into sets
};

struct SearchSpaceOptions {
  double deadline_s = 0;
  double cycle_scale = 1.0;       // device cycles per host cycle for the same work (assumption)
  int patterns_per_set = 4;
  int candidates = 10;
  double latency_weight = 0.1;    // beta of the latency term
  int sparser_options = 4;        // pruning numbers offered per level (the densest feasible first)
};

class SearchSpace {
 public:
  // levels: the profile's usable levels of the inference cluster at which the sparsest measured
  // set can meet the deadline (the others are unreachable(): no choice there changes anything,
  // the bundle serves them with the sparsest set found). The shrunken space: at each level only
  // the pruning numbers the latency table says meet the deadline there, densest first, at most
  // sparser_options of them. Throws when the deadline cannot be met at the highest level even by
  // the sparsest measured set.
  SearchSpace(const dvfs::Profile& profile, const dvfs::LatencyTable& table, const SearchSpaceOptions& o);

  const std::vector<dvfs::Opp>& levels() const { return levels_; }
  const std::vector<dvfs::Opp>& unreachable() const { return unreachable_; }
  // Every pattern pruning number some level offers (no 0), ascending.
  const std::vector<int>& pruning_numbers() const { return pns_; }
  // Options of level l's pruning-number decision (0 = dense).
  const std::vector<int>& level_options(size_t l) const { return level_pns_.at(l); }
  const SearchSpaceOptions& options() const { return opt_; }
  // Options of every decision, in action order.
  const std::vector<int>& decision_sizes() const { return sizes_; }
  int decisions_per_level() const { return 1 + opt_.patterns_per_set; }
  // Controller parameter sharing: every candidate decision is group 0 (same options everywhere);
  // each level's pruning-number decision is its own group (its options differ per level).
  std::vector<int> decision_groups() const;
  // Number of distinct actions (product of decision sizes), as a double (it is huge).
  double size() const;
  // log10 of the same, and of the unshrunk space (all measured pruning numbers) for the report.
  double log10_size() const;
  double log10_unshrunk_size() const { return log10_unshrunk_; }

  void check(const Action& a) const;  // throws std::invalid_argument on a malformed action
  DecodedAction decode(const Action& a) const;
  // Seconds on the device at level l for a set (uniform pruning number over the prunable layers;
  // 0 = dense).
  double latency_s(int pruning_number, size_t level) const;
  bool meets_deadline(int pruning_number, size_t level) const;
  // The action the greedy heuristic starts from: at each level the smallest pruning number that
  // meets the deadline (the densest feasible set), the top-voted candidates 0..k-1.
  Action greedy_action() const;
  std::string describe(const Action& a) const;  // "600MHz:p13{0,1,2,3} 816MHz:..."

 private:
  std::vector<dvfs::Opp> levels_;
  std::vector<dvfs::Opp> unreachable_;
  std::vector<int> pns_;
  std::vector<std::vector<int>> level_pns_;
  std::vector<int> sizes_;
  SearchSpaceOptions opt_;
  const dvfs::LatencyTable* table_;
  std::vector<std::string> layers_;
  double log10_unshrunk_ = 0;
};

// What training tells about a candidate: validation accuracy per distinct set.
struct CandidateScore {
  std::vector<double> set_accuracy;   // per DecodedAction::sets entry
  double reward = 0;
  bool feasible = true;               // every level meets the deadline
  std::vector<double> level_accuracy;
  std::vector<double> level_latency_s;
  double seconds = 0;                 // wall time of the evaluation
};

// reward = mean over levels of accuracy + beta * mean over levels of (1 - latency / dense latency);
// -1 when any level misses the deadline (then set_accuracy may be empty: nothing is trained).
CandidateScore score_candidate(const SearchSpace& space, const DecodedAction& d, const std::vector<double>& set_accuracy);
// The reward split by level: level_rewards[l] = accuracy_l + beta * (1 - latency_l / dense
// latency_l), so reward = their mean. All -1 for an infeasible candidate. The RL controller uses
// them as per-level credit (a level's decisions choose only that level's set).
std::vector<double> level_rewards(const SearchSpace& space, const CandidateScore& s);
// Latency part only, with feasibility, for an action not trained yet.
CandidateScore latency_only(const SearchSpace& space, const DecodedAction& d);

nlohmann::json to_json(const CandidateScore& s);
CandidateScore candidate_score_from_json(const nlohmann::json& j);

}  // namespace rt3::train
