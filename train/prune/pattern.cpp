#include "train/prune/pattern.h"

#include <algorithm>
#include <map>
#include <numeric>
#include <random>
#include <stdexcept>

namespace rt3::prune {
namespace {

void check(const torch::Tensor& W, const TileSpec& t) {
  if (W.dim() != 2) throw std::invalid_argument("pattern pruning needs a 2-D weight [out, in]");
  if (t.rows < 1 || t.cols < 1 || t.cols > 64) throw std::invalid_argument("tile rows must be >= 1 and cols in [1, 64]");
}

// W zero-padded to whole tiles and viewed as [n_row_tiles, rows, n_col_tiles, cols].
torch::Tensor tiles_view(const torch::Tensor& W, const TileSpec& t) {
  const int64_t out = W.size(0), in = W.size(1);
  const int64_t nrt = (out + t.rows - 1) / t.rows, nct = (in + t.cols - 1) / t.cols;
  torch::Tensor Wp = torch::constant_pad_nd(W.detach().to(torch::kFloat32), {0, nct * t.cols - in, 0, nrt * t.rows - out});
  return Wp.reshape({nrt, t.rows, nct, t.cols});
}

// Sampled flat tile indices (all of them when sample >= total), deterministic in seed.
std::vector<int64_t> sample_tiles(int64_t total, int64_t sample, uint64_t seed) {
  std::vector<int64_t> idx(static_cast<size_t>(total));
  std::iota(idx.begin(), idx.end(), int64_t{0});
  if (sample >= total) return idx;
  std::mt19937_64 rng(seed);
  for (int64_t i = 0; i < sample; ++i) {  // partial Fisher-Yates
    std::uniform_int_distribution<int64_t> d(i, total - 1);
    std::swap(idx[static_cast<size_t>(i)], idx[static_cast<size_t>(d(rng))]);
  }
  idx.resize(static_cast<size_t>(sample));
  return idx;
}

}  // namespace

torch::Tensor tile_column_energy(const torch::Tensor& W, const TileSpec& t) {
  check(W, t);
  torch::NoGradGuard ng;
  return tiles_view(W, t).pow(2).sum(1).contiguous();  // [nrt, nct, cols]
}

torch::Tensor pattern_candidates(const torch::Tensor& W, const TileSpec& t, int64_t p, int64_t n_candidates,
                                 int64_t sample, uint64_t seed) {
  check(W, t);
  if (p < 0 || p > t.cols) throw std::invalid_argument("pruning number must be in [0, tile cols]");
  torch::NoGradGuard ng;
  const torch::Tensor l1 = tiles_view(W, t).abs().sum(1).reshape({-1, t.cols}).contiguous();  // [tiles, cols]
  const torch::Tensor energy = tile_column_energy(W, t).reshape({-1, t.cols}).contiguous();
  const int64_t keep = t.cols - p;
  struct Vote {
    int64_t count = 0;
    double energy = 0;
  };
  std::map<uint64_t, Vote> votes;
  const float* imp = l1.data_ptr<float>();
  const float* en = energy.data_ptr<float>();
  std::vector<int64_t> order(static_cast<size_t>(t.cols));
  for (int64_t tile : sample_tiles(l1.size(0), sample, seed)) {
    const float* row = imp + tile * t.cols;
    std::iota(order.begin(), order.end(), int64_t{0});
    std::stable_sort(order.begin(), order.end(), [row](int64_t a, int64_t b) { return row[a] > row[b]; });
    uint64_t bits = 0;
    double kept = 0;
    for (int64_t j = 0; j < keep; ++j) {
      bits |= uint64_t{1} << order[static_cast<size_t>(j)];
      kept += en[tile * t.cols + order[static_cast<size_t>(j)]];
    }
    Vote& v = votes[bits];
    ++v.count;
    v.energy += kept;
  }
  std::vector<std::pair<uint64_t, Vote>> ranked(votes.begin(), votes.end());
  std::stable_sort(ranked.begin(), ranked.end(), [](const auto& a, const auto& b) {
    if (a.second.count != b.second.count) return a.second.count > b.second.count;
    return a.second.energy > b.second.energy;
  });
  const int64_t n = std::min<int64_t>(n_candidates, static_cast<int64_t>(ranked.size()));
  torch::Tensor out = torch::zeros({n, t.cols}, torch::kFloat32);
  float* o = out.data_ptr<float>();
  for (int64_t i = 0; i < n; ++i)
    for (int64_t c = 0; c < t.cols; ++c) o[i * t.cols + c] = (ranked[static_cast<size_t>(i)].first >> c) & 1 ? 1.0f : 0.0f;
  return out;
}

std::vector<int64_t> choose_set(const torch::Tensor& W, const TileSpec& t, const torch::Tensor& candidates, int64_t k,
                                int64_t sample, uint64_t seed) {
  check(W, t);
  torch::NoGradGuard ng;
  const torch::Tensor energy = tile_column_energy(W, t).reshape({-1, t.cols});
  const auto idx = sample_tiles(energy.size(0), sample, seed);
  const torch::Tensor sampled = energy.index_select(0, torch::tensor(idx, torch::kLong));
  // kept[s][c] = energy tile s keeps with candidate c.
  const torch::Tensor kept = torch::matmul(sampled, candidates.to(torch::kFloat32).t()).contiguous();
  const int64_t S = kept.size(0), C = kept.size(1);
  const float* kv = kept.data_ptr<float>();
  std::vector<double> best(static_cast<size_t>(S), 0.0);
  std::vector<int64_t> chosen;
  std::vector<bool> used(static_cast<size_t>(C), false);
  for (int64_t round = 0; round < std::min(k, C); ++round) {
    int64_t arg = -1;
    double arg_gain = -1;
    for (int64_t c = 0; c < C; ++c) {
      if (used[static_cast<size_t>(c)]) continue;
      double gain = 0;
      for (int64_t s = 0; s < S; ++s) gain += std::max(0.0, double(kv[s * C + c]) - best[static_cast<size_t>(s)]);
      if (gain > arg_gain) {
        arg_gain = gain;
        arg = c;
      }
    }
    used[static_cast<size_t>(arg)] = true;
    chosen.push_back(arg);
    for (int64_t s = 0; s < S; ++s) best[static_cast<size_t>(s)] = std::max(best[static_cast<size_t>(s)], double(kv[s * C + arg]));
  }
  return chosen;
}

torch::Tensor assign_patterns(const torch::Tensor& W, const TileSpec& t, const torch::Tensor& patterns) {
  check(W, t);
  if (patterns.dim() != 2 || patterns.size(1) != t.cols || patterns.size(0) < 1)
    throw std::invalid_argument("patterns must be [P >= 1, tile cols]");
  torch::NoGradGuard ng;
  const torch::Tensor energy = tile_column_energy(W, t);                              // [nrt, nct, cols]
  const torch::Tensor kept = torch::matmul(energy, patterns.to(torch::kFloat32).t());  // [nrt, nct, P]
  // argmax returns the first maximum: ties go to the lower pattern index.
  return kept.argmax(2).contiguous();
}

torch::Tensor pattern_mask(const torch::Tensor& patterns, const torch::Tensor& tile_ids, const TileSpec& t, int64_t out,
                           int64_t in, torch::Dtype dtype) {
  torch::NoGradGuard ng;
  const int64_t nrt = tile_ids.size(0), nct = tile_ids.size(1);
  // [nrt, nct, cols] -> [nrt, 1, nct, cols] -> repeat rows -> [nrt*rows, nct*cols] -> crop.
  torch::Tensor m = patterns.to(torch::kFloat32).index_select(0, tile_ids.reshape({-1})).reshape({nrt, 1, nct, t.cols});
  m = m.expand({nrt, t.rows, nct, t.cols}).reshape({nrt * t.rows, nct * t.cols});
  return m.narrow(0, 0, out).narrow(1, 0, in).to(dtype).contiguous();
}

}  // namespace rt3::prune
