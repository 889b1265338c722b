#include "train/prune/distill_config.h"

#include <cmath>
#include <stdexcept>

namespace rt3::train {
using nlohmann::json;

void validate(const DistillOptions& o, const std::string& prefix) {
  if (!(o.alpha >= 0.0 && o.alpha <= 1.0)) throw std::invalid_argument(prefix + ".distill.alpha must be in [0, 1]");
  if (!(o.temperature > 0.0 && o.temperature <= 100.0))
    throw std::invalid_argument(prefix + ".distill.temperature must be a number in (0, 100]");
}

json to_json(const DistillOptions& o) {
  return {{"alpha", o.alpha}, {"temperature", o.temperature}, {"teacher", o.teacher}};
}

DistillOptions apply_distill_json(DistillOptions o, const json& j, const std::string& prefix) {
  const std::string where = prefix + ".distill";
  if (!j.is_object()) throw std::invalid_argument(where + " must be a JSON object {\"alpha\": .., \"temperature\": ..}");
  for (const auto& [key, v] : j.items()) {
    if (key == "alpha" || key == "temperature") {
      if (!v.is_number()) throw std::invalid_argument(where + "." + key + " must be a number");
      (key == "alpha" ? o.alpha : o.temperature) = v.get<double>();
    } else if (key == "teacher") {
      if (!v.is_string()) throw std::invalid_argument(where + ".teacher must be a run directory (a string)");
      o.teacher = v.get<std::string>();
    } else {
      throw std::invalid_argument("unknown key " + where + "." + key);
    }
  }
  return o;
}

}  // namespace rt3::train
