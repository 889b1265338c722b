// Small helpers to read and write sysfs attribute files. Every backend takes its root as a
// parameter, so the same code runs on the real /sys and on a fake tree in tests.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

namespace rt3::dvfs::sysfs {

// Strip spaces, tabs and newlines at both ends (sysfs values end in "\n", some lists in " \n").
std::string trim(const std::string& s);

// Whole file, or nullopt if it does not exist. Any other failure (permission, a directory) throws
// naming the file, because a present-but-unreadable attribute must not look like "absent".
std::optional<std::string> read_optional(const std::string& path);

// Whole file; throws if it is absent or unreadable.
std::string read_required(const std::string& path);

// One unsigned decimal value; `path` is only for the error message.
std::uint64_t parse_u64(const std::string& text, const std::string& path);

// Whitespace-separated unsigned decimal values ("408000 600000 \n").
std::vector<std::uint64_t> parse_u64_list(const std::string& text, const std::string& path);

// Write `value` to an attribute. EACCES/EPERM -> "needs root or write permission on <file>";
// a rejected value (EINVAL from the driver) names the file and the value.
void write(const std::string& path, const std::string& value);

}  // namespace rt3::dvfs::sysfs
