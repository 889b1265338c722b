// Pattern pruning primitives (docs/design.md "Stage 3: pattern sets"): tile energies, candidates
// from importance votes, greedy set choice, nearest-pattern assignment and masks; and the joint
// shared-weight gradient.
#include <gtest/gtest.h>
#include <torch/torch.h>

#include <cmath>
#include <set>
#include <vector>

#include "train/prune/pattern.h"
#include "train/prune/pattern_config.h"

namespace {

using rt3::prune::TileSpec;

TEST(Pattern, TileColumnEnergyMatchesLoopWithRaggedTiles) {
  torch::manual_seed(1);
  const torch::Tensor W = torch::randn({37, 21});
  const TileSpec t{16, 8};
  const torch::Tensor e = rt3::prune::tile_column_energy(W, t);
  ASSERT_EQ(e.sizes().vec(), (std::vector<int64_t>{3, 3, 8}));
  auto a = W.accessor<float, 2>();
  auto ea = e.accessor<float, 3>();
  for (int64_t rt = 0; rt < 3; ++rt)
    for (int64_t ct = 0; ct < 3; ++ct)
      for (int64_t c = 0; c < 8; ++c) {
        double s = 0;
        const int64_t col = ct * 8 + c;
        for (int64_t r = rt * 16; r < std::min<int64_t>(37, rt * 16 + 16); ++r)
          if (col < 21) s += double(a[r][col]) * a[r][col];
        EXPECT_NEAR(ea[rt][ct][c], s, 1e-4 * (1 + s)) << rt << "," << ct << "," << c;
      }
}

TEST(Pattern, CandidatesRemoveExactlyPColumnsAndFollowImportance) {
  // Columns 0..3 of every tile are large, 4..7 tiny: with p = 4 every tile votes for {0,1,2,3}.
  torch::Tensor W = torch::full({32, 16}, 0.01f);
  W.narrow(1, 0, 4).fill_(1.0f);
  W.narrow(1, 8, 4).fill_(1.0f);
  const TileSpec t{16, 8};
  const torch::Tensor c = rt3::prune::pattern_candidates(W, t, 4, 10, 1000, 7);
  ASSERT_EQ(c.size(0), 1);  // one distinct vote
  EXPECT_TRUE(torch::equal(c[0], torch::tensor({1, 1, 1, 1, 0, 0, 0, 0}, torch::kFloat32))) << c;
  torch::manual_seed(3);
  const torch::Tensor R = torch::randn({64, 64});
  for (int64_t p : {0, 3, 7, 8}) {
    const torch::Tensor cr = rt3::prune::pattern_candidates(R, t, p, 10, 200, 5);
    ASSERT_GE(cr.size(0), 1);
    ASSERT_LE(cr.size(0), 10);
    for (int64_t i = 0; i < cr.size(0); ++i) EXPECT_EQ(cr[i].sum().item<float>(), float(8 - p)) << "p=" << p;
    std::set<std::vector<float>> distinct;
    for (int64_t i = 0; i < cr.size(0); ++i) {
      auto v = cr[i].contiguous();
      distinct.insert(std::vector<float>(v.data_ptr<float>(), v.data_ptr<float>() + 8));
    }
    EXPECT_EQ(distinct.size(), size_t(cr.size(0))) << "candidates must be distinct";
  }
  // Deterministic in the seed.
  EXPECT_TRUE(torch::equal(rt3::prune::pattern_candidates(R, t, 5, 10, 50, 9),
                           rt3::prune::pattern_candidates(R, t, 5, 10, 50, 9)));
}

TEST(Pattern, AssignmentPicksTheNearestPatternAndMaskMatches) {
  torch::manual_seed(4);
  const TileSpec t{4, 4};
  const torch::Tensor W = torch::randn({10, 11});  // ragged in both directions
  const torch::Tensor P = torch::tensor({{1, 1, 0, 0}, {0, 0, 1, 1}, {1, 0, 1, 0}}, torch::kFloat32);
  const torch::Tensor ids = rt3::prune::assign_patterns(W, t, P);
  ASSERT_EQ(ids.sizes().vec(), (std::vector<int64_t>{3, 3}));
  const torch::Tensor mask = rt3::prune::pattern_mask(P, ids, t, 10, 11);
  ASSERT_EQ(mask.sizes().vec(), (std::vector<int64_t>{10, 11}));
  // Brute force: for each tile, the chosen pattern minimises ||W_t - W_t * P||^2.
  for (int64_t rt = 0; rt < 3; ++rt)
    for (int64_t ct = 0; ct < 3; ++ct) {
      double best = 1e30;
      int64_t arg = -1;
      for (int64_t p = 0; p < 3; ++p) {
        double d = 0;
        for (int64_t r = rt * 4; r < std::min<int64_t>(10, rt * 4 + 4); ++r)
          for (int64_t c = ct * 4; c < std::min<int64_t>(11, ct * 4 + 4); ++c)
            if (P[p][c - ct * 4].item<float>() == 0) d += std::pow(W[r][c].item<double>(), 2);
        if (d < best - 1e-9) {
          best = d;
          arg = p;
        }
      }
      EXPECT_EQ(ids[rt][ct].item<int64_t>(), arg) << rt << "," << ct;
      for (int64_t r = rt * 4; r < std::min<int64_t>(10, rt * 4 + 4); ++r)
        for (int64_t c = ct * 4; c < std::min<int64_t>(11, ct * 4 + 4); ++c)
          ASSERT_EQ(mask[r][c].item<float>(), P[arg][c - ct * 4].item<float>());
    }
}

TEST(Pattern, GreedySetCoversBetterThanTheFirstCandidates) {
  // Two tile populations that want different columns: the greedy set must take one pattern for
  // each, although the two most voted candidates both come from the bigger population.
  torch::manual_seed(5);
  torch::Tensor W = torch::randn({64, 64}) * 0.01f;
  for (int64_t ct = 0; ct < 8; ++ct) {
    const int64_t big = ct < 6 ? 0 : 4;  // tiles 0..5 want columns 0-3, tiles 6..7 want 4-7
    W.narrow(1, ct * 8 + big, 4).add_(1.0f);
  }
  const TileSpec t{16, 8};
  const torch::Tensor cand = torch::tensor({{1, 1, 1, 1, 0, 0, 0, 0}, {1, 1, 1, 0, 1, 0, 0, 0}, {0, 0, 0, 0, 1, 1, 1, 1}},
                                           torch::kFloat32);
  const auto chosen = rt3::prune::choose_set(W, t, cand, 2, 10000, 1);
  ASSERT_EQ(chosen.size(), 2u);
  EXPECT_EQ(std::set<int64_t>(chosen.begin(), chosen.end()), (std::set<int64_t>{0, 2}));
}

TEST(Pattern, ConfigValidatesAndNamesSets) {
  rt3::train::PatternOptions o;
  o.sets = {0.6, 0.7, 0.8, 0.9};
  EXPECT_EQ(o.pruning_numbers(), (std::vector<int64_t>{10, 11, 13, 14}));
  EXPECT_EQ(o.set_names(), (std::vector<std::string>{"p63", "p69", "p81", "p88"}));
  rt3::train::validate(o);
  o.sets = {0.6, 0.62};  // both round to 10 of 16
  EXPECT_THROW(rt3::train::validate(o), std::invalid_argument);
  EXPECT_THROW(rt3::train::apply_pattern_json({}, {{"setz", {0.5}}}), std::invalid_argument);
  EXPECT_THROW(rt3::train::apply_pattern_json({}, {{"tile_cols", 1.5}}), std::invalid_argument);
  EXPECT_THROW(rt3::train::parse_sparsity_list("0.5,x"), std::invalid_argument);
  EXPECT_THROW(rt3::train::parse_sparsity_list("0.5,1.2"), std::invalid_argument);
  EXPECT_EQ(rt3::train::parse_sparsity_list("0.5,0.75"), (std::vector<double>{0.5, 0.75}));
}

}  // namespace
