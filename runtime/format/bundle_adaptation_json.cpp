#include "runtime/format/bundle_adaptation_json.h"

#include <cmath>

#include "runtime/format/bundle.h"

namespace rt3::format {
namespace {

using json = nlohmann::json;

[[noreturn]] void bad(const std::string& source, const std::string& detail) {
  throw BundleError(BundleErrorKind::kBadVariants, source, "adaptation" + detail);
}

double number(const json& obj, const char* key, const std::string& where, const std::string& source, double lo,
              bool lo_open) {
  if (!obj.contains(key) || !obj[key].is_number()) bad(source, where + " needs '" + key + "', a number");
  const double v = obj[key].get<double>();
  if (!std::isfinite(v) || v < lo || (lo_open && v == lo))
    bad(source, where + "." + key + " = " + obj[key].dump() + " must be finite and " + (lo_open ? "> " : ">= ") +
                    std::to_string(lo));
  return v;
}

}  // namespace

AdaptationInfo parse_adaptation(const json& j, const std::set<std::string>& names, const std::string& source) {
  if (!j.is_object()) bad(source, " must be null or an object, got " + j.dump());
  AdaptationInfo a;
  if (j.contains("deadline_ms") && !j["deadline_ms"].is_null())
    a.deadline_s = number(j, "deadline_ms", "", source, 0, true) * 1e-3;
  if (j.contains("cycle_scale")) a.cycle_scale = number(j, "cycle_scale", "", source, 0, true);
  if (!j.contains("variants") || !j["variants"].is_object()) bad(source, " needs 'variants', an object name -> model");
  for (auto it = j["variants"].begin(); it != j["variants"].end(); ++it) {
    const std::string where = ".variants['" + it.key() + "']";
    if (!names.count(it.key())) bad(source, where + " does not name a variant of this bundle (or \"base\")");
    const json& v = it.value();
    if (!v.is_object()) bad(source, where + " must be an object {compute_ms, memory_ms, f_ref_khz, accuracy}");
    VariantLatencyModel m;
    m.compute_s = number(v, "compute_ms", where, source, 0, false) * 1e-3;
    m.memory_s = number(v, "memory_ms", where, source, 0, false) * 1e-3;
    m.f_ref_khz = number(v, "f_ref_khz", where, source, 0, true);
    if (m.compute_s + m.memory_s <= 0) bad(source, where + " predicts a latency of 0");
    if (v.contains("accuracy") && !v["accuracy"].is_null()) {
      const double acc = number(v, "accuracy", where, source, 0, false);
      if (acc > 1) bad(source, where + ".accuracy = " + v["accuracy"].dump() + " must be in [0, 1]");
      m.accuracy = acc;
    }
    a.variants[it.key()] = m;
  }
  return a;
}

json adaptation_to_json(const AdaptationInfo& a) {
  json vars = json::object();
  for (const auto& [name, m] : a.variants)
    vars[name] = {{"compute_ms", m.compute_s * 1e3},
                  {"memory_ms", m.memory_s * 1e3},
                  {"f_ref_khz", m.f_ref_khz},
                  {"accuracy", m.accuracy ? json(*m.accuracy) : json(nullptr)}};
  return {{"deadline_ms", a.deadline_s ? json(*a.deadline_s * 1e3) : json(nullptr)},
          {"cycle_scale", a.cycle_scale},
          {"variants", vars}};
}

}  // namespace rt3::format
