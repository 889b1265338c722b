#include "train/data/csv.h"

#include "train/data/user_text.h"

namespace rt3::data {

std::vector<CsvRecord> parse_csv(std::string_view text, char sep, const std::string& path) {
  std::vector<CsvRecord> records;
  const std::size_t n = text.size();
  std::size_t i = 0, line = 1;
  auto at_line_end = [&](std::size_t k) { return k >= n || text[k] == '\n' || (text[k] == '\r' && k + 1 < n && text[k + 1] == '\n'); };
  auto skip_line_end = [&]() {
    if (i < n && text[i] == '\r') ++i;
    if (i < n && text[i] == '\n') {
      ++i;
      ++line;
    }
  };
  while (i < n) {
    if (at_line_end(i)) {  // a blank line between records
      skip_line_end();
      continue;
    }
    CsvRecord rec;
    rec.line = line;
    for (;;) {  // one field per iteration
      std::string field;
      if (i < n && text[i] == '"') {
        const std::size_t open_line = line;
        ++i;
        for (;;) {
          if (i >= n)
            throw data_error(path, open_line, "a quoted field is never closed (a '\"' is missing)");
          const char c = text[i];
          if (c == '"') {
            if (i + 1 < n && text[i + 1] == '"') {  // "" is one quote
              field += '"';
              i += 2;
              continue;
            }
            ++i;
            break;
          }
          if (c == '\n') ++line;
          field += c;
          ++i;
        }
        if (!(at_line_end(i) || text[i] == sep))
          throw data_error(path, line,
                           "text after the closing quote of a field (a quote inside a quoted field is written \"\")");
      } else {
        while (!at_line_end(i) && text[i] != sep) {
          if (text[i] == '"')
            throw data_error(path, line, "a quote inside an unquoted field (quote the whole field and double its quotes)");
          field += text[i++];
        }
      }
      rec.fields.push_back(std::move(field));
      if (i < n && text[i] == sep) {
        ++i;
        continue;
      }
      skip_line_end();
      break;
    }
    records.push_back(std::move(rec));
  }
  return records;
}

}  // namespace rt3::data
