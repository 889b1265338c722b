#pragma once
// A heap block with 64-byte alignment, so tensor data handed to SIMD kernels never straddles a
// cache line start by accident. Owned through unique_ptr: moving a SafetensorsFile keeps every
// TensorView::data pointer valid.

#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <memory>
#include <new>

namespace rt3::format {

class AlignedBuffer {
 public:
  static constexpr size_t kAlignment = 64;

  AlignedBuffer() = default;
  // Throws std::bad_alloc when the allocation fails.
  explicit AlignedBuffer(size_t size) : size_(size) {
    // aligned_alloc needs a size that is a multiple of the alignment (and non-zero).
    const size_t rounded = (size + kAlignment - 1) / kAlignment * kAlignment;
    if (rounded < size) throw std::bad_alloc();
    void* p = std::aligned_alloc(kAlignment, rounded == 0 ? kAlignment : rounded);
    if (p == nullptr) throw std::bad_alloc();
    ptr_.reset(static_cast<uint8_t*>(p));
  }

  uint8_t* data() { return ptr_.get(); }
  const uint8_t* data() const { return ptr_.get(); }
  size_t size() const { return size_; }

 private:
  struct FreeDeleter {
    void operator()(uint8_t* p) const { std::free(p); }
  };
  std::unique_ptr<uint8_t, FreeDeleter> ptr_;
  size_t size_ = 0;
};

}  // namespace rt3::format
