#pragma once
// Block-structured pruning (BP) primitives, docs/design.md "Stage 2: block-structured pruning" (Li
// et al., EMNLP Findings 2020).
//
// A Linear weight W[out, in] is cut into row blocks of `block_rows` consecutive output rows; the
// last block is shorter when out % block_rows != 0 ("ragged"). A *group* is one input column
// inside one row block: the column segment W[b*block_rows : min((b+1)*block_rows, out), c].
// Group norms are laid out [n_blocks, in], n_blocks = ceil(out / block_rows).
//
// Training adds a reweighted group-lasso penalty (GroupLasso), then block_mask() hard-prunes the
// smallest-norm groups and MaskSet keeps them exactly zero during fine-tuning.
// Only train/ includes this header (it includes torch).
#include <torch/torch.h>

#include <nlohmann/json.hpp>
#include <string>
#include <utility>
#include <vector>

namespace rt3::prune {

struct BlockSpec {
  int64_t block_rows = 16;  // must be >= 1; >= out means one block per column (whole columns)
};

// ceil(out / block_rows); throws std::invalid_argument for block_rows < 1 or a non-2-D W.
int64_t num_row_blocks(const torch::Tensor& W, const BlockSpec& spec);

// L2 norm of every group: [n_blocks, in]. Differentiable w.r.t. W (zero-norm groups get a zero
// subgradient, not NaN).
torch::Tensor group_norms(const torch::Tensor& W, const BlockSpec& spec);

// Reweighted group lasso: penalty = lambda * sum_layers sum_groups rew_g * ||W_g||_2 with
// rew_g = 1 / (||W_g||_2 + eps), held constant (no grad) between calls to reweight_now().
// Right after reweight_now() each group contributes ~1 * lambda if its norm >> eps and ~0 if
// it is already zero, so the penalty approximates lambda * (number of nonzero groups).
struct GroupLasso {
  std::vector<torch::Tensor> weights;   // the prunable weights (shared with the model)
  std::vector<torch::Tensor> reweight;  // one [n_blocks, in] tensor per weight, no grad
  BlockSpec spec;
  double lambda = 1e-4;
  double eps = 1e-3;

  GroupLasso() = default;
  // Computes the initial reweighting from the current weights.
  explicit GroupLasso(std::vector<torch::Tensor> ws, BlockSpec s = {}, double lambda_ = 1e-4, double eps_ = 1e-3);

  void reweight_now();            // rew_g = 1/(||W_g|| + eps), computed under NoGradGuard
  torch::Tensor penalty() const;  // scalar, differentiable w.r.t. weights; throws if not reweighted
};

// Every Linear weight inside a Transformer layer: names like
//   layers.N.attention.{q,k,v,out}_lin.weight, layers.N.ffn.lin{1,2}.weight              (LM)
//   distilbert.transformer.layer.N.attention.{q,k,v,out}_lin.weight, ...ffn.lin{1,2}.weight
// Never embeddings, LayerNorms, biases, head, pre_classifier or classifier. Order: that of
// named_parameters() (layer by layer). The tensors alias the module's parameters.
std::vector<std::pair<std::string, torch::Tensor>> prunable_linears(torch::nn::Module& module);

// 0/1 mask (W's dtype and device, W's shape) that zeroes whole groups.
// Rule: sort the groups by norm ascending (ties: lower flat index b*in + c first, so the result
// is deterministic); budget = floor(sparsity * numel); walk the sorted list and prune a group if
// it still fits in the budget (pruned weights + group size <= budget), otherwise skip it and go
// on (only the ragged last block's groups are smaller, so they may still fill the remainder).
// So the pruned weight fraction never exceeds `sparsity`, and with no ragged block it equals
// floor(sparsity*numel / block_rows) * block_rows / numel. sparsity 0 -> all ones, 1 -> all
// zeros. Throws std::invalid_argument if sparsity is outside [0, 1].
torch::Tensor block_mask(const torch::Tensor& W, const BlockSpec& spec, double sparsity);

// Fixed masks for fine-tuning. masks[i] has weights[i]'s shape; weights alias the model.
struct MaskSet {
  std::vector<torch::Tensor> weights, masks;

  // W.mul_(mask) under NoGradGuard. Call after every optimizer step: AdamW's moments and weight
  // decay would otherwise move pruned weights off zero. Pruned weights become exactly 0.0.
  void apply() const;
  // grad.mul_(mask) for weights that have a gradient: call between backward() and step().
  void zero_pruned_grads() const;
  // Fraction of zero entries over all masks (pruned weights / total weights).
  double sparsity() const;
};

// One block_mask per weight, all at the same per-layer `sparsity`.
MaskSet make_mask_set(const std::vector<torch::Tensor>& weights, const BlockSpec& spec, double sparsity);

// Per-layer table:
// {"block_rows": B, "weight_sparsity": total, "layers": [{"name", "rows", "cols", "groups",
//   "groups_kept", "weight_sparsity"}, ...]}. A group is kept if any of its mask entries is
// nonzero. Throws std::invalid_argument if names and masks differ in length.
nlohmann::json sparsity_table(const std::vector<std::string>& names, const std::vector<torch::Tensor>& masks,
                              const BlockSpec& spec);

}  // namespace rt3::prune
