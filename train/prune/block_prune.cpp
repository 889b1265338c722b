#include "train/prune/block_prune.h"

#include <algorithm>
#include <cmath>
#include <numeric>
#include <regex>
#include <stdexcept>

namespace rt3::prune {

int64_t num_row_blocks(const torch::Tensor& W, const BlockSpec& spec) {
  if (spec.block_rows < 1) throw std::invalid_argument("block_rows must be >= 1");
  if (W.dim() != 2) throw std::invalid_argument("block pruning needs a 2-D weight [out, in]");
  const int64_t out = W.size(0);
  return (out + spec.block_rows - 1) / spec.block_rows;
}

torch::Tensor group_norms(const torch::Tensor& W, const BlockSpec& spec) {
  const int64_t nb = num_row_blocks(W, spec);
  const int64_t out = W.size(0), in = W.size(1);
  const int64_t br = std::min(spec.block_rows, std::max<int64_t>(out, 1));
  const int64_t pad = nb * br - out;
  // Zero rows do not change any L2 norm, so pad the ragged block up to full height.
  torch::Tensor Wp = pad > 0 ? torch::constant_pad_nd(W, {0, 0, 0, pad}) : W;
  // linalg_vector_norm's backward gives 0 (not NaN) where the norm is 0.
  return torch::linalg_vector_norm(Wp.reshape({nb, br, in}), 2, {1}, false, c10::nullopt);
}

GroupLasso::GroupLasso(std::vector<torch::Tensor> ws, BlockSpec s, double lambda_, double eps_)
    : weights(std::move(ws)), spec(s), lambda(lambda_), eps(eps_) {
  reweight_now();
}

void GroupLasso::reweight_now() {
  torch::NoGradGuard ng;
  reweight.clear();
  reweight.reserve(weights.size());
  for (const auto& W : weights) reweight.push_back(1.0 / (group_norms(W.detach(), spec) + eps));
}

torch::Tensor GroupLasso::penalty() const {
  if (reweight.size() != weights.size()) throw std::logic_error("GroupLasso: call reweight_now() first");
  if (weights.empty()) return torch::zeros({});
  torch::Tensor total;
  for (size_t i = 0; i < weights.size(); ++i) {
    torch::Tensor t = (reweight[i] * group_norms(weights[i], spec)).sum();
    total = total.defined() ? total + t : t;
  }
  return lambda * total;
}

std::vector<std::pair<std::string, torch::Tensor>> prunable_linears(torch::nn::Module& module) {
  static const std::regex re(
      R"((^|.*\.)(layers|transformer\.layer)\.[0-9]+\.(attention\.(q_lin|k_lin|v_lin|out_lin)|ffn\.(lin1|lin2))\.weight$)");
  std::vector<std::pair<std::string, torch::Tensor>> out;
  for (const auto& p : module.named_parameters(/*recurse=*/true)) {
    if (p.value().dim() == 2 && std::regex_match(p.key(), re)) out.emplace_back(p.key(), p.value());
  }
  return out;
}

torch::Tensor block_mask(const torch::Tensor& W, const BlockSpec& spec, double sparsity) {
  if (!(sparsity >= 0.0 && sparsity <= 1.0)) throw std::invalid_argument("sparsity must be in [0, 1]");
  const int64_t nb = num_row_blocks(W, spec);
  const int64_t out = W.size(0), in = W.size(1);
  const int64_t numel = out * in;
  const auto opts = W.options().requires_grad(false);
  if (numel == 0) return torch::ones_like(W, opts);

  torch::Tensor norms;
  {
    torch::NoGradGuard ng;
    norms = group_norms(W.detach(), spec).to(torch::kCPU, torch::kDouble).contiguous();
  }
  const double* nv = norms.data_ptr<double>();
  const int64_t n_groups = nb * in;
  std::vector<int64_t> order(static_cast<size_t>(n_groups));
  std::iota(order.begin(), order.end(), int64_t{0});
  std::stable_sort(order.begin(), order.end(), [nv](int64_t a, int64_t b) { return nv[a] < nv[b]; });

  // Tiny slack so e.g. 0.7 * 100 (69.999...) still counts as 70.
  const int64_t budget = std::min<int64_t>(numel, static_cast<int64_t>(std::floor(sparsity * numel + 1e-9)));
  const int64_t last_rows = out - (nb - 1) * spec.block_rows;
  std::vector<float> keep(static_cast<size_t>(n_groups), 1.0f);
  int64_t pruned = 0;
  for (int64_t g : order) {
    if (pruned == budget) break;
    const int64_t rows = (g / in == nb - 1) ? last_rows : spec.block_rows;
    if (pruned + rows <= budget) {
      keep[static_cast<size_t>(g)] = 0.0f;
      pruned += rows;
    }
  }
  torch::Tensor gm = torch::from_blob(keep.data(), {nb, in}, torch::kFloat).clone();
  torch::Tensor m = gm.repeat_interleave(std::min(spec.block_rows, out), 0).narrow(0, 0, out);
  return m.to(opts.dtype(), /*non_blocking=*/false).to(W.device()).contiguous();
}

void MaskSet::apply() const {
  if (weights.size() != masks.size()) throw std::logic_error("MaskSet: weights and masks differ in count");
  torch::NoGradGuard ng;
  for (size_t i = 0; i < weights.size(); ++i) weights[i].mul_(masks[i]);
}

void MaskSet::zero_pruned_grads() const {
  if (weights.size() != masks.size()) throw std::logic_error("MaskSet: weights and masks differ in count");
  torch::NoGradGuard ng;
  for (size_t i = 0; i < weights.size(); ++i) {
    auto g = weights[i].mutable_grad();
    if (g.defined()) g.mul_(masks[i]);
  }
}

double MaskSet::sparsity() const {
  int64_t total = 0, zeros = 0;
  for (const auto& m : masks) {
    total += m.numel();
    zeros += m.numel() - m.count_nonzero().item<int64_t>();
  }
  return total == 0 ? 0.0 : static_cast<double>(zeros) / static_cast<double>(total);
}

MaskSet make_mask_set(const std::vector<torch::Tensor>& weights, const BlockSpec& spec, double sparsity) {
  MaskSet ms;
  ms.weights = weights;
  ms.masks.reserve(weights.size());
  for (const auto& W : weights) ms.masks.push_back(block_mask(W, spec, sparsity));
  return ms;
}

nlohmann::json sparsity_table(const std::vector<std::string>& names, const std::vector<torch::Tensor>& masks,
                              const BlockSpec& spec) {
  if (names.size() != masks.size()) throw std::invalid_argument("sparsity_table: names and masks differ in count");
  nlohmann::json layers = nlohmann::json::array();
  int64_t total = 0, zeros = 0;
  torch::NoGradGuard ng;
  for (size_t i = 0; i < masks.size(); ++i) {
    const auto& m = masks[i];
    const torch::Tensor norms = group_norms(m.to(torch::kFloat), spec);
    const int64_t n = m.numel(), z = n - m.count_nonzero().item<int64_t>();
    total += n;
    zeros += z;
    layers.push_back({{"name", names[i]},
                      {"rows", m.size(0)},
                      {"cols", m.size(1)},
                      {"groups", norms.numel()},
                      {"groups_kept", norms.count_nonzero().item<int64_t>()},
                      {"weight_sparsity", n == 0 ? 0.0 : static_cast<double>(z) / static_cast<double>(n)}});
  }
  return {{"block_rows", spec.block_rows},
          {"weight_sparsity", total == 0 ? 0.0 : static_cast<double>(zeros) / static_cast<double>(total)},
          {"layers", layers}};
}

}  // namespace rt3::prune
