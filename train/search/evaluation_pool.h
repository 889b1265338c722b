#pragma once
// The candidate evaluations of a search round, spread over this process and the workers connected
// through an EvalTransport (docs/search.md "Scale-out"). Rank 0 sends each worker a setup message
// once (the evaluator options and pruning numbers, so every rank builds the same candidates from
// its own copy of the starting weights), then per round one request text per worker while it
// evaluates one request itself.
#include <memory>
#include <string>
#include <vector>

#include "train/search/eval_transport.h"
#include "train/search/evaluator.h"

namespace rt3::train {

class EvaluationPool {
 public:
  // transport: null = evaluate everything here. Otherwise rank 0's transport; the constructor
  // sets the workers up and checks that they see the same prunable layers.
  EvaluationPool(CandidateEvaluator& local, const EvaluatorOptions& options, const std::vector<int>& pruning_numbers,
                 std::unique_ptr<EvalTransport> transport);
  ~EvaluationPool();

  // Results in request order. Throws std::runtime_error when a worker fails or goes away.
  std::vector<EvaluationResult> evaluate(const std::vector<EvaluationRequest>& requests);
  // How many evaluations run at once (1 + workers).
  int parallelism() const;
  // Lets the workers return (before the final fine-tune, which runs here alone).
  void release_workers();

 private:
  CandidateEvaluator& local_;
  std::unique_ptr<EvalTransport> transport_;
};

// A worker's whole life: join the transport, build the evaluator from the setup message (with
// bp_dir as the starting weights), answer requests until rank 0 releases it.
struct WorkerOptions {
  std::string bp_dir;
  TransportOptions transport;
  std::function<void(const std::string&)> on_message;
};
void serve_as_worker(const WorkerOptions& o);

}  // namespace rt3::train
