#pragma once
// Builds the Linear a bundle holds under `prefix` (prefix.weight + prefix.bias): block-pruned
// when the bundle stores the weight that way, dense otherwise; plus one packed PatternLinear per
// pattern variant of the bundle that prunes the weight (variant index = 1 + its position among
// Bundle::pattern_variants()).
#include <cstdint>
#include <string>

#include "runtime/kernels/linear.h"

namespace rt3 {
namespace format {
class Bundle;
}
namespace models {

kernels::Linear load_linear(const format::Bundle& b, const std::string& prefix, int64_t out, int64_t in);

}  // namespace models
}  // namespace rt3
