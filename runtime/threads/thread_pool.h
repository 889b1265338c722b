#pragma once
// A small fixed-size thread pool owned by one engine (never global: two engines in one process
// must not share or fight over threads). parallel_for splits [0, n) into contiguous chunks, runs
// them on the pool's workers plus the calling thread, and returns when all are done.
// Thread-safety: one parallel_for at a time per pool (an engine serialises its own calls).
#include <cstdint>
#include <functional>

namespace rt3 {

class ThreadPool {
 public:
  explicit ThreadPool(int threads);  // threads >= 1; 1 = run everything on the caller
  ~ThreadPool();
  ThreadPool(const ThreadPool&) = delete;
  ThreadPool& operator=(const ThreadPool&) = delete;

  int size() const;
  // fn(begin, end) over chunks covering [0, n); at most size() chunks, each >= min_chunk items
  // (except when n < min_chunk).
  void parallel_for(int64_t n, const std::function<void(int64_t begin, int64_t end)>& fn, int64_t min_chunk = 1);

 private:
  struct Impl;
  Impl* impl_;
};

}  // namespace rt3
