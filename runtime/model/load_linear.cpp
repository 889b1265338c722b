#include "runtime/model/load_linear.h"

#include "runtime/format/bundle.h"

namespace rt3::models {

kernels::Linear load_linear(const format::Bundle& b, const std::string& prefix, int64_t out, int64_t in) {
  const std::string w = prefix + ".weight";
  const float* bias = b.weight(prefix + ".bias");
  if (b.is_block_pruned(w)) return kernels::Linear(kernels::BpLinear(b.bp_weights(w), bias));
  return kernels::Linear(kernels::DenseLinear(b.weight(w), bias, out, in));
}

}  // namespace rt3::models
