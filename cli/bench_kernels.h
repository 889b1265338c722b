#pragma once
// `rt3 bench kernels`: the measurement behind the verb (cli/cmd_bench.cpp wires the options).
// For each (shape, m, threads): our DenseLinear, oneDNN dense, and per sparsity BpLinear on a
// random group mask plus XNNPACK's sparse 1x1 convolution on the same masked weights, and
// PatternLinear on a random pattern set over the dense weights (unless no_pattern). Variants of
// one (shape, m, threads) are measured in turn inside every repetition, so machine noise hits them
// alike; each repetition times a chunk of calls lasting >= min_chunk_ms, the row reports medians.
#include <nlohmann/json.hpp>

#include <cstdint>
#include <string>

namespace rt3::cli {

struct BenchKernelsOptions {
  std::string shapes = "256x256,1024x256,256x1024,768x768,3072x768,768x3072";  // out x in
  std::string sparsity = "0.5,0.7,0.8,0.9";
  std::string m = "1,128";
  std::string threads_list = "1,2";
  int64_t block_rows = 16;
  std::string pattern_tile = "16x16";  // rows x cols of a pattern tile
  int64_t patterns = 4;                // patterns per set, [1, 256]
  bool no_pattern = false;             // skip PatternLinear
  int reps = 30;
  double min_chunk_ms = 2.0;
  uint64_t seed = 1;
};

// Validates every option first (std::invalid_argument naming the option), then measures. Returns
// {"machine": {...}, "config": {...}, "rows": [...]}; a row whose kernels disagree with the
// reference carries "error" and no times. Progress goes to stderr when `progress` is set.
nlohmann::json run_bench_kernels(const BenchKernelsOptions& o, bool progress);

// The aligned human-readable table of a run_bench_kernels() result.
std::string format_bench_kernels(const nlohmann::json& result);

}  // namespace rt3::cli
