#include "train/prune/bp_config.h"

#include <cmath>
#include <stdexcept>

#include "runtime/format/bundle.h"
#include <type_traits>

namespace rt3::train {
using nlohmann::json;

double BpOptions::sparsity_of(const std::string& layer) const {
  auto it = layer_sparsity.find(layer);
  return it == layer_sparsity.end() ? sparsity : it->second;
}

void validate(const BpOptions& o) {
  auto bad = [](const std::string& what) { throw std::invalid_argument("bp." + what); };
  if (!(o.sparsity >= 0.0 && o.sparsity <= 1.0)) bad("sparsity must be in [0, 1]");
  for (const auto& [name, s] : o.layer_sparsity)
    if (!(s >= 0.0 && s <= 1.0)) bad("layer_sparsity['" + name + "'] must be in [0, 1]");
  if (o.block_rows < 1 || o.block_rows > format::kMaxBpBlockRows)
    bad("block_rows must be in [1, " + std::to_string(format::kMaxBpBlockRows) + "] (what a bundle can hold)");
  if (!(o.eps > 0.0 && std::isfinite(o.eps))) bad("eps must be a finite number > 0");
  if (!(o.penalty_scale >= 0.0 && std::isfinite(o.penalty_scale))) bad("penalty_scale must be a finite number >= 0");
  if (!std::isfinite(o.lambda)) bad("lambda must be a finite number");
  if (o.reweight_every < 1) bad("reweight_every must be >= 1");
  if (o.lasso_steps < 0) bad("lasso_steps must be >= 0");
  if (o.finetune_steps < 1) bad("finetune_steps must be >= 1 (the hard prune happens at its first step)");
  validate(o.distill, "bp");
}

json to_json(const BpOptions& o) {
  return {{"sparsity", o.sparsity},         {"block_rows", o.block_rows},
          {"lambda", o.lambda},             {"penalty_scale", o.penalty_scale},
          {"eps", o.eps},                   {"reweight_every", o.reweight_every},
          {"lasso_steps", o.lasso_steps},   {"finetune_steps", o.finetune_steps},
          {"layer_sparsity", o.layer_sparsity},
          {"distill", to_json(o.distill)}};
}

BpOptions apply_bp_json(BpOptions o, const json& j) {
  if (!j.is_object()) throw std::invalid_argument("bp options must be a JSON object");
  for (const auto& [key, v] : j.items()) {
    auto num = [&, k = key](auto& field) {
      using T = std::decay_t<decltype(field)>;
      if constexpr (std::is_integral_v<T>) {
        if (!v.is_number_integer()) throw std::invalid_argument("bp." + k + " must be an integer");
      } else if (!v.is_number()) {
        throw std::invalid_argument("bp." + k + " must be a number");
      }
      field = v.get<T>();
    };
    if (key == "sparsity") num(o.sparsity);
    else if (key == "block_rows") num(o.block_rows);
    else if (key == "lambda") num(o.lambda);
    else if (key == "penalty_scale") num(o.penalty_scale);
    else if (key == "eps") num(o.eps);
    else if (key == "reweight_every") num(o.reweight_every);
    else if (key == "lasso_steps") num(o.lasso_steps);
    else if (key == "finetune_steps") num(o.finetune_steps);
    else if (key == "layer_sparsity") {
      if (!v.is_object()) throw std::invalid_argument("bp.layer_sparsity must be an object {layer: sparsity}");
      for (const auto& [name, s] : v.items()) {
        if (!s.is_number()) throw std::invalid_argument("bp.layer_sparsity['" + name + "'] must be a number");
        o.layer_sparsity[name] = s.get<double>();
      }
    } else if (key == "distill") {
      o.distill = apply_distill_json(o.distill, v, "bp");
    } else {
      throw std::invalid_argument("unknown key bp." + key);
    }
  }
  validate(o);
  return o;
}

}  // namespace rt3::train
