#pragma once
// A Linear layer whatever its weights' storage: dense (DenseLinear) or block-pruned (BpLinear).
// The models hold Linears and never ask which one they got; the bundle decides.
//
// Run-time variants (docs/design.md "Run time"): besides its base kernel a Linear may hold one
// PatternLinear per pattern-set variant that prunes it, all packed at load. forward() takes the
// variant index (0 = base, 1..K = the bundle's pattern variants in metadata order); a variant
// that does not prune this layer runs the base kernel. Nothing here is mutable after load, so
// any number of threads may run forward() with different variants at the same time.
#include <cstddef>
#include <cstdint>
#include <memory>
#include <stdexcept>
#include <utility>
#include <variant>
#include <vector>

#include "runtime/kernels/bp_linear.h"
#include "runtime/kernels/dense_linear.h"
#include "runtime/kernels/pattern_linear.h"

namespace rt3 {
class ThreadPool;

namespace kernels {

class Linear {
 public:
  explicit Linear(DenseLinear dense) : impl_(std::move(dense)) {}
  explicit Linear(BpLinear bp) : impl_(std::move(bp)) {}

  // y = x W^T + b (x: [m, in], y: [m, out]). scratch: scratch_floats(m) floats or null (see
  // BpLinear::forward; dense and pattern kernels need none). variant: see above.
  void forward(const float* x, int64_t m, float* y, ThreadPool* pool, float* scratch = nullptr, int variant = 0) const {
    if (const PatternLinear* p = pattern(variant)) p->forward(x, m, y, pool);
    else if (auto* d = std::get_if<DenseLinear>(&impl_)) d->forward(x, m, y, pool);
    else std::get<BpLinear>(impl_).forward(x, m, y, pool, scratch);
  }
  // Registers the kernel of variant `index` (>= 1) for this layer. Load time only.
  void set_variant(int index, PatternLinear kernel) {
    if (index < 1) throw std::invalid_argument("Linear::set_variant: index must be >= 1");
    if (kernel.in_features() != in_features() || kernel.out_features() != out_features())
      throw std::invalid_argument("Linear::set_variant: the pattern kernel's shape differs from the layer's");
    if (variants_.size() < static_cast<size_t>(index)) variants_.resize(static_cast<size_t>(index));
    variants_[static_cast<size_t>(index) - 1] = std::make_unique<PatternLinear>(std::move(kernel));
  }
  // The pattern kernel variant `index` runs here, or null when it runs the base kernel.
  const PatternLinear* pattern(int variant) const {
    if (variant < 1 || static_cast<size_t>(variant) > variants_.size()) return nullptr;
    return variants_[static_cast<size_t>(variant) - 1].get();
  }
  // Bytes and kernel name of what `variant` runs on this layer.
  size_t packed_bytes(int variant) const {
    const PatternLinear* p = pattern(variant);
    return p ? p->packed_bytes() : packed_bytes();
  }
  const char* kernel_name(int variant) const {
    const PatternLinear* p = pattern(variant);
    return p ? p->kernel_name() : kernel_name();
  }
  size_t scratch_floats(int64_t m) const {
    auto* b = std::get_if<BpLinear>(&impl_);
    return b ? b->scratch_floats(m) : 0;
  }
  bool is_block_pruned() const { return std::holds_alternative<BpLinear>(impl_); }
  int64_t in_features() const { return std::visit([](const auto& l) { return l.in_features(); }, impl_); }
  int64_t out_features() const { return std::visit([](const auto& l) { return l.out_features(); }, impl_); }
  size_t packed_bytes() const { return std::visit([](const auto& l) { return l.packed_bytes(); }, impl_); }
  const char* kernel_name() const { return std::visit([](const auto& l) { return l.kernel_name(); }, impl_); }

 private:
  std::variant<DenseLinear, BpLinear> impl_;
  std::vector<std::unique_ptr<PatternLinear>> variants_;  // [variant - 1], null = base kernel
};

}  // namespace kernels
}  // namespace rt3
