#include "cli/onnx_lm.h"

#include <cmath>
#include <string>
#include <vector>

#include "runtime/format/bundle.h"
#include "runtime/model/config.h"

namespace rt3::cli {

onnx::Graph lm_onnx_graph(const format::Bundle& bundle, OrtPrecision precision) {
  using onnx::attr_i;
  const models::LmConfig c = bundle.lm_config();
  const int64_t D = c.d_model, H = c.n_heads, dh = c.d_model / c.n_heads, F = c.d_ff, L = c.max_len;
  const auto eps = static_cast<float>(c.layer_norm_eps);
  OnnxBuilder g(bundle, precision);

  const std::string tok = g.floats("tok_emb.weight", {c.vocab_size, D}, bundle.weight("tok_emb.weight"),
                                   static_cast<size_t>(c.vocab_size * D));
  const std::string pos = g.floats("pos_emb.weight", {L, D}, bundle.weight("pos_emb.weight"), static_cast<size_t>(L * D));
  const std::string seq = g.op("Gather", {g.op("Shape", {"input_ids"}), g.int64_scalar(1)}, {attr_i("axis", 0)});
  const std::string positions = g.op("Range", {g.int64_scalar(0), seq, g.int64_scalar(1)});
  std::string x = g.op("Add", {g.op("Gather", {tok, "input_ids"}, {attr_i("axis", 0)}),
                               g.op("Gather", {pos, positions}, {attr_i("axis", 0)})});

  // Causal mask: 0 on and below the diagonal, a large negative number above it, cut to [seq, seq].
  std::vector<float> causal(static_cast<size_t>(L * L), 0.0f);
  for (int64_t i = 0; i < L; ++i)
    for (int64_t j = i + 1; j < L; ++j) causal[static_cast<size_t>(i * L + j)] = -1e30f;
  const std::string seq1 = g.op("Unsqueeze", {seq, g.int64s({0})});
  const std::string ends = g.op("Concat", {seq1, seq1}, {attr_i("axis", 0)});
  const std::string mask = g.op("Slice", {g.floats("causal_mask", {L, L}, causal.data(), causal.size()), g.int64s({0, 0}), ends,
                                          g.int64s({0, 1})});

  const std::string inv_sqrt_dh = g.scalar(1.0f / std::sqrt(static_cast<float>(dh)));
  for (int64_t i = 0; i < c.n_layers; ++i) {
    const std::string p = "layers." + std::to_string(i) + ".";
    std::string h = g.layer_norm(x, p + "ln1", D, eps);
    const std::string q = g.split_heads(g.linear(h, p + "attention.q_lin", D, D), H, dh, false);
    const std::string kt = g.split_heads(g.linear(h, p + "attention.k_lin", D, D), H, dh, true);
    const std::string v = g.split_heads(g.linear(h, p + "attention.v_lin", D, D), H, dh, false);
    const std::string scores = g.op("Add", {g.op("Mul", {g.op("MatMul", {q, kt}), inv_sqrt_dh}), mask});
    const std::string ctx = g.merge_heads(g.op("MatMul", {g.op("Softmax", {scores}, {attr_i("axis", -1)}), v}), D);
    x = g.op("Add", {x, g.linear(ctx, p + "attention.out_lin", D, D)});
    h = g.gelu(g.linear(g.layer_norm(x, p + "ln2", D, eps), p + "ffn.lin1", F, D));
    x = g.op("Add", {x, g.linear(h, p + "ffn.lin2", D, F)});
  }
  x = g.layer_norm(x, "ln_f", D, eps);
  const std::string logits = g.linear(x, c.tie_weights ? "tok_emb.weight" : "head.weight", "", c.vocab_size, D);
  onnx::Graph& out = g.graph();
  out.nodes.push_back({"Identity", {logits}, {"logits"}, {}, ""});
  out.inputs.push_back({"input_ids", onnx::DataType::kInt64, {"1", "seq"}});
  out.outputs.push_back({"logits", onnx::DataType::kFloat, {"1", "seq", std::to_string(c.vocab_size)}});
  return out;
}

}  // namespace rt3::cli
