#include "train/data/data_spec.h"

#include <filesystem>
#include <stdexcept>
#include <vector>

#include <nlohmann/json.hpp>

namespace rt3::data {
namespace fs = std::filesystem;
using nlohmann::json;

namespace {

std::string absolute_path(const fs::path& p) { return fs::absolute(p).lexically_normal().string(); }

// The one file in `dir` named <stem>.<ext> for any of `stems` and the data extensions; empty
// when there is none, an error when there are two (which one was meant is not ours to guess).
std::string find_split_file(const fs::path& dir, const std::vector<std::string>& stems) {
  std::string found;
  for (const auto& stem : stems)
    for (const char* ext : {".csv", ".tsv", ".jsonl", ".json"}) {
      std::error_code ec;
      const fs::path p = dir / (stem + ext);
      if (!fs::is_regular_file(p, ec)) continue;
      if (!found.empty())
        throw std::runtime_error("'" + dir.string() + "' holds both " + fs::path(found).filename().string() + " and " +
                                 p.filename().string() + ": keep one, or name the files with --train/--valid/--test");
      found = absolute_path(p);
    }
  return found;
}

void read_string(const json& j, const char* key, std::string& out) {
  if (!j.contains(key)) return;
  if (!j[key].is_string()) throw std::runtime_error(std::string("run config: 'data.") + key + "' must be a string");
  out = j[key].get<std::string>();
}

}  // namespace

json to_json(const DataSpec& d) {
  if (!d.preset.empty()) return {{"preset", d.preset}};
  json j = {{"train", d.train}, {"valid", d.valid}, {"test", d.test}};
  // Columns only mean something for tables; an LM run has none of them.
  j["text_column"] = d.text_column;
  j["text_pair_column"] = d.text_pair_column;
  j["label_column"] = d.label_column;
  return j;
}

DataSpec data_spec_from_json(const json& j) {
  if (!j.is_object()) throw std::runtime_error("run config: 'data' must be an object");
  for (auto it = j.begin(); it != j.end(); ++it) {
    static const std::vector<std::string> known = {"preset", "train", "valid", "test",
                                                   "text_column", "text_pair_column", "label_column"};
    bool ok = false;
    for (const auto& k : known) ok |= it.key() == k;
    if (!ok) throw std::runtime_error("run config: unknown key 'data." + it.key() + "'");
  }
  DataSpec d;
  read_string(j, "preset", d.preset);
  read_string(j, "train", d.train);
  read_string(j, "valid", d.valid);
  read_string(j, "test", d.test);
  read_string(j, "text_column", d.text_column);
  read_string(j, "text_pair_column", d.text_pair_column);
  read_string(j, "label_column", d.label_column);
  return d;
}

DataSpec resolve_class_data(const std::string& path, DataSpec d) {
  std::error_code ec;
  if (fs::is_regular_file(path, ec)) {
    d.train = absolute_path(path);
    return d;
  }
  if (!fs::is_directory(path, ec)) throw std::runtime_error("--data '" + path + "' is neither a file nor a folder");
  d.train = find_split_file(path, {"train"});
  if (d.train.empty())
    throw std::runtime_error("--data '" + path + "' has no train.csv, train.tsv, train.jsonl or train.json");
  d.valid = find_split_file(path, {"valid", "validation"});
  d.test = find_split_file(path, {"test"});
  return d;
}

DataSpec resolve_lm_data(const std::string& path, DataSpec d) {
  std::error_code ec;
  if (!fs::is_regular_file(path, ec) && !fs::is_directory(path, ec))
    throw std::runtime_error("--data '" + path + "' is neither a file nor a folder");
  d.train = absolute_path(path);
  return d;
}

}  // namespace rt3::data
