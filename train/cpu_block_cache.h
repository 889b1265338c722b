#pragma once
// A CPU allocator for LibTorch that keeps large freed blocks for reuse.
//
// Training frees and reallocates the same large activations and gradients every step. glibc
// serves blocks above its mmap threshold (32 MiB at most; the LM's logits are 64 MiB) with a
// fresh mmap each time and trims freed memory at the top of its heap, so every step faults in
// hundreds of MB of zeroed pages; on a VM a page fault is expensive. Why and how much it saves:
// docs/training.md "Memory allocator". Torch-free header.
#include <cstddef>
#include <cstdint>

namespace rt3::train {

struct CpuBlockCacheStats {
  uint64_t hits = 0;          // large allocations served from the cache
  uint64_t misses = 0;        // large allocations that went to the system
  std::size_t cached_bytes = 0;  // held now, free, waiting for reuse
  std::size_t cap_bytes = 0;     // never holds more than this
  std::size_t min_block_bytes = 0;  // smaller blocks are never cached
};

// Makes the cache LibTorch's CPU allocator for the rest of the process (idempotent, thread-safe).
// Tensors allocated before keep their own deleter, so installing late is safe.
void install_cpu_block_cache();

// Whether install_cpu_block_cache ran, and what the cache did so far.
bool cpu_block_cache_installed();
CpuBlockCacheStats cpu_block_cache_stats();

}  // namespace rt3::train
