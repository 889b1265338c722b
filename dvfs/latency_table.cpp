#include "dvfs/latency_table.h"

#include <algorithm>
#include <cmath>
#include <fstream>
#include <sstream>
#include <stdexcept>

#include "runtime/format/input_file.h"

namespace rt3::dvfs {
namespace {

using nlohmann::json;

[[noreturn]] void fail(const std::string& origin, const std::string& path, const std::string& what) {
  throw std::runtime_error(origin + ": " + path + ": " + what);
}

// Reads a field with the checks every number here needs; `path` names it in errors.
struct Reader {
  const std::string& origin;

  const json& field(const json& obj, const std::string& path, const char* key) const {
    if (!obj.is_object()) fail(origin, path, "expected an object");
    auto it = obj.find(key);
    if (it == obj.end()) fail(origin, path + "." + key, "missing required field");
    return *it;
  }
  double number(const json& v, const std::string& path) const {
    if (!v.is_number()) fail(origin, path, "expected a number");
    double d = v.get<double>();
    if (!std::isfinite(d) || d < 0) fail(origin, path, "must be a finite number >= 0");
    return d;
  }
  double number(const json& obj, const std::string& path, const char* key) const {
    return number(field(obj, path, key), path + "." + key);
  }
  int64_t integer(const json& obj, const std::string& path, const char* key, int64_t min) const {
    const json& v = field(obj, path, key);
    if (!v.is_number_integer() || v.get<int64_t>() < min)
      fail(origin, path + "." + key, "expected an integer >= " + std::to_string(min));
    return v.get<int64_t>();
  }
  std::string string(const json& obj, const std::string& path, const char* key) const {
    const json& v = field(obj, path, key);
    if (!v.is_string()) fail(origin, path + "." + key, "expected a string");
    return v.get<std::string>();
  }
  // {"<int>": number} -> map; keys must be pruning numbers >= 1.
  std::map<int, double> by_pruning_number(const json& obj, const std::string& path, const char* key) const {
    const json& v = field(obj, path, key);
    if (!v.is_object()) fail(origin, path + "." + key, "expected an object keyed by pruning number");
    std::map<int, double> out;
    for (auto it = v.begin(); it != v.end(); ++it) {
      const std::string where = path + "." + key + "." + it.key();
      int p = 0;
      try {
        size_t used = 0;
        p = std::stoi(it.key(), &used);
        if (used != it.key().size()) throw std::invalid_argument("trailing");
      } catch (const std::exception&) {
        fail(origin, where, "key must be an integer pruning number");
      }
      if (p < 1) fail(origin, where, "pruning number must be >= 1");
      out[p] = number(it.value(), where);
    }
    return out;
  }
};

json by_pn_json(const std::map<int, double>& m) {
  json j = json::object();
  for (const auto& [p, v] : m) j[std::to_string(p)] = v;
  return j;
}

const LayerLatency* find_layer(const LatencyTable& t, const std::string& name) {
  for (const auto& l : t.layers)
    if (l.name == name) return &l;
  return nullptr;
}

// Seconds and weight bytes of one layer at pruning number p (0 = dense).
std::pair<double, double> layer_cost(const LayerLatency& l, int p) {
  if (p == 0) return {l.dense_s, l.dense_bytes};
  auto s = l.pattern_s.find(p);
  if (s == l.pattern_s.end())
    throw std::runtime_error("latency table: layer " + l.name + " has no measurement at pruning number " +
                             std::to_string(p) + " (re-run rt3 profile with --pruning-numbers including it)");
  auto b = l.pattern_bytes.find(p);
  return {s->second, b == l.pattern_bytes.end() ? 0.0 : b->second};
}

int pruning_number_of(const std::map<std::string, int>& pn, const std::string& layer) {
  auto it = pn.find(layer);
  return it == pn.end() ? 0 : it->second;
}

void check_layers_known(const LatencyTable& t, const std::map<std::string, int>& pn) {
  for (const auto& [name, p] : pn) {
    if (!find_layer(t, name)) throw std::runtime_error("latency table: no prunable layer named " + name);
    if (p < 0) throw std::runtime_error("latency table: negative pruning number for " + name);
  }
}

}  // namespace

double LatencyTable::predict_s(const std::map<std::string, int>& pn) const {
  const LatencyModel m = predict_model(pn);
  return m.compute_s + m.memory_s;
}

LatencyModel LatencyTable::predict_model(const std::map<std::string, int>& pn) const {
  check_layers_known(*this, pn);
  LatencyModel m;
  m.f_ref_khz = host_khz;
  m.compute_s = remainder_s;
  const double bytes_per_s = weight_traffic_gbs * 1e9;
  for (const auto& l : layers) {
    const auto [isolated, bytes] = layer_cost(l, pruning_number_of(pn, l.name));
    m.compute_s += isolated;
    if (bytes_per_s > 0) m.memory_s += bytes / bytes_per_s;
  }
  m.compute_s *= compute_time_scale;
  return m;
}

const VariantLatency& LatencyTable::variant(const std::string& name) const {
  for (const auto& v : variants)
    if (v.name == name) return v;
  throw std::runtime_error("latency table: no variant named '" + name + "'");
}

LatencyModel LatencyTable::variant_model(const std::string& name) const {
  return predict_model(variant(name).pruning_numbers);
}

LatencyModel LatencyTable::measured_model(const std::string& name) const {
  const VariantLatency& v = variant(name);
  LatencyModel m = predict_model(v.pruning_numbers);
  const double predicted = m.compute_s + m.memory_s;
  if (v.measured_s > 0 && predicted > 0) {
    const double k = v.measured_s / predicted;
    m.compute_s *= k;
    m.memory_s *= k;
  } else if (v.measured_s > 0) {
    m.compute_s = v.measured_s;
  }
  return m;
}

std::vector<int> LatencyTable::pruning_numbers() const {
  std::vector<int> out;
  if (layers.empty()) return out;
  for (const auto& [p, s] : layers.front().pattern_s) {
    bool everywhere = std::all_of(layers.begin(), layers.end(), [p = p](const LayerLatency& l) {
      return l.pattern_s.count(p) != 0;
    });
    if (everywhere) out.push_back(p);
  }
  return out;
}

nlohmann::json to_json(const LatencyTable& t) {
  json j;
  j["kind"] = "rt3.latency_table";
  j["version"] = 1;
  j["bundle"] = t.bundle;
  j["model_type"] = t.model_type;
  j["threads"] = t.threads;
  j["tokens"] = t.tokens;
  j["tile"] = {{"rows", t.tile_rows}, {"cols", t.tile_cols}};
  j["host"] = {{"khz", t.host_khz}, {"khz_source", t.host_khz_source},
               {"memory_bandwidth_gbs", t.memory_bandwidth_gbs}};
  j["remainder_s"] = t.remainder_s;
  j["weight_traffic_gbs"] = t.weight_traffic_gbs;
  j["compute_time_scale"] = t.compute_time_scale;
  json layers = json::array();
  for (const auto& l : t.layers)
    layers.push_back({{"name", l.name}, {"rows", l.rows}, {"cols", l.cols}, {"dense_s", l.dense_s},
                      {"dense_bytes", l.dense_bytes}, {"pattern_s", by_pn_json(l.pattern_s)},
                      {"pattern_bytes", by_pn_json(l.pattern_bytes)}});
  j["layers"] = layers;
  json variants = json::array();
  for (const auto& v : t.variants) {
    json pn = json::object();
    for (const auto& [layer, p] : v.pruning_numbers) pn[layer] = p;
    variants.push_back({{"name", v.name}, {"sparsity", v.sparsity}, {"pruning_numbers", pn},
                        {"measured_s", v.measured_s}, {"predicted_s", v.predicted_s},
                        {"accuracy", v.accuracy ? json(*v.accuracy) : json(nullptr)}});
  }
  j["variants"] = variants;
  return j;
}

LatencyTable parse_latency_table(const nlohmann::json& j, const std::string& origin) {
  Reader r{origin};
  if (r.string(j, "$", "kind") != "rt3.latency_table")
    fail(origin, "$.kind", "not a latency table (expected \"rt3.latency_table\"; make one with rt3 profile)");
  if (r.integer(j, "$", "version", 1) != 1) fail(origin, "$.version", "this rt3 reads version 1");
  LatencyTable t;
  t.bundle = r.string(j, "$", "bundle");
  t.model_type = r.string(j, "$", "model_type");
  t.threads = static_cast<int>(r.integer(j, "$", "threads", 1));
  t.tokens = r.integer(j, "$", "tokens", 1);
  const json& tile = r.field(j, "$", "tile");
  t.tile_rows = r.integer(tile, "$.tile", "rows", 0);
  t.tile_cols = r.integer(tile, "$.tile", "cols", 0);
  const json& host = r.field(j, "$", "host");
  t.host_khz = r.number(host, "$.host", "khz");
  if (!(t.host_khz > 0)) fail(origin, "$.host.khz", "must be > 0");
  t.host_khz_source = r.string(host, "$.host", "khz_source");
  t.memory_bandwidth_gbs = r.number(host, "$.host", "memory_bandwidth_gbs");
  t.remainder_s = r.number(j, "$", "remainder_s");
  t.weight_traffic_gbs = r.number(j, "$", "weight_traffic_gbs");
  if (j.contains("compute_time_scale")) {  // absent in tables written before it existed: 1
    t.compute_time_scale = r.number(j, "$", "compute_time_scale");
    if (!(t.compute_time_scale > 0 && t.compute_time_scale <= 1)) fail(origin, "$.compute_time_scale", "must be in (0, 1]");
  }

  const json& layers = r.field(j, "$", "layers");
  if (!layers.is_array()) fail(origin, "$.layers", "expected an array");
  for (size_t i = 0; i < layers.size(); ++i) {
    const std::string path = "$.layers[" + std::to_string(i) + "]";
    LayerLatency l;
    l.name = r.string(layers[i], path, "name");
    if (find_layer(t, l.name)) fail(origin, path + ".name", "duplicate layer " + l.name);
    l.rows = r.integer(layers[i], path, "rows", 1);
    l.cols = r.integer(layers[i], path, "cols", 1);
    l.dense_s = r.number(layers[i], path, "dense_s");
    l.dense_bytes = r.number(layers[i], path, "dense_bytes");
    l.pattern_s = r.by_pruning_number(layers[i], path, "pattern_s");
    l.pattern_bytes = r.by_pruning_number(layers[i], path, "pattern_bytes");
    t.layers.push_back(std::move(l));
  }

  const json& variants = r.field(j, "$", "variants");
  if (!variants.is_array()) fail(origin, "$.variants", "expected an array");
  for (size_t i = 0; i < variants.size(); ++i) {
    const std::string path = "$.variants[" + std::to_string(i) + "]";
    VariantLatency v;
    v.name = r.string(variants[i], path, "name");
    v.sparsity = r.number(variants[i], path, "sparsity");
    if (v.sparsity > 1) fail(origin, path + ".sparsity", "must be in [0, 1]");
    const json& pn = r.field(variants[i], path, "pruning_numbers");
    if (!pn.is_object()) fail(origin, path + ".pruning_numbers", "expected an object");
    for (auto it = pn.begin(); it != pn.end(); ++it) {
      const std::string where = path + ".pruning_numbers." + it.key();
      if (!it.value().is_number_integer() || it.value().get<int>() < 0) fail(origin, where, "expected an integer >= 0");
      const LayerLatency* l = find_layer(t, it.key());
      if (!l) fail(origin, where, "not a layer of $.layers");
      const int p = it.value().get<int>();
      if (p != 0 && !l->pattern_s.count(p)) fail(origin, where, "no measurement at this pruning number in $.layers");
      v.pruning_numbers[it.key()] = p;
    }
    v.measured_s = r.number(variants[i], path, "measured_s");
    v.predicted_s = r.number(variants[i], path, "predicted_s");
    const json& acc = r.field(variants[i], path, "accuracy");
    if (!acc.is_null()) {
      v.accuracy = r.number(acc, path + ".accuracy");
      if (*v.accuracy > 1) fail(origin, path + ".accuracy", "must be a fraction in [0, 1]");
    }
    t.variants.push_back(std::move(v));
  }
  if (t.variants.empty() || t.variants.front().name != "base")
    fail(origin, "$.variants", "must start with the \"base\" variant");
  return t;
}

LatencyTable load_latency_table(const std::string& path) {
  const std::string text = format::read_input_file(path);  // make one with rt3 profile BUNDLE --out FILE
  json j;
  try {
    j = json::parse(text);
  } catch (const json::exception& e) {  // also out_of_range: a number like 1e999 overflows
    throw std::runtime_error(path + ": not valid JSON: " + e.what());
  }
  return parse_latency_table(j, path);
}

}  // namespace rt3::dvfs
