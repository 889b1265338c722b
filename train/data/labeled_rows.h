// Rows of a user's classification file (CSV, TSV or JSON Lines, as Hugging Face `datasets`
// writes them with to_csv / to_json(lines=True)): the text, the optional second text of a pair
// and the label, each checked, with the line it came from.
#pragma once

#include <cstddef>
#include <string>
#include <vector>

namespace rt3::data {

struct ColumnNames {
  std::string text = "text";
  std::string text_pair;  // empty: no second text
  std::string label = "label";
};

struct TextRow {
  std::string text, text_pair;
  std::string label;           // as written: a string, or an integer in decimal
  std::size_t line = 0;        // 1-based line of the row in its file
};

// The format follows the extension: .csv (comma), .tsv (tab), .jsonl / .json (one JSON object
// per line; blank lines skipped). CSV/TSV need a header row naming the columns. Throws a
// one-line "<path>:<line>: ..." error for: an unknown extension, a file that is unreadable or
// not UTF-8, broken quoting, a row with the wrong number of fields, a missing column or key, a
// JSON line that is not an object, an empty (all-whitespace) text or label, a text that is not
// a JSON string, a label that is neither a string nor an integer, and a file without rows.
std::vector<TextRow> read_labeled_rows(const std::string& path, const ColumnNames& columns);

}  // namespace rt3::data
