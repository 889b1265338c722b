// The policy pieces on their own: level snapping and the closed-loop deadline controller, fed
// with made-up latencies (no engine, no clock).
#include <gtest/gtest.h>

#include <cmath>
#include <random>
#include <stdexcept>

#include "runtime/adapt/deadline_controller.h"
#include "runtime/adapt/level_table.h"

namespace rt3::adapt {
namespace {

TEST(LevelTable, SnapsDownToTheHighestLevelAtOrBelow) {
  const LevelTable t({{1800000, 0}, {400000, 3}, {1200000, 1}, {800000, 2}});
  ASSERT_EQ(t.size(), 4u);
  EXPECT_EQ(t.level_khz(t.snap(1800000)), 1800000u);
  EXPECT_EQ(t.level_khz(t.snap(2500000)), 1800000u);
  EXPECT_EQ(t.level_khz(t.snap(1799999)), 1200000u);
  EXPECT_EQ(t.variant(t.snap(1000000)), 2);
  EXPECT_EQ(t.level_khz(t.snap(100000)), 400000u);  // below every level: the lowest
  EXPECT_EQ(t.variant(t.top()), 0);
}

// Four variants: engine indices 0..3, costs 5 / 3.1 / 2.3 / 1.3 ms at the reference clock, the
// densest most preferred.
DeadlineController make(DeadlineOptions o = {}) {
  return DeadlineController({0, 1, 2, 3},
                            {{0.004, 0.001, 1.8e6}, {0.0025, 0.0006, 1.8e6}, {0.0018, 0.0005, 1.8e6}, {0.0010, 0.0003, 1.8e6}},
                            {0, 1, 2, 3}, o);
}

// Runs one inference on `c`: the variant it chooses takes slowdown x its modelled cost.
int step(DeadlineController& c, double slowdown, double deadline, double noise = 0, std::mt19937* rng = nullptr) {
  static const double cost[] = {0.005, 0.0031, 0.0023, 0.0013};
  const int v = c.choose(deadline);
  double jitter = 1;
  if (rng) jitter += std::uniform_real_distribution<double>(-noise, noise)(*rng);
  c.observe(v, cost[v] * slowdown * jitter, deadline);
  return v;
}

TEST(DeadlineController, StartsOnTheMostPreferredAndStaysWithHeadroom) {
  DeadlineController c = make();
  EXPECT_EQ(c.choose(0.010), 0);
  EXPECT_FALSE(c.observed());
  for (int i = 0; i < 20; ++i) EXPECT_EQ(step(c, 1.0, 0.010), 0);
  EXPECT_NEAR(c.slowdown(), 1.0, 1e-9);
  EXPECT_NEAR(c.predicted_s(1), 0.0031, 1e-9);
}

TEST(DeadlineController, OneSlowInferenceIsEnoughToMoveDown) {
  DeadlineController c = make();
  step(c, 1.0, 0.010);
  // The CPU becomes 2.5x slower: base takes 12.5 ms against 10. The very next choice must be a
  // variant predicted within 0.9 x 10 ms: p50 at 7.75 ms.
  step(c, 2.5, 0.010);
  EXPECT_NEAR(c.slowdown(), 2.5, 1e-9);
  EXPECT_EQ(c.choose(0.010), 1);
  // 6x slower: only p88 (7.8 ms) fits.
  step(c, 6.0, 0.010);
  EXPECT_EQ(c.choose(0.010), 3);
}

TEST(DeadlineController, ALateRequestRunsOnWhatFitsTheTimeLeftOnce) {
  DeadlineController c = make();
  for (int i = 0; i < 20; ++i) step(c, 1.0, 0.010);
  EXPECT_EQ(c.choose(0.010, 0.002), 0);  // 8 ms left: base (5 ms) within 0.9 x 8
  EXPECT_EQ(c.choose(0.010, 0.005), 1);  // 5 ms left: within 4.5 ms only p50 (3.1) and faster
  EXPECT_EQ(c.choose(0.010, 0.008), 3);  // 2 ms left: p88 (1.3 ms)
  EXPECT_EQ(c.choose(0.010, 0.012), 3);  // already late: the fastest
  EXPECT_EQ(c.choose(0.010), 0);         // the next request that did not wait: base again
  EXPECT_NEAR(c.slowdown(), 1.0, 1e-9);
  // The wait scales with the slowdown the controller has measured: at 1.5x, base takes 7.5 ms
  // (within 9), but with 2 ms waited only p50 (4.65 ms) fits 0.9 x 8 = 7.2.
  for (int i = 0; i < 3; ++i) step(c, 1.5, 0.010);
  EXPECT_EQ(c.choose(0.010), 0);
  EXPECT_EQ(c.choose(0.010, 0.002), 1);
}

TEST(DeadlineController, FastestWhenNothingFits) {
  DeadlineController c = make();
  step(c, 1.0, 0.001);  // 1 ms deadline: even p88 (1.3 ms) misses
  EXPECT_EQ(c.choose(0.001), 3);
}

TEST(DeadlineController, ComesBackAfterTheSlowdownEndsWithinAFewInferences) {
  DeadlineController c = make();
  for (int i = 0; i < 5; ++i) step(c, 1.0, 0.010);
  for (int i = 0; i < 10; ++i) step(c, 3.0, 0.010);
  EXPECT_GT(c.choose(0.010), 0);
  int back = -1;
  for (int i = 0; i < 30 && back < 0; ++i)
    if (step(c, 1.0, 0.010) == 0) back = i;
  ASSERT_GE(back, 0) << "never returned to the dense variant";
  EXPECT_LE(back, 12);
  EXPECT_GE(back, 2) << "moved up without any hysteresis";
}

TEST(DeadlineController, DoesNotFlapAtABoundary) {
  // Slowdown 1.9: base predicted 9.5 ms (above the 9 ms margin), so p50 (5.9 ms) runs; base would
  // need <= 8 ms (up margin) five times in a row to come back. +-10 % noise on every measurement.
  DeadlineController c = make();
  std::mt19937 rng(7);
  int switches = 0, last = -1;
  for (int i = 0; i < 400; ++i) {
    const int v = step(c, 1.9, 0.010, 0.10, &rng);
    if (last >= 0 && v != last) ++switches;
    last = v;
  }
  EXPECT_LT(switches, 400 / 10) << "flaps";
  EXPECT_LE(switches, 4);
}

TEST(DeadlineController, OneSpikeBelowTheDeadlineDoesNotMoveButTwoDo) {
  DeadlineController c = make();
  for (int i = 0; i < 10; ++i) step(c, 1.0, 0.010);
  // base at 1.9x: 9.5 ms, above the 9 ms margin but no miss. Once: stay; twice in a row: move.
  EXPECT_EQ(step(c, 1.9, 0.010), 0);
  EXPECT_EQ(step(c, 1.0, 0.010), 0);
  EXPECT_EQ(step(c, 1.0, 0.010), 0);
  EXPECT_EQ(c.choose(0.010), 0);
  EXPECT_EQ(step(c, 1.9, 0.010), 0);
  EXPECT_EQ(step(c, 1.9, 0.010), 0);
  EXPECT_EQ(c.choose(0.010), 1);
}

TEST(DeadlineController, BacksOffWhenEveryProbeUpFails) {
  // A time-shared core: about one inference in twelve is cut by a slice of the other tasks (4x),
  // the others run unhindered. p88 survives a cut (5.2 ms), base and p50 miss whenever they are
  // cut. Every move up fails sooner or later, so the window doubles and the loop probes ever more
  // rarely: misses fall over time.
  DeadlineController c = make();
  std::mt19937 rng(11);
  std::bernoulli_distribution cut(1.0 / 12);
  const double cost[] = {0.005, 0.0031, 0.0023, 0.0013};
  int misses_first = 0, misses_last = 0;
  for (int i = 0; i < 4000; ++i) {
    const int v = c.choose(0.010);
    const double t = cost[v] * (cut(rng) ? 4.0 : 1.0);
    c.observe(v, t, 0.010);
    if (t > 0.010 && i < 1000) ++misses_first;
    if (t > 0.010 && i >= 3000) ++misses_last;
  }
  EXPECT_EQ(c.up_window(), DeadlineOptions{}.max_up_window);
  EXPECT_GE(misses_first, 5) << "the load hardly made a probe fail: the test does not test the back-off";
  EXPECT_LE(misses_last, misses_first / 3) << "probes failed as often at the end as at the start";
  // When the load ends, the loop is back on the dense variant within one (long) window.
  int back = -1;
  for (int i = 0; i < 200 && back < 0; ++i)
    if (step(c, 1.0, 0.010) == 0) back = i;
  EXPECT_GE(back, 0);
  EXPECT_LE(back, DeadlineOptions{}.max_up_window + 1);
}

TEST(DeadlineController, AShorterDeadlineMovesDownBeforeTheNextMeasurement) {
  DeadlineController c = make();
  step(c, 1.0, 0.010);
  EXPECT_EQ(c.choose(0.010), 0);
  EXPECT_EQ(c.choose(0.004), 1);  // base 5 ms > 3.6, p50 3.1 ms fits
}

TEST(DeadlineController, RejectsBadInput) {
  EXPECT_THROW(DeadlineController({}, {}, {}), std::invalid_argument);
  EXPECT_THROW(DeadlineController({0}, {{0, 0, 1}}, {0}), std::invalid_argument);
  EXPECT_THROW(DeadlineController({0, 1}, {{1, 0, 1}, {1, 0, 1}}, {0, 0}), std::invalid_argument);
  DeadlineOptions o;
  o.up_margin = 0.95;  // above margin
  EXPECT_THROW(make(o), std::invalid_argument);
}

}  // namespace
}  // namespace rt3::adapt
