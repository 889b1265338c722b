#include "train/data/user_text.h"

#include <cstdio>

#include "runtime/format/input_file.h"
#include "train/data/text.h"

namespace rt3::data {

std::runtime_error data_error(const std::string& path, std::size_t line, const std::string& what) {
  return std::runtime_error(path + (line > 0 ? ":" + std::to_string(line) : std::string()) + ": " + what);
}

std::size_t find_invalid_utf8(std::string_view s) {
  for (std::size_t i = 0; i < s.size();) {
    const std::size_t len = utf8_sequence_length(s, i);
    if (len == 0) return i;
    i += len;
  }
  return std::string_view::npos;
}

std::size_t line_at(std::string_view s, std::size_t offset) {
  std::size_t line = 1;
  for (std::size_t i = 0; i < offset && i < s.size(); ++i) line += s[i] == '\n';
  return line;
}

std::string read_utf8_file(const std::string& path) {
  std::string bytes;
  try {
    bytes = format::read_input_file(path, kMaxDataFileBytes);
  } catch (const std::exception& e) {
    throw std::runtime_error(std::string("cannot read data file: ") + e.what());
  }
  if (bytes.compare(0, 3, "\xEF\xBB\xBF") == 0) bytes.erase(0, 3);  // spreadsheet programs write one
  const std::size_t bad = find_invalid_utf8(bytes);
  if (bad != std::string_view::npos) {
    char hex[8];
    std::snprintf(hex, sizeof hex, "0x%02X", static_cast<unsigned char>(bytes[bad]));
    throw data_error(path, line_at(bytes, bad),
                     std::string("not valid UTF-8 (byte ") + hex + "): save the file as UTF-8");
  }
  return bytes;
}

std::string printable(std::string_view s, std::size_t max) {
  std::size_t end = s.size() < max ? s.size() : max;
  while (end > 0 && end < s.size() && (static_cast<unsigned char>(s[end]) & 0xC0) == 0x80) --end;  // whole characters
  std::string out;
  for (std::size_t i = 0; i < end; ++i) {
    const unsigned char c = static_cast<unsigned char>(s[i]);
    if (c == '\n') out += "\\n";
    else if (c == '\t') out += "\\t";
    else if (c == '\r') out += "\\r";
    else if (c < 0x20 || c == 0x7F) out += '?';
    else out += static_cast<char>(c);
  }
  if (end < s.size()) out += "...";
  return out;
}

}  // namespace rt3::data
