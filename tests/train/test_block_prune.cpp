// Block-structured pruning primitives (docs/design.md "Stage 2: block-structured pruning"): group
// norms, reweighted group lasso, block masks, MaskSet and prunable-layer discovery.
#include <gtest/gtest.h>
#include <torch/torch.h>

#include <algorithm>
#include <cmath>
#include <set>
#include <string>

#include "train/models/distilbert.h"
#include "train/models/transformer_lm.h"
#include "train/prune/block_prune.h"

namespace {

using rt3::prune::BlockSpec;

// Plain-loop reference for one group norm.
double loop_norm(const torch::Tensor& W, int64_t br, int64_t b, int64_t c) {
  auto Wd = W.to(torch::kDouble);
  auto a = Wd.accessor<double, 2>();
  double s = 0;
  for (int64_t r = b * br; r < std::min((b + 1) * br, W.size(0)); ++r) s += a[r][c] * a[r][c];
  return std::sqrt(s);
}

void expect_norms_match_loop(const torch::Tensor& W, int64_t br) {
  auto n = rt3::prune::group_norms(W, BlockSpec{br});
  const int64_t nb = (W.size(0) + br - 1) / br;
  ASSERT_EQ(n.sizes().vec(), (std::vector<int64_t>{nb, W.size(1)})) << "br=" << br;
  auto nd = n.to(torch::kDouble);
  auto na = nd.accessor<double, 2>();
  for (int64_t b = 0; b < nb; ++b)
    for (int64_t c = 0; c < W.size(1); ++c) EXPECT_NEAR(na[b][c], loop_norm(W, br, b, c), 1e-5) << b << "," << c;
}

TEST(BlockPrune, GroupNormsMatchPlainLoop) {
  torch::manual_seed(1);
  auto W = torch::randn({10, 7});
  for (int64_t br : {1, 2, 3, 4, 5, 10, 11, 1000}) expect_norms_match_loop(W, br);  // 3, 4: ragged
  EXPECT_THROW(rt3::prune::group_norms(W, BlockSpec{0}), std::invalid_argument);
}

TEST(BlockPrune, GroupNormsAreDifferentiableAndFiniteAtZero) {
  auto W = torch::randn({5, 3});
  {
    torch::NoGradGuard ng;
    W.select(1, 1).zero_();
  }
  W.requires_grad_(true);
  rt3::prune::group_norms(W, BlockSpec{2}).sum().backward();
  ASSERT_TRUE(W.grad().defined());
  EXPECT_TRUE(torch::isfinite(W.grad()).all().item<bool>());
  EXPECT_EQ(W.grad().select(1, 1).abs().sum().item<float>(), 0.0f);
}

TEST(BlockPrune, PenaltyMatchesHandComputationAndGradient) {
  // W [3, 2], block_rows 2: groups {rows 0-1, col c} and the ragged {row 2, col c}.
  auto W = torch::tensor({{3.0, 1.0}, {4.0, 0.0}, {-2.0, 0.5}}, torch::kDouble).requires_grad_(true);
  rt3::prune::GroupLasso gl({W}, BlockSpec{2}, /*lambda=*/0.1, /*eps=*/0.5);
  // norms: [[5, 1], [2, 0.5]] -> rew = 1/(n+0.5)
  const double n[4] = {5, 1, 2, 0.5};
  double want = 0;
  for (double x : n) want += x / (x + 0.5);
  want *= 0.1;
  auto p = gl.penalty();
  EXPECT_NEAR(p.item<double>(), want, 1e-12);

  p.backward();
  auto g = W.grad().clone();
  // Analytic: d/dW00 = lambda * rew_00 * W00 / ||g_00|| = 0.1 * (1/5.5) * 3/5.
  EXPECT_NEAR(g[0][0].item<double>(), 0.1 / 5.5 * 3.0 / 5.0, 1e-12);
  // Finite difference on W[2][0] (ragged block) with the reweighting held fixed.
  const double h = 1e-6;
  auto eval = [&](double delta) {
    torch::NoGradGuard ng;
    auto Wd = W.detach().clone();
    Wd[2][0] += delta;
    rt3::prune::GroupLasso fixed = gl;
    fixed.weights = {Wd};
    return fixed.penalty().item<double>();
  };
  const double fd = (eval(h) - eval(-h)) / (2 * h);
  EXPECT_NEAR(g[2][0].item<double>(), fd, 1e-7);
  EXPECT_LT(g[2][0].item<double>(), 0.0);  // W20 < 0: the penalty pushes it towards zero
  EXPECT_GT(g[0][0].item<double>(), 0.0);
}

TEST(BlockPrune, ReweightedPenaltyCountsNonzeroGroups) {
  torch::manual_seed(2);
  auto W1 = torch::randn({8, 6}) + 3.0;  // norms >> eps
  auto W2 = torch::randn({5, 4}) + 3.0;
  {
    torch::NoGradGuard ng;
    W1.narrow(0, 0, 4).select(1, 2).zero_();  // one zero group in W1 (block 0, col 2)
    W2.select(1, 0).zero_();                  // ragged blocks, br 4: 2 zero groups
  }
  rt3::prune::GroupLasso gl({W1, W2}, BlockSpec{4}, /*lambda=*/1e-4, /*eps=*/1e-6);
  const double nonzero = (2 * 6 - 1) + (2 * 4 - 2);
  EXPECT_NEAR(gl.penalty().item<double>(), 1e-4 * nonzero, 1e-4 * 1e-3);
  // After the weights shrink, the stale reweighting no longer gives ~1 per group; re-weighting does.
  {
    torch::NoGradGuard ng;
    W1.mul_(0.5);
  }
  EXPECT_LT(gl.penalty().item<double>(), 1e-4 * nonzero * 0.9);
  gl.reweight_now();
  EXPECT_NEAR(gl.penalty().item<double>(), 1e-4 * nonzero, 1e-4 * 1e-3);
}

void expect_groups_whole(const torch::Tensor& mask, int64_t br) {
  const int64_t out = mask.size(0);
  for (int64_t b = 0; b * br < out; ++b) {
    auto seg = mask.narrow(0, b * br, std::min(br, out - b * br));
    auto mn = std::get<0>(seg.min(0)), mx = std::get<0>(seg.max(0));
    EXPECT_TRUE(torch::equal(mn, mx)) << "block " << b << " splits a group";
  }
}

TEST(BlockPrune, MaskPrunesWholeGroupsWithExactCounts) {
  torch::manual_seed(3);
  // 12 x 5, br 4: 15 groups of 4 weights, numel 60.
  auto W = torch::randn({12, 5});
  struct Case {
    double s;
    int64_t zeros;
  };
  for (Case c : {Case{0.0, 0}, Case{0.5, 28}, Case{0.7, 40}, Case{1.0, 60}}) {
    auto m = rt3::prune::block_mask(W, BlockSpec{4}, c.s);
    ASSERT_EQ(m.sizes(), W.sizes());
    EXPECT_EQ(m.numel() - m.count_nonzero().item<int64_t>(), c.zeros) << c.s;
    EXPECT_TRUE(((m == 0) | (m == 1)).all().item<bool>());
    expect_groups_whole(m, 4);
    // The pruned groups are the smallest-norm ones.
    auto n = rt3::prune::group_norms(W, BlockSpec{4});
    auto kept = rt3::prune::group_norms(m, BlockSpec{4}) > 0;
    if (c.zeros > 0 && c.zeros < 60) {
      EXPECT_LE(n.masked_select(~kept).max().item<float>(), n.masked_select(kept).min().item<float>());
    }
  }
  EXPECT_TRUE(rt3::prune::block_mask(W, BlockSpec{4}, 0.0).eq(1).all().item<bool>());
  EXPECT_TRUE(rt3::prune::block_mask(W, BlockSpec{4}, 1.0).eq(0).all().item<bool>());
  EXPECT_THROW(rt3::prune::block_mask(W, BlockSpec{4}, 1.5), std::invalid_argument);
  EXPECT_THROW(rt3::prune::block_mask(W, BlockSpec{4}, -0.1), std::invalid_argument);
}

TEST(BlockPrune, MaskRaggedNeverExceedsTargetAndFillsWithShortGroups) {
  torch::manual_seed(4);
  // 10 x 6, br 4: blocks of 4, 4, 2 rows. numel 60.
  auto W = torch::randn({10, 6});
  for (double s : {0.0, 0.1, 0.25, 0.5, 0.7, 0.9, 1.0}) {
    auto m = rt3::prune::block_mask(W, BlockSpec{4}, s);
    const int64_t zeros = m.numel() - m.count_nonzero().item<int64_t>();
    EXPECT_LE(zeros, static_cast<int64_t>(std::floor(s * 60 + 1e-9))) << s;
    expect_groups_whole(m, 4);
  }
  // Make the ragged block's groups the largest: at 0.5 (budget 30) seven 4-row groups fit (28),
  // then one 2-row ragged group fills the remainder exactly.
  {
    torch::NoGradGuard ng;
    W.narrow(0, 8, 2).mul_(100.0);
  }
  auto m = rt3::prune::block_mask(W, BlockSpec{4}, 0.5);
  EXPECT_EQ(m.numel() - m.count_nonzero().item<int64_t>(), 30);
  // Whole columns (br >= out) and single rows (br 1).
  auto mc = rt3::prune::block_mask(W, BlockSpec{100}, 0.5);
  EXPECT_EQ(mc.numel() - mc.count_nonzero().item<int64_t>(), 30);
  expect_groups_whole(mc, 100);
  auto m1 = rt3::prune::block_mask(W, BlockSpec{1}, 0.7);
  EXPECT_EQ(m1.numel() - m1.count_nonzero().item<int64_t>(), 42);
}

TEST(BlockPrune, MaskIsDeterministicWithTiesBrokenByIndex) {
  auto W = torch::ones({8, 4});  // every group has the same norm
  auto a = rt3::prune::block_mask(W, BlockSpec{4}, 0.5);
  auto b = rt3::prune::block_mask(W, BlockSpec{4}, 0.5);
  EXPECT_TRUE(torch::equal(a, b));
  // Ties: lowest flat index (block 0, cols 0..3) pruned first.
  EXPECT_EQ(a.narrow(0, 0, 4).sum().item<float>(), 0.0f);
  EXPECT_EQ(a.narrow(0, 4, 4).sum().item<float>(), 16.0f);
}

rt3::models::LmConfig tiny_lm() {
  rt3::models::LmConfig c;
  c.vocab_size = 40;
  c.d_model = 16;
  c.n_heads = 2;
  c.n_layers = 2;
  c.d_ff = 32;
  c.max_len = 12;
  c.tie_weights = false;
  return c;
}

rt3::models::DistilBertConfig tiny_bert() {
  rt3::models::DistilBertConfig c;
  c.vocab_size = 50;
  c.dim = 16;
  c.n_layers = 3;
  c.n_heads = 2;
  c.hidden_dim = 32;
  c.max_position_embeddings = 24;
  c.labels = {"neg", "pos"};
  return c;
}

void expect_prunable(torch::nn::Module& m, size_t n_layers) {
  auto p = rt3::prune::prunable_linears(m);
  ASSERT_EQ(p.size(), 6 * n_layers);
  std::set<std::string> suffixes;
  for (const auto& [name, w] : p) {
    EXPECT_EQ(w.dim(), 2) << name;
    for (const char* bad : {"emb", "classifier", "head", "LayerNorm", "layer_norm", "ln_"})
      EXPECT_EQ(name.find(bad), std::string::npos) << name;
    suffixes.insert(name.substr(name.find('.', name.find_first_of("0123456789")) + 1));
  }
  EXPECT_EQ(suffixes, (std::set<std::string>{"attention.q_lin.weight", "attention.k_lin.weight",
                                             "attention.v_lin.weight", "attention.out_lin.weight",
                                             "ffn.lin1.weight", "ffn.lin2.weight"}));
}

TEST(BlockPrune, PrunableLinearsFindsSixPerLayerInBothModels) {
  rt3::train::nn::TransformerLM lm(tiny_lm());
  expect_prunable(*lm, 2);
  EXPECT_EQ(rt3::prune::prunable_linears(*lm).front().first, "layers.0.attention.q_lin.weight");
  rt3::train::nn::DistilBert bert(tiny_bert());
  expect_prunable(*bert, 3);
  EXPECT_EQ(rt3::prune::prunable_linears(*bert).back().first, "distilbert.transformer.layer.2.ffn.lin2.weight");
  // The tensors alias the model's parameters.
  auto p = rt3::prune::prunable_linears(*bert);
  EXPECT_TRUE(p[0].second.is_same(bert->distilbert->transformer->layer->at<rt3::train::nn::DistilBertBlockImpl>(0)
                                      .attention->q_lin->weight));
}

TEST(BlockPrune, PrunedWeightsStayExactlyZeroAfterAdamWStep) {
  torch::manual_seed(5);
  rt3::train::nn::TransformerLM lm(tiny_lm());
  std::vector<torch::Tensor> ws;
  std::vector<std::string> names;
  for (auto& [n, w] : rt3::prune::prunable_linears(*lm)) {
    names.push_back(n);
    ws.push_back(w);
  }
  BlockSpec spec{4};
  auto ms = rt3::prune::make_mask_set(ws, spec, 0.5);
  ms.apply();
  EXPECT_NEAR(ms.sparsity(), 0.5, 1e-9);
  torch::optim::AdamW opt(lm->parameters(), torch::optim::AdamWOptions(1e-2).weight_decay(0.1));
  rt3::prune::GroupLasso gl(ws, spec, 1e-3, 1e-3);
  auto tokens = torch::randint(0, 40, {2, 8}, torch::kLong);
  for (int step = 0; step < 3; ++step) {
    opt.zero_grad();
    auto logits = lm->forward(tokens);
    auto loss = torch::nn::functional::cross_entropy(logits.reshape({-1, 40}), tokens.reshape({-1})) + gl.penalty();
    loss.backward();
    if (step == 0) {
      // Unmasked gradients: AdamW moves the pruned weights off zero, and apply() must undo it.
      opt.step();
      float moved = 0;
      for (size_t i = 0; i < ws.size(); ++i)
        moved = std::max(moved, ws[i].masked_select(ms.masks[i] == 0).abs().max().item<float>());
      EXPECT_GT(moved, 0.0f);
    } else {
      ms.zero_pruned_grads();
      for (size_t i = 0; i < ws.size(); ++i)
        EXPECT_EQ(ws[i].grad().masked_select(ms.masks[i] == 0).abs().max().item<float>(), 0.0f);
      opt.step();  // stale Adam moments from step 0 still move pruned weights
    }
    ms.apply();
    for (size_t i = 0; i < ws.size(); ++i) {
      auto pruned = ws[i].masked_select(ms.masks[i] == 0);
      ASSERT_GT(pruned.numel(), 0);
      EXPECT_TRUE(pruned.eq(0.0f).all().item<bool>()) << names[i];
      EXPECT_EQ(pruned.abs().max().item<float>(), 0.0f);
      // Kept weights did train.
      EXPECT_GT(ws[i].masked_select(ms.masks[i] == 1).abs().sum().item<float>(), 0.0f);
    }
  }
  auto t = rt3::prune::sparsity_table(names, ms.masks, spec);
  ASSERT_EQ(t["layers"].size(), ws.size());
  EXPECT_NEAR(t["weight_sparsity"].get<double>(), 0.5, 1e-9);
  const auto& l0 = t["layers"][0];
  EXPECT_EQ(l0["name"], "layers.0.attention.q_lin.weight");
  EXPECT_EQ(l0["rows"], 16);
  EXPECT_EQ(l0["cols"], 16);
  EXPECT_EQ(l0["groups"], 64);
  EXPECT_EQ(l0["groups_kept"], 32);
  EXPECT_NEAR(l0["weight_sparsity"].get<double>(), 0.5, 1e-12);
}

}  // namespace
