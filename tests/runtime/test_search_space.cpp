// rt3 search's space (train/search/search_space.h), torch-free: shrinking per DVFS level,
// unreachable levels, decoding an action into shared pattern sets, and the reward, all checked
// against latencies computed here by hand from the table.
#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <stdexcept>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "dvfs/latency_table.h"
#include "dvfs/profile.h"
#include "train/search/search_space.h"

using namespace rt3;
using rt3::train::Action;
using rt3::train::CandidateScore;
using rt3::train::DecodedAction;
using rt3::train::SearchSpace;
using rt3::train::SearchSpaceOptions;
using rt3::train::SetChoice;

namespace {

constexpr double kHostKhz = 2e6;
constexpr double kTrafficGbs = 10;
constexpr double kRemainder = 0.001;
const std::vector<int> kAllPns = {0, 2, 3, 4, 5, 6, 7};  // 0 = dense, then every measured one

// Two prunable layers of 8-column tiles, measured on a 2 GHz host at pruning numbers 2..7.
//   a: dense 4 ms, 1 MB of weights;   p: 4 ms x (8-p)/8 + 0.2 ms overhead, 1 MB x (8-p)/8
//   b: dense 2 ms, 0.5 MB;            p: 2 ms x (8-p)/8 + 0.1 ms,          0.5 MB x (8-p)/8
// remainder 1 ms; in-model weight traffic 10 GB/s (the frequency-independent part).
dvfs::LatencyTable table() {
  dvfs::LatencyTable t;
  t.bundle = "toy.rt3";
  t.model_type = "distilbert_classifier";
  t.tokens = 64;
  t.tile_rows = 16;
  t.tile_cols = 8;
  t.host_khz = kHostKhz;
  t.host_khz_source = "test";
  t.memory_bandwidth_gbs = 20;
  t.remainder_s = kRemainder;
  t.weight_traffic_gbs = kTrafficGbs;
  dvfs::LayerLatency a{"a", 64, 64, 0.004, 1e6, {}, {}};
  dvfs::LayerLatency b{"b", 64, 32, 0.002, 0.5e6, {}, {}};
  for (int p = 2; p <= 7; ++p) {
    a.pattern_s[p] = 0.004 * (8 - p) / 8 + 0.0002;
    a.pattern_bytes[p] = 1e6 * (8 - p) / 8;
    b.pattern_s[p] = 0.002 * (8 - p) / 8 + 0.0001;
    b.pattern_bytes[p] = 0.5e6 * (8 - p) / 8;
  }
  t.layers = {a, b};
  return t;
}

// The same latency, computed independently: compute part scales with f_ref / f (and the cycle
// scale), weight traffic does not.
double hand_latency(int p, double khz, double cycle_scale = 1.0) {
  double iso, bytes;
  if (p == 0) {
    iso = 0.004 + 0.002;
    bytes = 1.5e6;
  } else {
    iso = 0.004 * (8 - p) / 8 + 0.0002 + 0.002 * (8 - p) / 8 + 0.0001;
    bytes = 1.5e6 * (8 - p) / 8;
  }
  return (kRemainder + iso) * cycle_scale * kHostKhz / khz + bytes / (kTrafficGbs * 1e9);
}

// Inference cluster "big": 250 MHz is inefficient (same voltage as 500 MHz: same EM cost), so
// the usable levels are 500, 1000, 1500, 2000 MHz. The little cluster is never used.
dvfs::Profile profile() {
  return dvfs::parse_profile(nlohmann::json::parse(R"({
    "name": "toy", "soc": "test", "power_model": "energy_model", "inference_cluster": "big",
    "sources": [{"what": "everything", "where": "assumption: test"}],
    "battery": {"capacity_mah": 1000, "nominal_voltage_v": 4.0, "assumed": true, "note": "assumption: test"},
    "base_power_mw": 100, "idle_power_mw": 10,
    "clusters": [
      {"name": "little", "cores": 2, "core_type": "Y", "capacity_dmips_mhz": 400,
       "dynamic_power_coefficient": 50, "static_power_mw": 5, "static_power_source": "assumption: test",
       "opps": [{"khz": 3000000, "uv": 1000000}]},
      {"name": "big", "cores": 2, "core_type": "X", "capacity_dmips_mhz": 1024,
       "dynamic_power_coefficient": 100, "static_power_mw": 20, "static_power_source": "assumption: test",
       "opps": [{"khz": 250000, "uv": 800000}, {"khz": 500000, "uv": 800000}, {"khz": 1000000, "uv": 900000},
                {"khz": 1500000, "uv": 1000000}, {"khz": 2000000, "uv": 1100000}]}]
  })"), "toy.json");
}

SearchSpaceOptions options(double deadline_ms) {
  SearchSpaceOptions o;
  o.deadline_s = deadline_ms / 1e3;
  o.patterns_per_set = 3;
  o.candidates = 5;
  o.latency_weight = 0.25;
  return o;
}

// Hand latencies in ms (cycle scale 1), deadline 8 ms:
//            dense    p2     p3     p4     p5     p6     p7
//   500 MHz  28.15  23.31  20.29  17.28  14.26  11.24   8.22   -> unreachable
//  1000 MHz  14.15  11.71  10.19   8.68   7.16   5.64   4.12   -> {5, 6, 7}
//  1500 MHz   9.48   7.85   6.83   5.81   4.79   3.77   2.75   -> {2, 3, 4, 5} (capped at 4)
//  2000 MHz   7.15   5.91   5.14   4.38   3.61   2.84   2.07   -> {0, 2, 3, 4}
constexpr double kDeadlineMs = 8.0;

struct Fixture {
  dvfs::Profile prof = profile();
  dvfs::LatencyTable tab = table();
};

}  // namespace

TEST(SearchSpace, FixtureIsWhatTheCommentsSay) {
  Fixture f;
  ASSERT_EQ(f.prof.usable_levels().size(), 4u);
  EXPECT_EQ(f.prof.usable_levels().front().khz, 500000u);
  EXPECT_EQ(f.tab.pruning_numbers(), (std::vector<int>{2, 3, 4, 5, 6, 7}));
  SearchSpace s(f.prof, f.tab, options(kDeadlineMs));
  // The space's latency is the table's prediction scaled to the level: equal to the hand formula.
  for (size_t l = 0; l < s.levels().size(); ++l)
    for (int p : kAllPns)
      EXPECT_NEAR(s.latency_s(p, l), hand_latency(p, double(s.levels()[l].khz)), 1e-12) << p << " at " << l;
}

TEST(SearchSpace, LevelOptionsStartAtTheDensestFeasibleAndAllMeetTheDeadline) {
  Fixture f;
  for (int sparser : {1, 2, 4, 10}) {
    for (double deadline_ms : {2.1, 5.0, kDeadlineMs, 12.0, 30.0}) {
      SearchSpaceOptions o = options(deadline_ms);
      o.sparser_options = sparser;
      SearchSpace s(f.prof, f.tab, o);
      const double d = deadline_ms / 1e3;
      std::vector<int> offered;
      for (size_t l = 0; l < s.levels().size(); ++l) {
        const double khz = double(s.levels()[l].khz);
        const std::vector<int>& opts = s.level_options(l);
        SCOPED_TRACE("deadline " + std::to_string(deadline_ms) + " ms, sparser_options " + std::to_string(sparser) +
                     ", level " + std::to_string(khz));
        ASSERT_FALSE(opts.empty());
        EXPECT_LE(opts.size(), static_cast<size_t>(sparser));
        // The first option is the densest one meeting the deadline: everything denser misses.
        int densest = -1;
        for (int p : kAllPns)
          if (hand_latency(p, khz) <= d) {
            densest = p;
            break;
          }
        EXPECT_EQ(opts.front(), densest);
        if (hand_latency(0, khz) <= d) {
          EXPECT_EQ(opts.front(), 0);
        }
        // All options meet the deadline, strictly sparser one after the other, and as many as
        // the cap allows (the measured numbers sparser than the densest feasible).
        for (size_t i = 0; i < opts.size(); ++i) {
          EXPECT_LE(hand_latency(opts[i], khz), d) << "option p" << opts[i];
          EXPECT_TRUE(s.meets_deadline(opts[i], l));
          if (i) {
            EXPECT_GT(opts[i], opts[i - 1]);
          }
        }
        const auto first = std::find(kAllPns.begin(), kAllPns.end(), densest);
        EXPECT_EQ(opts.size(), std::min<size_t>(sparser, static_cast<size_t>(kAllPns.end() - first)));
        for (int p : opts)
          if (p > 0) offered.push_back(p);
      }
      std::sort(offered.begin(), offered.end());
      offered.erase(std::unique(offered.begin(), offered.end()), offered.end());
      EXPECT_EQ(s.pruning_numbers(), offered);
    }
  }
}

TEST(SearchSpace, ConcreteShrunkenSpace) {
  Fixture f;
  SearchSpace s(f.prof, f.tab, options(kDeadlineMs));
  ASSERT_EQ(s.levels().size(), 3u);
  EXPECT_EQ(s.levels()[0].khz, 1000000u);
  EXPECT_EQ(s.levels()[2].khz, 2000000u);
  EXPECT_EQ(s.level_options(0), (std::vector<int>{5, 6, 7}));
  EXPECT_EQ(s.level_options(1), (std::vector<int>{2, 3, 4, 5}));
  EXPECT_EQ(s.level_options(2), (std::vector<int>{0, 2, 3, 4}));
  EXPECT_THROW(s.level_options(3), std::out_of_range);
  EXPECT_EQ(s.pruning_numbers(), (std::vector<int>{2, 3, 4, 5, 6, 7}));
  EXPECT_EQ(s.decisions_per_level(), 4);
  EXPECT_EQ(s.decision_sizes(), (std::vector<int>{3, 5, 5, 5, 4, 5, 5, 5, 4, 5, 5, 5}));
  // Controller sharing: every candidate decision in group 0, each level's pruning number its own.
  EXPECT_EQ(s.decision_groups(), (std::vector<int>{1, 0, 0, 0, 2, 0, 0, 0, 3, 0, 0, 0}));
  const double log10 = std::log10(3.0) + 2 * std::log10(4.0) + 9 * std::log10(5.0);
  EXPECT_NEAR(s.log10_size(), log10, 1e-12);
  EXPECT_NEAR(s.size() / (3.0 * 4 * 4 * std::pow(5.0, 9)), 1.0, 1e-9);
  // Unshrunk: every reachable level could pick any of 7 pruning numbers and 5^3 candidate ids.
  EXPECT_NEAR(s.log10_unshrunk_size(), 3 * (std::log10(7.0) + 3 * std::log10(5.0)), 1e-12);

  SearchSpaceOptions two = options(kDeadlineMs);
  two.sparser_options = 2;
  SearchSpace t(f.prof, f.tab, two);
  EXPECT_EQ(t.level_options(0), (std::vector<int>{5, 6}));
  EXPECT_EQ(t.level_options(1), (std::vector<int>{2, 3}));
  EXPECT_EQ(t.level_options(2), (std::vector<int>{0, 2}));
  EXPECT_EQ(t.pruning_numbers(), (std::vector<int>{2, 3, 5, 6}));
}

TEST(SearchSpace, UnreachableLevelsAreExactlyThoseTheSparsestSetMisses) {
  Fixture f;
  for (double deadline_ms : {2.1, 2.8, 3.0, 4.2, kDeadlineMs, 8.3, 30.0}) {
    SCOPED_TRACE("deadline " + std::to_string(deadline_ms));
    SearchSpace s(f.prof, f.tab, options(deadline_ms));
    std::vector<uint64_t> want_unreachable, want_levels, got_unreachable, got_levels;
    for (const auto& o : f.prof.usable_levels())
      (hand_latency(7, double(o.khz)) <= deadline_ms / 1e3 ? want_levels : want_unreachable).push_back(o.khz);
    for (const auto& o : s.levels()) got_levels.push_back(o.khz);
    for (const auto& o : s.unreachable()) got_unreachable.push_back(o.khz);
    EXPECT_EQ(got_levels, want_levels);
    EXPECT_EQ(got_unreachable, want_unreachable);
    EXPECT_EQ(got_levels.size() + got_unreachable.size(), 4u);  // the inefficient 250 MHz is neither
  }
  SearchSpace s(f.prof, f.tab, options(kDeadlineMs));
  ASSERT_EQ(s.unreachable().size(), 1u);
  EXPECT_EQ(s.unreachable()[0].khz, 500000u);
  EXPECT_TRUE(SearchSpace(f.prof, f.tab, options(30.0)).unreachable().empty());
}

TEST(SearchSpace, ThrowsWhenEvenTheTopLevelCannotMeetTheDeadline) {
  Fixture f;
  // p7 at 2000 MHz: 2.069 ms.
  EXPECT_NO_THROW(SearchSpace(f.prof, f.tab, options(2.07)));
  try {
    SearchSpace s(f.prof, f.tab, options(2.0));
    FAIL() << "expected std::invalid_argument";
  } catch (const std::invalid_argument& e) {
    const std::string m = e.what();
    EXPECT_NE(m.find("deadline of 2 ms"), std::string::npos) << m;
    EXPECT_NE(m.find("2000 MHz"), std::string::npos) << m;
    EXPECT_NE(m.find("p=7"), std::string::npos) << m;
  }
  // A slower device (cycle scale 2) misses 3 ms at the top level, which the host speed meets.
  SearchSpaceOptions slow = options(3.0);
  EXPECT_NO_THROW(SearchSpace(f.prof, f.tab, slow));
  slow.cycle_scale = 2.0;
  EXPECT_THROW(SearchSpace(f.prof, f.tab, slow), std::invalid_argument);
  EXPECT_THROW(SearchSpace(f.prof, f.tab, options(0)), std::invalid_argument);
  EXPECT_THROW(SearchSpace(f.prof, f.tab, options(-1)), std::invalid_argument);
  SearchSpaceOptions bad = options(kDeadlineMs);
  bad.patterns_per_set = 0;
  EXPECT_THROW(SearchSpace(f.prof, f.tab, bad), std::invalid_argument);
  dvfs::LatencyTable none = f.tab;
  for (auto& l : none.layers) l.pattern_s.clear();
  EXPECT_THROW(SearchSpace(f.prof, none, options(30.0)), std::invalid_argument);
}

TEST(SearchSpace, CycleScaleSlowsOnlyTheComputePart) {
  Fixture f;
  SearchSpaceOptions o = options(30.0);
  o.cycle_scale = 1.5;
  SearchSpace s(f.prof, f.tab, o);
  for (size_t l = 0; l < s.levels().size(); ++l)
    for (int p : {0, 4, 7})
      EXPECT_NEAR(s.latency_s(p, l), hand_latency(p, double(s.levels()[l].khz), 1.5), 1e-12);
}

TEST(SearchSpace, DecodeDedupesSortsAndSharesSets) {
  Fixture f;
  SearchSpace s(f.prof, f.tab, options(kDeadlineMs));  // levels 1000 {5,6,7}, 1500 {2,3,4,5}, 2000 {0,2,3,4}
  // 1000: p7 with ids {4,1,4}; 1500: p5 with {2,2,2}; 2000: dense (ids ignored).
  const Action a = {2, 4, 1, 4, /**/ 3, 2, 2, 2, /**/ 0, 3, 1, 0};
  const DecodedAction d = s.decode(a);
  ASSERT_EQ(d.sets.size(), 3u);
  EXPECT_EQ(d.sets[0].pruning_number, 0);
  EXPECT_TRUE(d.sets[0].candidates.empty());
  EXPECT_EQ(d.sets[0].name(), "base");
  EXPECT_EQ(d.sets[1], (SetChoice{5, {2}}));
  EXPECT_EQ(d.sets[2], (SetChoice{7, {1, 4}}));
  EXPECT_EQ(d.sets[1].name(), "p5_c2");
  EXPECT_EQ(d.sets[2].name(), "p7_c1-4");
  EXPECT_EQ(d.level_to_set, (std::vector<int>{2, 1, 0}));
  EXPECT_EQ(s.describe(a), "1000MHz:p7{1,4} 1500MHz:p5{2} 2000MHz:p0{}");

  // 1000 and 1500 both pick p5 with the same multiset of ids in another order: one shared set.
  const Action b = {0, 3, 0, 3, /**/ 3, 0, 3, 0, /**/ 1, 1, 1, 1};
  const DecodedAction e = s.decode(b);
  ASSERT_EQ(e.sets.size(), 2u);
  EXPECT_EQ(e.sets[0], (SetChoice{2, {1}}));
  EXPECT_EQ(e.sets[1], (SetChoice{5, {0, 3}}));
  EXPECT_EQ(e.sets[1].name(), "p5_c0-3");
  EXPECT_EQ(e.level_to_set, (std::vector<int>{1, 1, 0}));

  // Same pruning number, different ids: two sets. Everything dense-free and distinct stays sorted.
  const Action c = {0, 1, 2, 3, /**/ 3, 0, 1, 2, /**/ 1, 4, 4, 4};
  const DecodedAction g = s.decode(c);
  ASSERT_EQ(g.sets.size(), 3u);
  EXPECT_TRUE(std::is_sorted(g.sets.begin(), g.sets.end()));
  EXPECT_EQ(g.sets[0], (SetChoice{2, {4}}));
  EXPECT_EQ(g.sets[1], (SetChoice{5, {0, 1, 2}}));
  EXPECT_EQ(g.sets[2], (SetChoice{5, {1, 2, 3}}));
  EXPECT_EQ(g.level_to_set, (std::vector<int>{2, 1, 0}));

  // Invariants on many actions: sets distinct and sorted, ids distinct and sorted, dense sets
  // have no ids, each level's set has the pruning number its first decision chose.
  for (int seed = 0; seed < 200; ++seed) {
    Action r;
    unsigned x = 2654435761u * (seed + 1);
    for (int n : s.decision_sizes()) {
      x = x * 1103515245u + 12345u;
      r.push_back(static_cast<int>((x >> 8) % static_cast<unsigned>(n)));
    }
    const DecodedAction dr = s.decode(r);
    ASSERT_EQ(dr.level_to_set.size(), s.levels().size());
    for (size_t i = 1; i < dr.sets.size(); ++i) EXPECT_TRUE(dr.sets[i - 1] < dr.sets[i]);
    for (const auto& set : dr.sets) {
      EXPECT_TRUE(std::is_sorted(set.candidates.begin(), set.candidates.end()));
      EXPECT_EQ(std::adjacent_find(set.candidates.begin(), set.candidates.end()), set.candidates.end());
      if (set.pruning_number == 0) {
        EXPECT_TRUE(set.candidates.empty());
      } else {
        EXPECT_FALSE(set.candidates.empty());
      }
    }
    for (size_t l = 0; l < s.levels().size(); ++l) {
      const SetChoice& set = dr.sets.at(static_cast<size_t>(dr.level_to_set[l]));
      EXPECT_EQ(set.pruning_number, s.level_options(l)[static_cast<size_t>(r[l * 4])]);
    }
  }
}

TEST(SearchSpace, CheckRejectsMalformedActions) {
  Fixture f;
  SearchSpace s(f.prof, f.tab, options(kDeadlineMs));
  const Action good = s.greedy_action();
  EXPECT_NO_THROW(s.check(good));
  Action shorter(good.begin(), good.end() - 1), longer = good;
  longer.push_back(0);
  EXPECT_THROW(s.check(shorter), std::invalid_argument);
  EXPECT_THROW(s.check(longer), std::invalid_argument);
  EXPECT_THROW(s.check({}), std::invalid_argument);
  for (size_t i = 0; i < good.size(); ++i) {
    Action neg = good, over = good, last = good;
    neg[i] = -1;
    over[i] = s.decision_sizes()[i];
    last[i] = s.decision_sizes()[i] - 1;
    EXPECT_THROW(s.check(neg), std::invalid_argument) << i;
    EXPECT_THROW(s.check(over), std::invalid_argument) << i;
    EXPECT_THROW(s.decode(over), std::invalid_argument) << i;
    EXPECT_NO_THROW(s.check(last)) << i;
  }
}

TEST(SearchSpace, GreedyActionIsTheDensestFeasibleEverywhere) {
  Fixture f;
  for (double deadline_ms : {2.1, 5.0, kDeadlineMs, 30.0}) {
    SCOPED_TRACE(deadline_ms);
    SearchSpace s(f.prof, f.tab, options(deadline_ms));
    const Action a = s.greedy_action();
    ASSERT_NO_THROW(s.check(a));
    const DecodedAction d = s.decode(a);
    for (size_t l = 0; l < s.levels().size(); ++l) {
      const SetChoice& set = d.sets[static_cast<size_t>(d.level_to_set[l])];
      EXPECT_TRUE(s.meets_deadline(set.pruning_number, l));
      EXPECT_LE(hand_latency(set.pruning_number, double(s.levels()[l].khz)), deadline_ms / 1e3);
      EXPECT_EQ(set.pruning_number, s.level_options(l).front());
      if (set.pruning_number > 0) {
        EXPECT_EQ(set.candidates, (std::vector<int>{0, 1, 2}));  // top-voted ids
      }
    }
    EXPECT_TRUE(train::latency_only(s, d).feasible);
  }
  // More ids per set than candidates: the ids clamp to the last candidate.
  SearchSpaceOptions o = options(kDeadlineMs);
  o.patterns_per_set = 4;
  o.candidates = 2;
  SearchSpace s(f.prof, f.tab, o);
  const Action a = s.greedy_action();
  EXPECT_NO_THROW(s.check(a));
  EXPECT_EQ(s.decode(a).sets.back(), (SetChoice{5, {0, 1}}));  // sets: base, p2, p5
}

TEST(SearchSpace, RewardIsMeanAccuracyPlusBetaTimesMeanSpeedup) {
  Fixture f;
  SearchSpace s(f.prof, f.tab, options(kDeadlineMs));
  const Action a = {2, 4, 1, 4, /**/ 3, 2, 2, 2, /**/ 0, 3, 1, 0};  // p7, p5, dense; sets base, p5, p7
  const DecodedAction d = s.decode(a);
  const std::vector<double> acc = {0.9, 0.8, 0.7};  // base, p5_c2, p7_c1-4
  const CandidateScore sc = train::score_candidate(s, d, acc);
  const double beta = 0.25;
  const double lat1000 = hand_latency(7, 1e6), lat1500 = hand_latency(5, 1.5e6), lat2000 = hand_latency(0, 2e6);
  const double speed = (1 - lat1000 / hand_latency(0, 1e6)) + (1 - lat1500 / hand_latency(0, 1.5e6)) + 0.0;
  const double want = (0.7 + 0.8 + 0.9) / 3 + beta * speed / 3;
  EXPECT_TRUE(sc.feasible);
  EXPECT_NEAR(sc.reward, want, 1e-12);
  EXPECT_EQ(sc.set_accuracy, acc);
  EXPECT_EQ(sc.level_accuracy, (std::vector<double>{0.7, 0.8, 0.9}));
  ASSERT_EQ(sc.level_latency_s.size(), 3u);
  EXPECT_NEAR(sc.level_latency_s[0], lat1000, 1e-12);
  EXPECT_NEAR(sc.level_latency_s[1], lat1500, 1e-12);
  EXPECT_NEAR(sc.level_latency_s[2], lat2000, 1e-12);
  // latency_only: the same latencies and feasibility, reward 0 (nothing trained).
  const CandidateScore lo = train::latency_only(s, d);
  EXPECT_TRUE(lo.feasible);
  EXPECT_EQ(lo.reward, 0.0);
  EXPECT_EQ(lo.level_latency_s, sc.level_latency_s);
  // One accuracy per distinct set, no more, no less.
  EXPECT_THROW(train::score_candidate(s, d, {0.9, 0.8}), std::invalid_argument);
  EXPECT_THROW(train::score_candidate(s, d, {0.9, 0.8, 0.7, 0.6}), std::invalid_argument);
  // A shared set counts once per level it serves: sets p2_c1 (2000) and p5_c0-3 (1000, 1500).
  const DecodedAction e = s.decode({0, 3, 0, 3, /**/ 3, 0, 3, 0, /**/ 1, 1, 1, 1});
  const CandidateScore se = train::score_candidate(s, e, {0.5, 0.6});
  const double speed_e = (1 - hand_latency(5, 1e6) / hand_latency(0, 1e6)) +
                         (1 - hand_latency(5, 1.5e6) / hand_latency(0, 1.5e6)) +
                         (1 - hand_latency(2, 2e6) / hand_latency(0, 2e6));
  EXPECT_NEAR(se.reward, (0.6 + 0.6 + 0.5) / 3 + beta * speed_e / 3, 1e-12);
  // Split by level (the RL controller's per-level credit): each level's own accuracy and speed-up,
  // whose mean is the reward.
  const std::vector<double> lr = train::level_rewards(s, sc);
  ASSERT_EQ(lr.size(), 3u);
  EXPECT_NEAR(lr[0], 0.7 + beta * (1 - lat1000 / hand_latency(0, 1e6)), 1e-12);
  EXPECT_NEAR(lr[1], 0.8 + beta * (1 - lat1500 / hand_latency(0, 1.5e6)), 1e-12);
  EXPECT_NEAR(lr[2], 0.9, 1e-12);
  EXPECT_NEAR((lr[0] + lr[1] + lr[2]) / 3, sc.reward, 1e-12);
  EXPECT_THROW(train::level_rewards(s, lo), std::invalid_argument);  // nothing trained: no accuracy
  CandidateScore missed = lo;
  missed.feasible = false;
  EXPECT_EQ(train::level_rewards(s, missed), (std::vector<double>{-1, -1, -1}));
  // Sparser sets earn more latency reward at equal accuracy.
  const DecodedAction sparse = s.decode({2, 0, 0, 0, /**/ 3, 0, 0, 0, /**/ 3, 0, 0, 0});
  const DecodedAction dense = s.decode({0, 0, 0, 0, /**/ 0, 0, 0, 0, /**/ 0, 0, 0, 0});
  EXPECT_GT(train::score_candidate(s, sparse, std::vector<double>(sparse.sets.size(), 0.5)).reward,
            train::score_candidate(s, dense, std::vector<double>(dense.sets.size(), 0.5)).reward);
}

TEST(SearchSpace, TooSmallPruningNumberIsInfeasible) {
  Fixture f;
  SearchSpace s(f.prof, f.tab, options(kDeadlineMs));
  // Hand-made: p2 everywhere; at 1000 MHz p2 takes 11.7 ms > 8 ms.
  DecodedAction d;
  d.sets = {SetChoice{2, {0}}};
  d.level_to_set = {0, 0, 0};
  const CandidateScore lo = train::latency_only(s, d);
  EXPECT_FALSE(lo.feasible);
  EXPECT_EQ(lo.reward, -1.0);
  ASSERT_EQ(lo.level_latency_s.size(), 3u);
  EXPECT_NEAR(lo.level_latency_s[0], hand_latency(2, 1e6), 1e-12);
  EXPECT_GT(lo.level_latency_s[0], kDeadlineMs / 1e3);
  // score_candidate does not need (nor check) accuracies of an infeasible candidate.
  const CandidateScore sc = train::score_candidate(s, d, {});
  EXPECT_FALSE(sc.feasible);
  EXPECT_EQ(sc.reward, -1.0);
  EXPECT_TRUE(sc.set_accuracy.empty());
  // Dense meets the deadline at 2000 MHz, not at 1000 MHz.
  DecodedAction dense;
  dense.sets = {SetChoice{0, {}}, SetChoice{7, {0}}};
  dense.level_to_set = {1, 1, 0};
  EXPECT_TRUE(train::latency_only(s, dense).feasible);
  dense.level_to_set = {0, 1, 1};
  EXPECT_FALSE(train::latency_only(s, dense).feasible);
}

TEST(SearchSpace, CandidateScoreJsonRoundTrip) {
  CandidateScore s;
  s.set_accuracy = {0.25, 0.875};
  s.reward = 0.61234567890123;
  s.feasible = true;
  s.level_accuracy = {0.875, 0.25, 0.25};
  s.level_latency_s = {0.0071, 0.0042, 1.5e-5};
  s.seconds = 3.25;
  const nlohmann::json j = train::to_json(s);
  const CandidateScore r = train::candidate_score_from_json(nlohmann::json::parse(j.dump()));
  EXPECT_EQ(r.set_accuracy, s.set_accuracy);
  EXPECT_EQ(r.reward, s.reward);
  EXPECT_EQ(r.feasible, s.feasible);
  EXPECT_EQ(r.level_accuracy, s.level_accuracy);
  EXPECT_EQ(r.level_latency_s, s.level_latency_s);
  EXPECT_EQ(r.seconds, s.seconds);
  // An infeasible score, and "seconds" is optional.
  CandidateScore bad;
  bad.feasible = false;
  bad.reward = -1;
  bad.level_latency_s = {0.1};
  nlohmann::json jb = train::to_json(bad);
  jb.erase("seconds");
  const CandidateScore rb = train::candidate_score_from_json(jb);
  EXPECT_FALSE(rb.feasible);
  EXPECT_EQ(rb.reward, -1.0);
  EXPECT_TRUE(rb.set_accuracy.empty());
  EXPECT_EQ(rb.seconds, 0.0);
  nlohmann::json missing = train::to_json(s);
  missing.erase("reward");
  EXPECT_ANY_THROW(train::candidate_score_from_json(missing));
}

// A realistic table where the pattern kernel at the lowest pruning number is slower than the
// dense one (a sparse kernel at 25 % sparsity rarely beats dense GEMM). The header promises "at
// each level only the pruning numbers the latency table says meet the deadline there".
// DISABLED: fails today. SearchSpace's constructor only tests the deadline for the first option;
// every option after it is taken unchecked, so p2 (10.1 ms) is offered at 2000 MHz next to dense
// (7.15 ms) under an 8 ms deadline. Fix: in search_space.cpp push p only `if (opts.size() <
// sparser_options && meets_deadline(p, l))`. Enable this test with the fix.
TEST(SearchSpace, LevelOptionsSkipSparserNumbersThatAreSlower) {
  Fixture f;
  for (auto& l : f.tab.layers) l.pattern_s[2] = l.dense_s * 1.5;
  // 2000 MHz: dense 7.15 ms meets 8 ms; p2 now takes 1 + 6 + 3 ms + traffic = 10.1 ms: misses.
  SearchSpace s(f.prof, f.tab, options(kDeadlineMs));
  for (size_t l = 0; l < s.levels().size(); ++l)
    for (int p : s.level_options(l))
      EXPECT_TRUE(s.meets_deadline(p, l)) << "p" << p << " offered at " << s.levels()[l].khz << " kHz";
}
