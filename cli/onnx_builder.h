#pragma once
// Builds the ONNX graphs of `rt3 bench ort` from a bundle's weights (cli/onnx_distilbert.h,
// cli/onnx_lm.h): nodes with fresh names, initializers copied from the bundle, and every Linear
// fp32 (MatMul + Add) or as ORT's dynamic int8 quantiser writes it (DynamicQuantizeMatMul).
#include <string>
#include <vector>

#include "cli/onnx_writer.h"

namespace rt3::format {
class Bundle;
}

namespace rt3::cli {

enum class OrtPrecision {
  kFp32,
  // Every Linear as ORT's dynamic quantiser writes it (quantize_dynamic, int8 weights):
  // com.microsoft DynamicQuantizeMatMul with per-tensor symmetric int8 weights; activations
  // quantised per call by ORT.
  kInt8,
};

class OnnxBuilder {
 public:
  OnnxBuilder(const format::Bundle& b, OrtPrecision precision) : b_(b), precision_(precision) {}
  onnx::Graph& graph() { return g_; }

  std::string fresh(const std::string& stem) { return stem + "_" + std::to_string(next_++); }
  // A node of `type` on `in`; returns its (single) output.
  std::string op(const std::string& type, std::vector<std::string> in, std::vector<onnx::Attribute> attrs = {},
                 const std::string& domain = "");
  std::string floats(const std::string& name, std::vector<int64_t> dims, const float* p, size_t n);
  std::string scalar(float v);
  std::string int64s(const std::vector<int64_t>& v);
  std::string int64_scalar(int64_t v);
  // The bundle's tensor `name` (n floats) as a 1-D initializer of the same name.
  std::string tensor_of(const std::string& name, size_t n);
  // y = x W^T (+ bias) with the bundle's weight `weight` ([out, in]) and bias `bias` ("" = none).
  std::string linear(const std::string& x, const std::string& weight, const std::string& bias, int64_t out, int64_t in);
  // linear() of the bundle's Linear `prefix` (prefix.weight, prefix.bias).
  std::string linear(const std::string& x, const std::string& prefix, int64_t out, int64_t in) {
    return linear(x, prefix + ".weight", prefix + ".bias", out, in);
  }
  std::string layer_norm(const std::string& x, const std::string& prefix, int64_t dim, float eps);
  // 0.5 x (1 + erf(x / sqrt 2)), the form ORT fuses into Gelu.
  std::string gelu(const std::string& x);
  // [1, seq, heads x dh] -> [1, heads, seq, dh] (perm {0, 2, 1, 3}) or its keys' [1, heads, dh, seq].
  std::string split_heads(const std::string& x, int64_t heads, int64_t dh, bool transposed_keys);
  std::string merge_heads(const std::string& x, int64_t dim);

 private:
  const format::Bundle& b_;
  OrtPrecision precision_;
  onnx::Graph g_;
  int next_ = 0;
};

}  // namespace rt3::cli
