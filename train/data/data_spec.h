// Where a task's data comes from: a shipped corpus (preset) or the user's own files. Stored in
// the run's rt3_train.json, so that every later verb on the run (eval, prune, search) reads
// exactly the examples the run was trained on.
#pragma once

#include <string>

#include <nlohmann/json_fwd.hpp>

namespace rt3::data {

struct DataSpec {
  // "sotu", "spam" or "wordnet": the shipped corpus of that name. Empty: the files below.
  std::string preset;
  // Absolute paths. Classification: CSV, TSV or JSON Lines files. LM: a text file (documents
  // separated by blank lines) or a folder of .txt files (one document each). Empty valid/test:
  // carved from train (docs/data.md "Bring your own data").
  std::string train, valid, test;
  // Classification columns (CSV/TSV header names or JSON keys). Empty pair column: single texts.
  std::string text_column = "text";
  std::string text_pair_column;
  std::string label_column = "label";
};

nlohmann::json to_json(const DataSpec& d);
// Throws std::runtime_error naming the key for a malformed "data" section.
DataSpec data_spec_from_json(const nlohmann::json& j);

// What `rt3 train --data PATH` means. Classification: a folder holding train.<ext> and
// optionally valid.<ext> or validation.<ext> and test.<ext> (ext csv, tsv, jsonl or json), or
// one such file used as train. LM: a folder of .txt documents or one text file, used as train.
// Paths come back absolute. Throws with a one-line reason when nothing fits.
DataSpec resolve_class_data(const std::string& path, DataSpec base);
DataSpec resolve_lm_data(const std::string& path, DataSpec base);

}  // namespace rt3::data
