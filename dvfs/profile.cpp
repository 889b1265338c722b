#include "dvfs/profile.h"

#include <algorithm>
#include <cmath>
#include <fstream>
#include <limits>
#include <stdexcept>

#include "runtime/format/input_file.h"

namespace rt3::dvfs {
namespace {

using nlohmann::json;

// Every error names the file and the JSON path of the offending field, so a bad profile is fixed
// without reading this code.
[[noreturn]] void fail(const std::string& origin, const std::string& field, const std::string& what) {
  throw std::runtime_error(origin + ": " + field + ": " + what);
}

struct Ctx {
  const std::string& origin;

  const json& need(const json& obj, const std::string& path, const char* key) const {
    if (!obj.is_object()) fail(origin, path, "expected an object");
    auto it = obj.find(key);
    if (it == obj.end()) fail(origin, path + "." + key, "missing required field");
    return *it;
  }
  std::string str(const json& obj, const std::string& path, const char* key) const {
    const json& v = need(obj, path, key);
    if (!v.is_string()) fail(origin, path + "." + key, "expected a string");
    std::string s = v.get<std::string>();
    if (s.empty()) fail(origin, path + "." + key, "must not be empty");
    return s;
  }
  double num(const json& v, const std::string& field) const {
    if (!v.is_number()) fail(origin, field, "expected a number");
    double d = v.get<double>();
    if (!std::isfinite(d)) fail(origin, field, "must be finite");
    return d;
  }
  double positive(const json& obj, const std::string& path, const char* key) const {
    double d = num(need(obj, path, key), path + "." + key);
    if (!(d > 0)) fail(origin, path + "." + key, "must be > 0");
    return d;
  }
  double non_negative(const json& obj, const std::string& path, const char* key) const {
    double d = num(need(obj, path, key), path + "." + key);
    if (d < 0) fail(origin, path + "." + key, "must be >= 0");
    return d;
  }
  // Positive integer that fits in `max`.
  std::uint64_t pos_int(const json& v, const std::string& field, std::uint64_t max) const {
    if (!v.is_number_integer()) fail(origin, field, "expected an integer");
    if (v.is_number_unsigned() ? v.get<std::uint64_t>() == 0 : v.get<std::int64_t>() <= 0)
      fail(origin, field, "must be > 0");
    std::uint64_t u = v.get<std::uint64_t>();
    if (u > max) fail(origin, field, "too large");
    return u;
  }
};

PowerModel parse_power_model(const Ctx& c, const json& j) {
  std::string m = c.str(j, "$", "power_model");
  if (m == "energy_model") return PowerModel::EnergyModel;
  if (m == "power_profile") return PowerModel::PowerProfile;
  fail(c.origin, "$.power_model", "unknown power_model \"" + m + "\" (want energy_model or power_profile)");
}

std::vector<Source> parse_sources(const Ctx& c, const json& j) {
  const json& arr = c.need(j, "$", "sources");
  if (!arr.is_array()) fail(c.origin, "$.sources", "expected an array");
  if (arr.empty()) fail(c.origin, "$.sources", "must not be empty: cite where every number comes from");
  std::vector<Source> out;
  for (std::size_t i = 0; i < arr.size(); ++i) {
    std::string p = "$.sources[" + std::to_string(i) + "]";
    out.push_back({c.str(arr[i], p, "what"), c.str(arr[i], p, "where")});
  }
  return out;
}

Opp parse_opp(const Ctx& c, const json& o, const std::string& p, PowerModel model) {
  Opp opp;
  // 10 GHz cap keeps coeff * mV^2 * MHz far inside 64 bits.
  opp.khz = c.pos_int(c.need(o, p, "khz"), p + ".khz", 10'000'000);
  if (model == PowerModel::EnergyModel) {
    if (!o.contains("uv")) fail(c.origin, p + ".uv", "missing voltage (power_model energy_model needs uv)");
    opp.uv = c.pos_int(o["uv"], p + ".uv", 5'000'000);
  } else {
    if (!o.contains("ma")) fail(c.origin, p + ".ma", "missing current (power_model power_profile needs ma)");
    opp.ma = c.num(o["ma"], p + ".ma");
    if (!(*opp.ma > 0)) fail(c.origin, p + ".ma", "must be > 0");
    if (o.contains("uv")) opp.uv = c.pos_int(o["uv"], p + ".uv", 5'000'000);
  }
  return opp;
}

Cluster parse_cluster(const Ctx& c, const json& cj, const std::string& p, PowerModel model) {
  Cluster cl;
  cl.name = c.str(cj, p, "name");
  cl.cores = static_cast<int>(c.pos_int(c.need(cj, p, "cores"), p + ".cores", 1024));
  cl.core_type = c.str(cj, p, "core_type");
  cl.capacity_dmips_mhz =
      static_cast<int>(c.pos_int(c.need(cj, p, "capacity_dmips_mhz"), p + ".capacity_dmips_mhz", 1u << 20));
  const json& coeff = c.need(cj, p, "dynamic_power_coefficient");
  if (!coeff.is_null())
    cl.dynamic_power_coefficient = static_cast<std::uint32_t>(
        c.pos_int(coeff, p + ".dynamic_power_coefficient", std::numeric_limits<std::uint32_t>::max()));
  else if (model == PowerModel::EnergyModel)
    fail(c.origin, p + ".dynamic_power_coefficient", "null, but power_model energy_model needs it");
  cl.static_power_mw = c.non_negative(cj, p, "static_power_mw");
  cl.static_power_source = c.str(cj, p, "static_power_source");

  const json& opps = c.need(cj, p, "opps");
  if (!opps.is_array()) fail(c.origin, p + ".opps", "expected an array");
  if (opps.empty()) fail(c.origin, p + ".opps", "must not be empty");
  for (std::size_t i = 0; i < opps.size(); ++i) {
    std::string op = p + ".opps[" + std::to_string(i) + "]";
    Opp o = parse_opp(c, opps[i], op, model);
    if (!cl.opps.empty() && o.khz <= cl.opps.back().khz)
      fail(c.origin, op + ".khz", "frequencies must be strictly increasing (" + std::to_string(o.khz) +
                                      " after " + std::to_string(cl.opps.back().khz) + ")");
    cl.opps.push_back(o);
  }
  return cl;
}

void compute_power(Cluster& cl, PowerModel model, double nominal_v) {
  for (Opp& o : cl.opps) {
    if (model == PowerModel::EnergyModel)
      o.dynamic_power_uw = kernel_dynamic_power_uw(*cl.dynamic_power_coefficient, *o.uv, o.khz);
    else  // mA x V = mW; kept in integer uW like the kernel's EM table.
      o.dynamic_power_uw = static_cast<std::uint64_t>(std::llround(*o.ma * nominal_v * 1000.0));
    o.core_power_mw = o.dynamic_power_mw() + cl.static_power_mw / cl.cores;
    o.cluster_power_mw = cl.power_mw(o, cl.cores);
  }
  mark_inefficient(cl.opps);
}

}  // namespace

double Cluster::power_mw(const Opp& opp, int active_cores) const {
  if (active_cores < 0 || active_cores > cores)
    throw std::runtime_error("dvfs cluster " + name + ": active_cores " + std::to_string(active_cores) +
                             " outside 0.." + std::to_string(cores));
  return active_cores * opp.dynamic_power_mw() + static_power_mw;
}

const Cluster& Profile::cluster(const std::string& cluster_name) const {
  for (const Cluster& c : clusters)
    if (c.name == cluster_name) return c;
  throw std::runtime_error(origin + ": no cluster named \"" + cluster_name + "\"");
}

std::vector<Opp> Profile::usable_levels() const {
  std::vector<Opp> out;
  for (const Opp& o : inference().opps)
    if (!o.inefficient) out.push_back(o);
  return out;
}

std::uint64_t kernel_dynamic_power_uw(std::uint32_t coefficient, std::uint64_t uv, std::uint64_t khz) {
  const std::uint64_t mv = uv / 1000;
  const std::uint64_t mhz = (khz * 1000) / 1000000;
  return static_cast<std::uint64_t>(coefficient) * mv * mv * mhz / 1000000;
}

void mark_inefficient(std::vector<Opp>& opps) {
  if (opps.empty()) return;
  // Kernel (v5.16+, em_create_perf_table / em_compute_costs): cost = fmax * power / f, walked from
  // the top; an OPP whose cost is not lower than the cheapest higher OPP is inefficient, because
  // running faster and idling costs no more energy. Newer kernels (v6.x) compute
  // cost = 10 * power / performance with performance = capacity * f / fmax: the same quantity up
  // to a constant factor per CPU (capacity), so the same OPPs come out inefficient (only
  // integer rounding differs).
  const std::uint64_t fmax = opps.back().khz;
  std::uint64_t prev_cost = std::numeric_limits<std::uint64_t>::max();
  for (std::size_t k = opps.size(); k-- > 0;) {
    Opp& o = opps[k];
    o.cost = fmax * o.dynamic_power_uw / o.khz;
    o.inefficient = o.cost >= prev_cost;
    if (!o.inefficient) prev_cost = o.cost;
  }
}

const char* to_string(PowerModel m) {
  return m == PowerModel::EnergyModel ? "energy_model" : "power_profile";
}

Profile parse_profile(const json& j, const std::string& origin) {
  Ctx c{origin};
  if (!j.is_object()) fail(origin, "$", "expected a JSON object");
  Profile p;
  p.origin = origin;
  p.name = c.str(j, "$", "name");
  p.soc = c.str(j, "$", "soc");
  p.sources = parse_sources(c, j);
  p.power_model = parse_power_model(c, j);

  const json& bj = c.need(j, "$", "battery");
  p.battery.capacity_mah = c.positive(bj, "$.battery", "capacity_mah");
  p.battery.nominal_voltage_v = c.positive(bj, "$.battery", "nominal_voltage_v");
  const json& assumed = c.need(bj, "$.battery", "assumed");
  if (!assumed.is_boolean()) fail(origin, "$.battery.assumed", "expected true or false");
  p.battery.assumed = assumed.get<bool>();
  p.battery.note = c.str(bj, "$.battery", "note");

  p.base_power_mw = c.non_negative(j, "$", "base_power_mw");
  p.idle_power_mw = c.non_negative(j, "$", "idle_power_mw");

  const json& cls = c.need(j, "$", "clusters");
  if (!cls.is_array()) fail(origin, "$.clusters", "expected an array");
  if (cls.empty()) fail(origin, "$.clusters", "must not be empty");
  for (std::size_t i = 0; i < cls.size(); ++i) {
    std::string cp = "$.clusters[" + std::to_string(i) + "]";
    Cluster cl = parse_cluster(c, cls[i], cp, p.power_model);
    for (const Cluster& other : p.clusters)
      if (other.name == cl.name) fail(origin, cp + ".name", "duplicate cluster name \"" + cl.name + "\"");
    compute_power(cl, p.power_model, p.battery.nominal_voltage_v);
    p.clusters.push_back(std::move(cl));
  }

  if (j.contains("inference_cluster")) {
    p.inference_cluster = c.str(j, "$", "inference_cluster");
    bool found = std::any_of(p.clusters.begin(), p.clusters.end(),
                             [&](const Cluster& cl) { return cl.name == p.inference_cluster; });
    if (!found) fail(origin, "$.inference_cluster", "no cluster named \"" + p.inference_cluster + "\"");
  } else {  // the big cluster: highest capacity (first one on a tie)
    const Cluster* best = &p.clusters.front();
    for (const Cluster& cl : p.clusters)
      if (cl.capacity_dmips_mhz > best->capacity_dmips_mhz) best = &cl;
    p.inference_cluster = best->name;
  }
  return p;
}

Profile load_profile(const std::string& path) {
  const std::string text = format::read_input_file(path);
  json j;
  try {
    j = json::parse(text);
  } catch (const json::exception& e) {  // also out_of_range: a number like 1e999 overflows
    throw std::runtime_error(path + ": invalid JSON: " + e.what());
  }
  return parse_profile(j, path);
}

}  // namespace rt3::dvfs
