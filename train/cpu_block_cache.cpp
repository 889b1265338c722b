#include "train/cpu_block_cache.h"

#include <c10/core/CPUAllocator.h>
#include <unistd.h>

#include <atomic>
#include <cstdlib>
#include <mutex>
#include <unordered_map>
#include <vector>

namespace rt3::train {
namespace {

// Every block starts with a header that records its capacity, so a free needs no lookup. 64
// bytes keeps the data at LibTorch's alignment (c10::gAlignment).
constexpr std::size_t kAlignment = 64;
constexpr std::size_t kHeader = 64;
constexpr std::size_t kMinCachedBytes = std::size_t{256} << 10;  // glibc reuses smaller ones well

// Large requests round up to one of 8 classes per power of two (<= 12.5 % slack), so a batch
// whose padded length changes from step to step still finds a block.
std::size_t size_class(std::size_t n) {
  if (n < kMinCachedBytes) return n;
  std::size_t p = kMinCachedBytes;
  while (p <= n / 2) p *= 2;  // the largest power of two <= n
  const std::size_t step = p / 8;
  return (n + step - 1) / step * step;
}

std::size_t cache_cap() {  // a quarter of the RAM: the cache holds one step's working set
  const long pages = sysconf(_SC_PHYS_PAGES), page = sysconf(_SC_PAGESIZE);
  if (pages <= 0 || page <= 0) return std::size_t{1} << 30;
  return static_cast<std::size_t>(pages) * static_cast<std::size_t>(page) / 4;
}

void release_block(void* data);

class CpuBlockCache final : public c10::Allocator {
 public:
  c10::DataPtr allocate(std::size_t n) const override {
    void* data = take(n);
    return {data, data, &release_block, c10::Device(c10::DeviceType::CPU)};
  }
  c10::DeleterFnPtr raw_deleter() const override { return &release_block; }

  // DataPtr's context must equal its data for raw_allocate, so the data pointer is the context.
  void* take(std::size_t n) const {
    if (n == 0) return nullptr;
    const std::size_t cls = size_class(n);
    if (cls >= kMinCachedBytes) {
      std::lock_guard<std::mutex> lock(mutex_);
      auto it = free_.find(cls);
      if (it != free_.end() && !it->second.empty()) {
        void* data = it->second.back();
        it->second.pop_back();
        cached_bytes_ -= cls;
        ++hits_;
        return data;
      }
      ++misses_;
    }
    void* base = nullptr;
    if (posix_memalign(&base, kAlignment, kHeader + cls) != 0) {
      drop_all();  // the cache may hold what the system now lacks
      TORCH_CHECK(posix_memalign(&base, kAlignment, kHeader + cls) == 0, "rt3 CPU allocator: out of memory allocating ",
                  n, " bytes");
    }
    *static_cast<std::size_t*>(base) = cls;
    return static_cast<char*>(base) + kHeader;
  }

  void give_back(void* data) const {
    if (data == nullptr) return;
    void* base = static_cast<char*>(data) - kHeader;
    const std::size_t cls = *static_cast<std::size_t*>(base);
    if (cls >= kMinCachedBytes) {
      std::lock_guard<std::mutex> lock(mutex_);
      if (cached_bytes_ + cls <= cap_) {
        free_[cls].push_back(data);
        cached_bytes_ += cls;
        return;
      }
    }
    std::free(base);
  }

  CpuBlockCacheStats stats() const {
    std::lock_guard<std::mutex> lock(mutex_);
    return {hits_, misses_, cached_bytes_, cap_, kMinCachedBytes};
  }

 private:
  void drop_all() const {
    std::lock_guard<std::mutex> lock(mutex_);
    for (auto& [cls, blocks] : free_)
      for (void* data : blocks) std::free(static_cast<char*>(data) - kHeader);
    free_.clear();
    cached_bytes_ = 0;
  }

  const std::size_t cap_ = cache_cap();
  mutable std::mutex mutex_;
  mutable std::unordered_map<std::size_t, std::vector<void*>> free_;
  mutable std::size_t cached_bytes_ = 0;
  mutable uint64_t hits_ = 0, misses_ = 0;
};

// One per process, like LibTorch's own CPU allocator; never destroyed, since tensors held by
// static objects may be freed after main returns.
CpuBlockCache& the_cache() {
  static auto* cache = new CpuBlockCache();
  return *cache;
}

void release_block(void* data) { the_cache().give_back(data); }

std::once_flag installed_flag;
std::atomic<bool> installed{false};

}  // namespace

void install_cpu_block_cache() {
  std::call_once(installed_flag, [] {
    c10::SetCPUAllocator(&the_cache(), /*priority=*/1);  // above the default's 0
    installed = true;
  });
}

bool cpu_block_cache_installed() { return installed.load(); }

CpuBlockCacheStats cpu_block_cache_stats() { return the_cache().stats(); }

}  // namespace rt3::train
