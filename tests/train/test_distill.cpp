// Knowledge distillation (docs/pruning.md "Distillation"): the loss against hand-computed values,
// its gradient pulling the student toward the teacher, and the options' checks.
#include <gtest/gtest.h>
#include <torch/torch.h>

#include <cmath>
#include <stdexcept>

#include "train/prune/bp_config.h"
#include "train/prune/distill_loss.h"
#include "train/prune/pattern_config.h"

namespace {

using rt3::train::distillation_loss;

TEST(Distill, AlphaZeroIsTheLabelLossAndEqualLogitsAddNothing) {
  const torch::Tensor s = torch::tensor({{1.0f, 2.0f, 0.5f}, {0.0f, -1.0f, 3.0f}});
  const torch::Tensor label = torch::tensor(0.7f);
  EXPECT_NEAR(distillation_loss(s, s * 3, label, 0.0, 2.0).item<double>(), 0.7, 1e-6);
  // Teacher == student: KL = 0, only (1 - alpha) x label loss is left.
  EXPECT_NEAR(distillation_loss(s, s, label, 0.25, 2.0).item<double>(), 0.75 * 0.7, 1e-6);
}

TEST(Distill, MatchesTheKlDivergenceComputedByHand) {
  // One row, two classes, T = 2: student logits (0, 0) -> p = (1/2, 1/2); teacher (2 ln 3, 0) / 2
  // -> q = (3/4, 1/4). KL(q || p) = 3/4 ln(3/2) + 1/4 ln(1/2).
  const torch::Tensor s = torch::tensor({{0.0f, 0.0f}});
  const torch::Tensor t = torch::tensor({{static_cast<float>(2 * std::log(3.0)), 0.0f}});
  const double kl = 0.75 * std::log(1.5) + 0.25 * std::log(0.5);
  const double got = distillation_loss(s, t, torch::tensor(1.0f), 0.5, 2.0).item<double>();
  EXPECT_NEAR(got, 0.5 * 1.0 + 0.5 * 4.0 * kl, 1e-6);
  // Leading dimensions are flattened into rows (the LM's [batch, time, vocab]); the KL is their mean.
  const torch::Tensor s3 = torch::zeros({2, 3, 2}), t3 = t.expand({2, 3, 2}).contiguous();
  EXPECT_NEAR(distillation_loss(s3, t3, torch::tensor(0.0f), 1.0, 2.0).item<double>(), 4.0 * kl, 1e-6);
}

TEST(Distill, GradientPullsTheStudentTowardTheTeacherAndNotTheTeacher) {
  torch::Tensor s = torch::zeros({1, 3}, torch::requires_grad());
  torch::Tensor t = torch::tensor({{3.0f, 0.0f, 0.0f}}, torch::requires_grad());
  distillation_loss(s, t, torch::tensor(0.0f), 1.0, 1.0).backward();
  const auto g = s.grad();
  EXPECT_LT(g[0][0].item<float>(), 0);  // descent raises the class the teacher prefers
  EXPECT_GT(g[0][1].item<float>(), 0);
  EXPECT_FALSE(t.grad().defined());  // the teacher is a target, never trained
}

TEST(Distill, OptionsAreCheckedWhereTheyAreRead) {
  using rt3::train::apply_bp_json;
  using rt3::train::apply_pattern_json;
  const auto bp = apply_bp_json({}, {{"distill", {{"alpha", 0.5}, {"temperature", 3}, {"teacher", "runs/dense"}}}});
  EXPECT_DOUBLE_EQ(bp.distill.alpha, 0.5);
  EXPECT_DOUBLE_EQ(bp.distill.temperature, 3.0);
  EXPECT_EQ(bp.distill.teacher, "runs/dense");
  EXPECT_TRUE(bp.distill.enabled());
  EXPECT_FALSE(rt3::train::BpOptions{}.distill.enabled());  // off by default
  EXPECT_EQ(rt3::train::to_json(bp)["distill"]["alpha"], 0.5);
  for (const nlohmann::json& bad : {nlohmann::json{{"alpha", 1.5}}, nlohmann::json{{"alpha", "x"}}, nlohmann::json{{"temperature", 0}},
                                    nlohmann::json{{"temprature", 2}}, nlohmann::json{{"teacher", 3}}, nlohmann::json(0.5)})
    EXPECT_THROW(apply_bp_json({}, {{"distill", bad}}), std::invalid_argument) << bad;
  rt3::train::PatternOptions po = apply_pattern_json({}, {{"distill", {{"alpha", 0.3}}}});
  EXPECT_DOUBLE_EQ(po.distill.alpha, 0.3);
  po.distill.temperature = -1;
  try {
    rt3::train::validate(po);
    FAIL() << "a negative temperature was accepted";
  } catch (const std::invalid_argument& e) {
    EXPECT_NE(std::string(e.what()).find("pattern.distill.temperature"), std::string::npos) << e.what();
  }
}

}  // namespace
