// Reading the user's own data files: the whole file as UTF-8 text, and errors that name the
// file and line, on one line. Shared by the table reader (CSV/TSV/JSONL) and the LM documents.
#pragma once

#include <cstddef>
#include <cstdint>
#include <stdexcept>
#include <string>
#include <string_view>

namespace rt3::data {

// Largest data file read whole (docs/limits.md). Far above the shipped corpora (14 MB).
inline constexpr std::uint64_t kMaxDataFileBytes = std::uint64_t{2} << 30;

// "<path>:<line>: <what>" (line 0: no line number).
std::runtime_error data_error(const std::string& path, std::size_t line, const std::string& what);

// Offset of the first byte that is not part of well-formed UTF-8 (RFC 3629: no overlong forms,
// no surrogates, nothing above U+10FFFF), or std::string_view::npos.
std::size_t find_invalid_utf8(std::string_view s);

// 1-based line number of byte `offset` (lines end with '\n').
std::size_t line_at(std::string_view s, std::size_t offset);

// The file's bytes without a leading UTF-8 byte-order mark. Throws data_error for a missing,
// unreadable, non-regular or too large file and for bytes that are not UTF-8 (with the line).
std::string read_utf8_file(const std::string& path);

// User text for an error message: at most `max` bytes, control characters escaped, so the
// message stays one line whatever the file holds.
std::string printable(std::string_view s, std::size_t max = 40);

}  // namespace rt3::data
