// The search loop: sample a candidate (RL controller, random, or greedy hill climbing), score it
// (latency from the table; accuracy from a short joint fine-tune, cached by action), checkpoint,
// repeat; then fine-tune the best candidate's sets and write them out.
#include <algorithm>
#include <chrono>
#include <filesystem>
#include <fstream>
#include <map>
#include <random>
#include <set>
#include <sstream>
#include <stdexcept>

#include "dvfs/adaptation_models.h"
#include "dvfs/latency_table.h"
#include "dvfs/profile.h"
#include "runtime/format/bundle_adaptation_json.h"
#include "train/checkpoint.h"
#include "train/compute_env.h"
#include "train/prune/pattern_schedule.h"
#include "train/prune/prune_api.h"
#include "train/run_files.h"
#include "train/search/controller.h"
#include "train/search/evaluation_pool.h"
#include "train/search/evaluator.h"
#include "train/search/search_api.h"
#include "train/search/search_space.h"

namespace rt3::train {
namespace fs = std::filesystem;
using nlohmann::json;

namespace {

const char* kStateFile = "search_state.json";
const char* kControllerFile = "controller.pt";

std::string action_key(const Action& a) {
  std::string k;
  for (size_t i = 0; i < a.size(); ++i) k += (i ? "," : "") + std::to_string(a[i]);
  return k;
}

SearchSpace make_space(const SearchRequest& req, const dvfs::Profile& profile, const dvfs::LatencyTable& table) {
  SearchSpaceOptions so;
  so.deadline_s = req.deadline_ms / 1e3;
  so.cycle_scale = req.cycle_scale;
  so.patterns_per_set = req.patterns_per_set;
  so.candidates = req.candidates;
  so.latency_weight = req.latency_weight;
  try {
    return SearchSpace(profile, table, so);
  } catch (const std::invalid_argument& e) {
    throw std::runtime_error(e.what());
  }
}

json space_json(const SearchSpace& s) {
  json levels = json::array();
  for (size_t l = 0; l < s.levels().size(); ++l) {
    json dense = s.latency_s(0, l) * 1e3;
    json per_p = json::object();
    for (int p : s.pruning_numbers()) per_p[std::to_string(p)] = s.latency_s(p, l) * 1e3;
    levels.push_back({{"khz", s.levels()[l].khz}, {"dense_latency_ms", dense}, {"latency_ms", per_p}});
  }
  json unreachable = json::array();
  for (const auto& o : s.unreachable()) unreachable.push_back(o.khz);
  return {{"pruning_numbers", s.pruning_numbers()}, {"decisions", s.decision_sizes().size()},
          {"unreachable_khz", unreachable},
          {"log10_size", s.log10_size()}, {"log10_unshrunk_size", s.log10_unshrunk_size()},
          {"levels", levels}};
}

// Everything a killed search needs to continue: the cache of scored candidates, the history, the
// best so far, the sampling RNG of the non-RL methods and the hill climber's current point.
struct State {
  int episode = 0;
  std::map<std::string, CandidateScore> cache;
  json history = json::array();
  Action best, current;
  double best_reward = -2, current_reward = -2;
  int evaluations = 0;  // candidates actually trained (cache misses that met the deadline)
  std::string rng;
};

json state_json(const State& s, const SearchRequest& req) {
  json cache = json::object();
  for (const auto& [k, v] : s.cache) cache[k] = to_json(v);
  return {{"method", req.method}, {"seed", req.seed},       {"episode", s.episode},   {"cache", cache},
          {"share_heads", req.share_heads}, {"credit", req.credit}, {"batch", req.batch},
          {"history", s.history}, {"best", s.best},         {"best_reward", s.best_reward},
          {"current", s.current}, {"current_reward", s.current_reward}, {"evaluations", s.evaluations},
          {"rng", s.rng}};
}

State state_from_json(const json& j, const SearchRequest& req) {
  if (j.value("share_heads", true) != req.share_heads)
    throw std::runtime_error("--resume: the search in " + req.out_dir + " was started " +
                             (req.share_heads ? "with --separate-heads" : "without --separate-heads") + "; use the same");
  if (j.value("credit", std::string("total")) != req.credit || j.value("batch", 1) != req.batch)
    throw std::runtime_error("--resume: the search in " + req.out_dir + " was started with --credit " +
                             j.value("credit", std::string("total")) + " --batch " + std::to_string(j.value("batch", 1)) +
                             "; use the same");
  if (j.at("method") != req.method || j.at("seed").get<uint64_t>() != req.seed)
    throw std::runtime_error("--resume: the search in " + req.out_dir + " was started with method " +
                             j.at("method").dump() + " seed " + j.at("seed").dump() + "; use the same");
  State s;
  s.episode = j.at("episode").get<int>();
  for (auto it = j.at("cache").begin(); it != j.at("cache").end(); ++it)
    s.cache[it.key()] = candidate_score_from_json(it.value());
  s.history = j.at("history");
  s.best = j.at("best").get<Action>();
  s.best_reward = j.at("best_reward").get<double>();
  s.current = j.at("current").get<Action>();
  s.current_reward = j.at("current_reward").get<double>();
  s.evaluations = j.at("evaluations").get<int>();
  s.rng = j.at("rng").get<std::string>();
  return s;
}

Action uniform_action(const SearchSpace& space, std::mt19937_64& rng) {
  Action a;
  for (int n : space.decision_sizes()) a.push_back(std::uniform_int_distribution<int>(0, n - 1)(rng));
  return a;
}

// One decision of `a` changed to a different random option.
Action mutate(const SearchSpace& space, const Action& a, std::mt19937_64& rng) {
  Action b = a;
  const auto& sizes = space.decision_sizes();
  for (int tries = 0; tries < 100; ++tries) {
    const size_t i = std::uniform_int_distribution<size_t>(0, sizes.size() - 1)(rng);
    if (sizes[i] < 2) continue;
    int v = std::uniform_int_distribution<int>(0, sizes[i] - 2)(rng);
    b[i] = v >= a[i] ? v + 1 : v;
    return b;
  }
  return b;
}

std::string read_text(const std::string& path) {
  std::ifstream f(path);
  std::stringstream ss;
  ss << f.rdbuf();
  return ss.str();
}

void check_request(const SearchRequest& req) {
  if (req.out_dir.empty()) throw std::runtime_error("--out is required");
  if (req.method != "rl" && req.method != "random" && req.method != "greedy")
    throw std::runtime_error("--method must be rl, random or greedy (got '" + req.method + "')");
  if (req.episodes < 1) throw std::runtime_error("--episodes must be >= 1");
  if (req.batch < 0) throw std::runtime_error("--batch must be >= 1 (or 0: one per process)");
  if (req.workers < 0) throw std::runtime_error("--workers must be >= 0");
  if (req.credit != "level" && req.credit != "total")
    throw std::runtime_error("--credit must be level or total (got '" + req.credit + "')");
  if (!(req.deadline_ms > 0)) throw std::runtime_error("--deadline-ms must be > 0");
  if (!fs::exists(fs::path(req.bp_dir) / "model.safetensors"))
    throw std::runtime_error("'" + req.bp_dir + "' is not a run directory (no model.safetensors); pass the rt3 prune bp output");
}

}  // namespace

void run_search_worker(const SearchWorkerRequest& req) {
  if (!fs::exists(fs::path(req.bp_dir) / "model.safetensors"))
    throw std::runtime_error("'" + req.bp_dir + "' is not a run directory (no model.safetensors): pass the search's --checkpoint");
  if (req.rank < 1 || req.rank >= req.world_size)
    throw std::runtime_error("--rank must be 1 .. world size - 1 (got " + std::to_string(req.rank) + " of " +
                             std::to_string(req.world_size) + ")");
  init_compute(req.threads);
  serve_as_worker({req.bp_dir,
                   TransportOptions{req.master_addr, req.master_port, req.rank, req.world_size, req.timeout_s, ""},
                   req.on_message});
}

json describe_search_space(const SearchRequest& req) {
  const dvfs::Profile profile = dvfs::load_profile(req.profile_path);
  const dvfs::LatencyTable table = dvfs::load_latency_table(req.latency_path);
  return space_json(make_space(req, profile, table));
}

json run_search(const SearchRequest& request) {
  check_request(request);
  SearchRequest req = request;
  if (req.batch == 0) req.batch = req.workers + 1;  // auto: one candidate per process and round
  init_compute(req.threads);
  const dvfs::Profile profile = dvfs::load_profile(req.profile_path);
  const dvfs::LatencyTable table = dvfs::load_latency_table(req.latency_path);
  const SearchSpace space = make_space(req, profile, table);
  const fs::path out(req.out_dir);
  const fs::path state_path = out / kStateFile;
  if (!req.resume && fs::exists(state_path))
    throw std::runtime_error("'" + req.out_dir + "' already holds a search: pass --resume to continue it or choose another --out");
  if (!req.resume && fs::exists(out) && !fs::is_empty(out))
    throw std::runtime_error("'" + req.out_dir + "' exists and is not empty: choose another --out");
  fs::create_directories(out);
  auto say = [&](const std::string& m) {
    if (req.on_message) req.on_message(m);
  };
  std::ostringstream intro;
  intro << "search space: " << space.levels().size() << " levels x (pruning number of " << space.pruning_numbers().size()
        << " + " << req.patterns_per_set << " of " << req.candidates << " candidates) = 10^" << space.log10_size()
        << " actions (10^" << space.log10_unshrunk_size() << " before shrinking)";
  say(intro.str());

  State st;
  std::mt19937_64 rng(req.seed);
  const bool resuming = req.resume && fs::exists(state_path);
  if (resuming) {  // checked before anything slow starts
    st = state_from_json(read_json_file(state_path.string()), req);
    std::istringstream in(st.rng);
    in >> rng;
  }
  // Workers join first (they may have started before this process): a wrong address fails fast.
  std::unique_ptr<EvalTransport> transport;
  if (req.workers > 0) {
    say("waiting for " + std::to_string(req.workers) + " search workers at " + req.master_addr + ":" +
        std::to_string(req.master_port));
    transport = std::make_unique<EvalTransport>(
        TransportOptions{req.master_addr, req.master_port, 0, req.workers + 1, req.worker_timeout_s, ""});
  }
  // Candidate patterns are drawn from the BP model itself; the table's own BP layers are the ones
  // the model prunes, so their names must agree.
  const EvaluatorOptions eval_options{req.bp_dir, table.tile_rows, table.tile_cols, req.candidates, 1024, req.seed, 0.5,
                                      req.finetune_batch};
  CandidateEvaluator evaluator(eval_options, space.pruning_numbers());
  for (const auto& l : evaluator.layer_names())
    if (std::none_of(table.layers.begin(), table.layers.end(), [&](const dvfs::LayerLatency& t) { return t.name == l; }))
      throw std::runtime_error("the latency table " + req.latency_path + " has no layer " + l +
                               ": profile the bundle exported from this BP run");
  EvaluationPool pool(evaluator, eval_options, space.pruning_numbers(), std::move(transport));
  if (req.workers > 0) say(std::to_string(req.workers) + " search workers ready");

  ControllerOptions co;
  co.entropy_weight = req.entropy_weight;
  co.lr = req.controller_lr;
  std::vector<int> segments;  // per decision: its level, when each level is credited with its own reward
  if (req.credit == "level")
    for (size_t i = 0; i < space.decision_sizes().size(); ++i)
      segments.push_back(static_cast<int>(i) / space.decisions_per_level());
  PolicySearch policy(space.decision_sizes(), co, req.seed, req.share_heads ? space.decision_groups() : std::vector<int>{},
                      segments);
  if (resuming) {
    if (req.method == "rl") {
      // The controller is written next to the state, then moved into place after the state: a
      // kill in between leaves a pending file that already matches the state.
      const fs::path pending = out / (std::string(kControllerFile) + ".pending");
      if (fs::exists(pending) && policy.load(pending.string()) == st.episode) fs::rename(pending, out / kControllerFile);
      const int64_t seen = policy.load((out / kControllerFile).string());
      if (seen != st.episode)
        throw std::runtime_error("--resume: " + (out / kControllerFile).string() + " has seen " + std::to_string(seen) +
                                 " episodes but the search state " + std::to_string(st.episode));
    }
    say("resuming at episode " + std::to_string(st.episode + 1) + " with " + std::to_string(st.cache.size()) +
        " scored candidates");
  }

  // Scores a batch of actions: cached ones from the cache, the feasible rest trained.
  auto score_all = [&](const std::vector<Action>& actions) {
    std::vector<CandidateScore> scores(actions.size());
    std::vector<EvaluationRequest> requests;
    std::vector<std::pair<size_t, DecodedAction>> trained;  // action index, its decoding
    for (size_t i = 0; i < actions.size(); ++i) {
      if (auto it = st.cache.find(action_key(actions[i])); it != st.cache.end()) {
        scores[i] = it->second;
        continue;
      }
      DecodedAction d = space.decode(actions[i]);
      scores[i] = latency_only(space, d);
      if (!scores[i].feasible) continue;
      requests.push_back({d.sets, req.finetune_steps, req.eval_examples});
      trained.emplace_back(i, std::move(d));
    }
    const std::vector<EvaluationResult> results = pool.evaluate(requests);
    for (size_t k = 0; k < trained.size(); ++k) {
      const auto& [i, d] = trained[k];
      scores[i] = score_candidate(space, d, results[k].set_accuracy);
      scores[i].seconds = results[k].seconds;
      ++st.evaluations;
    }
    for (size_t i = 0; i < actions.size(); ++i) st.cache[action_key(actions[i])] = scores[i];
    return scores;
  };
  auto rl_rewards = [&](const CandidateScore& s) {
    return req.credit == "level" ? level_rewards(space, s) : std::vector<double>{s.reward};
  };

  // Every round proposes up to --batch actions not scored before (so each method spends its budget
  // on new candidates). The RL controller also learns from the samples it drew that were already
  // scored: they cost nothing and are on-policy. After 20 tries a repeated action is accepted.
  const int kTries = 20;
  const auto t0 = std::chrono::steady_clock::now();
  while (st.episode < req.episodes) {
    const int want = std::min(req.batch, req.episodes - st.episode);
    std::vector<Action> round, seen_before;
    std::set<std::string> in_round;
    for (int k = 0; k < want; ++k) {
      Action a;
      for (int tries = 0; tries < kTries; ++tries) {
        if (req.method == "rl") {
          a = policy.sample();
        } else if (req.method == "random") {
          a = uniform_action(space, rng);
        } else if (st.current.empty() && round.empty()) {  // greedy: the heuristic point first,
          a = space.greedy_action();
        } else {  // then one-decision moves from the current point (or the unscored start)
          a = mutate(space, st.current.empty() ? round[0] : st.current, rng);
        }
        const std::string key = action_key(a);
        if (!st.cache.count(key) && !in_round.count(key)) break;
        if (req.method == "rl" && st.cache.count(key)) seen_before.push_back(a);
      }
      in_round.insert(action_key(a));
      round.push_back(a);
    }
    const std::vector<CandidateScore> scores = score_all(round);
    if (req.method == "rl") {
      std::vector<Action> actions = round;
      std::vector<std::vector<double>> rewards;
      for (const auto& s : scores) rewards.push_back(rl_rewards(s));
      for (const auto& a : seen_before) {
        actions.push_back(a);
        rewards.push_back(rl_rewards(st.cache.at(action_key(a))));
      }
      policy.update(actions, rewards);
    }
    for (size_t k = 0; k < round.size(); ++k) {
      const Action& a = round[k];
      const CandidateScore& s = scores[k];
      // greedy keeps a move when it is not worse than the current point, in proposal order
      if (req.method == "greedy" && (st.current.empty() || s.reward >= st.current_reward)) {
        st.current = a;
        st.current_reward = s.reward;
      }
      if (s.reward > st.best_reward) {
        st.best_reward = s.reward;
        st.best = a;
      }
      st.history.push_back({{"episode", st.episode + 1}, {"reward", s.reward}, {"best", st.best_reward},
                            {"feasible", s.feasible}, {"action", space.describe(a)}});
      ++st.episode;
    }
    std::ostringstream rs;
    rs << rng;
    st.rng = rs.str();
    // The episode counter in the files is the number of finished episodes.
    const fs::path pending = out / (std::string(kControllerFile) + ".pending");
    if (req.method == "rl") policy.save(pending.string(), st.episode);
    write_file_atomic(state_path.string(), state_json(st, req).dump());
    if (req.method == "rl") fs::rename(pending, out / kControllerFile);
    if (req.on_episode)
      for (size_t k = 0; k < round.size(); ++k) {
        const auto& h = st.history[st.history.size() - round.size() + k];
        req.on_episode(h["episode"].get<int>(), req.episodes, h["reward"].get<double>(), h["best"].get<double>(),
                       std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count());
      }
  }
  pool.release_workers();
  if (st.best_reward <= -1)
    throw std::runtime_error("no sampled candidate met the deadline at every level in " + std::to_string(req.episodes) +
                             " episodes: raise --episodes or --deadline-ms");

  // The best candidate: its sets fine-tuned jointly for longer, written as a pattern run.
  const DecodedAction best = space.decode(st.best);
  say("best: " + space.describe(st.best) + "; fine-tuning its " + std::to_string(best.sets.size()) + " sets for " +
      std::to_string(req.final_steps) + " steps");
  const fs::path final_dir = out / "final";
  fs::create_directories(final_dir);
  copy_tokenizer(req.bp_dir, final_dir.string());
  const bool resume_final = req.resume && has_checkpoint(final_dir.string());
  PatternSchedule& sched = evaluator.finetune_final(best.sets, req.final_steps, final_dir.string(), resume_final,
                                                    req.on_final_step);
  save_weights(*evaluator.task().module(), (final_dir / "model.safetensors").string());
  std::vector<PatternSet> pattern_sets;  // the dense "base" is the bundle's weights, not a variant
  for (const auto& ps : sched.sets())
    if (ps.pruning_number > 0) pattern_sets.push_back(ps);
  save_pattern_sets((final_dir / kVariantsFile).string(), evaluator.layer_names(), pattern_sets);
  write_run_files(evaluator.config(), final_dir.string());

  json sets = json::array(), set_results = json::array();
  for (size_t k = 0; k < best.sets.size(); ++k) {
    const double acc = sched.evaluate_set(k, Split::valid, evaluator.config().train.eval_max_examples).values.at("accuracy");
    if (best.sets[k].pruning_number > 0)
      sets.push_back({{"name", best.sets[k].name()}, {"pruning_number", best.sets[k].pruning_number}});
    set_results.push_back({{"name", best.sets[k].name()},
                           {"pruning_number", best.sets[k].pruning_number},
                           {"candidates", best.sets[k].candidates},
                           {"sparsity", double(best.sets[k].pruning_number) / double(table.tile_cols)},
                           {"valid_accuracy", acc}});
  }
  json level_to_variant = json::object(), levels = json::array();
  const CandidateScore best_score = st.cache.at(action_key(st.best));
  for (size_t l = 0; l < space.levels().size(); ++l) {
    const auto& set = best.sets[static_cast<size_t>(best.level_to_set[l])];
    level_to_variant[std::to_string(space.levels()[l].khz)] = set.name();
    levels.push_back({{"khz", space.levels()[l].khz},
                      {"set", set.name()},
                      {"latency_ms", space.latency_s(set.pruning_number, l) * 1e3},
                      {"dense_latency_ms", space.latency_s(0, l) * 1e3},
                      {"search_accuracy", best_score.level_accuracy.at(l)},
                      {"final_accuracy", set_results[static_cast<size_t>(best.level_to_set[l])]["valid_accuracy"]}});
  }
  // Levels no set can serve within the deadline get the sparsest set found (the best effort).
  size_t sparsest = 0;
  for (size_t k = 0; k < best.sets.size(); ++k)
    if (best.sets[k].pruning_number > best.sets[sparsest].pruning_number) sparsest = k;
  for (const auto& lv : space.unreachable()) {
    level_to_variant[std::to_string(lv.khz)] = best.sets[sparsest].name();
    levels.push_back({{"khz", lv.khz}, {"set", best.sets[sparsest].name()}, {"unreachable", true},
                      {"final_accuracy", set_results[sparsest]["valid_accuracy"]}});
  }
  // What the engine's closed loop and energy figures need (docs/adapt.md): each decided set's device
  // latency model, as the search predicted it, and its accuracy after the final fine-tune.
  format::AdaptationInfo adaptation;
  adaptation.deadline_s = req.deadline_ms * 1e-3;
  adaptation.cycle_scale = req.cycle_scale;
  for (size_t k = 0; k < best.sets.size(); ++k) {
    std::map<std::string, int> pn;
    if (best.sets[k].pruning_number > 0)
      for (const auto& l : table.layers) pn[l.name] = best.sets[k].pruning_number;
    adaptation.variants[best.sets[k].name()] =
        dvfs::device_model(table.predict_model(pn), req.cycle_scale, set_results[k]["valid_accuracy"].get<double>());
  }
  json prune_file = {{"method", "pattern"},
                     {"source", fs::absolute(req.bp_dir).lexically_normal().string()},
                     {"pattern", {{"tile_rows", table.tile_rows}, {"tile_cols", table.tile_cols},
                                  {"patterns_per_set", req.patterns_per_set}, {"candidates", req.candidates},
                                  {"steps", req.final_steps}}},
                     {"sets", sets},
                     {"level_to_variant", level_to_variant},
                     {"adaptation", format::adaptation_to_json(adaptation)},
                     {"device_profile", json::parse(read_text(req.profile_path))}};
  write_file_atomic((final_dir / kPruneFile).string(), prune_file.dump(2));

  json curve = json::array();
  for (const auto& h : st.history) curve.push_back({{"episode", h["episode"]}, {"reward", h["reward"]}, {"best", h["best"]}});
  json summary = {{"method", req.method},
                  {"seed", req.seed},
                  {"episodes", req.episodes},
                  {"evaluations", st.evaluations},
                  {"deadline_ms", req.deadline_ms},
                  {"cycle_scale", req.cycle_scale},
                  {"profile", profile.name},
                  {"space", space_json(space)},
                  {"best_reward", st.best_reward},
                  {"best_action", space.describe(st.best)},
                  {"sets", set_results},
                  {"levels", levels},
                  {"reward_curve", curve},
                  {"final_dir", final_dir.string()},
                  {"seconds", std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count()}};
  write_file_atomic((out / "search.json").string(), summary.dump(2));
  return summary;
}

}  // namespace rt3::train
