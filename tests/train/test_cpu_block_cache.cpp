// The CPU block cache (train/cpu_block_cache.h): large blocks come back for reuse, small ones
// bypass it, the raw allocate/deallocate pair works, and tensors keep their values.
#include <gtest/gtest.h>
#include <c10/core/CPUAllocator.h>
#include <torch/torch.h>

#include "train/cpu_block_cache.h"

namespace rt3::train {
namespace {

TEST(CpuBlockCache, ReusesALargeBlockOfTheSameSizeClass) {
  install_cpu_block_cache();
  ASSERT_TRUE(cpu_block_cache_installed());
  const auto before = cpu_block_cache_stats();
  void* first = nullptr;
  {
    torch::Tensor t = torch::empty({(1 << 20) + 1000});  // just over 4 MiB
    first = t.data_ptr();
    EXPECT_EQ(reinterpret_cast<uintptr_t>(first) % 64, 0u);
  }
  EXPECT_GE(cpu_block_cache_stats().cached_bytes, std::size_t{4} << 20);
  // A slightly larger request falls in the same class (8 classes per power of two).
  torch::Tensor again = torch::empty({(1 << 20) + 2000});
  EXPECT_EQ(again.data_ptr(), first);
  const auto after = cpu_block_cache_stats();
  EXPECT_GE(after.hits, before.hits + 1);
  EXPECT_LE(after.cached_bytes, after.cap_bytes);
}

TEST(CpuBlockCache, SmallBlocksBypassTheCache) {
  install_cpu_block_cache();
  const auto before = cpu_block_cache_stats();
  for (int i = 0; i < 100; ++i) torch::Tensor t = torch::ones({1000});
  const auto after = cpu_block_cache_stats();
  EXPECT_EQ(after.hits, before.hits);
  EXPECT_EQ(after.misses, before.misses);
  EXPECT_EQ(after.cached_bytes, before.cached_bytes);
}

TEST(CpuBlockCache, RawAllocateAndDeallocateRoundTrip) {
  install_cpu_block_cache();
  c10::Allocator* a = c10::GetCPUAllocator();
  ASSERT_NE(a->raw_deleter(), nullptr);
  for (std::size_t n : {std::size_t{0}, std::size_t{100}, std::size_t{3} << 20}) {
    void* p = a->raw_allocate(n);
    if (n > 0) static_cast<char*>(p)[n - 1] = 1;  // writable to the end
    a->raw_deallocate(p);
  }
}

TEST(CpuBlockCache, ReusedBlocksDoNotChangeResults) {
  install_cpu_block_cache();
  torch::manual_seed(7);
  const torch::Tensor a = torch::randn({512, 700}), b = torch::randn({700, 600});
  const torch::Tensor first = torch::matmul(a, b).clone();
  for (int i = 0; i < 3; ++i) {
    torch::Tensor junk = torch::full({512, 600}, 123.0f);  // leaves values in a cached block
  }
  EXPECT_TRUE(torch::equal(torch::matmul(a, b), first));
}

}  // namespace
}  // namespace rt3::train
