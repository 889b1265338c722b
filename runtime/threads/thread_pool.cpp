// ThreadPool: threads-1 persistent workers plus the calling thread.
//
// Handshake: the caller publishes a job (fn, n, chunk count) and bumps `generation_` under the
// mutex; workers spin briefly on `generation_` (a kernel call is often only tens of microseconds,
// and a futex wake-up costs about as much), then sleep on a condition variable. Chunks are
// handed out with an atomic counter, so a late worker simply finds nothing left to do. The
// caller runs chunks too, then waits (spin, then sleep) until every worker has checked out.
//
// Memory ordering (Arm is weakly ordered, x86 is not, so it must not lean on x86's TSO): the
// plain job fields are published by the seq_cst `generation` bump (a release) and read after an
// acquire load of it; a worker's results are released by its seq_cst `pending` decrement and
// acquired by the caller's load that sees 0; both sleep hand-offs are store-then-load pairs on
// two seq_cst atomics with the waker taking the mutex, so neither side can miss the other.
//
// No OpenMP: its process-global pool would be shared between engines, and its busy-waiting
// threads collapse when another process takes a core. The spin here is short and bounded.
#include "runtime/threads/thread_pool.h"

#include <algorithm>
#include <atomic>
#include <condition_variable>
#include <exception>
#include <mutex>
#include <stdexcept>
#include <thread>
#include <vector>

namespace rt3 {

namespace {
// Bounded spin before sleeping: ~tens of microseconds of polling. Every few polls the spinner
// yields: the kernel often wakes a worker on the waker's CPU (wake-affine), and a caller that
// spins without yielding would keep it off that CPU until the spin ends.
constexpr int kSpinIterations = 1 << 14;
constexpr int kYieldEvery = 64;

template <class Pred>
bool SpinUntil(Pred done) {
  for (int i = 0; i < kSpinIterations; ++i) {
    if (done()) return true;
    if ((i % kYieldEvery) == kYieldEvery - 1) std::this_thread::yield();
  }
  return done();
}
}  // namespace

struct ThreadPool::Impl {
  int threads = 1;
  std::vector<std::thread> workers;

  std::mutex mu;                 // guards sleeping/waking; generation_ is bumped under it
  std::condition_variable cv_work;
  std::condition_variable cv_done;
  alignas(64) std::atomic<uint64_t> generation{0};
  std::atomic<bool> stop{false};  // set (before a generation bump) only by the destructor
  // Sleep bookkeeping (seq_cst, Dekker style): a worker registers in `sleepers` before its last
  // check of `generation`; the caller bumps `generation` before reading `sleepers`. So either the
  // worker sees the new job or the caller sees the sleeper and takes the mutex to wake it; while
  // everybody spins, the hand-off costs no lock and no syscall.
  std::atomic<int> sleepers{0};
  std::atomic<bool> caller_sleeping{false};

  std::mutex job_mu;             // one parallel_for at a time; a nested/concurrent call runs serially

  // The current job (valid while a generation is in flight).
  const std::function<void(int64_t, int64_t)>* fn = nullptr;
  int64_t n = 0;
  int64_t chunks = 0;
  alignas(64) std::atomic<int64_t> next_chunk{0};
  alignas(64) std::atomic<int> pending{0};// workers that have not yet finished the current generation
  alignas(64) std::atomic<bool> failed{false};
  std::mutex err_mu;
  std::exception_ptr error;

  void run_chunks() {
    for (;;) {
      const int64_t c = next_chunk.fetch_add(1, std::memory_order_relaxed);
      if (c >= chunks) return;
      if (failed.load(std::memory_order_relaxed)) continue;  // drain: skip work after an error
      const int64_t begin = n * c / chunks;
      const int64_t end = n * (c + 1) / chunks;
      try {
        (*fn)(begin, end);
      } catch (...) {
        std::lock_guard<std::mutex> lk(err_mu);
        if (!error) error = std::current_exception();
        failed.store(true, std::memory_order_relaxed);
      }
    }
  }

  void worker_loop() {
    uint64_t seen = 0;
    for (;;) {
      uint64_t g = seen;
      if (!SpinUntil([&] { return (g = generation.load(std::memory_order_acquire)) != seen; })) {
        std::unique_lock<std::mutex> lk(mu);
        sleepers.fetch_add(1, std::memory_order_seq_cst);
        cv_work.wait(lk, [&] { return generation.load(std::memory_order_seq_cst) != seen; });
        sleepers.fetch_sub(1, std::memory_order_relaxed);
        g = generation.load(std::memory_order_acquire);
      }
      seen = g;
      if (stop.load(std::memory_order_acquire)) return;
      run_chunks();
      if (pending.fetch_sub(1, std::memory_order_seq_cst) == 1 && caller_sleeping.load(std::memory_order_seq_cst)) {
        std::lock_guard<std::mutex> lk(mu);  // pairs with the caller's predicate check
        cv_done.notify_one();
      }
    }
  }

  // Publishes a generation bump (the job fields, or stop, were written before).
  void wake_workers() {
    generation.fetch_add(1, std::memory_order_seq_cst);
    if (sleepers.load(std::memory_order_seq_cst) > 0) {
      { std::lock_guard<std::mutex> lk(mu); }  // a registered sleeper is inside wait() or before it re-checks
      cv_work.notify_all();
    }
  }
};

ThreadPool::ThreadPool(int threads) : impl_(new Impl) {
  if (threads < 1) {
    delete impl_;
    throw std::invalid_argument("ThreadPool: threads must be >= 1");
  }
  impl_->threads = threads;
  try {
    impl_->workers.reserve(static_cast<size_t>(threads - 1));
    for (int i = 1; i < threads; ++i) impl_->workers.emplace_back([p = impl_] { p->worker_loop(); });
  } catch (...) {
    impl_->stop.store(true, std::memory_order_release);
    impl_->wake_workers();
    for (auto& t : impl_->workers) t.join();
    delete impl_;
    throw;
  }
}

ThreadPool::~ThreadPool() {
  impl_->stop.store(true, std::memory_order_release);
  impl_->wake_workers();
  for (auto& t : impl_->workers) t.join();
  delete impl_;
}

int ThreadPool::size() const { return impl_->threads; }

void ThreadPool::parallel_for(int64_t n, const std::function<void(int64_t, int64_t)>& fn, int64_t min_chunk) {
  if (n <= 0) return;
  if (min_chunk < 1) min_chunk = 1;
  Impl& p = *impl_;
  const int64_t max_chunks = std::max<int64_t>(1, n / min_chunk);
  const int64_t chunks = std::min<int64_t>(p.threads, max_chunks);
  if (chunks <= 1 || p.workers.empty()) {
    fn(0, n);
    return;
  }
  std::unique_lock<std::mutex> job(p.job_mu, std::try_to_lock);
  if (!job.owns_lock()) {
    // Nested call from inside fn, or a second thread using the same pool: run serially on the
    // caller, in the same chunks (so callers that size scratch per chunk still fit).
    for (int64_t c = 0; c < chunks; ++c) fn(n * c / chunks, n * (c + 1) / chunks);
    return;
  }
  p.fn = &fn;
  p.n = n;
  p.chunks = chunks;
  p.next_chunk.store(0, std::memory_order_relaxed);
  p.failed.store(false, std::memory_order_relaxed);
  p.error = nullptr;
  p.pending.store(static_cast<int>(p.workers.size()), std::memory_order_relaxed);
  p.wake_workers();

  p.run_chunks();

  if (!SpinUntil([&] { return p.pending.load(std::memory_order_acquire) == 0; })) {
    std::unique_lock<std::mutex> lk(p.mu);
    p.caller_sleeping.store(true, std::memory_order_seq_cst);
    p.cv_done.wait(lk, [&] { return p.pending.load(std::memory_order_seq_cst) == 0; });
    p.caller_sleeping.store(false, std::memory_order_relaxed);
  }
  p.fn = nullptr;
  if (p.error) {
    std::exception_ptr e = p.error;
    p.error = nullptr;
    std::rethrow_exception(e);
  }
}

}  // namespace rt3
