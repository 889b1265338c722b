#include "train/data/paths.h"

#include <algorithm>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <stdexcept>

#include "runtime/format/input_file.h"

#ifndef RT3_DEFAULT_DATA_DIR
#error "RT3_DEFAULT_DATA_DIR must be defined by the build (see train/CMakeLists.txt)"
#endif

namespace fs = std::filesystem;

namespace rt3::data {

std::string data_dir() {
  // An empty RT3_DATA_DIR is treated as unset: `RT3_DATA_DIR= cmd` should not mean "cwd".
  const char* env = std::getenv("RT3_DATA_DIR");
  if (env != nullptr && env[0] != '\0') return env;
  return RT3_DEFAULT_DATA_DIR;
}

void require_dir(const std::string& path, const std::string& what) {
  std::error_code ec;
  if (!fs::is_directory(path, ec))
    throw std::runtime_error(what + " not found at " + path + ": run scripts/setup.sh");
}

void require_file(const std::string& path, const std::string& what) {
  std::error_code ec;
  if (!fs::is_regular_file(path, ec))
    throw std::runtime_error(what + " not found at " + path + ": run scripts/setup.sh");
}

std::vector<std::string> list_files(const std::string& dir, const std::string& suffix) {
  std::vector<std::string> out;
  for (const auto& entry : fs::directory_iterator(dir)) {
    if (!entry.is_regular_file()) continue;
    std::string name = entry.path().filename().string();
    if (name.size() >= suffix.size() &&
        name.compare(name.size() - suffix.size(), suffix.size(), suffix) == 0)
      out.push_back(entry.path().string());
  }
  std::sort(out.begin(), out.end());
  return out;
}

std::string read_file(const std::string& path) {
  return format::read_input_file(path);
}

}  // namespace rt3::data
