// Where corpora live on disk, and the checks that turn a missing file into an actionable error.
#pragma once

#include <string>
#include <vector>

namespace rt3::data {

// The data cache folder: $RT3_DATA_DIR if set and non-empty, else the build-time default
// RT3_DEFAULT_DATA_DIR (<repo>/.cache/data, filled by scripts/setup.sh).
std::string data_dir();

// Throws std::runtime_error("<what> not found at <path>: run scripts/setup.sh") unless `path`
// is an existing directory / regular file.
void require_dir(const std::string& path, const std::string& what);
void require_file(const std::string& path, const std::string& what);

// Regular files directly inside `dir` whose name ends with `suffix`, as full paths sorted by
// byte order, so callers never depend on the file system's directory order.
std::vector<std::string> list_files(const std::string& dir, const std::string& suffix);

// Whole file as bytes. Throws if it cannot be opened or read.
std::string read_file(const std::string& path);

}  // namespace rt3::data
