#include "train/data/labeled_rows.h"

#include <nlohmann/json.hpp>

#include "train/data/csv.h"
#include "train/data/user_text.h"

namespace rt3::data {
namespace {

using nlohmann::json;

bool ends_with(const std::string& s, const std::string& suffix) {
  return s.size() >= suffix.size() && s.compare(s.size() - suffix.size(), suffix.size(), suffix) == 0;
}

bool blank(const std::string& s) { return s.find_first_not_of(" \t\r\n\f\v") == std::string::npos; }

// The checks every row gets, whatever its format.
void check_row(const TextRow& r, const ColumnNames& c, const std::string& path) {
  if (blank(r.text)) throw data_error(path, r.line, "empty text in column '" + printable(c.text) + "'");
  if (!c.text_pair.empty() && blank(r.text_pair))
    throw data_error(path, r.line, "empty text in column '" + printable(c.text_pair) + "'");
  if (blank(r.label)) throw data_error(path, r.line, "empty label in column '" + printable(c.label) + "'");
}

std::vector<TextRow> read_table(const std::string& text, char sep, const std::string& path, const ColumnNames& c) {
  std::vector<CsvRecord> records = parse_csv(text, sep, path);
  if (records.empty()) throw data_error(path, 0, "the file is empty (expected a header row and data rows)");
  const CsvRecord& header = records[0];
  auto column = [&](const std::string& name) {
    std::size_t found = header.fields.size();
    for (std::size_t k = 0; k < header.fields.size(); ++k)
      if (header.fields[k] == name) {
        if (found != header.fields.size())
          throw data_error(path, header.line, "column '" + printable(name) + "' appears twice in the header");
        found = k;
      }
    if (found == header.fields.size()) {
      std::string have;
      for (const auto& f : header.fields) have += (have.empty() ? "'" : ", '") + printable(f) + "'";
      throw data_error(path, header.line, "no column '" + printable(name) + "' in the header (columns: " + have +
                                              "); name it with --text-column / --text-pair-column / --label-column");
    }
    return found;
  };
  const std::size_t ti = column(c.text), li = column(c.label);
  const std::size_t pi = c.text_pair.empty() ? 0 : column(c.text_pair);
  std::vector<TextRow> rows;
  rows.reserve(records.size() - 1);
  for (std::size_t r = 1; r < records.size(); ++r) {
    CsvRecord& rec = records[r];
    if (rec.fields.size() != header.fields.size())
      throw data_error(path, rec.line, "row has " + std::to_string(rec.fields.size()) + " fields but the header has " +
                                           std::to_string(header.fields.size()));
    TextRow row;
    row.line = rec.line;
    row.text = std::move(rec.fields[ti]);
    row.label = std::move(rec.fields[li]);
    if (!c.text_pair.empty()) row.text_pair = std::move(rec.fields[pi]);
    check_row(row, c, path);
    rows.push_back(std::move(row));
  }
  return rows;
}

std::string string_value(const json& obj, const std::string& key, const std::string& path, std::size_t line) {
  const auto it = obj.find(key);
  if (it == obj.end()) throw data_error(path, line, "no key '" + printable(key) + "' in this JSON object");
  if (!it->is_string()) throw data_error(path, line, "'" + printable(key) + "' must be a JSON string, got " + std::string(it->type_name()));
  return it->get<std::string>();
}

std::vector<TextRow> read_json_lines(const std::string& text, const std::string& path, const ColumnNames& c) {
  std::vector<TextRow> rows;
  std::size_t start = 0, line = 0;
  while (start < text.size()) {
    std::size_t end = text.find('\n', start);
    if (end == std::string::npos) end = text.size();
    const std::string body = text.substr(start, end - start);
    start = end + 1;
    ++line;
    if (blank(body)) continue;
    json obj;
    try {
      obj = json::parse(body);
    } catch (const json::exception&) {  // also a number too large for a double
      throw data_error(path, line, "not valid JSON (each line must be one JSON object)");
    }
    if (!obj.is_object()) throw data_error(path, line, std::string("a JSON ") + obj.type_name() + ", not an object");
    TextRow row;
    row.line = line;
    row.text = string_value(obj, c.text, path, line);
    if (!c.text_pair.empty()) row.text_pair = string_value(obj, c.text_pair, path, line);
    const auto lab = obj.find(c.label);
    if (lab == obj.end()) throw data_error(path, line, "no key '" + printable(c.label) + "' in this JSON object");
    if (lab->is_string()) row.label = lab->get<std::string>();
    else if (lab->is_number_integer()) row.label = lab->dump();
    else throw data_error(path, line, "label '" + printable(c.label) + "' must be a string or an integer, got " + lab->dump().substr(0, 40));
    check_row(row, c, path);
    rows.push_back(std::move(row));
  }
  return rows;
}

}  // namespace

std::vector<TextRow> read_labeled_rows(const std::string& path, const ColumnNames& c) {
  char sep = 0;
  if (ends_with(path, ".csv")) sep = ',';
  else if (ends_with(path, ".tsv")) sep = '\t';
  else if (!ends_with(path, ".jsonl") && !ends_with(path, ".json"))
    throw data_error(path, 0, "unknown data format (expected a .csv, .tsv, .jsonl or .json file)");
  const std::string text = read_utf8_file(path);
  std::vector<TextRow> rows = sep ? read_table(text, sep, path, c) : read_json_lines(text, path, c);
  if (rows.empty()) throw data_error(path, 0, "no data rows");
  return rows;
}

}  // namespace rt3::data
