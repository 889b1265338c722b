#pragma once
// A Linear layer whatever its weights' storage: dense (DenseLinear) or block-pruned (BpLinear).
// The models hold Linears and never ask which one they got; the bundle decides.
#include <cstddef>
#include <cstdint>
#include <utility>
#include <variant>

#include "runtime/kernels/bp_linear.h"
#include "runtime/kernels/dense_linear.h"

namespace rt3 {
class ThreadPool;

namespace kernels {

class Linear {
 public:
  explicit Linear(DenseLinear dense) : impl_(std::move(dense)) {}
  explicit Linear(BpLinear bp) : impl_(std::move(bp)) {}

  // y = x W^T + b (x: [m, in], y: [m, out]). scratch: scratch_floats(m) floats or null (see
  // BpLinear::forward; dense layers need none).
  void forward(const float* x, int64_t m, float* y, ThreadPool* pool, float* scratch = nullptr) const {
    if (auto* d = std::get_if<DenseLinear>(&impl_)) d->forward(x, m, y, pool);
    else std::get<BpLinear>(impl_).forward(x, m, y, pool, scratch);
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
};

}  // namespace kernels
}  // namespace rt3
