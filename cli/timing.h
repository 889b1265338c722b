#pragma once
// Medians of repeated wall-clock timings, for the CLI's measurements (rt3 profile, rt3 bench
// model, the demo's runtime check). A median, not a mean: one preempted run must not move it.
#include <algorithm>
#include <chrono>
#include <vector>

namespace rt3::cli {

// Median of v (the mean of the middle two for an even count); 0 for an empty v.
inline double median(std::vector<double> v) {
  if (v.empty()) return 0.0;
  std::sort(v.begin(), v.end());
  const size_t h = v.size() / 2;
  return v.size() % 2 ? v[h] : 0.5 * (v[h - 1] + v[h]);
}

// Median seconds of fn() over reps runs, after one warm-up run.
template <typename Fn>
double median_seconds(int reps, Fn&& fn) {
  fn();
  std::vector<double> t;
  for (int r = 0; r < reps; ++r) {
    const auto t0 = std::chrono::steady_clock::now();
    fn();
    t.push_back(std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count());
  }
  return median(t);
}

}  // namespace rt3::cli
