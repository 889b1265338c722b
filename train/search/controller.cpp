#include "train/search/controller.h"

#include <fstream>
#include <map>
#include <sstream>
#include <stdexcept>

namespace rt3::train {

ControllerImpl::ControllerImpl(const std::vector<int>& sizes, const ControllerOptions& o, const std::vector<int>& groups) {
  if (!groups.empty() && groups.size() != sizes.size())
    throw std::invalid_argument("controller: one group id per decision is needed");
  cell = register_module("cell", torch::nn::LSTMCell(o.embedding, o.hidden));
  start = register_parameter("start", torch::zeros({1, o.embedding}));
  std::map<int, size_t> group_module;
  for (size_t i = 0; i < sizes.size(); ++i) {
    const int g = groups.empty() ? static_cast<int>(i) : groups[i];
    auto it = group_module.find(g);
    if (it != group_module.end()) {
      if (heads[it->second]->options.out_features() != sizes[i])
        throw std::invalid_argument("controller: decisions of one group must have the same number of options");
      module_of.push_back(it->second);
      continue;
    }
    const size_t m = heads.size();
    group_module[g] = m;
    module_of.push_back(m);
    embeddings.push_back(register_module("emb" + std::to_string(m), torch::nn::Embedding(sizes[i], o.embedding)));
    heads.push_back(register_module("head" + std::to_string(m), torch::nn::Linear(o.hidden, sizes[i])));
  }
  // Small initial logits: the untrained policy is close to uniform, i.e. starts as random search.
  torch::NoGradGuard ng;
  for (auto& h : heads) {
    h->weight.uniform_(-0.1, 0.1);
    h->bias.zero_();
  }
}

PolicySearch::PolicySearch(const std::vector<int>& sizes, const ControllerOptions& o, uint64_t seed,
                           const std::vector<int>& groups, const std::vector<int>& segments)
    : sizes_(sizes), opt_(o), net_(nullptr), rng_(seed) {
  if (sizes.empty()) throw std::invalid_argument("the controller needs at least one decision");
  if (!segments.empty() && segments.size() != sizes.size())
    throw std::invalid_argument("controller: one segment id per decision is needed");
  int n_segments = 1;
  for (size_t i = 0; i < sizes.size(); ++i) {
    const int s = segments.empty() ? 0 : segments[i];
    if (s < 0 || s > n_segments) throw std::invalid_argument("controller: segment ids must be 0, 1, 2, ... in order of first use");
    if (s == n_segments) ++n_segments;
    segment_of_.push_back(s);
  }
  if (!segments.empty() && segments[0] != 0) throw std::invalid_argument("controller: the first segment id must be 0");
  baselines_.assign(static_cast<size_t>(n_segments), 0.0);
  torch::manual_seed(seed);
  net_ = Controller(sizes, o, groups);
  optim_ = std::make_unique<torch::optim::Adam>(net_->parameters(), torch::optim::AdamOptions(o.lr));
}

std::pair<torch::Tensor, torch::Tensor> PolicySearch::run(std::vector<int>& action, bool sampling, bool greedy) {
  torch::Tensor x = net_->start;
  torch::Tensor h = torch::zeros({1, opt_.hidden}), c = torch::zeros({1, opt_.hidden});
  std::vector<torch::Tensor> logp;
  torch::Tensor entropy = torch::zeros({});
  if (sampling) action.assign(sizes_.size(), 0);
  if (action.size() != sizes_.size()) throw std::invalid_argument("action has the wrong number of decisions");
  for (size_t i = 0; i < sizes_.size(); ++i) {
    std::tie(h, c) = net_->cell(x, std::make_tuple(h, c));
    const size_t m = net_->module_of[i];
    const torch::Tensor logits = net_->heads[m](h).squeeze(0) / opt_.temperature;
    const torch::Tensor lp = torch::log_softmax(logits, 0);
    if (sampling) {
      const torch::Tensor probs = lp.exp().detach();
      const float* p = probs.data_ptr<float>();
      if (greedy) {
        action[i] = static_cast<int>(probs.argmax().item<int64_t>());
      } else {
        std::discrete_distribution<int> pick(p, p + sizes_[i]);
        action[i] = pick(rng_);
      }
    }
    if (action[i] < 0 || action[i] >= sizes_[i]) throw std::invalid_argument("action outside the decision's options");
    logp.push_back(lp[action[i]]);
    entropy = entropy - (lp.exp() * lp).sum();
    x = net_->embeddings[m](torch::tensor({static_cast<int64_t>(action[i])}, torch::kLong));
  }
  return {torch::stack(logp), entropy};
}

std::vector<int> PolicySearch::sample() {
  torch::NoGradGuard ng;
  std::vector<int> a;
  run(a, true, false);
  return a;
}

std::vector<int> PolicySearch::argmax() {
  torch::NoGradGuard ng;
  std::vector<int> a;
  run(a, true, true);
  return a;
}

double PolicySearch::update(const std::vector<int>& action, double reward) {
  if (segments() != 1) throw std::invalid_argument("controller: this policy has segments; pass one reward per segment");
  return update(std::vector<std::vector<int>>{action}, {{reward}})[0][0];
}

std::vector<std::vector<double>> PolicySearch::update(const std::vector<std::vector<int>>& actions,
                                                      const std::vector<std::vector<double>>& segment_rewards) {
  if (actions.empty() || actions.size() != segment_rewards.size())
    throw std::invalid_argument("controller: one reward vector per action is needed");
  const size_t n_seg = baselines_.size();
  std::vector<double> batch_mean(n_seg, 0.0);
  for (const auto& r : segment_rewards) {
    if (r.size() != n_seg) throw std::invalid_argument("controller: one reward per segment is needed");
    for (size_t s = 0; s < n_seg; ++s) batch_mean[s] += r[s] / double(actions.size());
  }
  if (!has_baseline_) {  // the first rewards are the baseline: no push before anything is known
    baselines_ = batch_mean;
    has_baseline_ = true;
  }
  std::vector<std::vector<double>> advantages;
  torch::Tensor loss = torch::zeros({});
  const torch::Tensor segment_index = torch::tensor(segment_of_, torch::kLong);
  for (size_t b = 0; b < actions.size(); ++b) {
    std::vector<double> adv(n_seg);
    for (size_t s = 0; s < n_seg; ++s) adv[s] = segment_rewards[b][s] - baselines_[s];
    std::vector<int> a = actions[b];
    auto [logp, entropy] = run(a, false, false);
    const torch::Tensor per_decision = torch::tensor(adv, torch::kFloat32).index_select(0, segment_index);
    loss = loss - (per_decision * logp).sum() - opt_.entropy_weight * entropy / static_cast<double>(sizes_.size());
    advantages.push_back(std::move(adv));
  }
  loss = loss / static_cast<double>(actions.size());
  optim_->zero_grad();
  loss.backward();
  optim_->step();
  for (size_t s = 0; s < n_seg; ++s)
    baselines_[s] = opt_.baseline_decay * baselines_[s] + (1 - opt_.baseline_decay) * batch_mean[s];
  return advantages;
}

void PolicySearch::save(const std::string& path, int64_t episodes) const {
  torch::serialize::OutputArchive ar;
  net_->save(ar);
  torch::serialize::OutputArchive oa;
  optim_->save(oa);
  ar.write("optimizer", oa);
  std::ostringstream rng;
  rng << rng_;
  const std::string rng_text = rng.str();
  ar.write("rng", torch::tensor(std::vector<uint8_t>(rng_text.begin(), rng_text.end())));
  ar.write("baselines", torch::tensor(baselines_, torch::kFloat64));
  ar.write("has_baseline", torch::tensor({has_baseline_ ? 1.0 : 0.0}, torch::kFloat64));
  ar.write("episodes", torch::tensor({episodes}, torch::kLong));
  const std::string tmp = path + ".tmp";
  ar.save_to(tmp);
  if (std::rename(tmp.c_str(), path.c_str()) != 0) throw std::runtime_error("cannot write " + path);
}

int64_t PolicySearch::load(const std::string& path) {
  torch::serialize::InputArchive ar;
  ar.load_from(path);
  net_->load(ar);
  torch::serialize::InputArchive oa;
  ar.read("optimizer", oa);
  optim_->load(oa);
  torch::Tensor rng, base, has_base;
  ar.read("rng", rng);
  ar.read("baselines", base);
  ar.read("has_baseline", has_base);
  if (base.numel() != static_cast<int64_t>(baselines_.size()))
    throw std::runtime_error(path + " holds a controller with " + std::to_string(base.numel()) + " reward segments, this one has " +
                             std::to_string(baselines_.size()));
  const auto* b = rng.data_ptr<uint8_t>();
  std::istringstream in(std::string(b, b + rng.numel()));
  in >> rng_;
  for (size_t s = 0; s < baselines_.size(); ++s) baselines_[s] = base[static_cast<int64_t>(s)].item<double>();
  has_baseline_ = has_base[0].item<double>() > 0.5;
  torch::Tensor episodes;
  ar.read("episodes", episodes);
  return episodes[0].item<int64_t>();
}

}  // namespace rt3::train
