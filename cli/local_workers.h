#pragma once
// `rt3 search --spawn-workers`: start the search's worker processes on this machine (this same
// executable, `rt3 search-worker ...`), and reap them when the search ends, however it ends.
#include <sys/types.h>

#include <string>
#include <vector>

namespace rt3::cli {

// A TCP port that is free on 127.0.0.1 right now (bind to port 0 and ask which one was given).
int free_local_port();

class LocalWorkers {
 public:
  // Starts `count` workers with ranks 1..count of count + 1, each with `threads` LibTorch threads,
  // its stdout and stderr in log_dir/worker_<rank>.log. Throws std::runtime_error when one cannot
  // start.
  LocalWorkers(int count, int port, const std::string& bp_dir, int threads, const std::string& log_dir);
  // Waits up to 30 s for every worker to exit (they return once the search releases them), then
  // kills what is left.
  ~LocalWorkers();
  LocalWorkers(const LocalWorkers&) = delete;
  LocalWorkers& operator=(const LocalWorkers&) = delete;

  // Kills the workers now (the search failed: nobody will release them) and reaps them.
  void terminate();
  // Exit status per worker after they ended (true = exited 0); waits like the destructor.
  std::vector<bool> wait();

 private:
  std::vector<pid_t> pids_;
  std::vector<bool> ok_;
};

}  // namespace rt3::cli
