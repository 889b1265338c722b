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
                           const std::vector<int>& groups)
    : sizes_(sizes), opt_(o), net_(nullptr), rng_(seed) {
  if (sizes.empty()) throw std::invalid_argument("the controller needs at least one decision");
  torch::manual_seed(seed);
  net_ = Controller(sizes, o, groups);
  optim_ = std::make_unique<torch::optim::Adam>(net_->parameters(), torch::optim::AdamOptions(o.lr));
}

std::pair<torch::Tensor, torch::Tensor> PolicySearch::run(std::vector<int>& action, bool sampling, bool greedy) {
  torch::Tensor x = net_->start;
  torch::Tensor h = torch::zeros({1, opt_.hidden}), c = torch::zeros({1, opt_.hidden});
  torch::Tensor logp = torch::zeros({}), entropy = torch::zeros({});
  if (sampling) action.assign(sizes_.size(), 0);
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
    logp = logp + lp[action[i]];
    entropy = entropy - (lp.exp() * lp).sum();
    x = net_->embeddings[m](torch::tensor({static_cast<int64_t>(action[i])}, torch::kLong));
  }
  return {logp, entropy};
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
  if (!has_baseline_) {
    baseline_ = reward;
    has_baseline_ = true;
  }
  const double advantage = reward - baseline_;
  std::vector<int> a = action;
  auto [logp, entropy] = run(a, false, false);
  torch::Tensor loss = -advantage * logp - opt_.entropy_weight * entropy / static_cast<double>(sizes_.size());
  optim_->zero_grad();
  loss.backward();
  optim_->step();
  baseline_ = opt_.baseline_decay * baseline_ + (1 - opt_.baseline_decay) * reward;
  return advantage;
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
  ar.write("baseline", torch::tensor({baseline_, has_baseline_ ? 1.0 : 0.0}, torch::kFloat64));
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
  torch::Tensor rng, base;
  ar.read("rng", rng);
  ar.read("baseline", base);
  const auto* b = rng.data_ptr<uint8_t>();
  std::istringstream in(std::string(b, b + rng.numel()));
  in >> rng_;
  baseline_ = base[0].item<double>();
  has_baseline_ = base[1].item<double>() > 0.5;
  torch::Tensor episodes;
  ar.read("episodes", episodes);
  return episodes[0].item<int64_t>();
}

}  // namespace rt3::train
