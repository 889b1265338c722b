#include "cli/pair_input.h"

#include <algorithm>
#include <stdexcept>

namespace rt3::cli {

std::pair<std::string, std::string> split_pair_line(const std::string& line, size_t line_number) {
  const size_t tabs = static_cast<size_t>(std::count(line.begin(), line.end(), '\t'));
  if (tabs != 1)
    throw std::runtime_error("stdin line " + std::to_string(line_number) + ": expected two texts separated by one tab, found " +
                             (tabs == 0 ? std::string("no tab") : std::to_string(tabs) + " tabs") +
                             " (pairs: one per line, first<TAB>second)");
  const size_t tab = line.find('\t');
  return {line.substr(0, tab), line.substr(tab + 1)};
}

}  // namespace rt3::cli
