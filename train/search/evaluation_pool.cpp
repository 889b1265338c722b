#include "train/search/evaluation_pool.h"

#include <exception>
#include <stdexcept>
#include <thread>

#include <nlohmann/json.hpp>

namespace rt3::train {
using nlohmann::json;

namespace {

json options_json(const EvaluatorOptions& o) {
  return {{"tile_rows", o.tile_rows},       {"tile_cols", o.tile_cols}, {"candidates", o.candidates},
          {"sample_tiles", o.sample_tiles}, {"seed", o.seed},           {"lr_scale", o.lr_scale},
          {"batch_size", o.batch_size}};
}

EvaluatorOptions options_from_json(const json& j, const std::string& bp_dir) {
  EvaluatorOptions o;
  o.bp_dir = bp_dir;
  o.tile_rows = j.at("tile_rows").get<int64_t>();
  o.tile_cols = j.at("tile_cols").get<int64_t>();
  o.candidates = j.at("candidates").get<int64_t>();
  o.sample_tiles = j.at("sample_tiles").get<int64_t>();
  o.seed = j.at("seed").get<uint64_t>();
  o.lr_scale = j.at("lr_scale").get<double>();
  o.batch_size = j.at("batch_size").get<int64_t>();
  return o;
}

// A worker's reply: the payload, or {"error": ...} which rank 0 turns into an exception.
json parse_reply(const std::string& text, int worker) {
  json j;
  try {
    j = json::parse(text);
  } catch (const std::exception&) {
    throw std::runtime_error("search worker " + std::to_string(worker) + " sent an unreadable reply");
  }
  if (j.contains("error"))
    throw std::runtime_error("search worker " + std::to_string(worker) + ": " + j["error"].get<std::string>());
  return j;
}

}  // namespace

EvaluationPool::EvaluationPool(CandidateEvaluator& local, const EvaluatorOptions& options,
                               const std::vector<int>& pruning_numbers, std::unique_ptr<EvalTransport> transport)
    : local_(local), transport_(std::move(transport)) {
  if (!transport_ || transport_->world_size() < 2) return;
  const std::string setup = json{{"kind", "setup"}, {"evaluator", options_json(options)},
                                 {"pruning_numbers", pruning_numbers}}.dump();
  const auto replies = transport_->exchange(std::vector<std::string>(static_cast<size_t>(transport_->world_size() - 1), setup));
  for (size_t w = 0; w < replies.size(); ++w) {
    const json r = parse_reply(replies[w], static_cast<int>(w) + 1);
    if (r.at("layers").get<std::vector<std::string>>() != local_.layer_names())
      throw std::runtime_error("search worker " + std::to_string(w + 1) +
                               " loaded a model with other prunable layers: give every worker the same --checkpoint");
  }
}

EvaluationPool::~EvaluationPool() = default;

int EvaluationPool::parallelism() const { return transport_ ? transport_->world_size() : 1; }

void EvaluationPool::release_workers() {
  if (transport_) transport_->shutdown();
  transport_.reset();
}

std::vector<EvaluationResult> EvaluationPool::evaluate(const std::vector<EvaluationRequest>& requests) {
  std::vector<EvaluationResult> results(requests.size());
  const size_t width = static_cast<size_t>(parallelism());
  for (size_t first = 0; first < requests.size(); first += width) {
    // This wave: request `first` here, the next ones on workers 1, 2, ... at the same time.
    std::vector<std::string> texts;
    for (size_t i = first + 1; i < std::min(first + width, requests.size()); ++i)
      texts.push_back(json{{"kind", "evaluate"}, {"request", to_json(requests[i])}}.dump());
    std::vector<std::string> replies;
    std::exception_ptr remote_error;
    std::thread remote;
    if (!texts.empty()) remote = std::thread([&] {
        try {
          replies = transport_->exchange(texts);
        } catch (...) {
          remote_error = std::current_exception();
        }
      });
    std::exception_ptr local_error;
    try {
      results[first] = local_.evaluate(requests[first]);
    } catch (...) {
      local_error = std::current_exception();
    }
    if (remote.joinable()) remote.join();
    if (local_error) std::rethrow_exception(local_error);
    if (remote_error) std::rethrow_exception(remote_error);
    for (size_t k = 0; k < replies.size(); ++k)
      results[first + 1 + k] = evaluation_result_from_json(parse_reply(replies[k], static_cast<int>(k) + 1));
  }
  return results;
}

void serve_as_worker(const WorkerOptions& o) {
  auto say = [&](const std::string& m) {
    if (o.on_message) o.on_message(m);
  };
  EvalTransport transport(o.transport);
  say("worker " + std::to_string(transport.rank()) + " of " + std::to_string(transport.world_size() - 1) +
      " connected to " + o.transport.master_addr + ":" + std::to_string(o.transport.master_port));
  std::unique_ptr<CandidateEvaluator> evaluator;
  int served = 0;
  // Errors of one message go back to rank 0 as text (it stops the search with that message); the
  // transport stays usable.
  transport.serve([&](const std::string& text) -> std::string {
    try {
      const json m = json::parse(text);
      if (m.at("kind") == "setup") {
        evaluator = std::make_unique<CandidateEvaluator>(options_from_json(m.at("evaluator"), o.bp_dir),
                                                         m.at("pruning_numbers").get<std::vector<int>>());
        say("evaluator ready: " + std::to_string(evaluator->layer_names().size()) + " prunable layers");
        return json{{"layers", evaluator->layer_names()}}.dump();
      }
      if (m.at("kind") == "evaluate") {
        if (!evaluator) return json{{"error", "evaluation request before setup"}}.dump();
        const EvaluationResult r = evaluator->evaluate(evaluation_request_from_json(m.at("request")));
        say("evaluated candidate " + std::to_string(++served) + " in " + std::to_string(r.seconds) + " s");
        return to_json(r).dump();
      }
      return json{{"error", "unknown message kind " + m.at("kind").dump()}}.dump();
    } catch (const std::exception& e) {
      return json{{"error", e.what()}}.dump();
    }
  });
  say("released after " + std::to_string(served) + " evaluations");
}

}  // namespace rt3::train
