#include "cli/onnx_distilbert.h"

#include <algorithm>
#include <cmath>
#include <cstring>
#include <stdexcept>

#include "runtime/format/bundle.h"
#include "runtime/model/config.h"

namespace rt3::cli {
namespace {

using onnx::attr_f;
using onnx::attr_i;
using onnx::attr_ints;
using onnx::DataType;

template <typename T>
std::string raw_bytes(const T* p, size_t n) {
  return std::string(reinterpret_cast<const char*>(p), n * sizeof(T));
}

// Appends nodes and initializers with fresh names.
class Builder {
 public:
  Builder(const format::Bundle& b, OrtPrecision precision) : b_(b), precision_(precision) {}
  onnx::Graph& graph() { return g_; }

  std::string fresh(const std::string& stem) { return stem + "_" + std::to_string(next_++); }

  std::string op(const std::string& type, std::vector<std::string> in, std::vector<onnx::Attribute> attrs = {},
                 const std::string& domain = "") {
    const std::string out = fresh(type);
    g_.nodes.push_back({type, std::move(in), {out}, std::move(attrs), domain});
    return out;
  }

  std::string floats(const std::string& name, std::vector<int64_t> dims, const float* p, size_t n) {
    g_.initializers.push_back({name, DataType::kFloat, std::move(dims), raw_bytes(p, n)});
    return name;
  }
  std::string scalar(float v) { return floats(fresh("c"), {}, &v, 1); }
  std::string int64s(const std::vector<int64_t>& v) {
    const std::string name = fresh("i");
    g_.initializers.push_back({name, DataType::kInt64, {static_cast<int64_t>(v.size())}, raw_bytes(v.data(), v.size())});
    return name;
  }
  std::string int64_scalar(int64_t v) {
    const std::string name = fresh("i");
    g_.initializers.push_back({name, DataType::kInt64, {}, raw_bytes(&v, 1)});
    return name;
  }
  std::string tensor_of(const std::string& name, size_t n) { return floats(name, {static_cast<int64_t>(n)}, b_.weight(name), n); }

  // y = x W^T + bias for the bundle's Linear `prefix` (weight [out, in]).
  std::string linear(const std::string& x, const std::string& prefix, int64_t out, int64_t in) {
    const float* w = b_.weight(prefix + ".weight");
    std::vector<float> wt(static_cast<size_t>(in * out));  // [in, out]: what MatMul multiplies by
    for (int64_t o = 0; o < out; ++o)
      for (int64_t i = 0; i < in; ++i) wt[static_cast<size_t>(i * out + o)] = w[o * in + i];
    const std::string bias = floats(prefix + ".bias", {out}, b_.weight(prefix + ".bias"), static_cast<size_t>(out));
    if (precision_ == OrtPrecision::kFp32) {
      const std::string wn = floats(prefix + ".weight_t", {in, out}, wt.data(), wt.size());
      return op("Add", {op("MatMul", {x, wn}), bias});
    }
    float amax = 0;
    for (float v : wt) amax = std::max(amax, std::fabs(v));
    const float scale = amax > 0 ? amax / 127.0f : 1.0f;
    std::vector<int8_t> q(wt.size());
    for (size_t i = 0; i < wt.size(); ++i)
      q[i] = static_cast<int8_t>(std::clamp(std::lround(wt[i] / scale), -127L, 127L));
    const std::string wn = prefix + ".weight_q";
    g_.initializers.push_back({wn, DataType::kInt8, {in, out}, raw_bytes(q.data(), q.size())});
    const std::string sn = floats(prefix + ".weight_scale", {}, &scale, 1);
    const int8_t zero = 0;
    const std::string zn = prefix + ".weight_zero";
    g_.initializers.push_back({zn, DataType::kInt8, {}, raw_bytes(&zero, 1)});
    return op("DynamicQuantizeMatMul", {x, wn, sn, zn, bias}, {}, "com.microsoft");
  }

  std::string layer_norm(const std::string& x, const std::string& prefix, int64_t dim) {
    return op("LayerNormalization",
              {x, tensor_of(prefix + ".weight", static_cast<size_t>(dim)), tensor_of(prefix + ".bias", static_cast<size_t>(dim))},
              {attr_i("axis", -1), attr_f("epsilon", 1e-12f)});
  }

 private:
  const format::Bundle& b_;
  OrtPrecision precision_;
  onnx::Graph g_;
  int next_ = 0;
};

}  // namespace

onnx::Graph distilbert_onnx_graph(const format::Bundle& bundle, OrtPrecision precision) {
  const models::DistilBertConfig c = bundle.distilbert_config();
  const int64_t D = c.dim, H = c.n_heads, dh = c.dim / c.n_heads, F = c.hidden_dim;
  Builder g(bundle, precision);
  const std::string e = "distilbert.embeddings.";

  // Embeddings: word[ids] + position[0 .. seq), LayerNorm.
  const std::string word = g.floats(e + "word_embeddings.weight", {c.vocab_size, D}, bundle.weight(e + "word_embeddings.weight"),
                                    static_cast<size_t>(c.vocab_size * D));
  const std::string pos = g.floats(e + "position_embeddings.weight", {c.max_position_embeddings, D},
                                   bundle.weight(e + "position_embeddings.weight"), static_cast<size_t>(c.max_position_embeddings * D));
  const std::string seq = g.op("Gather", {g.op("Shape", {"input_ids"}), g.int64_scalar(1)}, {attr_i("axis", 0)});
  const std::string positions = g.op("Range", {g.int64_scalar(0), seq, g.int64_scalar(1)});
  std::string x = g.op("Add", {g.op("Gather", {word, "input_ids"}, {attr_i("axis", 0)}),
                               g.op("Gather", {pos, positions}, {attr_i("axis", 0)})});
  x = g.layer_norm(x, e + "LayerNorm", D);

  const std::string heads_shape = g.int64s({0, -1, H, dh}), merged_shape = g.int64s({0, -1, D});
  const std::string inv_sqrt_dh = g.scalar(1.0f / std::sqrt(static_cast<float>(dh)));
  for (int64_t i = 0; i < c.n_layers; ++i) {
    const std::string p = "distilbert.transformer.layer." + std::to_string(i) + ".";
    const auto heads = [&](const std::string& t, std::vector<int64_t> perm) {
      return g.op("Transpose", {g.op("Reshape", {t, heads_shape})}, {attr_ints("perm", std::move(perm))});
    };
    const std::string q = heads(g.op("Mul", {g.linear(x, p + "attention.q_lin", D, D), inv_sqrt_dh}), {0, 2, 1, 3});
    const std::string kt = heads(g.linear(x, p + "attention.k_lin", D, D), {0, 2, 3, 1});
    const std::string v = heads(g.linear(x, p + "attention.v_lin", D, D), {0, 2, 1, 3});
    const std::string probs = g.op("Softmax", {g.op("MatMul", {q, kt})}, {attr_i("axis", -1)});
    const std::string ctx = g.op("Reshape", {g.op("Transpose", {g.op("MatMul", {probs, v})}, {attr_ints("perm", {0, 2, 1, 3})}),
                                             merged_shape});
    x = g.layer_norm(g.op("Add", {g.linear(ctx, p + "attention.out_lin", D, D), x}), p + "sa_layer_norm", D);
    std::string h = g.linear(x, p + "ffn.lin1", F, D);
    if (c.activation == "gelu")  // 0.5 x (1 + erf(x / sqrt 2)): ORT fuses this into Gelu
      h = g.op("Mul", {g.op("Mul", {h, g.op("Add", {g.op("Erf", {g.op("Div", {h, g.scalar(std::sqrt(2.0f))})}), g.scalar(1.0f)})}),
                       g.scalar(0.5f)});
    else
      h = g.op("Relu", {h});
    x = g.layer_norm(g.op("Add", {g.linear(h, p + "ffn.lin2", D, F), x}), p + "output_layer_norm", D);
  }
  const std::string cls = g.op("Gather", {x, g.int64_scalar(0)}, {attr_i("axis", 1)});  // [1, D]
  const std::string pre = g.op("Relu", {g.linear(cls, "pre_classifier", D, D)});
  const std::string logits = g.linear(pre, "classifier", c.num_labels(), D);
  onnx::Graph& out = g.graph();
  out.nodes.push_back({"Identity", {logits}, {"logits"}, {}, ""});
  out.inputs.push_back({"input_ids", DataType::kInt64, {"1", "seq"}});
  out.outputs.push_back({"logits", DataType::kFloat, {"1", std::to_string(c.num_labels())}});
  return out;
}

}  // namespace rt3::cli
