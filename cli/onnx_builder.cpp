#include "cli/onnx_builder.h"

#include <algorithm>
#include <cmath>
#include <cstdint>

#include "runtime/format/bundle.h"

namespace rt3::cli {
namespace {

using onnx::DataType;

template <typename T>
std::string raw_bytes(const T* p, size_t n) {
  return std::string(reinterpret_cast<const char*>(p), n * sizeof(T));
}

}  // namespace

std::string OnnxBuilder::op(const std::string& type, std::vector<std::string> in, std::vector<onnx::Attribute> attrs,
                            const std::string& domain) {
  const std::string out = fresh(type);
  g_.nodes.push_back({type, std::move(in), {out}, std::move(attrs), domain});
  return out;
}

std::string OnnxBuilder::floats(const std::string& name, std::vector<int64_t> dims, const float* p, size_t n) {
  g_.initializers.push_back({name, DataType::kFloat, std::move(dims), raw_bytes(p, n)});
  return name;
}

std::string OnnxBuilder::scalar(float v) { return floats(fresh("c"), {}, &v, 1); }

std::string OnnxBuilder::int64s(const std::vector<int64_t>& v) {
  const std::string name = fresh("i");
  g_.initializers.push_back({name, DataType::kInt64, {static_cast<int64_t>(v.size())}, raw_bytes(v.data(), v.size())});
  return name;
}

std::string OnnxBuilder::int64_scalar(int64_t v) {
  const std::string name = fresh("i");
  g_.initializers.push_back({name, DataType::kInt64, {}, raw_bytes(&v, 1)});
  return name;
}

std::string OnnxBuilder::tensor_of(const std::string& name, size_t n) {
  return floats(name, {static_cast<int64_t>(n)}, b_.weight(name), n);
}

std::string OnnxBuilder::linear(const std::string& x, const std::string& weight, const std::string& bias_name, int64_t out,
                                int64_t in) {
  const float* w = b_.weight(weight);
  std::vector<float> wt(static_cast<size_t>(in * out));  // [in, out]: what MatMul multiplies by
  for (int64_t o = 0; o < out; ++o)
    for (int64_t i = 0; i < in; ++i) wt[static_cast<size_t>(i * out + o)] = w[o * in + i];
  const std::string bias = bias_name.empty() ? "" : floats(bias_name, {out}, b_.weight(bias_name), static_cast<size_t>(out));
  if (precision_ == OrtPrecision::kFp32) {
    const std::string y = op("MatMul", {x, floats(weight + "_t", {in, out}, wt.data(), wt.size())});
    return bias.empty() ? y : op("Add", {y, bias});
  }
  float amax = 0;
  for (float v : wt) amax = std::max(amax, std::fabs(v));
  const float scale = amax > 0 ? amax / 127.0f : 1.0f;
  std::vector<int8_t> q(wt.size());
  for (size_t i = 0; i < wt.size(); ++i) q[i] = static_cast<int8_t>(std::clamp(std::lround(wt[i] / scale), -127L, 127L));
  const std::string wn = weight + "_q", zn = weight + "_zero";
  g_.initializers.push_back({wn, DataType::kInt8, {in, out}, raw_bytes(q.data(), q.size())});
  const std::string sn = floats(weight + "_scale", {}, &scale, 1);
  const int8_t zero = 0;
  g_.initializers.push_back({zn, DataType::kInt8, {}, raw_bytes(&zero, 1)});
  std::vector<std::string> in_names = {x, wn, sn, zn};
  if (!bias.empty()) in_names.push_back(bias);
  return op("DynamicQuantizeMatMul", in_names, {}, "com.microsoft");
}

std::string OnnxBuilder::layer_norm(const std::string& x, const std::string& prefix, int64_t dim, float eps) {
  return op("LayerNormalization",
            {x, tensor_of(prefix + ".weight", static_cast<size_t>(dim)), tensor_of(prefix + ".bias", static_cast<size_t>(dim))},
            {onnx::attr_i("axis", -1), onnx::attr_f("epsilon", eps)});
}

std::string OnnxBuilder::gelu(const std::string& x) {
  return op("Mul", {op("Mul", {x, op("Add", {op("Erf", {op("Div", {x, scalar(std::sqrt(2.0f))})}), scalar(1.0f)})}), scalar(0.5f)});
}

std::string OnnxBuilder::split_heads(const std::string& x, int64_t heads, int64_t dh, bool transposed_keys) {
  const std::vector<int64_t> perm = transposed_keys ? std::vector<int64_t>{0, 2, 3, 1} : std::vector<int64_t>{0, 2, 1, 3};
  return op("Transpose", {op("Reshape", {x, int64s({0, -1, heads, dh})})}, {onnx::attr_ints("perm", perm)});
}

std::string OnnxBuilder::merge_heads(const std::string& x, int64_t dim) {
  return op("Reshape", {op("Transpose", {x}, {onnx::attr_ints("perm", {0, 2, 1, 3})}), int64s({0, -1, dim})});
}

}  // namespace rt3::cli
