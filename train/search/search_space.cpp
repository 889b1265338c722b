#include "train/search/search_space.h"

#include <algorithm>
#include <cmath>
#include <sstream>
#include <stdexcept>

namespace rt3::train {

std::string SetChoice::name() const {
  if (pruning_number == 0) return "base";
  std::string s = "p" + std::to_string(pruning_number) + "_c";
  for (size_t i = 0; i < candidates.size(); ++i) s += (i ? "-" : "") + std::to_string(candidates[i]);
  return s;
}

SearchSpace::SearchSpace(const dvfs::Profile& profile, const dvfs::LatencyTable& table, const SearchSpaceOptions& o)
    : levels_(profile.usable_levels()), opt_(o), table_(&table) {
  if (!(o.deadline_s > 0)) throw std::invalid_argument("the deadline must be > 0");
  if (!(o.cycle_scale > 0)) throw std::invalid_argument("cycle_scale must be > 0");
  if (o.patterns_per_set < 1 || o.candidates < 1 || o.sparser_options < 1)
    throw std::invalid_argument("patterns_per_set, candidates and sparser_options must be >= 1");
  if (levels_.empty()) throw std::invalid_argument(profile.name + ": no usable frequency level");
  for (const auto& l : table.layers) layers_.push_back(l.name);
  const std::vector<int> all = table.pruning_numbers();
  if (all.empty()) throw std::invalid_argument("the latency table has no pruning number measured for every layer");
  // Levels where even the sparsest measured set misses the deadline cannot be helped by search.
  {
    std::vector<dvfs::Opp> reachable;
    for (size_t l = 0; l < levels_.size(); ++l)
      (meets_deadline(all.back(), l) ? reachable : unreachable_).push_back(levels_[l]);
    if (reachable.empty()) {
      std::ostringstream m;
      m << "the deadline of " << o.deadline_s * 1e3 << " ms cannot be met even at " << levels_.back().mhz()
        << " MHz with the sparsest measured set (p=" << all.back() << ": "
        << latency_s(all.back(), levels_.size() - 1) * 1e3
        << " ms predicted); raise --deadline-ms or measure larger pruning numbers";
      throw std::invalid_argument(m.str());
    }
    levels_ = reachable;
  }
  // Per level, the densest options that meet the deadline there (dense itself, p = 0, when it
  // does) and up to `sparser_options` - 1 sparser ones: a set sparser than its level needs only
  // lowers accuracy, and a few steps are enough for the latency term to be explored.
  std::vector<int> with_dense = all;
  with_dense.insert(with_dense.begin(), 0);
  for (size_t l = 0; l < levels_.size(); ++l) {
    std::vector<int> opts;
    for (int p : with_dense)
      if (static_cast<int>(opts.size()) < o.sparser_options && meets_deadline(p, l)) opts.push_back(p);
    level_pns_.push_back(opts);
    for (int p : opts)
      if (p > 0 && std::find(pns_.begin(), pns_.end(), p) == pns_.end()) pns_.push_back(p);
  }
  std::sort(pns_.begin(), pns_.end());
  for (size_t l = 0; l < levels_.size(); ++l) {
    sizes_.push_back(static_cast<int>(level_pns_[l].size()));
    for (int k = 0; k < o.patterns_per_set; ++k) sizes_.push_back(o.candidates);
  }
  log10_unshrunk_ = static_cast<double>(levels_.size()) *
                    (std::log10(static_cast<double>(all.size() + 1)) + o.patterns_per_set * std::log10(double(o.candidates)));
}

double SearchSpace::size() const { return std::pow(10.0, log10_size()); }

double SearchSpace::log10_size() const {
  double s = 0;
  for (int n : sizes_) s += std::log10(static_cast<double>(n));
  return s;
}

std::vector<int> SearchSpace::decision_groups() const {
  std::vector<int> g;
  for (size_t l = 0; l < levels_.size(); ++l) {
    g.push_back(1 + static_cast<int>(l));
    for (int k = 0; k < opt_.patterns_per_set; ++k) g.push_back(0);
  }
  return g;
}

void SearchSpace::check(const Action& a) const {
  if (a.size() != sizes_.size())
    throw std::invalid_argument("action has " + std::to_string(a.size()) + " decisions, the space " +
                                std::to_string(sizes_.size()));
  for (size_t i = 0; i < a.size(); ++i)
    if (a[i] < 0 || a[i] >= sizes_[i])
      throw std::invalid_argument("decision " + std::to_string(i) + " = " + std::to_string(a[i]) + " is outside [0, " +
                                  std::to_string(sizes_[i]) + ")");
}

DecodedAction SearchSpace::decode(const Action& a) const {
  check(a);
  DecodedAction d;
  std::vector<SetChoice> per_level;
  const size_t stride = static_cast<size_t>(decisions_per_level());
  for (size_t l = 0; l < levels_.size(); ++l) {
    SetChoice c;
    c.pruning_number = level_pns_[l][static_cast<size_t>(a[l * stride])];
    if (c.pruning_number > 0)  // dense has no patterns to choose
      for (size_t k = 1; k < stride; ++k) c.candidates.push_back(a[l * stride + k]);
    std::sort(c.candidates.begin(), c.candidates.end());
    c.candidates.erase(std::unique(c.candidates.begin(), c.candidates.end()), c.candidates.end());
    per_level.push_back(c);
  }
  d.sets = per_level;
  std::sort(d.sets.begin(), d.sets.end());
  d.sets.erase(std::unique(d.sets.begin(), d.sets.end()), d.sets.end());
  for (const auto& c : per_level)
    d.level_to_set.push_back(static_cast<int>(std::lower_bound(d.sets.begin(), d.sets.end(), c) - d.sets.begin()));
  return d;
}

double SearchSpace::latency_s(int pruning_number, size_t level) const {
  std::map<std::string, int> pn;
  if (pruning_number > 0)
    for (const auto& l : layers_) pn[l] = pruning_number;
  dvfs::LatencyModel m = table_->predict_model(pn);
  m.compute_s *= opt_.cycle_scale;
  return dvfs::latency_s(m, static_cast<double>(levels_.at(level).khz));
}

bool SearchSpace::meets_deadline(int pruning_number, size_t level) const {
  return latency_s(pruning_number, level) <= opt_.deadline_s;
}

Action SearchSpace::greedy_action() const {
  Action a;
  for (size_t l = 0; l < levels_.size(); ++l) {
    a.push_back(0);  // the densest option that meets the deadline at this level
    for (int k = 0; k < opt_.patterns_per_set; ++k) a.push_back(std::min(k, opt_.candidates - 1));
  }
  return a;
}

std::string SearchSpace::describe(const Action& a) const {
  const DecodedAction d = decode(a);
  std::string s;
  for (size_t l = 0; l < levels_.size(); ++l) {
    const SetChoice& c = d.sets[static_cast<size_t>(d.level_to_set[l])];
    s += (l ? " " : "") + std::to_string(static_cast<int>(levels_[l].mhz())) + "MHz:p" + std::to_string(c.pruning_number) + "{";
    for (size_t i = 0; i < c.candidates.size(); ++i) s += (i ? "," : "") + std::to_string(c.candidates[i]);
    s += "}";
  }
  return s;
}

CandidateScore latency_only(const SearchSpace& space, const DecodedAction& d) {
  CandidateScore s;
  for (size_t l = 0; l < space.levels().size(); ++l) {
    const int p = d.sets[static_cast<size_t>(d.level_to_set[l])].pruning_number;
    s.level_latency_s.push_back(space.latency_s(p, l));
    if (!space.meets_deadline(p, l)) s.feasible = false;
  }
  s.reward = s.feasible ? 0.0 : -1.0;
  return s;
}

CandidateScore score_candidate(const SearchSpace& space, const DecodedAction& d, const std::vector<double>& set_accuracy) {
  CandidateScore s = latency_only(space, d);
  if (!s.feasible) return s;
  if (set_accuracy.size() != d.sets.size()) throw std::invalid_argument("one accuracy per distinct set is needed");
  s.set_accuracy = set_accuracy;
  double acc = 0, speed = 0;
  const size_t n = space.levels().size();
  for (size_t l = 0; l < n; ++l) {
    const double a = set_accuracy[static_cast<size_t>(d.level_to_set[l])];
    s.level_accuracy.push_back(a);
    acc += a;
    speed += 1.0 - s.level_latency_s[l] / space.latency_s(0, l);
  }
  s.reward = acc / double(n) + space.options().latency_weight * speed / double(n);
  return s;
}

std::vector<double> level_rewards(const SearchSpace& space, const CandidateScore& s) {
  const size_t n = space.levels().size();
  if (!s.feasible) return std::vector<double>(n, -1.0);
  if (s.level_accuracy.size() != n || s.level_latency_s.size() != n)
    throw std::invalid_argument("level_rewards: the score has no per-level accuracy and latency");
  std::vector<double> r(n);
  for (size_t l = 0; l < n; ++l)
    r[l] = s.level_accuracy[l] + space.options().latency_weight * (1.0 - s.level_latency_s[l] / space.latency_s(0, l));
  return r;
}

nlohmann::json to_json(const CandidateScore& s) {
  return {{"reward", s.reward},           {"feasible", s.feasible},
          {"set_accuracy", s.set_accuracy}, {"level_accuracy", s.level_accuracy},
          {"level_latency_s", s.level_latency_s}, {"seconds", s.seconds}};
}

CandidateScore candidate_score_from_json(const nlohmann::json& j) {
  CandidateScore s;
  s.reward = j.at("reward").get<double>();
  s.feasible = j.at("feasible").get<bool>();
  s.set_accuracy = j.at("set_accuracy").get<std::vector<double>>();
  s.level_accuracy = j.at("level_accuracy").get<std::vector<double>>();
  s.level_latency_s = j.at("level_latency_s").get<std::vector<double>>();
  s.seconds = j.value("seconds", 0.0);
  return s;
}

}  // namespace rt3::train
