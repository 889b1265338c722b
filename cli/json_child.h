#pragma once
// A child process spoken to in JSON lines: one request line on its stdin, one reply line on its
// stdout (the ONNX Runtime runner of `rt3 bench ort` is one). The child's stderr goes to a log
// file, quoted in the error when it dies.
#include <sys/types.h>

#include <cstdio>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

namespace rt3::cli {

class JsonChild {
 public:
  // argv[0] is looked up in PATH; env entries ("NAME=value") are added to this process's.
  // Throws std::runtime_error when the child cannot be started.
  JsonChild(const std::vector<std::string>& argv, const std::vector<std::string>& env, const std::string& stderr_log);
  ~JsonChild();  // closes its stdin, waits for it (killing it after 5 s)
  JsonChild(const JsonChild&) = delete;
  JsonChild& operator=(const JsonChild&) = delete;

  // Sends `request`, returns the reply. Throws std::runtime_error when the child died, replied
  // with something that is not JSON, or replied {"error": ...}.
  nlohmann::json call(const nlohmann::json& request);

 private:
  std::string died_message() const;
  pid_t pid_ = -1;
  FILE* to_ = nullptr;
  FILE* from_ = nullptr;
  std::string log_;
};

}  // namespace rt3::cli
