// rt3 search's RL controller (train/search/controller.h) on a toy bandit, its save/load for
// resume, and the evaluator's request/result JSON (the scale-out interface).
#include <gtest/gtest.h>
#include <torch/torch.h>

#include <stdexcept>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "tests/common/test_util.h"
#include "train/search/controller.h"
#include "train/search/evaluator.h"

namespace {

using rt3::train::ControllerOptions;
using rt3::train::PolicySearch;

const std::vector<int> kSizes = {3, 4, 2};

// 1 when the first two decisions are (2, 1), whatever the third: 2 of 24 actions, 1/12 uniformly.
double bandit(const std::vector<int>& a) { return a[0] == 2 && a[1] == 1 ? 1.0 : 0.0; }

TEST(PolicySearch, SamplesAreInRangeAndStartNearUniform) {
  PolicySearch p(kSizes, ControllerOptions{}, 3);
  std::vector<std::vector<int>> counts = {std::vector<int>(3), std::vector<int>(4), std::vector<int>(2)};
  const int n = 600;
  for (int i = 0; i < n; ++i) {
    const std::vector<int> a = p.sample();
    ASSERT_EQ(a.size(), kSizes.size());
    for (size_t d = 0; d < a.size(); ++d) {
      ASSERT_GE(a[d], 0);
      ASSERT_LT(a[d], kSizes[d]);
      ++counts[d][static_cast<size_t>(a[d])];
    }
  }
  // The untrained policy is close to uniform: every option is drawn about n / size times.
  for (size_t d = 0; d < kSizes.size(); ++d)
    for (int c : counts[d]) {
      const double expect = double(n) / kSizes[d];
      EXPECT_GT(c, 0.6 * expect) << "decision " << d;
      EXPECT_LT(c, 1.4 * expect) << "decision " << d;
    }
  EXPECT_FALSE(p.has_baseline());
}

TEST(PolicySearch, LearnsAToyBandit) {
  for (uint64_t seed : {1u, 2u, 3u}) {  // 10 seeds tried: all reach >= 0.98 in the last 50
    SCOPED_TRACE("seed " + std::to_string(seed));
    PolicySearch p(kSizes, ControllerOptions{}, seed);
    std::vector<double> rewards;
    for (int round = 0; round < 300; ++round) {
      const std::vector<int> a = p.sample();
      const double r = bandit(a);
      rewards.push_back(r);
      p.update(a, r);
    }
    const std::vector<int> best = p.argmax();
    ASSERT_EQ(best.size(), 3u);
    EXPECT_EQ(best[0], 2);
    EXPECT_EQ(best[1], 1);
    double last = 0;
    for (size_t i = rewards.size() - 50; i < rewards.size(); ++i) last += rewards[i] / 50;
    EXPECT_GT(last, 0.5) << "success rate of the last 50 samples (uniform: 1/12)";
    // The baseline tracks the reward: close to the recent success rate.
    EXPECT_TRUE(p.has_baseline());
    EXPECT_GT(p.baseline(), 0.3);
    EXPECT_LE(p.baseline(), 1.0);
    // argmax is deterministic.
    EXPECT_EQ(p.argmax(), best);
    // Control: the same controller without updates stays near uniform (1/12).
    PolicySearch idle(kSizes, ControllerOptions{}, seed);
    double idle_rate = 0;
    for (int round = 0; round < 300; ++round) idle_rate += bandit(idle.sample()) / 300;
    EXPECT_LT(idle_rate, 0.2);
  }
}

TEST(PolicySearch, UpdateReturnsTheAdvantageAgainstTheMovingBaseline) {
  ControllerOptions o;
  o.baseline_decay = 0.5;
  PolicySearch p(kSizes, o, 2);
  EXPECT_DOUBLE_EQ(p.update({0, 0, 0}, 0.4), 0.0);  // the first reward is the baseline
  EXPECT_DOUBLE_EQ(p.baseline(), 0.4);
  EXPECT_DOUBLE_EQ(p.update({1, 2, 1}, 1.0), 0.6);
  EXPECT_DOUBLE_EQ(p.baseline(), 0.7);  // 0.5 x 0.4 + 0.5 x 1.0
  EXPECT_DOUBLE_EQ(p.update({2, 3, 0}, -1.0), -1.7);
  EXPECT_THROW(p.update({3, 0, 0}, 1.0), std::invalid_argument);
  EXPECT_THROW(p.update({0, -1, 0}, 1.0), std::invalid_argument);
  EXPECT_THROW(PolicySearch({}, o, 1), std::invalid_argument);
}

TEST(PolicySearch, SaveLoadRestoresWeightsOptimizerBaselineAndRng) {
  rt3::test_util::TempDir tmp("rt3_policy");
  const std::string path = tmp.file("controller.pt");
  PolicySearch a(kSizes, ControllerOptions{}, 11);
  for (int i = 0; i < 40; ++i) {
    const auto x = a.sample();
    a.update(x, bandit(x));
  }
  a.save(path);
  EXPECT_FALSE(std::filesystem::exists(path + ".tmp"));
  // A fresh controller with another seed: other weights and another RNG until it loads.
  PolicySearch b(kSizes, ControllerOptions{}, 12345);
  b.load(path);
  EXPECT_EQ(b.baseline(), a.baseline());
  EXPECT_EQ(b.has_baseline(), a.has_baseline());
  EXPECT_EQ(b.argmax(), a.argmax());
  // Same samples, and after the same updates (Adam moments restored) still the same.
  for (int i = 0; i < 30; ++i) {
    const auto xa = a.sample();
    const auto xb = b.sample();
    ASSERT_EQ(xa, xb) << "round " << i;
    EXPECT_DOUBLE_EQ(a.update(xa, bandit(xa)), b.update(xb, bandit(xb)));
  }
  EXPECT_EQ(a.baseline(), b.baseline());
  // Loading the same file again rewinds b to the saved point; a third controller agrees.
  b.load(path);
  PolicySearch c(kSizes, ControllerOptions{}, 7);
  c.load(path);
  for (int i = 0; i < 10; ++i) ASSERT_EQ(b.sample(), c.sample());
  // A controller of another shape cannot load it.
  PolicySearch other({3, 4}, ControllerOptions{}, 1);
  EXPECT_ANY_THROW(other.load(path));
}

TEST(PolicySearch, EvaluationRequestAndResultJsonRoundTrip) {
  rt3::train::EvaluationRequest r;
  r.sets = {{0, {}}, {5, {0, 3}}, {7, {1, 2, 9}}};
  r.finetune_steps = 3;
  r.eval_examples = 17;
  const nlohmann::json j = rt3::train::to_json(r);
  const auto back = rt3::train::evaluation_request_from_json(nlohmann::json::parse(j.dump()));
  EXPECT_EQ(back.sets, r.sets);
  EXPECT_EQ(back.finetune_steps, 3);
  EXPECT_EQ(back.eval_examples, 17);
  EXPECT_EQ(rt3::train::to_json(back), j);
  nlohmann::json missing = j;
  missing.erase("finetune_steps");
  EXPECT_ANY_THROW(rt3::train::evaluation_request_from_json(missing));

  rt3::train::EvaluationResult res;
  res.set_accuracy = {0.5, 0.71875, 0.0};
  res.seconds = 1.25;
  const nlohmann::json jr = rt3::train::to_json(res);
  const auto res_back = rt3::train::evaluation_result_from_json(nlohmann::json::parse(jr.dump()));
  EXPECT_EQ(res_back.set_accuracy, res.set_accuracy);
  EXPECT_EQ(res_back.seconds, 1.25);
  nlohmann::json no_seconds = jr;
  no_seconds.erase("seconds");
  EXPECT_EQ(rt3::train::evaluation_result_from_json(no_seconds).seconds, 0.0);
}

}  // namespace

// Shared heads: decisions of one group use one head and embedding, so a preference learned at one
// position shows at the others. Bandit: reward 1 when all four same-sized decisions pick option 2.
TEST(PolicySearch, SharedHeadsLearnAcrossPositions) {
  const std::vector<int> sizes = {5, 5, 5, 5};
  auto all_two = [](const std::vector<int>& a) {
    double r = 0;
    for (int v : a) r += v == 2 ? 0.25 : 0.0;
    return r;
  };
  PolicySearch shared(sizes, ControllerOptions{}, 4, {0, 0, 0, 0});
  for (int round = 0; round < 200; ++round) {
    const auto a = shared.sample();
    shared.update(a, all_two(a));
  }
  EXPECT_EQ(shared.argmax(), (std::vector<int>{2, 2, 2, 2}));
  // A group must not mix decisions of different sizes, and needs one id per decision.
  EXPECT_THROW(PolicySearch({3, 4}, ControllerOptions{}, 1, {0, 0}), std::invalid_argument);
  EXPECT_THROW(PolicySearch({3, 4}, ControllerOptions{}, 1, {0}), std::invalid_argument);
}

// Per-segment credit: two independent bandits in one policy, each segment rewarded on its own.
// Decisions 0-1 are segment 0 (reward 1 when they are (2, 1)); decision 2 is segment 1 (reward 1
// when it is 0).
namespace {
std::vector<double> two_bandits(const std::vector<int>& a) {
  return {a[0] == 2 && a[1] == 1 ? 1.0 : 0.0, a[2] == 0 ? 1.0 : 0.0};
}
}  // namespace

TEST(PolicySearch, SegmentAdvantagesUseTheirOwnBaselines) {
  ControllerOptions o;
  o.baseline_decay = 0.5;
  PolicySearch p(kSizes, o, 2, {}, {0, 0, 1});
  EXPECT_EQ(p.segments(), 2);
  // The first batch sets the baselines to its mean: advantages are the deviations from it.
  auto adv = p.update({{0, 0, 0}, {1, 1, 1}}, {{0.2, 1.0}, {0.6, 0.0}});
  ASSERT_EQ(adv.size(), 2u);
  EXPECT_NEAR(adv[0][0], -0.2, 1e-12);
  EXPECT_NEAR(adv[0][1], 0.5, 1e-12);
  EXPECT_NEAR(adv[1][0], 0.2, 1e-12);
  EXPECT_NEAR(adv[1][1], -0.5, 1e-12);
  EXPECT_NEAR(p.baseline(0), 0.4, 1e-12);
  EXPECT_NEAR(p.baseline(1), 0.5, 1e-12);
  // One move per batch, towards the batch mean: 0.5 x 0.4 + 0.5 x 1.0.
  adv = p.update({{2, 1, 0}}, {{1.0, 1.0}});
  EXPECT_NEAR(adv[0][0], 0.6, 1e-12);
  EXPECT_NEAR(adv[0][1], 0.5, 1e-12);
  EXPECT_NEAR(p.baseline(0), 0.7, 1e-12);
  EXPECT_NEAR(p.baseline(1), 0.75, 1e-12);
  // Wrong shapes are refused: one reward per segment, one reward vector per action, ids in order.
  EXPECT_THROW(p.update({{0, 0, 0}}, {{1.0}}), std::invalid_argument);
  EXPECT_THROW(p.update({0, 0, 0}, 1.0), std::invalid_argument);
  EXPECT_THROW(p.update({{0, 0, 0}, {1, 1, 1}}, {{1.0, 1.0}}), std::invalid_argument);
  EXPECT_THROW(PolicySearch(kSizes, o, 1, {}, {0, 2, 1}), std::invalid_argument);
  EXPECT_THROW(PolicySearch(kSizes, o, 1, {}, {1, 0, 0}), std::invalid_argument);
  EXPECT_THROW(PolicySearch(kSizes, o, 1, {}, {0, 1}), std::invalid_argument);
}

TEST(PolicySearch, SegmentCreditLearnsTwoBanditsAtOnceAlsoInBatches) {
  for (int batch : {1, 4}) {
    SCOPED_TRACE("batch " + std::to_string(batch));
    PolicySearch p(kSizes, ControllerOptions{}, 5, {}, {0, 0, 1});
    double last = 0;
    const int rounds = 1200 / batch;
    for (int round = 0; round < rounds; ++round) {
      std::vector<std::vector<int>> actions;
      std::vector<std::vector<double>> rewards;
      for (int b = 0; b < batch; ++b) {
        actions.push_back(p.sample());
        rewards.push_back(two_bandits(actions.back()));
        if (round >= rounds - 100 / batch) last += (rewards.back()[0] + rewards.back()[1]) / 2 / (100 / batch * batch);
      }
      p.update(actions, rewards);
    }
    const auto best = p.argmax();
    EXPECT_EQ(best[0], 2);
    EXPECT_EQ(best[1], 1);
    EXPECT_EQ(best[2], 0);
    // Uniformly: (1/12 + 1/2) / 2 = 0.29.
    EXPECT_GT(last, 0.6);
  }
}

TEST(PolicySearch, SaveLoadKeepsEverySegmentBaseline) {
  rt3::test_util::TempDir tmp("rt3_policy_seg");
  const std::string path = tmp.file("controller.pt");
  PolicySearch a(kSizes, ControllerOptions{}, 3, {}, {0, 0, 1});
  for (int i = 0; i < 20; ++i) {
    const auto x = a.sample();
    a.update({x}, {two_bandits(x)});
  }
  a.save(path, 20);
  PolicySearch b(kSizes, ControllerOptions{}, 99, {}, {0, 0, 1});
  EXPECT_EQ(b.load(path), 20);
  EXPECT_EQ(b.baseline(0), a.baseline(0));
  EXPECT_EQ(b.baseline(1), a.baseline(1));
  for (int i = 0; i < 10; ++i) ASSERT_EQ(a.sample(), b.sample());
  // A controller with another number of segments says so instead of loading half a state.
  PolicySearch one(kSizes, ControllerOptions{}, 1);
  EXPECT_THROW(one.load(path), std::runtime_error);
}
