// CSV and TSV as Hugging Face `datasets` writes them (Dataset.to_csv, i.e. pandas with
// QUOTE_MINIMAL): RFC 4180 records, a field that holds the separator, a quote or a line break is
// quoted with '"' and its quotes doubled. The reader is strict about quoting, because a broken
// quote silently shifts every later field into the wrong column.
#pragma once

#include <cstddef>
#include <string>
#include <string_view>
#include <vector>

namespace rt3::data {

struct CsvRecord {
  std::vector<std::string> fields;
  std::size_t line = 0;  // 1-based line the record starts on
};

// Parses `text` (valid UTF-8) into records. Line ends are "\n" or "\r\n"; blank lines outside
// quotes are skipped. Throws data_error(path, line, ...) for an unterminated quoted field, text
// after a closing quote, or a quote inside an unquoted field. Field counts are not checked here.
std::vector<CsvRecord> parse_csv(std::string_view text, char separator, const std::string& path);

}  // namespace rt3::data
