#include "cli/onnx_distilbert.h"

#include <cmath>
#include <stdexcept>

#include "cli/onnx_builder.h"
#include "runtime/format/bundle.h"
#include "runtime/model/config.h"

namespace rt3::cli {

onnx::Graph distilbert_onnx_graph(const format::Bundle& bundle, OrtPrecision precision) {
  using onnx::attr_i;
  const models::DistilBertConfig c = bundle.distilbert_config();
  const int64_t D = c.dim, H = c.n_heads, dh = c.dim / c.n_heads, F = c.hidden_dim;
  constexpr float kEps = 1e-12f;  // HF DistilBERT's (runtime/model/distilbert.cpp)
  OnnxBuilder g(bundle, precision);
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
  x = g.layer_norm(x, e + "LayerNorm", D, kEps);

  const std::string inv_sqrt_dh = g.scalar(1.0f / std::sqrt(static_cast<float>(dh)));
  for (int64_t i = 0; i < c.n_layers; ++i) {
    const std::string p = "distilbert.transformer.layer." + std::to_string(i) + ".";
    const std::string q = g.split_heads(g.op("Mul", {g.linear(x, p + "attention.q_lin", D, D), inv_sqrt_dh}), H, dh, false);
    const std::string kt = g.split_heads(g.linear(x, p + "attention.k_lin", D, D), H, dh, true);
    const std::string v = g.split_heads(g.linear(x, p + "attention.v_lin", D, D), H, dh, false);
    const std::string probs = g.op("Softmax", {g.op("MatMul", {q, kt})}, {attr_i("axis", -1)});
    const std::string ctx = g.merge_heads(g.op("MatMul", {probs, v}), D);
    x = g.layer_norm(g.op("Add", {g.linear(ctx, p + "attention.out_lin", D, D), x}), p + "sa_layer_norm", D, kEps);
    std::string h = g.linear(x, p + "ffn.lin1", F, D);
    h = c.activation == "gelu" ? g.gelu(h) : g.op("Relu", {h});
    x = g.layer_norm(g.op("Add", {g.linear(h, p + "ffn.lin2", D, F), x}), p + "output_layer_norm", D, kEps);
  }
  const std::string cls = g.op("Gather", {x, g.int64_scalar(0)}, {attr_i("axis", 1)});  // [1, D]
  const std::string pre = g.op("Relu", {g.linear(cls, "pre_classifier", D, D)});
  const std::string logits = g.linear(pre, "classifier", c.num_labels(), D);
  onnx::Graph& out = g.graph();
  out.nodes.push_back({"Identity", {logits}, {"logits"}, {}, ""});
  out.inputs.push_back({"input_ids", onnx::DataType::kInt64, {"1", "seq"}});
  out.outputs.push_back({"logits", onnx::DataType::kFloat, {"1", std::to_string(c.num_labels())}});
  return out;
}

}  // namespace rt3::cli
