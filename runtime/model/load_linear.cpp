#include "runtime/model/load_linear.h"

#include <algorithm>

#include "runtime/format/bundle.h"

namespace rt3::models {

kernels::Linear load_linear(const format::Bundle& b, const std::string& prefix, int64_t out, int64_t in) {
  const std::string w = prefix + ".weight";
  const float* bias = b.weight(prefix + ".bias");
  if (b.is_block_pruned(w)) return kernels::Linear(kernels::BpLinear(b.bp_weights(w), bias));
  kernels::Linear lin(kernels::DenseLinear(b.weight(w), bias, out, in));
  // Every pattern variant that prunes this weight, packed now (variant i + 1 = the i-th pattern
  // variant in metadata order). The loader guarantees such weights are stored dense.
  const std::vector<const format::BundleVariant*> variants = b.pattern_variants();
  for (size_t i = 0; i < variants.size(); ++i) {
    const auto& layers = variants[i]->layers;
    if (std::find(layers.begin(), layers.end(), w) == layers.end()) continue;
    lin.set_variant(static_cast<int>(i) + 1,
                    kernels::PatternLinear(b.weight(w), bias, b.pattern_weights(variants[i]->name, w)));
  }
  return lin;
}

}  // namespace rt3::models
