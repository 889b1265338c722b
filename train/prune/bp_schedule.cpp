#include "train/prune/bp_schedule.h"

#include <stdexcept>
#include <utility>

#include "runtime/format/safetensors.h"
#include "runtime/format/safetensors_writer.h"

namespace rt3::train {

BpSchedule::BpSchedule(torch::nn::Module& model, const BpOptions& options, std::string masks_path)
    : opt_(options), masks_path_(std::move(masks_path)) {
  validate(opt_);
  for (auto& [name, W] : prune::prunable_linears(model)) {
    names_.push_back(name);
    weights_.push_back(W);
  }
  if (weights_.empty()) throw std::runtime_error("the model has no prunable Linear layers");
  for (const auto& [name, s] : opt_.layer_sparsity) {
    bool found = false;
    for (const auto& n : names_) found = found || n == name;
    if (!found) throw std::invalid_argument("bp.layer_sparsity names '" + name + "', which is not a prunable layer (e.g. " + names_[0] + ")");
  }
  const prune::BlockSpec spec{opt_.block_rows};
  for (const auto& W : weights_) groups_ += prune::num_row_blocks(W, spec) * W.size(1);
  const double lambda = opt_.lambda > 0 ? opt_.lambda : opt_.penalty_scale / double(groups_);
  lasso_.weights = weights_;
  lasso_.spec = spec;
  lasso_.lambda = lambda;
  lasso_.eps = opt_.eps;
}

void BpSchedule::on_start(int64_t start_step) {
  if (start_step > opt_.lasso_steps) {
    load_masks();
  } else if (start_step < opt_.lasso_steps) {
    if (start_step % opt_.reweight_every != 0)
      throw std::runtime_error("cannot resume the group-lasso phase exactly at step " + std::to_string(start_step) +
                               ": it is not a multiple of bp.reweight_every");
    lasso_.reweight_now();
  }
  // start_step == lasso_steps: before_step() prunes (again: deterministic from the same weights).
}

void BpSchedule::before_step(int64_t step) {
  if (step == opt_.lasso_steps) {
    prune_now();
  } else if (step < opt_.lasso_steps && step % opt_.reweight_every == 0 && step > 0) {
    lasso_.reweight_now();
  }
}

torch::Tensor BpSchedule::extra_loss(int64_t step) {
  if (step >= opt_.lasso_steps) return {};
  torch::Tensor p = lasso_.penalty();
  last_penalty_ = p.item<double>();
  return p;
}

void BpSchedule::after_backward(int64_t) {
  if (masks_) masks_->zero_pruned_grads();
}

void BpSchedule::after_step(int64_t) {
  if (masks_) masks_->apply();
}

nlohmann::json BpSchedule::status(int64_t step) {
  nlohmann::json j = {{"phase", step < opt_.lasso_steps ? "group_lasso" : "finetune"}};
  if (step < opt_.lasso_steps) j["penalty"] = last_penalty_;
  if (masks_) j["weight_sparsity"] = masks_->sparsity();
  return j;
}

nlohmann::json BpSchedule::sparsity_table() const {
  if (!masks_) throw std::logic_error("sparsity_table: not pruned yet");
  return prune::sparsity_table(names_, masks_->masks, prune::BlockSpec{opt_.block_rows});
}

void BpSchedule::prune_now() {
  prune::MaskSet ms;
  ms.weights = weights_;
  const prune::BlockSpec spec{opt_.block_rows};
  for (size_t i = 0; i < weights_.size(); ++i)
    ms.masks.push_back(prune::block_mask(weights_[i], spec, opt_.sparsity_of(names_[i])));
  ms.apply();
  save_masks(names_, ms.masks, masks_path_);
  masks_ = std::move(ms);
}

void BpSchedule::load_masks() {
  prune::MaskSet ms;
  ms.weights = weights_;
  ms.masks = train::load_masks(names_, weights_, masks_path_);
  ms.apply();
  masks_ = std::move(ms);
}

void save_masks(const std::vector<std::string>& names, const std::vector<torch::Tensor>& masks, const std::string& path) {
  if (names.size() != masks.size()) throw std::logic_error("save_masks: names and masks differ in count");
  format::SafetensorsWriter w;
  for (size_t i = 0; i < masks.size(); ++i) {
    const torch::Tensor t = masks[i].detach().to(torch::kCPU).ne(0).to(torch::kUInt8).contiguous();
    w.add(names[i], format::DType::U8, t.sizes().vec(), t.data_ptr<uint8_t>(), size_t(t.numel()));
  }
  w.write(path);
}

std::vector<torch::Tensor> load_masks(const std::vector<std::string>& names, const std::vector<torch::Tensor>& like,
                                      const std::string& path) {
  std::vector<torch::Tensor> out;
  try {
    auto file = format::SafetensorsFile::open(path);
    for (size_t i = 0; i < names.size(); ++i) {
      const auto& t = file.get(names[i]);
      if (t.dtype != format::DType::U8 || t.shape != like[i].sizes().vec())
        throw std::runtime_error("tensor '" + names[i] + "' is not a U8 mask of the weight's shape");
      torch::Tensor m = torch::from_blob(const_cast<uint8_t*>(t.data), like[i].sizes(), torch::kUInt8)
                            .to(like[i].scalar_type());
      out.push_back(m.to(like[i].device()));
    }
  } catch (const std::exception& e) {
    throw std::runtime_error("cannot read the pruning masks '" + path + "': " + e.what() +
                             " (start the pruning run again without --resume)");
  }
  return out;
}

}  // namespace rt3::train
