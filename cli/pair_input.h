#pragma once
// Sentence pairs on stdin for `rt3 run`: one pair per line, the two texts separated by a tab
// (what `cut`, `paste` and a TSV export give).
#include <cstddef>
#include <string>
#include <utility>

namespace rt3::cli {

// Splits stdin line `line_number` (1-based, for the message) at its one tab. A line without a
// tab, or with more than one (which would make the split a guess), throws std::runtime_error
// naming the line.
std::pair<std::string, std::string> split_pair_line(const std::string& line, size_t line_number);

}  // namespace rt3::cli
