#pragma once
// `rt3 search` (docs/design.md "Stage 4: search"), torch-free interface for the CLI. For every DVFS
// level of a device profile it searches the pruning number and the candidate patterns of that
// level's set, so that every level meets the latency deadline and accuracy stays as high as
// possible; then it fine-tunes the best candidate's sets jointly and writes them as a pattern run
// directory whose rt3_prune.json maps every level to its set (rt3 export turns it into the bundle).
#include <cstdint>
#include <functional>
#include <string>

#include <nlohmann/json.hpp>

namespace rt3::train {

struct SearchRequest {
  std::string bp_dir;          // block-pruned run directory (rt3 prune bp)
  std::string profile_path;    // device profile (profiles/*.json)
  std::string latency_path;    // latency table of the BP model's bundle (rt3 profile)
  std::string out_dir;
  double deadline_ms = 0;
  std::string method = "rl";   // rl | random | greedy
  int episodes = 40;           // candidates sampled (the budget every method gets)
  uint64_t seed = 1;
  int64_t finetune_steps = 4;  // joint fine-tune steps per evaluated candidate
  int64_t finetune_batch = 8;  // their batch size (0 = the BP run's own)
  int64_t eval_examples = 128; // validation examples per set and candidate
  int64_t final_steps = 100;   // joint fine-tune of the best candidate
  double cycle_scale = 1.0;    // device cycles per host cycle (assumption, see docs/search.md)
  double latency_weight = 0.1;
  int patterns_per_set = 4;
  int candidates = 10;
  double entropy_weight = 0.01;
  double controller_lr = 0.05;  // chosen on a seed outside the docs/search.md comparison
  bool share_heads = true;     // RL: one head for every candidate decision (docs/search.md)
  std::string credit = "level"; // RL: "level" (each level's decisions by that level's reward) or "total"
  int batch = 0;               // candidates per round (one controller update, evaluated in parallel);
                               // 0 = one per process (1 + workers)
  bool resume = false;
  int threads = 2;
  // Scale-out (docs/search.md): this many `rt3 search-worker` processes join at master_addr:
  // master_port and evaluate candidates of a round in parallel with this one. 0 = all here.
  int workers = 0;
  std::string master_addr = "127.0.0.1";
  int master_port = 29531;
  double worker_timeout_s = 1800;  // longest wait for workers to join or for a reply
  std::function<void(const std::string&)> on_message;
  // episode (1-based), episodes, reward, best reward so far, seconds elapsed
  std::function<void(int, int, double, double, double)> on_episode;
  std::function<void(int64_t, int64_t, double)> on_final_step;
};

// Returns the summary (also written to <out>/search.json). Throws std::runtime_error with a clear
// message on bad input (deadline that cannot be met, missing files, ...).
nlohmann::json run_search(const SearchRequest& req);

// `rt3 search-worker`: joins the search at master_addr:master_port as worker `rank` of
// `world_size` - 1, evaluates the candidates it is sent on its copy of the starting weights
// (bp_dir), returns when the search releases it. Throws std::runtime_error when it cannot join or
// the search goes away.
struct SearchWorkerRequest {
  std::string bp_dir;
  std::string master_addr = "127.0.0.1";
  int master_port = 29531;
  int rank = 1;
  int world_size = 2;
  double timeout_s = 1800;
  int threads = 1;
  std::function<void(const std::string&)> on_message;
};
void run_search_worker(const SearchWorkerRequest& req);

// The space a request would search, without training anything (for --dry-run and tests).
nlohmann::json describe_search_space(const SearchRequest& req);

}  // namespace rt3::train
