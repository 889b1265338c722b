#pragma once
// The kernel benchmark cases, shared by `rt3 bench kernels` (cli/bench_kernels.cpp), the Google
// Benchmark version (bench/bench_bp.cpp) and the baseline tests, so the set-up is written once.
// Header-only and torch-free; needs only rt3_runtime (it also builds when the oneDNN / XNNPACK
// baselines are not installed).
//   Linear y[m][n] = sum_k x[m][k] W[n][k] + b[n], W [out][in] (PyTorch layout).
//   Block pruning: a group is one input column inside a row block of block_rows consecutive
//   output rows (runtime/kernels/bp_linear.h). A case at sparsity s keeps round((1-s) * groups)
//   groups chosen uniformly at random, and zeros the others.
//   Pattern pruning (runtime/kernels/pattern_linear.h): W is cut into tile_rows x tile_cols tiles;
//   a case at sparsity s removes p = round(s * tile_cols) columns (at most tile_cols - 1) of every
//   tile. Its set holds min(n_patterns, C(tile_cols, p)) distinct random patterns, each removing
//   exactly p columns, and every tile gets a uniformly random pattern id.
#include <algorithm>
#include <chrono>
#include <cmath>
#include <cstdint>
#include <numeric>
#include <random>
#include <set>
#include <stdexcept>
#include <string>
#include <vector>

#include "runtime/kernels/pattern_linear.h"

namespace rt3::bench {

struct Shape {
  int64_t out = 0, in = 0;
};

inline std::vector<std::string> split_list(const std::string& s, const char* what) {
  std::vector<std::string> parts;
  size_t start = 0;
  while (true) {
    const size_t comma = s.find(',', start);
    std::string item = s.substr(start, comma == std::string::npos ? std::string::npos : comma - start);
    item.erase(0, item.find_first_not_of(" \t"));
    item.erase(item.find_last_not_of(" \t") + 1);
    if (item.empty()) throw std::invalid_argument(std::string(what) + ": empty item in \"" + s + "\"");
    parts.push_back(item);
    if (comma == std::string::npos) break;
    start = comma + 1;
  }
  return parts;
}

inline int64_t parse_positive_int(const std::string& item, const char* what, int64_t max_value) {
  size_t used = 0;
  long long v = 0;
  try {
    v = std::stoll(item, &used);
  } catch (const std::exception&) {
    used = 0;
  }
  if (used != item.size() || v < 1 || v > max_value) {
    throw std::invalid_argument(std::string(what) + ": \"" + item + "\" is not an integer in [1, " +
                                std::to_string(max_value) + "]");
  }
  return v;
}

// "256x256,1024x256" -> {{256,256},{1024,256}} (out x in). Throws std::invalid_argument.
inline std::vector<Shape> parse_shapes(const std::string& s) {
  std::vector<Shape> shapes;
  for (const auto& item : split_list(s, "--shapes")) {
    const size_t x = item.find_first_of("xX");
    if (x == std::string::npos) {
      throw std::invalid_argument("--shapes: \"" + item + "\" is not OUTxIN (e.g. 768x3072)");
    }
    shapes.push_back({parse_positive_int(item.substr(0, x), "--shapes (out)", 1 << 16),
                      parse_positive_int(item.substr(x + 1), "--shapes (in)", 1 << 16)});
  }
  return shapes;
}

// "16x16" -> {16, 16} (tile rows x tile columns, each in [1, 4096]). Throws std::invalid_argument.
inline Shape parse_pattern_tile(const std::string& s) {
  const size_t x = s.find_first_of("xX");
  if (x == std::string::npos) {
    throw std::invalid_argument("--pattern-tile: \"" + s + "\" is not ROWSxCOLS (e.g. 16x16)");
  }
  return {parse_positive_int(s.substr(0, x), "--pattern-tile (rows)", 4096),
          parse_positive_int(s.substr(x + 1), "--pattern-tile (cols)", 4096)};
}

inline std::vector<int64_t> parse_ints(const std::string& s, const char* what, int64_t max_value) {
  std::vector<int64_t> v;
  for (const auto& item : split_list(s, what)) v.push_back(parse_positive_int(item, what, max_value));
  return v;
}

// Sparsities in [0, 1): the fraction of groups pruned. Throws std::invalid_argument.
inline std::vector<double> parse_sparsities(const std::string& s) {
  std::vector<double> v;
  for (const auto& item : split_list(s, "--sparsity")) {
    size_t used = 0;
    double d = -1;
    try {
      d = std::stod(item, &used);
    } catch (const std::exception&) {
      used = 0;
    }
    if (used != item.size() || !(d >= 0.0 && d < 1.0)) {
      throw std::invalid_argument("--sparsity: \"" + item + "\" is not a fraction in [0, 1)");
    }
    v.push_back(d);
  }
  return v;
}

inline void fill_uniform(std::vector<float>& v, std::mt19937_64& rng) {
  std::uniform_real_distribution<float> d(-1.0f, 1.0f);
  for (auto& f : v) {
    do {
      f = d(rng);
    } while (f == 0.0f);  // a kept weight is never 0, so bp_pack keeps exactly the chosen groups
  }
}

// Dense problem: x [m][in], W [out][in], bias [out], all uniform in [-1, 1] \ {0}.
struct DenseCase {
  Shape shape;
  int64_t m = 0;
  std::vector<float> x, w, bias;
};

inline DenseCase make_dense_case(Shape shape, int64_t m, uint64_t seed) {
  DenseCase c;
  c.shape = shape;
  c.m = m;
  std::mt19937_64 rng(seed);
  c.w.resize(static_cast<size_t>(shape.out * shape.in));
  c.bias.resize(static_cast<size_t>(shape.out));
  c.x.resize(static_cast<size_t>(m * shape.in));
  fill_uniform(c.w, rng);
  fill_uniform(c.bias, rng);
  fill_uniform(c.x, rng);
  return c;
}

inline int64_t n_groups(Shape shape, int64_t block_rows) {
  return (shape.out + block_rows - 1) / block_rows * shape.in;
}
inline int64_t kept_groups(Shape shape, int64_t block_rows, double sparsity) {
  return static_cast<int64_t>(std::llround((1.0 - sparsity) * static_cast<double>(n_groups(shape, block_rows))));
}

// W with a random group mask at `sparsity`: exactly kept_groups() groups survive.
inline std::vector<float> group_masked(const std::vector<float>& w, Shape shape, int64_t block_rows, double sparsity,
                                       uint64_t seed) {
  const int64_t groups = n_groups(shape, block_rows), keep = kept_groups(shape, block_rows, sparsity);
  std::vector<int64_t> ids(static_cast<size_t>(groups));
  std::iota(ids.begin(), ids.end(), int64_t{0});
  std::mt19937_64 rng(seed);
  for (int64_t i = 0; i < keep; ++i) {  // partial Fisher-Yates: ids[0..keep) is a uniform subset
    std::uniform_int_distribution<int64_t> d(i, groups - 1);
    std::swap(ids[static_cast<size_t>(i)], ids[static_cast<size_t>(d(rng))]);
  }
  std::vector<float> out(w.size(), 0.0f);
  for (int64_t i = 0; i < keep; ++i) {
    const int64_t g = ids[static_cast<size_t>(i)];
    const int64_t block = g / shape.in, col = g % shape.in;
    const int64_t r1 = std::min(shape.out, (block + 1) * block_rows);
    for (int64_t r = block * block_rows; r < r1; ++r) {
      out[static_cast<size_t>(r * shape.in + col)] = w[static_cast<size_t>(r * shape.in + col)];
    }
  }
  return out;
}

// Columns a pattern removes from a tile of tile_cols columns at sparsity s: round(s * tile_cols),
// at most tile_cols - 1 (a tile always keeps one column).
inline int64_t pattern_pruned_cols(int64_t tile_cols, double sparsity) {
  const int64_t p = static_cast<int64_t>(std::llround(sparsity * static_cast<double>(tile_cols)));
  return std::max<int64_t>(0, std::min(p, tile_cols - 1));
}

// min(C(n, k), cap) without overflow (cap small).
inline int64_t binomial_capped(int64_t n, int64_t k, int64_t cap) {
  k = std::min(k, n - k);
  int64_t r = 1;  // C(n - k + i, i), increasing in i
  for (int64_t i = 1; i <= k && r < cap; ++i) r = r * (n - k + i) / i;
  return std::min(r, cap);
}

// A random pattern set for W [shape.out][shape.in] at `sparsity` (see the top of this file):
// min(n_patterns, C(tile_cols, p)) distinct patterns each removing exactly p columns, random tile ids.
inline rt3::kernels::PatternWeights random_pattern_set(Shape shape, Shape tile, int64_t n_patterns, double sparsity,
                                                       uint64_t seed) {
  rt3::kernels::PatternWeights p;
  p.out_features = shape.out;
  p.in_features = shape.in;
  p.tile_rows = tile.out;
  p.tile_cols = tile.in;
  const int64_t cols = tile.in, pruned = pattern_pruned_cols(cols, sparsity);
  p.n_patterns = binomial_capped(cols, pruned, n_patterns);
  std::mt19937_64 rng(seed);
  std::set<std::vector<uint8_t>> seen;
  std::vector<int64_t> ids(static_cast<size_t>(cols));
  while (static_cast<int64_t>(seen.size()) < p.n_patterns) {
    std::iota(ids.begin(), ids.end(), int64_t{0});
    std::vector<uint8_t> pattern(static_cast<size_t>(cols), 1);
    for (int64_t i = 0; i < pruned; ++i) {  // partial Fisher-Yates: ids[0..pruned) is a uniform subset
      std::uniform_int_distribution<int64_t> d(i, cols - 1);
      std::swap(ids[static_cast<size_t>(i)], ids[static_cast<size_t>(d(rng))]);
      pattern[static_cast<size_t>(ids[static_cast<size_t>(i)])] = 0;
    }
    if (seen.insert(pattern).second) p.patterns.insert(p.patterns.end(), pattern.begin(), pattern.end());
  }
  p.tile_pattern.resize(static_cast<size_t>(p.n_row_tiles() * p.n_col_tiles()));
  std::uniform_int_distribution<int64_t> pick(0, p.n_patterns - 1);
  for (auto& id : p.tile_pattern) id = static_cast<uint8_t>(pick(rng));
  return p;
}

// The speed-up BP must reach over our dense kernel: with m > 1 (compute bound) 0.7 x the ideal
// 1/(1-s); with m == 1 (weight-bandwidth bound) 0.8 x dense bytes / BP bytes.
inline double target_speedup(int64_t m, double sparsity, double dense_bytes, double bp_bytes) {
  if (m == 1) return 0.8 * dense_bytes / bp_bytes;
  return 0.7 / (1.0 - sparsity);
}

// Largest relative error |a - ref| / (1 + |ref|) over n values.
inline double max_rel_error(const float* a, const float* ref, size_t n) {
  double worst = 0;
  for (size_t i = 0; i < n; ++i) {
    const double e = std::fabs(static_cast<double>(a[i]) - ref[i]) / (1.0 + std::fabs(static_cast<double>(ref[i])));
    if (!(e <= worst)) worst = e;  // NaN propagates as "worst"
  }
  return worst;
}

// Seconds per call of fn, timing a chunk of `iters` calls.
template <class Fn>
double time_chunk(Fn&& fn, int64_t iters) {
  const auto t0 = std::chrono::steady_clock::now();
  for (int64_t i = 0; i < iters; ++i) fn();
  const auto t1 = std::chrono::steady_clock::now();
  return std::chrono::duration<double>(t1 - t0).count() / static_cast<double>(iters);
}

// Calls per chunk so that one chunk lasts at least min_seconds (after one warm-up call).
template <class Fn>
int64_t calibrate_iters(Fn&& fn, double min_seconds) {
  fn();
  int64_t iters = 1;
  while (true) {
    const double per = time_chunk(fn, iters);
    if (per * static_cast<double>(iters) >= min_seconds) return iters;
    const double want = min_seconds / std::max(per, 1e-9) * 1.2;
    iters = std::max<int64_t>(iters * 2, static_cast<int64_t>(std::min(want, 1e8)));
  }
}

inline double median(std::vector<double> v) {
  if (v.empty()) return 0;
  std::sort(v.begin(), v.end());
  const size_t h = v.size() / 2;
  return v.size() % 2 ? v[h] : 0.5 * (v[h - 1] + v[h]);
}

}  // namespace rt3::bench
