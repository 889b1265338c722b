#pragma once
// `rt3 bench ort`: our runtime against ONNX Runtime, the runtime users would pick instead
// (docs/bench.md "Against ONNX Runtime"). The bundle's dense weights go to an ONNX graph
// (cli/onnx_distilbert.h, cli/onnx_lm.h), fp32 and as ORT's dynamic int8 quantiser writes it;
// ORT runs it from a node process (bench/ort/ort_runner.js, npm onnxruntime-node) while this
// process runs every variant of the bundle on the engine, token ids in, batch 1. Logits are
// compared first (our dense variant against ORT fp32). Then rounds: in each, every contender
// makes `calls` calls back to back, contenders in turn, so a disturbance of the machine hits all
// of them alike; medians over all calls, ratios against ORT in the same run.
#include <cstdint>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

namespace rt3::cli {

struct OrtBenchOptions {
  std::string bundle;
  std::vector<int64_t> seq_lens = {32, 128};
  std::vector<int> threads = {1, 2};
  int calls = 48;   // per contender and round
  int rounds = 5;
  bool int8 = true;  // also ORT int8 (DynamicQuantizeMatMul)
  std::string runner;  // ort_runner.js (default: the source tree's bench/ort/ort_runner.js)
  std::string node = "node";
  bool progress = true;
};

// Throws std::runtime_error with a one-line reason (a sequence longer than the model's, node or
// onnxruntime-node missing, logits that disagree).
nlohmann::json bench_ort(const OrtBenchOptions& o);
std::string format_ort_bench(const nlohmann::json& j);

}  // namespace rt3::cli
